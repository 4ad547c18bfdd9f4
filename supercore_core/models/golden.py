"""Golden sets (revision 0014): an oracle's questions and graded document judgements."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKeyConstraint,
    Integer,
    SmallInteger,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from supercore_core.models.base import Base, _created, _tenant_fks, _updated, _uuid, _uuid_pk


def _metadata() -> Mapped[dict[str, Any]]:
    return mapped_column("metadata", JSONB, server_default=text("'{}'::jsonb"))


class GoldenSet(Base):
    """A named, versioned set of questions for one oracle."""

    __tablename__ = "golden_sets"
    __table_args__ = (
        *_tenant_fks("golden_sets"),
        UniqueConstraint("id", "solution_id", name="uq_golden_sets_id_solution"),
        UniqueConstraint("solution_id", "oracle_id", "name", name="uq_golden_sets_oracle_name"),
        {
            "comment": "A named set of questions of one oracle with relevance judgements; "
            "version goes up with every change so runs can be told apart."
        },
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    solution_id: Mapped[uuid.UUID] = _uuid()
    oracle_id: Mapped[uuid.UUID] = _uuid()
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    metadata_: Mapped[dict[str, Any]] = _metadata()
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class GoldenQuestion(Base):
    """One question of a golden set, with an optional (possibly draft) reference answer."""

    __tablename__ = "golden_questions"
    __table_args__ = (
        _tenant_fks("golden_questions", oracle=False)[0],
        ForeignKeyConstraint(
            ["set_id", "solution_id"],
            ["golden_sets.id", "golden_sets.solution_id"],
            ondelete="CASCADE",
            name="fk_golden_questions_set",
        ),
        UniqueConstraint("id", "solution_id", name="uq_golden_questions_id_solution"),
        UniqueConstraint("set_id", "query_key", name="uq_golden_questions_set_key"),
        {
            "comment": "A question of a golden set, with its key (stable across import and "
            "export) and an optional reference answer (draft when taken from a chat answer)."
        },
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    solution_id: Mapped[uuid.UUID] = _uuid()
    set_id: Mapped[uuid.UUID] = _uuid()
    query_key: Mapped[str] = mapped_column(Text)
    question: Mapped[str] = mapped_column(Text)
    reference_answer: Mapped[str | None] = mapped_column(Text)
    reference_is_draft: Mapped[bool] = mapped_column(Boolean, server_default="false")
    metadata_: Mapped[dict[str, Any]] = _metadata()
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class GoldenJudgement(Base):
    """How relevant one document (or a passage or page of it) is to a golden question."""

    __tablename__ = "golden_judgements"
    __table_args__ = (
        _tenant_fks("golden_judgements", oracle=False)[0],
        ForeignKeyConstraint(
            ["question_id", "solution_id"],
            ["golden_questions.id", "golden_questions.solution_id"],
            ondelete="CASCADE",
            name="fk_golden_judgements_question",
        ),
        ForeignKeyConstraint(
            ["document_id", "solution_id"],
            ["documents.id", "documents.solution_id"],
            ondelete="SET NULL (document_id)",
            name="fk_golden_judgements_document",
        ),
        UniqueConstraint("question_id", "filename", name="uq_golden_judgements_question_file"),
        {
            "comment": "Graded relevance of one document (optionally a passage or page) for "
            "a golden question; document_id becomes NULL when the document is deleted, "
            "content_hash tells a changed one: both are reported as stale."
        },
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    solution_id: Mapped[uuid.UUID] = _uuid()
    question_id: Mapped[uuid.UUID] = _uuid()
    document_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    filename: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(Text)
    grade: Mapped[int] = mapped_column(SmallInteger)
    passage: Mapped[str | None] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _created()
