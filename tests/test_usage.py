"""Usage, latency and repricing over recorded assistant turns (hand-computed figures)."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import Settings, admin_session, tenant_session
from supercore_core.usage import latency_percentiles, reprice, usage
from tests.factories import make_conversation, make_message, make_oracle, make_solution

DAY1 = datetime(2026, 3, 1, 12, tzinfo=UTC)
DAY2 = datetime(2026, 3, 2, 12, tzinfo=UTC)
WINDOW = {"since": datetime(2026, 3, 1, tzinfo=UTC), "until": datetime(2026, 3, 3, tzinfo=UTC)}


@dataclass(frozen=True)
class Traffic:
    slug: str
    oracle_id: uuid.UUID
    solution_id: uuid.UUID
    other_slug: str


@pytest.fixture
def traffic(owner_engine: Engine) -> Traffic:
    """Two tenants; the first has three priced turns and one unpriced, the second one turn."""
    with Session(owner_engine) as session, session.begin():
        mine, other = make_solution(session), make_solution(session)
        oracle, other_oracle = make_oracle(session, mine), make_oracle(session, other)
        conversation = make_conversation(session, oracle)
        turns = [  # (when, model, input, output, cost, latency)
            (DAY1, "gpt-4o-mini", 1000, 500, Decimal("0.00045"), 100),
            (DAY1, "gpt-4o-mini", 2000, 1000, Decimal("0.0009"), 300),
            (DAY2, "gpt-4o-mini", 4000, 0, Decimal("0.0006"), 200),
            (DAY2, "mystery-llm", 10, 10, None, 400),
        ]
        for n, (when, model, i, o, cost, ms) in enumerate(turns, start=1):
            make_message(
                session, conversation, role="assistant", sequence_number=n, created_at=when,
                model_used=model, input_tokens=i, output_tokens=o, total_tokens=i + o,
                cost_usd=cost, latency_ms=ms,
            )  # fmt: skip
        make_message(
            session, make_conversation(session, other_oracle), role="assistant",
            created_at=DAY1, model_used="gpt-4o", total_tokens=7, cost_usd=Decimal(1),
        )  # fmt: skip
        return Traffic(mine.slug, oracle.id, mine.id, other.slug)


def test_usage_per_day_oracle_and_model(
    app_sessions: sessionmaker[Session], traffic: Traffic
) -> None:
    with tenant_session(app_sessions, solution_id=traffic.solution_id) as session:
        report = usage(session, **WINDOW)

    got = [(r.day, r.model, r.messages, r.total_tokens, r.cost_usd) for r in report.rows]
    assert got == [
        (date(2026, 3, 1), "gpt-4o-mini", 2, 4500, Decimal("0.001350")),
        (date(2026, 3, 2), "gpt-4o-mini", 1, 4000, Decimal("0.000600")),
        (date(2026, 3, 2), "mystery-llm", 1, 20, Decimal(0)),
    ]
    assert report.total_cost_usd == Decimal("0.00195") and report.unpriced_messages == 1
    assert {r.tenant for r in report.rows} == {traffic.slug}  # RLS: never the other tenant
    assert list(report.to_frame().columns)[:4] == ["day", "tenant", "oracle", "model"]


def test_admin_sees_every_tenant(admin_sessions: sessionmaker[Session], traffic: Traffic) -> None:
    with admin_session(admin_sessions, reason="test: usage overview") as session:
        tenants = {r.tenant for r in usage(session, **WINDOW).rows}

    assert {traffic.slug, traffic.other_slug} <= tenants


def test_latency_percentiles(app_sessions: sessionmaker[Session], traffic: Traffic) -> None:
    with tenant_session(app_sessions, solution_id=traffic.solution_id) as session:
        rows = {r.model: r for r in latency_percentiles(session, **WINDOW)}

    mini = rows["gpt-4o-mini"]  # latencies 100, 300, 200
    assert (mini.messages, mini.p50_ms, mini.p95_ms, mini.max_ms) == (3, 200, 290, 300)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        # gpt-4o $2.50 / $10 per M: inputs 7010 * 2.5e-6 + outputs 1510 * 10e-6
        ("gpt-4o", Decimal("0.032625")),
        ("no-such-model", None),  # unpriced: unknown, never $0
    ],
)
def test_reprice_on_another_model(
    app_sessions: sessionmaker[Session],
    traffic: Traffic,
    settings: Settings,
    model: str,
    expected: Decimal | None,
) -> None:
    with tenant_session(app_sessions, solution_id=traffic.solution_id) as session:
        result = reprice(
            session, oracle_id=traffic.oracle_id, provider="openai", model=model,
            settings=settings, **WINDOW,
        )  # fmt: skip

    assert (result.messages, result.input_tokens, result.output_tokens) == (4, 7010, 1510)
    assert result.repriced_cost_usd == expected
    assert result.recorded_cost_usd == Decimal("0.00195")
