"""Tables beyond the seed: the embedding cache (0010), the audit log (0012) and evaluation
runs and results (0013)."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Integer,
    Numeric,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from supercore_core.models.base import (
    Base,
    _created,
    _jsonb,
    _tenant_fks,
    _uuid,
    _uuid_pk,
)


class EmbeddingCacheEntry(Base):
    """A cached embedding of one chunk text for one model, per tenant."""

    __tablename__ = "embedding_cache"
    __table_args__ = (
        _tenant_fks("embedding_cache", oracle=False)[0],
        {
            "comment": "Embeddings by (tenant, model, sha256 of chunk text), "
            "reused across oracles and re-runs."
        },
    )

    solution_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    model: Mapped[str] = mapped_column(Text, primary_key=True)
    content_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    embedding: Mapped[Any] = mapped_column(Vector())
    created_at: Mapped[datetime] = _created()


class AuditLogEntry(Base):
    """One use of superuser mode: who, when, what for (append-only, revision 0012)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        {
            "comment": "Append-only record of every use of superuser mode: who (session and "
            "current user), when, what for, optionally which tenant. No foreign key: entries "
            "outlive the tenants they mention."
        },
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    occurred_at: Mapped[datetime] = _created()
    session_user_name: Mapped[str] = mapped_column(Text, server_default=text("session_user"))
    current_user_name: Mapped[str] = mapped_column(Text, server_default=text("current_user"))
    action: Mapped[str] = mapped_column(Text, server_default="superuser_mode")
    reason: Mapped[str] = mapped_column(Text)
    solution_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    application_name: Mapped[str | None] = mapped_column(Text)
    client_addr: Mapped[str | None] = mapped_column(INET)
    backend_pid: Mapped[int | None] = mapped_column(Integer)
    person_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class EvalRun(Base):
    """One evaluation run of an oracle: config snapshot, aggregates, canaries, cost."""

    __tablename__ = "eval_runs"
    __table_args__ = (
        *_tenant_fks("eval_runs"),
        UniqueConstraint("id", "solution_id", name="uq_eval_runs_id_solution"),
        {
            "comment": "Evaluation runs of an oracle: dataset, config snapshot, aggregate "
            "metrics with bootstrap CIs, canary hits, tokens, cost (NULL = unpriced), timings."
        },
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    solution_id: Mapped[uuid.UUID] = _uuid()
    oracle_id: Mapped[uuid.UUID] = _uuid()
    dataset: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, server_default="retrieval")
    status: Mapped[str] = mapped_column(Text, server_default="completed")
    config: Mapped[dict[str, Any]] = _jsonb()
    metrics: Mapped[dict[str, Any]] = _jsonb()
    query_count: Mapped[int] = mapped_column(Integer, server_default="0")
    canary_hits: Mapped[int] = mapped_column(Integer, server_default="0")
    input_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    output_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(14, 6))
    timings: Mapped[dict[str, Any]] = _jsonb()
    error_message: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'::jsonb")
    )
    started_at: Mapped[datetime] = _created()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created()


class EvalResult(Base):
    """One query's outcome in an evaluation run."""

    __tablename__ = "eval_results"
    __table_args__ = (
        _tenant_fks("eval_results", oracle=False)[0],
        ForeignKeyConstraint(
            ["run_id", "solution_id"],
            ["eval_runs.id", "eval_runs.solution_id"],
            ondelete="CASCADE",
            name="fk_eval_results_run",
        ),
        UniqueConstraint("run_id", "query_id", name="uq_eval_results_run_query"),
        {
            "comment": "Per-query results of an evaluation run: retrieved documents, "
            "judgements, metric values (null = unmeasured), answer, tokens, cost, latency."
        },
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    run_id: Mapped[uuid.UUID] = _uuid()
    solution_id: Mapped[uuid.UUID] = _uuid()
    query_id: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)
    retrieved: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    relevant: Mapped[dict[str, Any]] = _jsonb()
    metrics: Mapped[dict[str, Any]] = _jsonb()
    answer: Mapped[str | None] = mapped_column(Text)
    reference_answer: Mapped[str | None] = mapped_column(Text)
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(14, 6))
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _created()
