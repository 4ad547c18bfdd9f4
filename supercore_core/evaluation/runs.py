"""Stored evaluation runs: save, list, load and compare (under the caller's RLS context)."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from supercore_core.errors import NotFoundError
from supercore_core.evaluation.metrics import Aggregate, aggregate
from supercore_core.models import EvalResult, EvalRun


@dataclass(frozen=True)
class QueryResult:
    """One query's outcome: what was retrieved, what was relevant, its metric values."""

    query_id: str
    query: str
    retrieved: tuple[str, ...]
    relevant: Mapping[str, int]
    metrics: Mapping[str, float]
    answer: str | None = None
    reference_answer: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: Decimal | None = None
    latency_ms: int | None = None


@dataclass(frozen=True)
class NewRun:
    """A finished evaluation, ready to store."""

    solution_id: UUID
    oracle_id: UUID
    dataset: str
    config: Mapping[str, Any]
    metrics: Mapping[str, Aggregate]
    results: Sequence[QueryResult]
    kind: str = "retrieval"
    canary_hits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    error_message: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    started_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def status(self) -> str:
        """``failed`` when a canary was hit or an error recorded, else ``completed``."""
        return "failed" if self.canary_hits or self.error_message else "completed"


@dataclass(frozen=True)
class RunSummary:
    """A stored run without its per-query rows."""

    id: UUID
    solution_id: UUID
    oracle_id: UUID
    dataset: str
    kind: str
    status: str
    config: Mapping[str, Any]
    metrics: Mapping[str, Aggregate]
    query_count: int
    canary_hits: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal | None
    timings: Mapping[str, float]
    error_message: str | None
    created_at: datetime
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        """The retrieval mode of the config snapshot."""
        return str(self.config.get("mode", ""))

    def row(self) -> dict[str, Any]:
        """Flat dict for tables: metric means plus their interval bounds."""
        flat: dict[str, Any] = {
            "run_id": self.id, "created_at": self.created_at, "dataset": self.dataset,
            "kind": self.kind, "status": self.status, "mode": self.mode,
            "queries": self.query_count, "canary_hits": self.canary_hits,
            "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd, "seconds": self.timings.get("total_s"),
        }  # fmt: skip
        for name, agg in self.metrics.items():
            flat[name] = agg.mean
            flat[f"{name} low"] = agg.low
            flat[f"{name} high"] = agg.high
        return flat


