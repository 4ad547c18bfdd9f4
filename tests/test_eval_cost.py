"""Token cost: answers priced per model, cost vs quality frontier, projections from traffic."""

import math
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import Settings, tenant_session
from supercore_core.config import PriceOverride
from supercore_core.evaluation.answers import answerer_for, prompt_for
from supercore_core.evaluation.beir import load_dataset
from supercore_core.evaluation.cost import (
    CostPoint,
    cost_quality,
    pareto_front,
    price_run,
    project_costs,
)
from supercore_core.evaluation.metrics import aggregate_all
from supercore_core.evaluation.runner import EvalRequest, evaluate, ingest_dataset
from supercore_core.evaluation.runs import NewRun, QueryResult, RunDetail, get_run, store_run
from supercore_core.evaluation.scratch import scratch_marker
from supercore_core.llm import OFFLINE_LABEL, OfflineAnswerer
from supercore_core.retrieval import RetrievalConfig
from tests.factories import make_conversation, make_message, make_oracle, make_solution
from tests.fakes import HashingEmbedder

TINY = Path(__file__).parent / "data" / "beir_tiny"
# $1 per million input tokens, $10 per million output tokens: easy to compute by hand.
PRICED = Settings(
    price_overrides={
        "test/cheap": PriceOverride(input_per_mtok=Decimal(1), output_per_mtok=Decimal(10)),
        "test/dear": PriceOverride(input_per_mtok=Decimal(5), output_per_mtok=Decimal(50)),
    }
)


@pytest.fixture(scope="module")
def tenant(owner_engine: Engine) -> tuple[uuid.UUID, uuid.UUID]:
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session))
        return oracle.solution_id, oracle.id


def stored(
    sessions: sessionmaker[Session],
    tenant: tuple[uuid.UUID, uuid.UUID],
    tokens: Sequence[tuple[int, int] | None],
    quality: float,
    k: int = 8,
) -> RunDetail:
    sid, oid = tenant
    results = [
        QueryResult(f"q{i}", "q", (), {}, {"nDCG@10": quality},
                    answer=None if t is None else "a",
                    input_tokens=None if t is None else t[0],
                    output_tokens=None if t is None else t[1])
        for i, t in enumerate(tokens)
    ]  # fmt: skip
    run = NewRun(sid, oid, "tiny", {"mode": "hybrid", "k": k},
                 aggregate_all([r.metrics for r in results]), results)  # fmt: skip
    with tenant_session(sessions, solution_id=sid) as session:
        summary = store_run(session, run)
        return get_run(session, summary.id)


def test_price_run_by_hand(
    app_sessions: sessionmaker[Session], tenant: tuple[uuid.UUID, uuid.UUID]
) -> None:
    detail = stored(app_sessions, tenant, [(1000, 100), (3000, 300), None], 0.5)
    # (4000 * $1 + 400 * $10) / 1e6 = $0.008 for the two answered questions
    assert price_run(detail, ("test", "cheap"), PRICED) == Decimal("0.008")
    assert price_run(detail, ("nobody", "unpriced-model"), PRICED) is None


def test_cost_quality_marks_the_pareto_frontier(
    app_sessions: sessionmaker[Session], tenant: tuple[uuid.UUID, uuid.UUID]
) -> None:
    small = stored(app_sessions, tenant, [(1000, 100)] * 2, 0.6, k=2)
    large = stored(app_sessions, tenant, [(4000, 100)] * 2, 0.8, k=8)
    report = cost_quality([small, large], [("test", "cheap"), ("test", "dear")], PRICED)
    by_key = {(p.config, p.model): p for p in report.points}
    assert by_key[("hybrid k=2", "test/cheap")].cost_per_question == Decimal("0.002")
    assert by_key[("hybrid k=8", "test/dear")].cost_per_question == Decimal("0.025")
    front = {key for key, p in by_key.items() if p.pareto}
    # dear k=2 (0.010, 0.6) is beaten by cheap k=8 (0.005, 0.8); dear k=8 is the priciest
    assert front == {("hybrid k=2", "test/cheap"), ("hybrid k=8", "test/cheap")}
    frame = report.to_frame()
    assert frame["cost_per_question"].iloc[0] == pytest.approx(0.002)
    assert report.plot().data[-1].name == "Pareto frontier"


def test_unmeasured_or_unpriced_points_are_never_on_the_frontier() -> None:
    run = uuid.uuid4()
    points = [
        CostPoint(run, "a", "m1", 0.5, 1, 1.0, 1.0, None),
        CostPoint(run, "b", "m2", math.nan, 1, 1.0, 1.0, Decimal("0.001")),
        CostPoint(run, "c", "m3", 0.4, 1, 1.0, 1.0, Decimal("0.002")),
    ]
    assert [p.config for p in pareto_front(points)] == ["c"]


def test_offline_answers_cost_nothing_and_are_scored(
    owner_engine: Engine, admin_sessions: sessionmaker[Session]
) -> None:
    with Session(owner_engine) as session, session.begin():
        marker = scratch_marker("benchmark", "beir_tiny")
        oracle = make_oracle(session, make_solution(session), metadata_=marker)
        sid, oid = oracle.solution_id, oracle.id
    dataset = load_dataset(TINY)
    ingest_dataset(admin_sessions, dataset, solution_id=sid, oracle_id=oid,
                   embedder=HashingEmbedder())  # fmt: skip
    answerer = answerer_for(OfflineAnswerer(), Settings())
    request = EvalRequest(dataset, sid, oid, RetrievalConfig(mode="lexical", k=2),
                          answerer=answerer, canaries=False, kind="answer")  # fmt: skip
    run = evaluate(admin_sessions, request, embedder=HashingEmbedder())
    assert run.cost_usd == Decimal(0)
    assert run.input_tokens > 0 and run.output_tokens > 0
    with tenant_session(admin_sessions, solution_id=sid) as session:
        detail = get_run(session, run.id)
    assert all(r.answer and r.answer.startswith(OFFLINE_LABEL) for r in detail.results)
    assert price_run(detail, ("test", "cheap"), PRICED) == Decimal(
        run.input_tokens + 10 * run.output_tokens
    ) / Decimal(1_000_000)


def test_prompt_numbers_the_passages() -> None:
    (turn,) = prompt_for("What?", [])
    assert turn.role == "user" and turn.content.endswith("Question: What?")


def test_projection_reprices_recorded_traffic(
    owner_engine: Engine, app_sessions: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session))
        conversation = make_conversation(session, oracle)
        for n, days_ago in enumerate((1, 5, 40), start=1):  # the 40-day-old one is outside
            make_message(session, conversation, role="assistant", sequence_number=n,
                         input_tokens=2000, output_tokens=200,
                         created_at=now - timedelta(days=days_ago))  # fmt: skip
        sid, oid = oracle.solution_id, oracle.id
    with tenant_session(app_sessions, solution_id=sid) as session:
        rows = project_costs(session, oracle_id=oid, settings=PRICED, days=10, now=now,
                             models=[("test", "cheap"), ("nobody", "unpriced")])  # fmt: skip
    cheap, unpriced = rows
    assert cheap.messages == 2
    assert cheap.window_cost_usd == Decimal("0.008")  # 2 x (2000 x $1 + 200 x $10) / 1e6
    assert cheap.projected_30d_usd == Decimal("0.024")
    assert cheap.cost_per_message == Decimal("0.004")
    assert unpriced.window_cost_usd is None and unpriced.projected_30d_usd is None
