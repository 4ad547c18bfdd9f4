"""Isolation checks: RLS, roles, the role tenant work runs as, tenant context, audit."""

import uuid

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from supercore_core.db.sessions import ADMIN_ROLE, APP_ROLE, AUTH_ROLE, MEMBERSHIP_DEFINERS
from supercore_core.ops.doctor.report import Check, Limits, query_rows, query_value, verdict

CONTEXT_SETTINGS = ("app.current_solution_id", "app.superuser_mode")


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
    rows = query_rows(conn, _RLS)
    problems = [
        f"{name}: {'RLS off' if not on else 'not forced' if not forced else 'no policy'}"
        for name, on, forced, policies in rows
        if not (on and forced and policies)
    ]
    return verdict("rls", problems, f"enabled, forced and with policies on all {len(rows)} tables")


_ROLES = """
SELECT r.rolname, r.rolsuper, r.rolbypassrls, r.rolcanlogin,
       (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid
        AND c.relnamespace = 'public'::regnamespace)
FROM pg_roles r WHERE r.rolname IN (:app, :admin) ORDER BY 1
"""


def check_roles(conn: Connection, limits: Limits) -> Check:
    """The group roles exist and can neither bypass RLS nor own tables."""
    rows = {r[0]: r for r in query_rows(conn, _ROLES, app=APP_ROLE, admin=ADMIN_ROLE)}
    problems = [f"{role} missing" for role in (APP_ROLE, ADMIN_ROLE) if role not in rows]
    for name, superuser, bypass, login, owns in rows.values():
        flags = [f for f, on in (("SUPERUSER", superuser), ("BYPASSRLS", bypass)) if on]
        flags += ["LOGIN (use a member login)"] * login + [f"owns {owns} objects"] * bool(owns)
        if flags:
            problems.append(f"{name}: {', '.join(flags)}")
    return verdict(
        "roles", problems, f"{APP_ROLE} and {ADMIN_ROLE}: no superuser, BYPASSRLS or ownership"
    )


def check_tenant_role(conn: Connection, limits: Limits) -> Check:
    """Acting for a tenant, the current role is under RLS and sees no other tenant."""
    login = query_value(conn, "SELECT session_user")
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
        name: query_value(conn, "SELECT current_setting(:n, true)", n=name)
        for name in CONTEXT_SETTINGS
    }
    leaked = [
        f"{k}={v!r} on a fresh connection" for k, v in now.items() if v not in (None, "", "off")
    ]
    defaults = query_rows(
        conn,
        "SELECT COALESCE(r.rolname, '(all roles)'), COALESCE(d.datname, '(all databases)'),"
        " s.setconfig::text"
        " FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole"
        " LEFT JOIN pg_database d ON d.oid = s.setdatabase"
        " WHERE s.setconfig::text ~ 'app\\.(current_solution_id|superuser_mode)'",
    )
    leaked += [f"ALTER ROLE/DATABASE default for {r} in {d}: {c}" for r, d, c in defaults]
    return verdict("tenant_context", leaked, "no tenant context or superuser mode set by default")


def check_audit_log(conn: Connection, limits: Limits) -> Check:
    """The audit log's append-only triggers are in place and enabled."""
    rows = query_rows(
        conn,
        "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass('audit_log')"
        " AND NOT tgisinternal AND tgenabled <> 'D'",
    )
    missing = {"audit_log_append_only", "audit_log_no_truncate"} - {r[0] for r in rows}
    problems = [f"trigger {m} missing or disabled" for m in sorted(missing)]
    entries = query_value(conn, "SELECT count(*) FROM audit_log") if not problems else 0
    return verdict("audit_log", problems, f"append-only, {entries} entries")


_PINNED = ["search_path=pg_catalog, public, pg_temp"]


def check_functions(conn: Connection, limits: Limits) -> Check:
    """No SECURITY DEFINER function in public (it would run with its owner's rights), but
    the membership look-ups, owned by supercore_auth with a pinned search_path."""
    rows = query_rows(
        conn,
        "SELECT proname, pg_get_userbyid(proowner), proconfig FROM pg_proc"
        " WHERE pronamespace = 'public'::regnamespace AND prosecdef",
    )
    problems = [
        f"{name} is SECURITY DEFINER"
        for name, owner, config in rows
        if name not in MEMBERSHIP_DEFINERS or owner != AUTH_ROLE or config != _PINNED
    ]
    return verdict(
        "functions", problems, "SECURITY DEFINER only for the membership look-ups (supercore_auth)"
    )
