"""The seed's seven tables: tenants, oracles, documents, chunks, conversations, messages,
workflows."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    Numeric,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from supercore_core.models.base import (
    EMBEDDING_DIMENSIONS,
    Base,
    _created,
    _jsonb,
    _tenant_fks,
    _updated,
    _uuid,
    _uuid_pk,
)


class Solution(Base):
    """A tenant."""

    __tablename__ = "solutions"
    __table_args__ = (
        {"comment": "Tenants. Every other table carries solution_id; RLS isolates them."},
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    slug: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    industry: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="active")
    settings: Mapped[dict[str, Any]] = _jsonb()
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class Oracle(Base):
    """A knowledge assistant of a tenant."""

    __tablename__ = "oracles"
    __table_args__ = (
        _tenant_fks("oracles", oracle=False)[0],
        UniqueConstraint("id", "solution_id", name="uq_oracles_id_solution"),
        UniqueConstraint("solution_id", "oracle_name", name="uq_oracles_solution_name"),
        {"comment": "Knowledge assistants of a tenant: prompt, model and retrieval settings."},
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    solution_id: Mapped[uuid.UUID] = _uuid()
    oracle_name: Mapped[str] = mapped_column(Text)
    oracle_type: Mapped[str] = mapped_column(Text, server_default="domain")
    description: Mapped[str | None] = mapped_column(Text)
    system_prompt: Mapped[str | None] = mapped_column(Text)
    llm_provider: Mapped[str] = mapped_column(Text, server_default="anthropic")
    llm_model: Mapped[str] = mapped_column(Text, server_default="claude-3-5-sonnet-20241022")
    temperature: Mapped[Decimal] = mapped_column(Numeric(3, 2), server_default="0.70")
    max_tokens: Mapped[int] = mapped_column(Integer, server_default="4096")
    embedding_model: Mapped[str] = mapped_column(Text, server_default="all-MiniLM-L6-v2")
    embedding_dimensions: Mapped[int] = mapped_column(Integer, server_default="384")
    retrieval_config: Mapped[dict[str, Any]] = _jsonb()
    status: Mapped[str] = mapped_column(Text, server_default="active")
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class Document(Base):
    """A source document of an oracle, with its ingestion status."""

    __tablename__ = "documents"
    __table_args__ = (
        *_tenant_fks("documents"),
        UniqueConstraint("id", "solution_id", name="uq_documents_id_solution"),
        UniqueConstraint("id", "oracle_id", "solution_id", name="uq_documents_id_oracle_solution"),
        {"comment": "Source documents of an oracle; status tracks ingestion."},
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    oracle_id: Mapped[uuid.UUID] = _uuid()
    solution_id: Mapped[uuid.UUID] = _uuid()
    filename: Mapped[str] = mapped_column(Text)
    file_type: Mapped[str] = mapped_column(Text)
    file_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    storage_path: Mapped[str | None] = mapped_column(Text)
    mime_type: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(
        Text, comment="sha256 hex of the raw bytes: same file twice is a no-op."
    )
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    error_message: Mapped[str | None] = mapped_column(Text)
    chunk_count: Mapped[int] = mapped_column(Integer, server_default="0")
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class DocumentChunk(Base):
    """A retrieval unit: text, optional embedding and a generated tsvector."""

    __tablename__ = "document_chunks"
    __table_args__ = (
        *_tenant_fks("document_chunks"),
        ForeignKeyConstraint(
            ["document_id", "oracle_id", "solution_id"],
            ["documents.id", "documents.oracle_id", "documents.solution_id"],
            ondelete="CASCADE",
            name="fk_document_chunks_document",
        ),
        UniqueConstraint("document_id", "chunk_index", name="uq_document_chunks_document_index"),
        {"comment": "Retrieval units: content, embedding (nullable until embedded), tsvector."},
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    document_id: Mapped[uuid.UUID] = _uuid()
    oracle_id: Mapped[uuid.UUID] = _uuid()
    solution_id: Mapped[uuid.UUID] = _uuid()
    chunk_index: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    content_tsv: Mapped[str | None] = mapped_column(
        TSVECTOR, Computed("to_tsvector('english'::regconfig, content)", persisted=True)
    )
    embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIMENSIONS))
    embedding_model: Mapped[str | None] = mapped_column(Text)
    token_count: Mapped[int | None] = mapped_column(Integer)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class Conversation(Base):
    """A chat session of an end user with an oracle."""

    __tablename__ = "conversations"
    __table_args__ = (
        *_tenant_fks("conversations"),
        UniqueConstraint(
            "id", "oracle_id", "solution_id", name="uq_conversations_id_oracle_solution"
        ),
        UniqueConstraint("solution_id", "oracle_id", "session_id", name="uq_conversations_session"),
        {"comment": "Chat sessions; counters are kept by the messages trigger."},
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    oracle_id: Mapped[uuid.UUID] = _uuid()
    solution_id: Mapped[uuid.UUID] = _uuid()
    session_id: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="active")
    message_count: Mapped[int] = mapped_column(Integer, server_default="0")
    total_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    total_cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 6), server_default="0")
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class Message(Base):
    """One turn of a conversation, with sources, tokens, latency and cost."""

    __tablename__ = "messages"
    __table_args__ = (
        *_tenant_fks("messages"),
        ForeignKeyConstraint(
            ["conversation_id", "oracle_id", "solution_id"],
            ["conversations.id", "conversations.oracle_id", "conversations.solution_id"],
            ondelete="CASCADE",
            name="fk_messages_conversation",
        ),
        UniqueConstraint(
            "conversation_id", "sequence_number", name="uq_messages_conversation_sequence"
        ),
        {"comment": "Conversation turns; cost_usd NULL means unpriced, never $0."},
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    conversation_id: Mapped[uuid.UUID] = _uuid()
    oracle_id: Mapped[uuid.UUID] = _uuid()
    solution_id: Mapped[uuid.UUID] = _uuid()
    role: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    sequence_number: Mapped[int] = mapped_column(Integer)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    total_tokens: Mapped[int | None] = mapped_column(Integer)
    tokens_estimated: Mapped[bool] = mapped_column(Boolean, server_default="false")
    model_used: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(14, 6))
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class TemporalWorkflow(Base):
    """A tracked long-running job (ingestion, evaluation) and its progress."""

    __tablename__ = "temporal_workflows"
    __table_args__ = (
        *_tenant_fks("temporal_workflows"),
        ForeignKeyConstraint(
            ["document_id", "solution_id"],
            ["documents.id", "documents.solution_id"],
            ondelete="SET NULL (document_id)",
            name="fk_temporal_workflows_document",
        ),
        UniqueConstraint(
            "solution_id", "workflow_id", name="uq_temporal_workflows_solution_workflow"
        ),
        {"comment": "Long-running jobs (ingestion, evaluations) and their progress."},
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    workflow_id: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(Text)
    workflow_type: Mapped[str] = mapped_column(Text)
    solution_id: Mapped[uuid.UUID] = _uuid()
    oracle_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    document_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(Text, server_default="running")
    input_data: Mapped[dict[str, Any]] = _jsonb()
    output_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_message: Mapped[str | None] = mapped_column(Text)
    current_step: Mapped[str | None] = mapped_column(Text)
    steps_completed: Mapped[int] = mapped_column(Integer, server_default="0")
    total_steps: Mapped[int | None] = mapped_column(Integer)
    progress_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default="0")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()
