"""``supercore doctor``: the seed's troubleshooting checks in one report.

Each check runs in a transaction of its own that is rolled back, and reports ``ok``,
``warn`` (worth a look: slow, bloated, idle) or ``fail`` (breaks tenant isolation or
correctness; the CLI exits non-zero). Run it as the login that migrates (the owner).
"""

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from supercore_core import stats
from supercore_core.db import migrate
from supercore_core.db.sessions import ADMIN_ROLE, APP_ROLE
from supercore_core.models import EMBEDDING_DIMENSIONS

Status = Literal["ok", "warn", "fail"]
MIN_PGVECTOR = (0, 8, 4)
CONTEXT_SETTINGS = ("app.current_solution_id", "app.superuser_mode")


@dataclass(frozen=True)
class Limits:
    """Thresholds of the warning checks, in seconds and ratios."""

    idle_in_transaction_s: int = 60
    long_running_s: int = 300
    stalled_workflow_s: int = 600
    dead_tuple_ratio: float = 0.2
    dead_tuple_min: int = 1000


@dataclass(frozen=True)
class Check:
    """One check's outcome."""

    name: str
    status: Status
    detail: str


@dataclass(frozen=True)
class DoctorReport:
    """All checks, in the order they ran."""

    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        """The checks that break isolation or correctness."""
        return [c for c in self.checks if c.status == "fail"]

    @property
    def healthy(self) -> bool:
        """No check failed (warnings allowed)."""
        return not self.failed

    def to_frame(self) -> Any:
        """The checks as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame([asdict(c) for c in self.checks], columns=["name", "status", "detail"])


CheckFn = Callable[[Connection, Limits], Check]


def diagnose(engine: Engine, limits: Limits | None = None) -> DoctorReport:
    """Run every check against ``engine``'s database; a check that errors counts as failed."""
    try:
        engine.connect().close()
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return DoctorReport([Check("server", "fail", f"unreachable: {reason}")])
    checks: list[Check] = []
    for fn in CHECKS:
        with engine.connect() as conn:
            try:
                # A locked table (VACUUM FULL, a stuck migration) must not hang the doctor.
                conn.exec_driver_sql("SET LOCAL lock_timeout = '3s'")
                conn.exec_driver_sql("SET LOCAL statement_timeout = '30s'")
                checks.append(fn(conn, limits or Limits()))
            except DBAPIError as exc:
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                checks.append(Check(fn.__name__.removeprefix("check_"), "fail", reason))
            finally:
                conn.rollback()
    return DoctorReport(checks)


