"""SQLAlchemy 2 typed models of the SuperCore tables.

The DDL itself (checks, indexes, triggers, functions, RLS) lives only in the Alembic
revisions; these models mirror columns, keys and unique constraints, and ``alembic check``
proves the two agree. ``seed`` holds the seed's seven tables, ``additions`` and ``golden``
the later ones, ``people`` the people, their tenant roles and the platform admins, ``bm25``
the BM25 corpus statistics.
"""

from supercore_core.models.additions import AuditLogEntry, EmbeddingCacheEntry, EvalResult, EvalRun
from supercore_core.models.base import EMBEDDING_DIMENSIONS, Base
from supercore_core.models.bm25 import Bm25ChunkLength, Bm25OracleStats, Bm25TermStats
from supercore_core.models.golden import GoldenJudgement, GoldenQuestion, GoldenSet
from supercore_core.models.people import Person, PlatformAdmin, TenantMembership
from supercore_core.models.seed import (
    Conversation,
    Document,
    DocumentChunk,
    Message,
    Oracle,
    Solution,
    TemporalWorkflow,
)

ALL_MODELS: tuple[type[Base], ...] = (
    Solution,
    Oracle,
    Document,
    DocumentChunk,
    Conversation,
    Message,
    TemporalWorkflow,
    EmbeddingCacheEntry,
    AuditLogEntry,
    EvalRun,
    EvalResult,
    GoldenSet,
    GoldenQuestion,
    GoldenJudgement,
    Person,
    TenantMembership,
    PlatformAdmin,
    Bm25OracleStats,
    Bm25TermStats,
    Bm25ChunkLength,
)

__all__ = [
    "ALL_MODELS",
    "EMBEDDING_DIMENSIONS",
    "AuditLogEntry",
    "Base",
    "Bm25ChunkLength",
    "Bm25OracleStats",
    "Bm25TermStats",
    "Conversation",
    "Document",
    "DocumentChunk",
    "EmbeddingCacheEntry",
    "EvalResult",
    "EvalRun",
    "GoldenJudgement",
    "GoldenQuestion",
    "GoldenSet",
    "Message",
    "Oracle",
    "Person",
    "PlatformAdmin",
    "Solution",
    "TemporalWorkflow",
    "TenantMembership",
]
