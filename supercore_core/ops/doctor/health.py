"""Health checks: server, extensions, revision, connections, locks, indexes, workflows."""

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from supercore_core import stats
from supercore_core.db import migrate
from supercore_core.ops.doctor.report import Check, Limits, query_rows, query_value, verdict

MIN_PGVECTOR = (0, 8, 4)


def check_server(conn: Connection, limits: Limits) -> Check:
    """Server reachable, and its version."""
    version = query_value(conn, "SHOW server_version")
    where = query_value(conn, "SELECT current_database() || ' as ' || session_user")
    return Check("server", "ok", f"PostgreSQL {version}, database {where}")


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def check_extensions(conn: Connection, limits: Limits) -> Check:
    """pgvector (>= 0.8.4) and pg_trgm installed; pg_stat_statements recommended."""
    found = dict(query_rows(conn, "SELECT extname, extversion FROM pg_extension"))
    problems = []
    vector = found.get("vector")
    if vector is None or _version_tuple(vector) < MIN_PGVECTOR:
        wanted = ".".join(map(str, MIN_PGVECTOR))
        problems.append(
            f"pgvector {vector or 'missing'} (need >= {wanted}: ALTER EXTENSION vector UPDATE)"
        )
    if "pg_trgm" not in found:
        problems.append("pg_trgm missing (run `supercore db upgrade`)")
    listed = ", ".join(f"{k} {v}" for k, v in sorted(found.items()))
    if problems:
        return Check("extensions", "fail", "; ".join(problems))
    if "pg_stat_statements" not in found:
        return Check("extensions", "warn", f"{listed}; pg_stat_statements missing (no query stats)")
    return Check("extensions", "ok", listed)


def check_migrations(conn: Connection, limits: Limits) -> Check:
    """The database is at the newest revision (warns when this login may not read it)."""
    head = migrate.head_revision()
    readable = query_value(
        conn,
        "SELECT to_regclass('alembic_version') IS NULL"
        " OR has_table_privilege('alembic_version', 'SELECT')",
    )
    if not readable:
        return Check(
            "migrations", "warn", f"this login cannot read alembic_version (head is {head}): "
            "run doctor as the migrating login to check the revision",
        )  # fmt: skip
    current = query_value(
        conn, "SELECT to_regclass('alembic_version') IS NOT NULL"
    ) and query_value(conn, "SELECT version_num FROM alembic_version")
    if current != head:
        return Check(
            "migrations",
            "fail",
            f"at {current or 'none'}, head is {head}: run `supercore db upgrade`",
        )
    return Check("migrations", "ok", f"at head {head}")


_ACTIVITY = """
SELECT pid, usename, state, EXTRACT(epoch FROM now() - COALESCE(xact_start, query_start))::int,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 60)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
  AND ((state LIKE 'idle in transaction%%' AND now() - state_change > make_interval(secs => :idle))
       OR (state = 'active' AND now() - query_start > make_interval(secs => :long)))
ORDER BY 4 DESC
"""


def check_connections(conn: Connection, limits: Limits) -> Check:
    """Idle-in-transaction and long-running connections (they hold locks and bloat tables)."""
    rows = query_rows(
        conn,
        _ACTIVITY.replace("%%", "%"),
        idle=limits.idle_in_transaction_s,
        long=limits.long_running_s,
    )
    total = query_value(
        conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    )
    found = [
        f"pid {pid} ({user}, {state}, {secs} s): {query}" for pid, user, state, secs, query in rows
    ]
    return verdict(
        "connections",
        found,
        f"{total} connections, none idle in a transaction or long-running",
        "warn",
    )


def check_locks(conn: Connection, limits: Limits) -> Check:
    """Sessions waiting for a lock, and who blocks them."""
    rows = query_rows(
        conn,
        "SELECT pid, pg_blocking_pids(pid)::text, EXTRACT(epoch FROM now() - query_start)::int"
        " FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    waits = [f"pid {pid} waits {secs} s on {blockers}" for pid, blockers, secs in rows]
    return verdict("locks", waits, "no lock waits", "warn")


def check_indexes(conn: Connection, limits: Limits) -> Check:
    """Invalid indexes (fail: a unique one enforces nothing), unused ones and bloat (warn)."""
    invalid = query_rows(
        conn,
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE c.relnamespace = 'public'::regnamespace AND NOT i.indisvalid",
    )
    if invalid:
        names = ", ".join(r[0] for r in invalid)
        return Check(
            "indexes", "fail", f"invalid (a failed build): {names}: `supercore db reindex` them"
        )
    usage = stats.index_usage(Session(bind=conn))
    bloated = query_rows(
        conn,
        "SELECT relname, n_dead_tup, n_live_tup FROM pg_stat_user_tables WHERE n_dead_tup > :m"
        " AND n_dead_tup > :r * GREATEST(n_live_tup, 1)",
        m=limits.dead_tuple_min,
        r=limits.dead_tuple_ratio,
    )
    notes = [
        f"{t}: {dead} dead rows vs {live} live (run `supercore db vacuum`)"
        for t, dead, live in bloated
    ]
    notes += _sparse_btrees(conn, limits)
    unused = [u.index for u in usage.unused]
    summary = f"{len(usage.rows)} indexes, {len(unused)} never scanned since the stats reset"
    if unused:
        summary += f" ({', '.join(unused[:8])}{', ...' if len(unused) > 8 else ''})"
    return Check("indexes", "warn" if notes else "ok", "; ".join([summary, *notes]))


_SPARSE_BTREES = """
SELECT c.relname, round((pgstatindex(c.oid::regclass)).avg_leaf_density::numeric, 1)
FROM pg_class c JOIN pg_am am ON am.oid = c.relam
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'i' AND am.amname = 'btree'
  AND pg_relation_size(c.oid) >= :min_bytes
ORDER BY pg_relation_size(c.oid) DESC LIMIT 50
"""


def _sparse_btrees(conn: Connection, limits: Limits) -> list[str]:
    """B-tree indexes whose leaf pages are mostly empty (needs the pgstattuple extension)."""
    if not query_value(conn, "SELECT count(*) FROM pg_extension WHERE extname = 'pgstattuple'"):
        return []
    found = query_rows(conn, _SPARSE_BTREES, min_bytes=limits.bloat_min_bytes)
    return [
        f"{name}: leaf pages {density}% full (`supercore db reindex {name}`)"
        for name, density in found
        if density is not None and density < limits.leaf_density_pct
    ]


def check_workflows(conn: Connection, limits: Limits) -> Check:
    """Workflows still running without progress for a long time (a killed process?)."""
    rows = query_rows(
        conn,
        "SELECT workflow_id, current_step, EXTRACT(epoch FROM now() - updated_at)::int"
        " FROM temporal_workflows WHERE status = 'running'"
        " AND updated_at < now() - make_interval(secs => :s) ORDER BY updated_at LIMIT 10",
        s=limits.stalled_workflow_s,
    )
    stalled = [f"{w} at {step or 'start'} for {secs} s" for w, step, secs in rows]
    if stalled:
        stalled.append("`supercore db recover` marks them failed; ingest again to resume")
    return verdict("workflows", stalled, "no stalled workflows", "warn")
