"""Vector search checks: the per-oracle HNSW indexes (and their ceiling), recall@10."""

from uuid import UUID

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from supercore_core import stats
from supercore_core.db.engine import make_sessions
from supercore_core.db.sessions import admin_session
from supercore_core.errors import TenantContextError
from supercore_core.models import EMBEDDING_DIMENSIONS
from supercore_core.ops.doctor.report import Check, Limits, query_value
from supercore_core.vector_index import ddl, plan
from supercore_core.vector_index.report import recall_report

_SHARED = "idx_document_chunks_embedding_hnsw"


def check_vector_index(conn: Connection, limits: Limits) -> Check:
    """The embedding column, the per-oracle HNSW indexes against their ceiling, leftovers."""
    column = query_value(
        conn,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'document_chunks'::regclass AND attname = 'embedding'",
    )
    if column != f"vector({EMBEDDING_DIMENSIONS})":
        return Check(
            "vector_index",
            "fail",
            f"document_chunks.embedding is {column}, expected vector({EMBEDDING_DIMENSIONS})",
        )
    indexes = ddl.oracle_indexes(conn)
    settings = stats.vector_settings(Session(bind=conn))
    size = sum(i.size_bytes for i in indexes.values()) / 1e6
    summary = (
        f"{len(indexes)} per-oracle HNSW index(es), {size:.1f} MB, ceiling "
        f"{plan.MAX_ORACLE_INDEXES}; smaller oracles are searched exactly; hnsw.ef_search "
        f"default {settings.settings.get('hnsw.ef_search')} (each oracle's is calibrated)"
    )
    problems = _index_problems(indexes, {i.index for i in settings.indexes})
    if problems:
        return Check("vector_index", "warn", f"{summary}; " + "; ".join(problems))
    return Check("vector_index", "ok", summary)


def _index_problems(indexes: dict[UUID, ddl.OracleIndex], names: set[str]) -> list[str]:
    problems = []
    invalid = [i.name for i in indexes.values() if not i.valid]
    if invalid:
        problems.append(
            f"invalid (a failed or running build): {', '.join(invalid[:5])}: "
            "`supercore db reindex --vectors` rebuilds them"
        )
    if len(indexes) >= plan.WARN_SHARE * plan.MAX_ORACLE_INDEXES:
        problems.append(
            f"{len(indexes)} of at most {plan.MAX_ORACLE_INDEXES} per-oracle indexes: every "
            "query on document_chunks plans against and locks each one (measured: planning "
            "0.07 ms with none, 0.31 ms with 100, 1.33 ms with 500; one lock each, so a search "
            "holds 13 + N locks from the shared lock table, sized max_locks_per_transaction x "
            "max_connections); past the ceiling oracles stay exact; next step: LIST-partition "
            "document_chunks by solution_id, so a query sees only its tenant's partition and "
            "indexes (benchmarks/README.md, 'Vector index per oracle')"
        )
    if _SHARED in names:
        problems.append(f"{_SHARED} is back: every ingest pays for a shared graph")
    return problems


def check_recall(conn: Connection, limits: Limits) -> Check:
    """Recall@10 of dense search against exact, per oracle with its own graph (audited)."""
    reason = "supercore doctor: recall@10 of dense search per oracle"
    try:
        with admin_session(make_sessions(conn.engine), reason=reason) as session:
            report = recall_report(session, samples=limits.recall_samples)
    except TenantContextError:
        return Check("recall", "warn", "not measured: run doctor as a login that can act as "
                     "supercore_admin (the migrating one) to sample every oracle")  # fmt: skip
    sampled = [r for r in report.rows if r.samples]
    exact = len(report.rows) - len(sampled)
    shown = [
        f"{r.tenant}/{r.oracle} ({r.chunks:,} chunks, ef_search {r.ef_search}): "
        f"{r.recall_at_10:.3f}" + (" UNDER 0.98" if r.flagged else "")
        for r in sampled
    ]
    detail = "; ".join([*shown, f"{exact} oracle(s) exact (recall 1 by construction)"])
    return Check("recall", "warn" if report.flagged else "ok", detail)