@dataclass(frozen=True)
class RunList:
    """Runs, newest first."""

    runs: tuple[RunSummary, ...]

    def to_frame(self) -> Any:
        """One row per run (pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame([r.row() for r in self.runs])

    def plot(self, metric: str = "nDCG@10", label: str = "mode") -> Any:
        """A plotly bar chart of ``metric`` per run (x = the ``label`` column), with its CI."""
        import plotly.graph_objects as go  # type: ignore[import-untyped]

        frame = self.to_frame()
        error = {"type": "data", "symmetric": False,
                 "array": frame[f"{metric} high"] - frame[metric],
                 "arrayminus": frame[metric] - frame[f"{metric} low"]}  # fmt: skip
        figure = go.Figure(go.Bar(x=frame[label].astype(str), y=frame[metric], error_y=error))
        figure.update_layout(title=f"{metric} (95% bootstrap CI)", yaxis_title=metric, height=400)
        return figure


@dataclass(frozen=True)
class RunDetail:
    """A stored run with its per-query results."""

    run: RunSummary
    results: tuple[QueryResult, ...]

    def to_frame(self) -> Any:
        """One row per query with its metric values (NaN = unmeasured)."""
        import pandas as pd

        rows = [
            {"query_id": r.query_id, "query": r.query, "retrieved": list(r.retrieved[:10]),
             "relevant": sorted(r.relevant), **dict(r.metrics), "answer": r.answer,
             "reference_answer": r.reference_answer, "input_tokens": r.input_tokens,
             "output_tokens": r.output_tokens, "cost_usd": r.cost_usd}
            for r in self.results
        ]  # fmt: skip
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class MetricDelta:
    """Run b minus run a on one metric, with a paired bootstrap interval of the difference."""

    metric: str
    a: Aggregate
    b: Aggregate
    delta: Aggregate

    @property
    def significant(self) -> bool:
        """True when the interval of the paired difference excludes zero."""
        return self.delta.n > 0 and (self.delta.low > 0 or self.delta.high < 0)


@dataclass(frozen=True)
class RunComparison:
    """Two runs side by side, paired on query id."""

    a: RunSummary
    b: RunSummary
    metrics: tuple[MetricDelta, ...]
    paired_queries: int

    def to_frame(self) -> Any:
        """One row per metric: a, b, b - a with its interval, and significance."""
        import pandas as pd

        return pd.DataFrame(
            [
                {"metric": d.metric, "a": d.a.mean, "b": d.b.mean, "delta": d.delta.mean,
                 "delta low": d.delta.low, "delta high": d.delta.high,
                 "paired n": d.delta.n, "significant": d.significant}
                for d in self.metrics
            ]
        )  # fmt: skip


def _json_metrics(values: Mapping[str, float]) -> dict[str, float | None]:
    return {k: None if v is None or math.isnan(v) else float(v) for k, v in values.items()}


def store_run(session: Session, run: NewRun) -> RunSummary:
    """Insert the run and its per-query results; returns the stored summary."""
    row = EvalRun(
        solution_id=run.solution_id, oracle_id=run.oracle_id, dataset=run.dataset,
        kind=run.kind, status=run.status, config=dict(run.config),
        metrics={k: v.as_dict() for k, v in run.metrics.items()},
        query_count=len(run.results), canary_hits=run.canary_hits,
        input_tokens=run.input_tokens, output_tokens=run.output_tokens, cost_usd=run.cost_usd,
        timings=dict(run.timings), error_message=run.error_message,
        metadata_=dict(run.metadata), completed_at=run.completed_at,
    )  # fmt: skip
    if run.started_at is not None:
        row.started_at = run.started_at
    session.add(row)
    session.flush()
    session.add_all(
        EvalResult(
            run_id=row.id,
            solution_id=run.solution_id,
            query_id=r.query_id,
            query=r.query,
            retrieved=list(r.retrieved),
            relevant=dict(r.relevant),
            metrics=_json_metrics(r.metrics),
            answer=r.answer,
            reference_answer=r.reference_answer,
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            cost_usd=r.cost_usd,
            latency_ms=r.latency_ms,
        )
        for r in run.results
    )
    session.flush()
    session.refresh(row)
    return _summary(row)


def _summary(row: EvalRun) -> RunSummary:
    return RunSummary(
        id=row.id, solution_id=row.solution_id, oracle_id=row.oracle_id, dataset=row.dataset,
        kind=row.kind, status=row.status, config=row.config,
        metrics={k: Aggregate.from_dict(v) for k, v in row.metrics.items()},
        query_count=row.query_count, canary_hits=row.canary_hits,
        input_tokens=row.input_tokens, output_tokens=row.output_tokens,
        cost_usd=row.cost_usd, timings=row.timings, error_message=row.error_message,
        created_at=row.created_at, metadata=row.metadata_,
    )  # fmt: skip


def _result(row: EvalResult) -> QueryResult:
    metrics = {k: math.nan if v is None else float(v) for k, v in row.metrics.items()}
    return QueryResult(
        row.query_id, row.query, tuple(row.retrieved), row.relevant, metrics, row.answer,
        row.reference_answer, row.input_tokens, row.output_tokens, row.cost_usd, row.latency_ms,
    )  # fmt: skip


def list_runs(session: Session, oracle_id: UUID | None = None, *, limit: int = 200) -> RunList:
    """Runs visible in the session (a tenant's, or all in an admin session), newest first."""
    query = select(EvalRun).order_by(EvalRun.created_at.desc(), EvalRun.id).limit(limit)
    if oracle_id is not None:
        query = query.where(EvalRun.oracle_id == oracle_id)
    return RunList(tuple(_summary(row) for row in session.scalars(query)))


def get_run(session: Session, run_id: UUID) -> RunDetail:
    """One run with its per-query results (``NotFoundError`` when not visible)."""
    row = session.get(EvalRun, run_id)
    if row is None:
        raise NotFoundError(f"evaluation run {run_id} not found in this tenant")
    results = session.scalars(
        select(EvalResult).where(EvalResult.run_id == run_id).order_by(EvalResult.query_id)
    )
    return RunDetail(_summary(row), tuple(_result(r) for r in results))


def compare_runs(session: Session, a: UUID, b: UUID, *, seed: int = 0) -> RunComparison:
    """Run ``b`` against run ``a``: per metric, the paired difference b - a over shared queries."""
    first, second = get_run(session, a), get_run(session, b)
    left = {r.query_id: r.metrics for r in first.results}
    right = {r.query_id: r.metrics for r in second.results}
    shared = sorted(left.keys() & right.keys())
    names = sorted(first.run.metrics.keys() & second.run.metrics.keys())
    deltas = tuple(
        MetricDelta(
            name,
            first.run.metrics[name],
            second.run.metrics[name],
            aggregate(
                (right[q].get(name, math.nan) - left[q].get(name, math.nan) for q in shared),
                seed=seed,
            ),
        )
        for name in names
    )
    return RunComparison(first.run, second.run, deltas, len(shared))