def _scalar(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.execute(text(sql), params).scalar()


def _rows(conn: Connection, sql: str, **params: Any) -> list[Any]:
    return list(conn.execute(text(sql), params).all())


def _verdict(name: str, problems: list[str], ok: str, status: Status = "fail") -> Check:
    if problems:
        return Check(name, status, "; ".join(problems))
    return Check(name, "ok", ok)


def check_server(conn: Connection, limits: Limits) -> Check:
    """Server reachable, and its version."""
    version = _scalar(conn, "SHOW server_version")
    where = _scalar(conn, "SELECT current_database() || ' as ' || session_user")
    return Check("server", "ok", f"PostgreSQL {version}, database {where}")


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def check_extensions(conn: Connection, limits: Limits) -> Check:
    """pgvector (>= 0.8.4) and pg_trgm installed; pg_stat_statements recommended."""
    found = dict(_rows(conn, "SELECT extname, extversion FROM pg_extension"))
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
    readable = _scalar(
        conn,
        "SELECT to_regclass('alembic_version') IS NULL"
        " OR has_table_privilege('alembic_version', 'SELECT')",
    )
    if not readable:
        return Check(
            "migrations", "warn", f"this login cannot read alembic_version (head is {head}): "
            "run doctor as the migrating login to check the revision",
        )  # fmt: skip
    current = _scalar(conn, "SELECT to_regclass('alembic_version') IS NOT NULL") and _scalar(
        conn, "SELECT version_num FROM alembic_version"
    )
    if current != head:
        return Check(
            "migrations",
            "fail",
            f"at {current or 'none'}, head is {head}: run `supercore db upgrade`",
        )
    return Check("migrations", "ok", f"at head {head}")


_RLS = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
  AND c.relname <> 'alembic_version'
ORDER BY 1
"""


def check_rls(conn: Connection, limits: Limits) -> Check:
    """Row-level security enabled and forced, with a policy, on every table."""
    rows = _rows(conn, _RLS)
    problems = [
        f"{name}: {'RLS off' if not on else 'not forced' if not forced else 'no policy'}"
        for name, on, forced, policies in rows
        if not (on and forced and policies)
    ]
    return _verdict("rls", problems, f"enabled, forced and with policies on all {len(rows)} tables")


_ROLES = """
SELECT r.rolname, r.rolsuper, r.rolbypassrls, r.rolcanlogin,
       (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid
        AND c.relnamespace = 'public'::regnamespace)
FROM pg_roles r WHERE r.rolname IN (:app, :admin) ORDER BY 1
"""


def check_roles(conn: Connection, limits: Limits) -> Check:
    """The group roles exist and can neither bypass RLS nor own tables."""
    rows = {r[0]: r for r in _rows(conn, _ROLES, app=APP_ROLE, admin=ADMIN_ROLE)}
    problems = [f"{role} missing" for role in (APP_ROLE, ADMIN_ROLE) if role not in rows]
    for name, superuser, bypass, login, owns in rows.values():
        flags = [f for f, on in (("SUPERUSER", superuser), ("BYPASSRLS", bypass)) if on]
        flags += ["LOGIN (use a member login)"] * login + [f"owns {owns} objects"] * bool(owns)
        if flags:
            problems.append(f"{name}: {', '.join(flags)}")
    return _verdict(
        "roles", problems, f"{APP_ROLE} and {ADMIN_ROLE}: no superuser, BYPASSRLS or ownership"
    )


def check_tenant_role(conn: Connection, limits: Limits) -> Check:
    """Acting for a tenant, the current role is under RLS and sees no other tenant."""
    login = _scalar(conn, "SELECT session_user")
    try:
        conn.execute(text(f"SET LOCAL ROLE {APP_ROLE}"))
    except DBAPIError:
        return Check(
            "tenant_role",
            "fail",
            f"login {login} cannot act as {APP_ROLE}: GRANT {APP_ROLE} TO {login}",
        )
    conn.execute(
        text("SELECT set_config('app.current_solution_id', :s, true)"), {"s": str(uuid.uuid4())}
    )
    row = conn.execute(
        text(
            "SELECT current_user, r.rolsuper, r.rolbypassrls,"
            " EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid"
            "  AND c.relnamespace = 'public'::regnamespace),"
            " row_security_active('documents'), (SELECT count(*) FROM documents)"
            " FROM pg_roles r WHERE r.rolname = current_user"
        )
    ).one()
    role, superuser, bypass, owner, active, visible = row
    problems = [
        p
        for p, bad in (
            ("superuser", superuser),
            ("BYPASSRLS", bypass),
            ("table owner", owner),
            ("RLS not active", not active),
        )
        if bad
    ]
    if visible:
        problems.append(f"an unknown tenant sees {visible} documents")
    if problems:
        return Check("tenant_role", "fail", f"acting for a tenant as {role}: {', '.join(problems)}")
    return Check("tenant_role", "ok", f"tenant work runs as {role} under RLS (login {login})")


def check_login(conn: Connection, limits: Limits) -> Check:
    """Whether this login itself is privileged (fine for migrations, not for the app)."""
    row = conn.execute(
        text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = session_user")
    ).one()
    name, superuser, bypass = row
    if superuser or bypass:
        what = "a superuser" if superuser else "BYPASSRLS"
        return Check(
            "login",
            "warn",
            f"login {name} is {what}: right for migrations and backups; give the application "
            "a dedicated login that is only a member of supercore_app (README: Operations)",
        )
    return Check("login", "ok", f"login {name} is neither superuser nor BYPASSRLS")


def check_tenant_context(conn: Connection, limits: Limits) -> Check:
    """No tenant context or superuser mode set by default (session, role or database)."""
    now = {
        name: _scalar(conn, "SELECT current_setting(:n, true)", n=name) for name in CONTEXT_SETTINGS
    }
    leaked = [
        f"{k}={v!r} on a fresh connection" for k, v in now.items() if v not in (None, "", "off")
    ]
    defaults = _rows(
        conn,
        "SELECT COALESCE(r.rolname, '(all roles)'), COALESCE(d.datname, '(all databases)'),"
        " s.setconfig::text"
        " FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole"
        " LEFT JOIN pg_database d ON d.oid = s.setdatabase"
        " WHERE s.setconfig::text ~ 'app\\.(current_solution_id|superuser_mode)'",
    )
    leaked += [f"ALTER ROLE/DATABASE default for {r} in {d}: {c}" for r, d, c in defaults]
    return _verdict("tenant_context", leaked, "no tenant context or superuser mode set by default")


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
    rows = _rows(
        conn,
        _ACTIVITY.replace("%%", "%"),
        idle=limits.idle_in_transaction_s,
        long=limits.long_running_s,
    )
    total = _scalar(
        conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    )
    found = [
        f"pid {pid} ({user}, {state}, {secs} s): {query}" for pid, user, state, secs, query in rows
    ]
    return _verdict(
        "connections",
        found,
        f"{total} connections, none idle in a transaction or long-running",
        "warn",
    )


def check_locks(conn: Connection, limits: Limits) -> Check:
    """Sessions waiting for a lock, and who blocks them."""
    rows = _rows(
        conn,
        "SELECT pid, pg_blocking_pids(pid)::text, EXTRACT(epoch FROM now() - query_start)::int"
        " FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    waits = [f"pid {pid} waits {secs} s on {blockers}" for pid, blockers, secs in rows]
    return _verdict("locks", waits, "no lock waits", "warn")


def check_indexes(conn: Connection, limits: Limits) -> Check:
    """Invalid indexes (fail: a unique one enforces nothing), unused ones and bloat (warn)."""
    invalid = _rows(
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
    bloated = _rows(
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
    unused = [u.index for u in usage.unused]
    summary = f"{len(usage.rows)} indexes, {len(unused)} never scanned since the stats reset"
    if unused:
        summary += f" ({', '.join(unused[:8])}{', ...' if len(unused) > 8 else ''})"
    return Check("indexes", "warn" if notes else "ok", "; ".join([summary, *notes]))


def check_vector_index(conn: Connection, limits: Limits) -> Check:
    """The HNSW index on chunk embeddings, its build options and the column's dimensions."""
    settings = stats.vector_settings(Session(bind=conn))
    column = _scalar(
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
    hnsw = [i for i in settings.indexes if i.table == "document_chunks" and i.method == "hnsw"]
    if not hnsw:
        return Check(
            "vector_index",
            "warn",
            "no HNSW index on document_chunks: dense search scans every chunk",
        )
    options = ", ".join(f"{i.index} {i.options} {i.size_bytes / 1e6:.1f} MB" for i in hnsw)
    ef = settings.settings.get("hnsw.ef_search")
    return Check(
        "vector_index",
        "ok",
        f"{options}; hnsw.ef_search default {ef} (retrieval sets its own per query)",
    )


def check_audit_log(conn: Connection, limits: Limits) -> Check:
    """The audit log's append-only triggers are in place and enabled."""
    rows = _rows(
        conn,
        "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass('audit_log')"
        " AND NOT tgisinternal AND tgenabled <> 'D'",
    )
    missing = {"audit_log_append_only", "audit_log_no_truncate"} - {r[0] for r in rows}
    problems = [f"trigger {m} missing or disabled" for m in sorted(missing)]
    entries = _scalar(conn, "SELECT count(*) FROM audit_log") if not problems else 0
    return _verdict("audit_log", problems, f"append-only, {entries} entries")


def check_functions(conn: Connection, limits: Limits) -> Check:
    """No SECURITY DEFINER function in public (it would run with its owner's rights)."""
    rows = _rows(
        conn,
        "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND prosecdef",
    )
    return _verdict(
        "functions", [f"{r[0]} is SECURITY DEFINER" for r in rows], "no SECURITY DEFINER functions"
    )


def check_workflows(conn: Connection, limits: Limits) -> Check:
    """Workflows still running without progress for a long time (a killed process?)."""
    rows = _rows(
        conn,
        "SELECT workflow_id, current_step, EXTRACT(epoch FROM now() - updated_at)::int"
        " FROM temporal_workflows WHERE status = 'running'"
        " AND updated_at < now() - make_interval(secs => :s) ORDER BY updated_at LIMIT 10",
        s=limits.stalled_workflow_s,
    )
    stalled = [f"{w} at {step or 'start'} for {secs} s" for w, step, secs in rows]
    if stalled:
        stalled.append("`supercore db recover` marks them failed; ingest again to resume")
    return _verdict("workflows", stalled, "no stalled workflows", "warn")


CHECKS: tuple[CheckFn, ...] = (
    check_server,
    check_extensions,
    check_migrations,
    check_rls,
    check_roles,
    check_tenant_role,
    check_login,
    check_tenant_context,
    check_connections,
    check_locks,
    check_indexes,
    check_vector_index,
    check_audit_log,
    check_functions,
    check_workflows,
)
