"""Read recorded conversations back: an oracle's recent conversations and their messages."""

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from supercore_core.models import Conversation, Message, Oracle

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


@dataclass(frozen=True)
class AskedQuestion:
    """A question that got an answer, and where: to open it again in one click."""

    question: str
    oracle_id: UUID
    oracle_name: str
    session_id: str
    asked_at: datetime


def answered_questions(session: Session, *, limit: int = 6) -> list[AskedQuestion]:
    """The tenant's most recently answered distinct questions, across its oracles."""
    answer = aliased(Message)
    answered = exists().where(
        and_(
            answer.conversation_id == Message.conversation_id,
            answer.sequence_number == Message.sequence_number + 1,
            answer.role == "assistant",
        )
    )
    asked_at = func.max(Message.created_at).label("asked_at")
    rows = session.execute(
        select(Message.content, Oracle.id, Oracle.oracle_name, Conversation.session_id, asked_at)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Oracle, Oracle.id == Conversation.oracle_id)
        .where(Message.role == "user", answered)
        .group_by(Message.content, Oracle.id, Oracle.oracle_name, Conversation.session_id)
        .order_by(asked_at.desc(), Message.content)
        .limit(limit * 4)
    )
    found: dict[tuple[str, UUID], AskedQuestion] = {}
    for row in rows:  # the same question asked in several conversations: the latest
        found.setdefault((row[0], row[1]), AskedQuestion(*row))
    return list(found.values())[:limit]


def _copy(cls: type[T], row: object) -> T:
    """The dataclass ``cls`` filled from the same-named attributes of a model row."""
    return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})  # type: ignore[arg-type]
