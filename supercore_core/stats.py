"""Index, table and usage statistics for the dashboard and notebooks.

Database-wide figures (sizes, index scans, ``pg_stat_statements``, vector index settings)
cover every tenant: read them in an admin session. ``overview`` and ``trends`` count what the
session can see: every tenant in an admin session, only its own in a tenant session.
"""

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from supercore_core.errors import ConfigurationError


class _Rows:
    """A typed result set: ``rows`` of one dataclass, with ``to_frame()`` for pandas."""

    rows: tuple[Any, ...]
    row_type: type

    def to_frame(self) -> Any:
        """The rows as a pandas DataFrame (columns as the row dataclass's fields)."""
        import pandas as pd

        columns = [f.name for f in fields(self.row_type)]
        return pd.DataFrame([asdict(r) for r in self.rows], columns=columns)


@dataclass(frozen=True)
class TableSize:
    """On-disk size of one table (bytes) and its estimated row count (all tenants)."""

    table: str
    total_bytes: int
    table_bytes: int
    index_bytes: int
    toast_bytes: int
    rows_estimate: int


@dataclass(frozen=True)
class TableSizes(_Rows):
    """Sizes of the public tables, largest first."""

    rows: tuple[TableSize, ...]
    row_type = TableSize


@dataclass(frozen=True)
class IndexUsage:
    """One index: size, how often it was scanned, and whether it looks unused."""

    table: str
    index: str
    method: str
    size_bytes: int
    scans: int
    tuples_read: int
    tuples_fetched: int
    enforces_constraint: bool
    unused: bool
    purpose: str | None


@dataclass(frozen=True)
class IndexUsages(_Rows):
    """Every index of the public schema (``pg_stat_user_indexes``)."""

    rows: tuple[IndexUsage, ...]
    row_type = IndexUsage
    stats_reset: datetime | None = None

    @property
    def unused(self) -> tuple[IndexUsage, ...]:
        """Indexes never scanned since the statistics were reset (constraints excluded)."""
        return tuple(r for r in self.rows if r.unused)


@dataclass(frozen=True)
class QueryStat:
    """One normalised statement from ``pg_stat_statements``."""

    query: str
    calls: int
    total_ms: float
    mean_ms: float
    rows: int
    cache_hit_ratio: float | None


@dataclass(frozen=True)
class TopQueries(_Rows):
    """The statements that took the most time; ``available`` is false with a reason."""

    rows: tuple[QueryStat, ...]
    row_type = QueryStat
    available: bool = True
    reason: str | None = None


@dataclass(frozen=True)
class VectorIndex:
    """A pgvector index and its build options."""

    table: str
    index: str
    method: str
    options: dict[str, str]
    size_bytes: int
    definition: str


@dataclass(frozen=True)
class VectorSettings:
    """pgvector's version, vector indexes and the search settings in force."""

    extension_version: str | None
    indexes: tuple[VectorIndex, ...]
    settings: dict[str, str | None]

    def to_frame(self) -> Any:
        """The indexes as a pandas DataFrame."""
        import pandas as pd

        columns = list(VectorIndex.__dataclass_fields__)
        return pd.DataFrame([asdict(i) for i in self.indexes], columns=columns)


@dataclass(frozen=True)
class TenantCounts:
    """What one tenant holds and has used."""

    solution_id: UUID
    slug: str
    name: str
    status: str
    created_at: datetime
    oracles: int
    documents: int
    failed_documents: int
    chunks: int
    conversations: int
    messages: int
    total_tokens: int
    cost_usd: Decimal
    unpriced_messages: int


@dataclass(frozen=True)
class Overview(_Rows):
    """Per-tenant counts (every tenant the session can see) and their totals."""

    rows: tuple[TenantCounts, ...]
    row_type = TenantCounts

    def total(self, column: str) -> Any:
        """The sum of a numeric column over the tenants."""
        return sum((getattr(r, column) for r in self.rows), start=0)


@dataclass(frozen=True)
class DayActivity:
    """What happened on one day."""

    day: date
    documents: int
    chunks: int
    messages: int
    total_tokens: int
    cost_usd: Decimal


@dataclass(frozen=True)
class Trends(_Rows):
    """Daily activity over the last ``days`` days, oldest first (days without any included)."""

    rows: tuple[DayActivity, ...]
    row_type = DayActivity


