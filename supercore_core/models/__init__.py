"""SQLAlchemy 2 typed models of the SuperCore tables.

The DDL itself (checks, indexes, triggers, functions, RLS) lives only in the Alembic
revisions; these models mirror columns, keys and unique constraints, and ``alembic check``
proves the two agree. ``seed`` holds the seed's seven tables, ``additions`` the later ones,
``people`` the people, their tenant roles and the platform admins.
"""

from supercore_core.models.additions import AuditLogEntry, EmbeddingCacheEntry, EvalResult, EvalRun
from supercore_core.models.base import EMBEDDING_DIMENSIONS, Base
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
    Person,
    TenantMembership,
    PlatformAdmin,
)

__all__ = [
    "ALL_MODELS",
    "EMBEDDING_DIMENSIONS",
    "AuditLogEntry",
    "Base",
    "Conversation",
    "Document",
    "DocumentChunk",
    "EmbeddingCacheEntry",
    "EvalResult",
    "EvalRun",
    "Message",
    "Oracle",
    "Person",
    "PlatformAdmin",
    "Solution",
    "TemporalWorkflow",
    "TenantMembership",
]
