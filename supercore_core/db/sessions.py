"""Tenant-scoped and admin sessions.

Every tenant session is one transaction that runs as the ``supercore_app`` role with the
tenant set transaction-locally (``set_config(..., true)``), so RLS applies even when the
login itself is privileged, and nothing survives the commit or rollback. Connections
returned to the pool are reset as well, in case a caller used the seed's session-level
``set_current_solution()`` on one.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.errors import TenantContextError
from supercore_core.ops.audit import record_superuser_use

APP_ROLE = "supercore_app"
ADMIN_ROLE = "supercore_admin"
UNSPECIFIED_REASON = "unspecified (the caller gave no reason)"


def as_solution_id(value: UUID | str | None) -> UUID:
    """Parse a tenant id, raising ``TenantContextError`` for anything that is not a UUID."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise TenantContextError(f"not a tenant id (expected a UUID): {value!r}") from exc


@contextmanager
def tenant_session(
    sessions: sessionmaker[Session], *, solution_id: UUID | str
) -> Iterator[Session]:
    """One transaction as ``supercore_app`` scoped to ``solution_id``; commits on success."""
    tenant = as_solution_id(solution_id)
    with sessions() as session, session.begin():
        _set_local_role(session, APP_ROLE)
        session.execute(
            text(
                "SELECT set_config('app.current_solution_id', :sid, true),"
                " set_config('app.superuser_mode', 'off', true)"
            ),
            {"sid": str(tenant)},
        )
        yield session


@contextmanager
def admin_session(
    sessions: sessionmaker[Session],
    *,
    reason: str = UNSPECIFIED_REASON,
    solution_id: UUID | str | None = None,
    action: str = "superuser_mode",
) -> Iterator[Session]:
    """One transaction as ``supercore_admin`` in superuser mode (cross-tenant work).

    Every use is recorded in the append-only ``audit_log`` (who, when, ``action``,
    ``reason``, the tenant concerned if any) by a transaction of its own committed first,
    so the entry stays even when the admin work fails or rolls back.
    """
    tenant = None if solution_id is None else as_solution_id(solution_id)
    with sessions() as session:
        with session.begin():
            _enter_superuser_mode(session)
            record_superuser_use(session, reason=reason, solution_id=tenant, action=action)
        with session.begin():
            _enter_superuser_mode(session)
            yield session


def _enter_superuser_mode(session: Session) -> None:
    _set_local_role(session, ADMIN_ROLE)
    session.execute(text("SELECT set_config('app.superuser_mode', 'on', true)"))


def _set_local_role(session: Session, role: str) -> None:
    try:
        session.execute(text(f"SET LOCAL ROLE {role}"))
    except DBAPIError as exc:
        raise TenantContextError(
            f"this database login cannot act as {role}: grant it membership "
            f"(GRANT {role} TO <login>) or run `supercore db upgrade` first"
        ) from exc


def install_pool_reset(engine: Engine) -> None:
    """Clear role, settings and temp objects whenever a connection goes back to the pool."""
    event.listen(engine, "reset", _reset_connection)


def _reset_connection(dbapi_connection: Any, _record: Any, reset_state: Any) -> None:
    if reset_state.terminate_only:
        return
    dbapi_connection.rollback()
    with dbapi_connection.cursor() as cursor:
        cursor.execute("RESET ALL")
        cursor.execute("RESET ROLE")
        cursor.execute("DISCARD TEMP")
    dbapi_connection.commit()