_TABLE_SIZES = """
SELECT c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid),
       pg_indexes_size(c.oid), COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0),
       GREATEST(s.n_live_tup, 0)
FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
ORDER BY 2 DESC, 1
"""

_INDEX_USAGE = """
SELECT s.relname, s.indexrelname, am.amname, pg_relation_size(s.indexrelid), s.idx_scan,
       s.idx_tup_read, s.idx_tup_fetch, (i.indisunique OR i.indisprimary OR i.indisexclusion),
       obj_description(s.indexrelid, 'pg_class')
FROM pg_stat_user_indexes s
JOIN pg_index i ON i.indexrelid = s.indexrelid
JOIN pg_class ic ON ic.oid = s.indexrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE s.schemaname = 'public'
ORDER BY s.relname, s.indexrelname
"""

_TOP_QUERIES = """
SELECT query, calls, total_exec_time, mean_exec_time, rows,
       shared_blks_hit::float8 / NULLIF(shared_blks_hit + shared_blks_read, 0)
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY total_exec_time DESC
LIMIT :n
"""

_VECTOR_INDEXES = """
SELECT t.relname, ic.relname, am.amname, COALESCE(ic.reloptions, '{}'),
       pg_relation_size(ic.oid), pg_get_indexdef(ic.oid)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE am.amname IN ('hnsw', 'ivfflat') AND ic.relnamespace = 'public'::regnamespace
ORDER BY t.relname, ic.relname
"""

VECTOR_SETTINGS = (
    "hnsw.ef_search",
    "hnsw.iterative_scan",
    "hnsw.max_scan_tuples",
    "ivfflat.probes",
    "ivfflat.iterative_scan",
    "maintenance_work_mem",
)

# Each table's per-tenant aggregate; RLS limits them to what the session may see. Scratch
# evaluation oracles (benchmark corpora, canaries: see evaluation.scratch) are left out.
_OVERVIEW = """
WITH scratch AS (SELECT id FROM oracles
                 WHERE metadata @> '{"evaluation": {"scratch": true}}'::jsonb),
o AS (SELECT solution_id, count(*) AS n FROM oracles
      WHERE id NOT IN (SELECT id FROM scratch) GROUP BY 1),
d AS (SELECT solution_id, count(*) AS n, count(*) FILTER (WHERE status = 'failed') AS failed
      FROM documents WHERE oracle_id NOT IN (SELECT id FROM scratch) GROUP BY 1),
c AS (SELECT solution_id, count(*) AS n FROM document_chunks
      WHERE oracle_id NOT IN (SELECT id FROM scratch) GROUP BY 1),
v AS (SELECT solution_id, count(*) AS n FROM conversations GROUP BY 1),
m AS (SELECT solution_id, count(*) AS n, COALESCE(sum(total_tokens), 0) AS tokens,
             COALESCE(sum(cost_usd), 0) AS cost,
             count(*) FILTER (WHERE role = 'assistant' AND cost_usd IS NULL) AS unpriced
      FROM messages GROUP BY 1)
SELECT s.id, s.slug, s.name, s.status, s.created_at, COALESCE(o.n, 0), COALESCE(d.n, 0),
       COALESCE(d.failed, 0), COALESCE(c.n, 0), COALESCE(v.n, 0), COALESCE(m.n, 0),
       COALESCE(m.tokens, 0), COALESCE(m.cost, 0), COALESCE(m.unpriced, 0)
FROM solutions s
LEFT JOIN o ON o.solution_id = s.id LEFT JOIN d ON d.solution_id = s.id
LEFT JOIN c ON c.solution_id = s.id LEFT JOIN v ON v.solution_id = s.id
LEFT JOIN m ON m.solution_id = s.id
ORDER BY s.name, s.slug
"""

