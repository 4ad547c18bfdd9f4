"""``supercore doctor``: the seed's troubleshooting checks in one report.

Each check runs in a transaction of its own that is rolled back, and reports ``ok``,
``warn`` (worth a look: slow, bloated, idle) or ``fail`` (breaks tenant isolation or
correctness; the CLI exits non-zero). Run it as the login that migrates (the owner).
"""

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from supercore_core.ops.doctor.health import (
    check_connections,
    check_extensions,
    check_indexes,
    check_locks,
    check_migrations,
    check_server,
    check_workflows,
)
from supercore_core.ops.doctor.report import Check, CheckFn, DoctorReport, Limits
from supercore_core.ops.doctor.security import (
    check_audit_log,
    check_functions,
    check_login,
    check_rls,
    check_roles,
    check_tenant_context,
    check_tenant_role,
)
from supercore_core.ops.doctor.vectors import check_recall, check_vector_index

__all__ = ["CHECKS", "Check", "DoctorReport", "Limits", "diagnose"]


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
    check_recall,
    check_audit_log,
    check_functions,
    check_workflows,
)
