"""Monthly budgets per oracle or tenant: refuse a question that could exceed one.

A budget is ``monthly_budget_usd`` in the oracle's or the tenant's ``metadata``. The check
prices the worst case (the whole prompt plus the oracle's ``max_tokens`` of output) and
holds a transaction-level advisory lock, so concurrent questions against one budget take
turns instead of overspending it together.
"""

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from supercore_core.config import Settings
from supercore_core.errors import BudgetExceededError, ConfigurationError
from supercore_core.llm import ChatModel
from supercore_core.models import Oracle, Solution
from supercore_core.pricing import cost_of

BUDGET_KEY = "monthly_budget_usd"


def monthly_budget(metadata: dict[str, Any]) -> Decimal | None:
    """The budget set in a metadata object, or None."""
    value = metadata.get(BUDGET_KEY)
    if value is None:
        return None
    try:
        budget = Decimal(str(value))
    except InvalidOperation as exc:
        raise ConfigurationError(f"{BUDGET_KEY} must be a number of USD, not {value!r}") from exc
    if budget < 0:
        raise ConfigurationError(f"{BUDGET_KEY} must not be negative, not {value!r}")
    return budget


def spent_this_month(session: Session, *, oracle_id: UUID | None, solution_id: UUID) -> Decimal:
    """USD recorded since the start of the current UTC month (by oracle, or the tenant)."""
    column = "oracle_id" if oracle_id else "solution_id"
    spent = session.execute(
        text(
            f"SELECT COALESCE(sum(cost_usd), 0) FROM messages WHERE {column} = :id"
            " AND created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
        ),
        {"id": oracle_id or solution_id},
    ).scalar_one()
    return Decimal(spent)


def check_budget(
    session: Session, oracle: Oracle, chat_model: ChatModel, settings: Settings, prompt: int
) -> None:
    """Raise ``BudgetExceededError`` if this question could exceed a monthly budget."""
    solution = session.get(Solution, oracle.solution_id)
    scopes = [
        ("oracle", oracle.oracle_name, oracle.id, monthly_budget(oracle.metadata_)),
        (
            "tenant",
            solution.slug if solution else "?",
            None,
            monthly_budget(solution.metadata_ if solution else {}),
        ),
    ]
    budgets = [scope for scope in scopes if scope[3] is not None]
    if not budgets:
        return
    worst = cost_of(
        chat_model.provider,
        chat_model.model,
        prompt,
        oracle.max_tokens,
        settings=settings,
        at=datetime.now(UTC),
    )
    if worst is None:
        raise BudgetExceededError(
            f"a monthly budget is set but {chat_model.provider}/{chat_model.model} has no "
            "price: add one in SUPERCORE_PRICE_OVERRIDES"
        )
    for kind, name, oracle_id, budget in budgets:
        lock_id = oracle_id or oracle.solution_id
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
            {"k": f"budget:{lock_id}"},
        )
        spent = spent_this_month(session, oracle_id=oracle_id, solution_id=oracle.solution_id)
        if budget is not None and spent + worst > budget:
            raise BudgetExceededError(
                f"{kind} {name!r} has spent ${spent:.6f} of its ${budget} monthly budget; "
                f"this question could cost up to ${worst:.6f}: raise the budget or wait "
                "until next month"
            )
