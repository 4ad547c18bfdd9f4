"""Promote a sweep's winner only when it is better beyond chance, and keep a way back.

The winner is compared with the run of the oracle's current settings, paired by question:
its configuration is written only when the interval of the paired difference on the chosen
metric lies above zero (or when forced, which is recorded as forced). The previous
configuration is kept in the winning run's metadata, so ``restore_config`` can put it back.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from supercore_core.catalog import oracle_by_id
from supercore_core.errors import NotFoundError, UserError
from supercore_core.evaluation.runs import MetricDelta, RunSummary, compare_runs
from supercore_core.evaluation.sweep import promote_config
from supercore_core.ingest.chunking import ChunkingConfig
from supercore_core.models import EvalRun


@dataclass(frozen=True)
class Promotion:
    """What ``promote_if_better`` decided, and why."""

    promoted: bool
    forced: bool
    reason: str
    previous_config: dict[str, Any]
    delta: MetricDelta | None
    chunking: dict[str, int] | None = None  # a new chunk size written: re-ingest to apply it


def _verdict(delta: MetricDelta | None, metric: str) -> tuple[bool, str]:
    if delta is None:
        return False, f"neither run measured {metric}"
    span = f"{delta.delta.mean:+.3f} [{delta.delta.low:+.3f}, {delta.delta.high:+.3f}]"
    if delta.significant and delta.delta.mean > 0:
        return True, f"{metric} {span} over the current settings: better beyond its interval"
    return False, f"{metric} {span} over the current settings: not better beyond its interval"


def would_promote(
    session: Session, *, baseline: RunSummary, best: RunSummary, metric: str = "nDCG@10"
) -> tuple[bool, str]:
    """Whether ``best`` beats ``baseline`` beyond the paired interval, and why (no writes)."""
    if best.id == baseline.id:
        return False, "the current settings are the best"
    comparison = compare_runs(session, baseline.id, best.id)
    return _verdict(next((d for d in comparison.metrics if d.metric == metric), None), metric)


def promote_if_better(
    session: Session,
    *,
    oracle_id: UUID,
    baseline: RunSummary,
    best: RunSummary,
    metric: str = "nDCG@10",
    force: bool = False,
) -> Promotion:
    """Write ``best``'s settings into the oracle if they beat ``baseline`` significantly.

    Args:
        session: A tenant session.
        oracle_id: The oracle to change.
        baseline: The run of the oracle's current settings (``SweepResult.baseline``).
        best: The candidate run (``SweepResult.best(metric)``).
        metric: The metric that decides.
        force: Promote even when not significantly better (recorded as forced).
    """
    previous = dict(oracle_by_id(session, oracle_id).retrieval_config)
    if best.id == baseline.id:
        return Promotion(False, False, "the current settings are the best", previous, None)
    comparison = compare_runs(session, baseline.id, best.id)
    delta = next((d for d in comparison.metrics if d.metric == metric), None)
    better, reason = _verdict(delta, metric)
    if not (better or force):
        return Promotion(False, False, reason, previous, delta)
    promoted = promote_config(session, oracle_id=oracle_id, config=best.config)
    forced = not better
    record = {
        "at": datetime.now(UTC).isoformat(), "metric": metric, "forced": forced,
        "reason": reason, "previous_config": previous, "baseline_run": str(baseline.id),
        "oracle_id": str(oracle_id), "run": str(best.id),
    }  # fmt: skip
    _record(session, best.id, record)
    if best.oracle_id != oracle_id:  # a run on a scratch copy, which `eval clean` removes:
        _record(session, baseline.id, record)  # the baseline's run keeps the way back too
    changed = _chunking(promoted.retrieval_config)
    chunking = changed if changed != _chunking(previous) else None
    return Promotion(True, forced, reason + (" (forced)" if forced else ""), previous, delta,
                     chunking)  # fmt: skip


def _record(session: Session, run_id: UUID, promotion: dict[str, Any]) -> None:
    row = session.get(EvalRun, run_id)
    assert row is not None
    row.metadata_ = {**row.metadata_, "promotion": promotion}
    session.flush()


def _chunking(config: dict[str, Any]) -> dict[str, int]:
    """The chunk size and overlap ingestion applies under ``config``."""
    return {
        "chunk_tokens": int(config.get("chunk_tokens", ChunkingConfig.chunk_tokens)),
        "overlap_tokens": int(config.get("overlap_tokens", ChunkingConfig.overlap_tokens)),
    }


def restore_config(session: Session, *, run_id: UUID) -> dict[str, Any]:
    """Put back the configuration a promotion from ``run_id`` replaced; returns it.

    ``run_id`` is the promoted run, or the baseline run of its sweep when the promoted one
    ran on a re-chunked scratch copy (those go with ``eval clean``). Chunks already
    re-ingested under the promoted chunk size stay until re-ingested again.
    """
    row = session.get(EvalRun, run_id)
    if row is None:
        raise NotFoundError(f"evaluation run {run_id} not found in this tenant")
    promotion = (row.metadata_ or {}).get("promotion")
    if not isinstance(promotion, dict):
        raise UserError(f"run {run_id} was never promoted: there is nothing to restore")
    oracle = oracle_by_id(session, UUID(promotion.get("oracle_id", str(row.oracle_id))))
    oracle.retrieval_config = dict(promotion["previous_config"])
    session.flush()
    return dict(oracle.retrieval_config)
