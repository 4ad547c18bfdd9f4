"""Usage of the chat: tokens, cost, messages and latency per tenant, oracle, model and day.

Read through a tenant session for one tenant, or an admin session for all of them (RLS
decides which rows are visible). ``reprice`` answers "what would this traffic have cost on
another model".
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from supercore_core.config import Settings
from supercore_core.pricing import cost_of


@dataclass(frozen=True)
class UsageRow:
    """Assistant turns of one tenant, oracle and model on one (UTC) day."""

    day: date
    tenant: str
    oracle: str
    model: str
    messages: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: Decimal
    unpriced_messages: int
    estimated_messages: int


@dataclass(frozen=True)
class UsageReport:
    """Usage rows, oldest day first."""

    rows: tuple[UsageRow, ...]

    @property
    def total_cost_usd(self) -> Decimal:
        """Cost of the priced messages (see ``unpriced_messages`` for the rest)."""
        return sum((r.cost_usd for r in self.rows), Decimal(0))

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens of every row."""
        return sum(r.total_tokens for r in self.rows)

    @property
    def unpriced_messages(self) -> int:
        """Messages whose model had no price when they were stored."""
        return sum(r.unpriced_messages for r in self.rows)

    def to_frame(self) -> Any:
        """One DataFrame row per usage row."""
        import pandas as pd

        columns = list(UsageRow.__dataclass_fields__)
        return pd.DataFrame([r.__dict__ for r in self.rows], columns=columns)


_USAGE = """
SELECT (m.created_at AT TIME ZONE 'UTC')::date AS day, s.slug, o.oracle_name,
       COALESCE(m.model_used, 'unknown'), count(*), COALESCE(sum(m.input_tokens), 0),
       COALESCE(sum(m.output_tokens), 0), COALESCE(sum(m.total_tokens), 0),
       COALESCE(sum(m.cost_usd), 0), count(*) FILTER (WHERE m.cost_usd IS NULL),
       count(*) FILTER (WHERE m.tokens_estimated)
FROM messages m
JOIN oracles o ON o.id = m.oracle_id
JOIN solutions s ON s.id = m.solution_id
WHERE m.role = 'assistant' AND m.created_at >= :since AND m.created_at < :until
  AND (CAST(:oracle AS uuid) IS NULL OR m.oracle_id = :oracle)
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
"""


def usage(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    oracle_id: UUID | None = None,
) -> UsageReport:
    """Tokens, cost and messages per day, tenant, oracle and model in ``[since, until)``."""
    rows = session.execute(text(_USAGE), _window(since, until) | {"oracle": oracle_id})
    return UsageReport(tuple(UsageRow(*row) for row in rows))


@dataclass(frozen=True)
class LatencyRow:
    """Answer latency percentiles of one oracle and model."""

    tenant: str
    oracle: str
    model: str
    messages: int
    p50_ms: float
    p95_ms: float
    max_ms: int


_LATENCY = """
SELECT s.slug, o.oracle_name, COALESCE(m.model_used, 'unknown'), count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY m.latency_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY m.latency_ms), max(m.latency_ms)
FROM messages m
JOIN oracles o ON o.id = m.oracle_id
JOIN solutions s ON s.id = m.solution_id
WHERE m.role = 'assistant' AND m.latency_ms IS NOT NULL
  AND m.created_at >= :since AND m.created_at < :until
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""


def latency_percentiles(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> list[LatencyRow]:
    """p50/p95/max answer latency per tenant, oracle and model."""
    rows = session.execute(text(_LATENCY), _window(since, until))
    return [LatencyRow(*row) for row in rows]


@dataclass(frozen=True)
class RepriceResult:
    """Recorded traffic of an oracle priced as if it had run on another model."""

    provider: str
    model: str
    messages: int
    input_tokens: int
    output_tokens: int
    recorded_cost_usd: Decimal
    repriced_cost_usd: Decimal | None


def reprice(
    session: Session,
    *,
    oracle_id: UUID,
    provider: str,
    model: str,
    settings: Settings,
    since: datetime | None = None,
    until: datetime | None = None,
) -> RepriceResult:
    """What the oracle's assistant turns in the window would cost on ``provider/model``.

    Each message is priced on its own (tiered prices depend on one call's size), at the
    price in force when it was stored. ``repriced_cost_usd`` is None when the model is unpriced.
    """
    rows = session.execute(
        text(
            "SELECT COALESCE(input_tokens, 0), COALESCE(output_tokens, 0),"
            " COALESCE(cost_usd, 0), created_at FROM messages WHERE role = 'assistant'"
            " AND oracle_id = :o AND created_at >= :since AND created_at < :until"
        ),
        _window(since, until) | {"o": oracle_id},
    ).all()
    costs = [cost_of(provider, model, i, o, settings=settings, at=at) for i, o, _, at in rows]
    known = [c for c in costs if c is not None]
    return RepriceResult(
        provider=provider,
        model=model,
        messages=len(rows),
        input_tokens=sum(r[0] for r in rows),
        output_tokens=sum(r[1] for r in rows),
        recorded_cost_usd=sum((Decimal(r[2]) for r in rows), Decimal(0)),
        repriced_cost_usd=sum(known, Decimal(0)) if len(known) == len(costs) else None,
    )


def _window(since: datetime | None, until: datetime | None) -> dict[str, datetime]:
    return {"since": since or datetime(1970, 1, 1), "until": until or datetime(9999, 1, 1)}
