"""Promotion: only beyond the interval (or forced, recorded as such), and restorable."""

import uuid

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import Oracle, tenant_session
from supercore_core.errors import UserError
from supercore_core.evaluation.metrics import aggregate_all
from supercore_core.evaluation.promotion import promote_if_better, restore_config
from supercore_core.evaluation.runs import NewRun, QueryResult, RunSummary, get_run, store_run
from tests.factories import make_oracle, make_solution

CURRENT = {"mode": "dense", "k": 8}


def live_oracle(owner_engine: Engine) -> tuple[uuid.UUID, uuid.UUID]:
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session), retrieval_config=CURRENT)
        return oracle.solution_id, oracle.id


def stored(session: Session, sid: uuid.UUID, oid: uuid.UUID, mode: str,
           scores: list[float]) -> RunSummary:  # fmt: skip
    results = [QueryResult(f"q{i}", f"question {i}", ("d",), {"d": 1}, {"nDCG@10": s})
               for i, s in enumerate(scores)]  # fmt: skip
    metrics = aggregate_all([r.metrics for r in results])
    run = NewRun(sid, oid, "golden:main@v2", {"mode": mode, "k": 8}, metrics, results)
    return store_run(session, run)


@pytest.mark.parametrize("force", [False, True])
def test_a_winner_within_the_interval_is_kept_out_unless_forced(
    owner_engine: Engine, admin_sessions: sessionmaker[Session], force: bool
) -> None:
    sid, oid = live_oracle(owner_engine)
    with tenant_session(admin_sessions, solution_id=sid) as session:
        baseline = stored(session, sid, oid, "dense", [0.8, 0.6, 0.9, 0.7] * 5)
        best = stored(session, sid, oid, "hybrid", [0.9, 0.6, 0.8, 0.7] * 5)  # same on average
        decision = promote_if_better(session, oracle_id=oid, baseline=baseline, best=best,
                                     force=force)  # fmt: skip
        config = dict(session.get(Oracle, oid).retrieval_config)  # type: ignore[union-attr]
        promotion = get_run(session, best.id).run.metadata.get("promotion")
    assert "not better beyond its interval" in decision.reason
    assert decision.promoted is force and decision.forced is force
    assert config["mode"] == ("hybrid" if force else "dense")
    assert (promotion is not None) is force
    if force:
        assert promotion["forced"] is True and promotion["previous_config"] == CURRENT


def test_a_clear_winner_is_promoted_and_can_be_restored(
    owner_engine: Engine, admin_sessions: sessionmaker[Session]
) -> None:
    sid, oid = live_oracle(owner_engine)
    with tenant_session(admin_sessions, solution_id=sid) as session:
        baseline = stored(session, sid, oid, "dense", [0.2, 0.3, 0.1, 0.4] * 5)
        best = stored(session, sid, oid, "hybrid", [0.9, 0.8, 0.7, 1.0] * 5)
        decision = promote_if_better(session, oracle_id=oid, baseline=baseline, best=best)
        assert decision.promoted and not decision.forced
        assert "better beyond its interval" in decision.reason
        assert session.get(Oracle, oid).retrieval_config["mode"] == "hybrid"  # type: ignore[union-attr]
        assert restore_config(session, run_id=best.id) == CURRENT
        with pytest.raises(UserError, match="was never promoted"):
            restore_config(session, run_id=baseline.id)
