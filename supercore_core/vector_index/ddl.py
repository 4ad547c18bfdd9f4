"""The per-oracle HNSW index: its name, its statements and what the catalog says about it.

Every statement is built from a ``UUID`` (parsed again here), never from caller text, so
the only SQL this module can produce creates, comments or drops exactly one oracle's
index on ``document_chunks``.
"""

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

INDEX_PREFIX = "idx_chunks_hnsw_"
INDEX_PATTERN = f"^{INDEX_PREFIX}[0-9a-f]{{32}}$"
# Build options of the graph (pgvector's defaults, as the shared index of revision 0005 had).
HNSW_OPTIONS = "m = 16, ef_construction = 64"


@dataclass(frozen=True)
class OracleIndex:
    """One oracle's partial HNSW index as the catalog has it."""

    oracle_id: UUID
    name: str
    valid: bool  # false while CREATE INDEX CONCURRENTLY runs, or after it failed
    size_bytes: int


def index_name(oracle_id: UUID | str) -> str:
    """``idx_chunks_hnsw_<32 hex digits>``: the index of this oracle (and of no other)."""
    return INDEX_PREFIX + UUID(str(oracle_id)).hex


def oracle_literal(oracle_id: UUID | str) -> str:
    """The oracle id as a SQL literal: a partial index is only used when the planner sees
    the predicate's constant, which a parameter of a generic plan hides."""
    return f"'{UUID(str(oracle_id))}'::uuid"


def create_statement(oracle_id: UUID) -> str:
    """CREATE INDEX CONCURRENTLY of the oracle's graph (runs outside any transaction)."""
    return (
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index_name(oracle_id)} ON document_chunks"
        f" USING hnsw (embedding vector_cosine_ops) WITH ({HNSW_OPTIONS})"
        f" WHERE oracle_id = {oracle_literal(oracle_id)}"
    )


def comment_statement(oracle_id: UUID) -> str:
    """The index comment every index in this schema carries."""
    return (
        f"COMMENT ON INDEX {index_name(oracle_id)} IS 'Dense search of oracle {oracle_id}"
        " (built when it passed exact_below_chunks; see supercore_core.vector_index).'"
    )


def drop_statement(oracle_id: UUID) -> str:
    """DROP INDEX CONCURRENTLY of the oracle's graph (runs outside any transaction)."""
    return f"DROP INDEX CONCURRENTLY IF EXISTS {index_name(oracle_id)}"


_INDEXES = text(
    "SELECT c.relname, i.indisvalid, pg_relation_size(c.oid) FROM pg_index i"
    " JOIN pg_class c ON c.oid = i.indexrelid"
    " WHERE i.indrelid = to_regclass('public.document_chunks') AND c.relname ~ :pattern"
    " ORDER BY c.relname"
)


def oracle_indexes(conn: Connection | Session) -> dict[UUID, OracleIndex]:
    """Every per-oracle index on ``document_chunks``, by oracle id."""
    rows = conn.execute(_INDEXES, {"pattern": INDEX_PATTERN}).all()
    found = {}
    for name, valid, size in rows:
        oracle_id = UUID(hex=name.removeprefix(INDEX_PREFIX))
        found[oracle_id] = OracleIndex(oracle_id, name, bool(valid), int(size))
    return found


def ready_sql(oracle_id: UUID) -> str:
    """A boolean SQL expression: the oracle's index exists and is valid (usable)."""
    return (
        "EXISTS (SELECT 1 FROM pg_index i WHERE i.indisvalid"
        f" AND i.indexrelid = to_regclass('public.{index_name(oracle_id)}'))"
    )
