"""Read recorded conversations back: an oracle's recent conversations and their messages."""

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from supercore_core.models import Conversation, Message

T = TypeVar("T")


@dataclass(frozen=True)
class ConversationSummary:
    """One conversation of an oracle, with its counters."""

    id: UUID
    session_id: str
    title: str | None
    message_count: int
    total_tokens: int
    total_cost_usd: Decimal
    last_message_at: datetime | None

    @property
    def label(self) -> str:
        """A one-line label for pickers."""
        title = self.title or "(untitled)"
        return f"{title[:60]} · {self.message_count} messages · {self.session_id}"


@dataclass(frozen=True)
class StoredMessage:
    """One recorded turn, as ``ask`` stored it."""

    sequence_number: int
    role: str
    content: str
    sources: list[dict[str, Any]]
    input_tokens: int | None
    output_tokens: int | None
    tokens_estimated: bool
    model_used: str | None
    latency_ms: int | None
    cost_usd: Decimal | None
    created_at: datetime


def list_conversations(
    session: Session, *, oracle_id: UUID, limit: int = 50
) -> list[ConversationSummary]:
    """The oracle's conversations, most recently active first."""
    rows = session.scalars(
        select(Conversation)
        .where(Conversation.oracle_id == oracle_id)
        .order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.created_at.desc())
        .limit(limit)
    )
    return [_copy(ConversationSummary, c) for c in rows]


def conversation_messages(
    session: Session, *, oracle_id: UUID, session_id: str
) -> list[StoredMessage]:
    """Every message of the oracle's conversation ``session_id``, in order (none if new)."""
    rows = session.scalars(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.oracle_id == oracle_id, Conversation.session_id == session_id)
        .order_by(Message.sequence_number)
    )
    return [_copy(StoredMessage, m) for m in rows]


def _copy(cls: type[T], row: object) -> T:
    """The dataclass ``cls`` filled from the same-named attributes of a model row."""
    return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})  # type: ignore[arg-type]