_TRENDS = """
WITH days AS (
    SELECT generate_series(current_date - (:days - 1), current_date, interval '1 day')::date AS day
),
scratch AS (SELECT id FROM oracles
            WHERE metadata @> '{"evaluation": {"scratch": true}}'::jsonb),
d AS (SELECT created_at::date AS day, count(*) AS n FROM documents
      WHERE created_at >= current_date - (:days - 1)
        AND oracle_id NOT IN (SELECT id FROM scratch) GROUP BY 1),
c AS (SELECT created_at::date AS day, count(*) AS n FROM document_chunks
      WHERE created_at >= current_date - (:days - 1)
        AND oracle_id NOT IN (SELECT id FROM scratch) GROUP BY 1),
m AS (SELECT created_at::date AS day, count(*) AS n, COALESCE(sum(total_tokens), 0) AS tokens,
             COALESCE(sum(cost_usd), 0) AS cost
      FROM messages WHERE created_at >= current_date - (:days - 1) GROUP BY 1)
SELECT days.day, COALESCE(d.n, 0), COALESCE(c.n, 0), COALESCE(m.n, 0), COALESCE(m.tokens, 0),
       COALESCE(m.cost, 0)
FROM days LEFT JOIN d USING (day) LEFT JOIN c USING (day) LEFT JOIN m USING (day)
ORDER BY days.day
"""


def table_sizes(session: Session) -> TableSizes:
    """Size on disk of every public table (heap, indexes, TOAST) and its row estimate."""
    rows = session.execute(text(_TABLE_SIZES)).all()
    return TableSizes(tuple(TableSize(*row) for row in rows))


def index_usage(session: Session) -> IndexUsages:
    """Scans per index since the last statistics reset; never-scanned ones marked unused.

    An index that backs a primary key or unique constraint is never reported as unused:
    it enforces the constraint even when no query reads it.
    """
    result = []
    for table, index, method, size, scans, read, fetched, enforces, purpose in session.execute(
        text(_INDEX_USAGE)
    ):
        unused = scans == 0 and not enforces
        result.append(
            IndexUsage(table, index, method, size, scans, read, fetched, enforces, unused, purpose)
        )
    reset = session.execute(
        text("SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()")
    ).scalar_one_or_none()
    return IndexUsages(tuple(result), stats_reset=reset)


def top_queries(session: Session, *, limit: int = 10) -> TopQueries:
    """The ``limit`` statements with the most total execution time in this database.

    Needs the ``pg_stat_statements`` extension (preloaded) and a role allowed to read it
    (``supercore_admin``); otherwise returns no rows, ``available=False`` and the reason.
    """
    if limit < 1:
        raise ConfigurationError("limit must be at least 1")
    installed = session.execute(
        text("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
    ).first()
    if installed is None:
        return TopQueries((), available=False, reason="pg_stat_statements is not installed")
    try:
        with session.begin_nested():
            rows = session.execute(text(_TOP_QUERIES), {"n": limit}).all()
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return TopQueries((), available=False, reason=reason)
    return TopQueries(
        tuple(
            QueryStat(q, calls, float(total), float(mean), n, None if hit is None else float(hit))
            for q, calls, total, mean, n, hit in rows
        )
    )


def vector_settings(session: Session) -> VectorSettings:
    """pgvector's version, its indexes with build options, and the search settings in force."""
    version = session.execute(
        text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    ).scalar_one_or_none()
    indexes = tuple(
        VectorIndex(table, index, method, _options(options), size, definition)
        for table, index, method, options, size, definition in session.execute(
            text(_VECTOR_INDEXES)
        )
    )
    if version is not None:  # pgvector registers its settings when its library first loads
        session.execute(text("SELECT '[0]'::vector"))
    values = {
        name: session.execute(text("SELECT current_setting(:n, true)"), {"n": name}).scalar()
        for name in VECTOR_SETTINGS
    }
    return VectorSettings(version, indexes, values)


def _options(reloptions: list[str]) -> dict[str, str]:
    return dict(option.split("=", 1) for option in reloptions)


def overview(session: Session) -> Overview:
    """Counts per tenant: oracles, documents (failed too), chunks, conversations, messages,
    tokens and cost. Every tenant in an admin session, only its own in a tenant session.
    Scratch evaluation oracles and their documents are not counted."""
    rows = session.execute(text(_OVERVIEW)).all()
    return Overview(tuple(TenantCounts(*row) for row in rows))


def trends(session: Session, *, days: int = 30) -> Trends:
    """Documents, chunks, messages, tokens and cost created per day over the last ``days``
    (scratch evaluation oracles left out)."""
    if not 1 <= days <= 3660:
        raise ConfigurationError("days must be between 1 and 3660")
    rows = session.execute(text(_TRENDS), {"days": days}).all()
    return Trends(tuple(DayActivity(*row) for row in rows))
