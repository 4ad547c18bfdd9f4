"""Token cost of answering: per question by model, cost vs quality (Pareto), projections.

Prices come from ``supercore_core.pricing`` (the maintained ``genai-prices`` data, with
overrides). Repricing keeps the recorded token counts and changes only the price: what the
same prompts and answers would have cost on another model. An unpriced model gives
``None``, never $0.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from supercore_core.config import Settings
from supercore_core.evaluation.runs import RunDetail
from supercore_core.pricing import cost_of
from supercore_core.usage import reprice

Model = tuple[str, str]  # (provider, model)


def price_run(detail: RunDetail, model: Model, settings: Settings) -> Decimal | None:
    """What the run's answered questions cost on ``model`` (None when unpriced)."""
    total = Decimal(0)
    for result in detail.results:
        if result.answer is None:
            continue
        cost = cost_of(model[0], model[1], result.input_tokens or 0, result.output_tokens or 0,
                       settings=settings)  # fmt: skip
        if cost is None:
            return None
        total += cost
    return total


@dataclass(frozen=True)
class CostPoint:
    """One (run config, model): quality, tokens and cost per answered question."""

    run_id: UUID
    config: str
    model: str
    quality: float
    answered: int
    input_tokens: float  # per answered question
    output_tokens: float
    cost_per_question: Decimal | None
    pareto: bool = False


def _config_label(detail: RunDetail) -> str:
    config = detail.run.config
    return f"{config.get('mode')} k={config.get('k')}"


def _point(detail: RunDetail, model: Model, settings: Settings, metric: str) -> CostPoint:
    answered = [r for r in detail.results if r.answer is not None]
    n = len(answered)
    total = price_run(detail, model, settings) if n else None
    aggregate = detail.run.metrics.get(metric)
    return CostPoint(
        run_id=detail.run.id,
        config=_config_label(detail),
        model=f"{model[0]}/{model[1]}",
        quality=aggregate.mean if aggregate else math.nan,
        answered=n,
        input_tokens=sum(r.input_tokens or 0 for r in answered) / n if n else math.nan,
        output_tokens=sum(r.output_tokens or 0 for r in answered) / n if n else math.nan,
        cost_per_question=None if total is None else total / n,
    )


def pareto_front(points: Sequence[CostPoint]) -> list[CostPoint]:
    """The points no other priced point beats on both cost (lower) and quality (higher)."""
    priced = [p for p in points if p.cost_per_question is not None and not math.isnan(p.quality)]

    def dominated(p: CostPoint) -> bool:
        assert p.cost_per_question is not None
        return any(
            q.cost_per_question is not None
            and q.cost_per_question <= p.cost_per_question
            and q.quality >= p.quality
            and (q.cost_per_question < p.cost_per_question or q.quality > p.quality)
            for q in priced
        )

    return [p for p in priced if not dominated(p)]


@dataclass(frozen=True)
class CostQuality:
    """Cost per answered question against a quality metric, across configs and models."""

    metric: str
    points: tuple[CostPoint, ...]

    def to_frame(self) -> Any:
        """One row per (config, model), cheapest first."""
        import pandas as pd

        frame = pd.DataFrame([p.__dict__ for p in self.points])
        frame["cost_per_question"] = [
            math.nan if c is None else float(c) for c in frame["cost_per_question"]
        ]
        return frame.sort_values(["cost_per_question", "quality"], ascending=[True, False])

    def plot(self) -> Any:
        """Scatter of cost per question vs quality, the Pareto frontier as a line."""
        import plotly.express as px  # type: ignore[import-untyped]

        frame = self.to_frame().dropna(subset=["cost_per_question"])
        figure = px.scatter(frame, x="cost_per_question", y="quality", color="model",
                            symbol="config", hover_data=["answered", "input_tokens"],
                            labels={"cost_per_question": "USD per answered question",
                                    "quality": self.metric})  # fmt: skip
        front = frame[frame["pareto"]].sort_values("cost_per_question")
        figure.add_scatter(x=front["cost_per_question"], y=front["quality"], mode="lines",
                           name="Pareto frontier", line={"dash": "dot"})  # fmt: skip
        figure.update_layout(title=f"Cost vs {self.metric}", height=440)
        return figure


def cost_quality(
    details: Sequence[RunDetail],
    models: Sequence[Model],
    settings: Settings,
    metric: str = "nDCG@10",
) -> CostQuality:
    """Price every run on every model and mark the Pareto frontier."""
    points = [_point(d, m, settings, metric) for d in details for m in models]
    front = {(p.run_id, p.model) for p in pareto_front(points)}
    marked = tuple(
        CostPoint(**{**p.__dict__, "pareto": (p.run_id, p.model) in front}) for p in points
    )
    return CostQuality(metric, marked)


@dataclass(frozen=True)
class Projection:
    """Recorded traffic of an oracle repriced on one model, projected to 30 days."""

    model: str
    messages: int
    window_days: int
    window_cost_usd: Decimal | None
    cost_per_message: Decimal | None
    projected_30d_usd: Decimal | None


def project_costs(
    session: Session,
    *,
    oracle_id: UUID,
    models: Sequence[Model],
    settings: Settings,
    days: int = 30,
    now: datetime | None = None,
) -> list[Projection]:
    """The last ``days`` of the oracle's answers repriced per model, scaled to 30 days."""
    until = now or datetime.now(UTC)
    since = until - timedelta(days=days)
    rows = []
    for provider, model in models:
        result = reprice(session, oracle_id=oracle_id, provider=provider, model=model,
                         settings=settings, since=since, until=until)  # fmt: skip
        cost = result.repriced_cost_usd
        per_message = None if cost is None or not result.messages else cost / result.messages
        projected = None if cost is None else cost * Decimal(30) / Decimal(days)
        rows.append(Projection(f"{provider}/{model}", result.messages, days, cost, per_message,
                               projected))  # fmt: skip
    return rows


def projections_frame(rows: Sequence[Projection]) -> Any:
    """Projections as a pandas DataFrame (USD as floats, NaN = unpriced)."""
    import pandas as pd

    def usd(value: Decimal | None) -> float:
        return math.nan if value is None else float(value)

    return pd.DataFrame(
        [
            {"model": r.model, "messages": r.messages, "window_days": r.window_days,
             "window_cost_usd": usd(r.window_cost_usd),
             "cost_per_message": usd(r.cost_per_message),
             "projected_30d_usd": usd(r.projected_30d_usd)}
            for r in rows
        ]
    )  # fmt: skip
