"""Stored evaluation runs: store, list, get, compare, as the application login under RLS."""

import math
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import tenant_session
from supercore_core.errors import NotFoundError
from supercore_core.evaluation.metrics import aggregate_all
from supercore_core.evaluation.runs import (
    NewRun,
    QueryResult,
    compare_runs,
    get_run,
    list_runs,
    store_run,
)
from tests.factories import make_oracle, make_solution


@pytest.fixture(scope="module")
def tenants(owner_engine: Engine) -> tuple[tuple[uuid.UUID, uuid.UUID], uuid.UUID]:
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session))
        other = make_solution(session)
        return (oracle.solution_id, oracle.id), other.id


def new_run(solution_id: uuid.UUID, oracle_id: uuid.UUID, scores: list[float]) -> NewRun:
    results = [
        QueryResult(f"q{i}", f"question {i}", ("d1", "d2"), {"d1": 1}, {"nDCG@10": s})
        for i, s in enumerate(scores)
    ]
    return NewRun(
        solution_id=solution_id,
        oracle_id=oracle_id,
        dataset="tiny",
        config={"mode": "hybrid", "k": 8},
        metrics=aggregate_all([r.metrics for r in results]),
        results=results,
        cost_usd=Decimal("0.001250"),
        timings={"total_s": 1.5},
    )


def test_store_get_and_list(
    app_sessions: sessionmaker[Session], tenants: tuple[tuple[uuid.UUID, uuid.UUID], uuid.UUID]
) -> None:
    (sid, oid), _ = tenants
    with tenant_session(app_sessions, solution_id=sid) as session:
        stored = store_run(session, new_run(sid, oid, [1.0, 0.5, math.nan]))
    with tenant_session(app_sessions, solution_id=sid) as session:
        detail = get_run(session, stored.id)
        listed = list_runs(session, oracle_id=oid)
    assert detail.run.status == "completed" and detail.run.mode == "hybrid"
    assert detail.run.metrics["nDCG@10"].mean == pytest.approx(0.75)
    assert detail.run.metrics["nDCG@10"].unmeasured == 1
    assert detail.run.cost_usd == Decimal("0.001250")
    assert [r.query_id for r in detail.results] == ["q0", "q1", "q2"]
    assert math.isnan(detail.results[2].metrics["nDCG@10"])
    assert stored.id in [r.id for r in listed.runs]
    frame = listed.to_frame()
    assert {"run_id", "nDCG@10", "nDCG@10 low", "nDCG@10 high", "status"} <= set(frame.columns)
    assert list(detail.to_frame()["query_id"]) == ["q0", "q1", "q2"]


def test_another_tenant_cannot_see_the_run(
    app_sessions: sessionmaker[Session], tenants: tuple[tuple[uuid.UUID, uuid.UUID], uuid.UUID]
) -> None:
    (sid, oid), other = tenants
    with tenant_session(app_sessions, solution_id=sid) as session:
        stored = store_run(session, new_run(sid, oid, [1.0]))
    with tenant_session(app_sessions, solution_id=other) as session:
        assert list_runs(session).runs == ()
        with pytest.raises(NotFoundError, match="not found in this tenant"):
            get_run(session, stored.id)


def test_a_tenant_cannot_store_a_run_for_another(
    app_sessions: sessionmaker[Session], tenants: tuple[tuple[uuid.UUID, uuid.UUID], uuid.UUID]
) -> None:
    (sid, oid), other = tenants
    with (
        pytest.raises(Exception, match="row-level security"),
        tenant_session(app_sessions, solution_id=other) as session,
    ):
        store_run(session, new_run(sid, oid, [1.0]))


def test_canary_hit_marks_the_run_failed(
    app_sessions: sessionmaker[Session], tenants: tuple[tuple[uuid.UUID, uuid.UUID], uuid.UUID]
) -> None:
    (sid, oid), _ = tenants
    run = new_run(sid, oid, [1.0])
    leaked = NewRun(**{**run.__dict__, "canary_hits": 2})
    with tenant_session(app_sessions, solution_id=sid) as session:
        assert store_run(session, leaked).status == "failed"


def test_compare_pairs_queries_and_flags_significant_changes(
    app_sessions: sessionmaker[Session], tenants: tuple[tuple[uuid.UUID, uuid.UUID], uuid.UUID]
) -> None:
    (sid, oid), _ = tenants
    with tenant_session(app_sessions, solution_id=sid) as session:
        a = store_run(session, new_run(sid, oid, [0.2] * 20 + [0.4] * 20))
        b = store_run(session, new_run(sid, oid, [0.6] * 20 + [0.9] * 20))
        same = store_run(session, new_run(sid, oid, [0.4] * 20 + [0.2] * 20))
        better = compare_runs(session, a.id, b.id)
        flat = compare_runs(session, a.id, same.id)
    (delta,) = better.metrics
    assert better.paired_queries == 40
    assert delta.delta.mean == pytest.approx(0.45)
    assert delta.significant
    assert flat.metrics[0].delta.mean == pytest.approx(0.0)
    assert not flat.metrics[0].significant
    assert list(better.to_frame()["metric"]) == ["nDCG@10"]
