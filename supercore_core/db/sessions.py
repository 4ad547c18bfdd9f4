"""Tenant-scoped and admin sessions.

Every tenant session is one transaction that runs as the ``supercore_app`` role with the
tenant set transaction-locally (``set_config(..., true)``), so RLS applies even when the
login itself is privileged, and nothing survives the commit or rollback. Connections
returned to the pool are reset as well, in case a caller used the seed's session-level
``set_current_solution()`` on one.

A session may also carry the signed-in person (``person_id``, transaction-local
``app.current_person_id``): the database then refuses a tenant that person is not an
active member of, and writes their role does not allow (revision 0016). Without a
person, the session has the login's full tenant rights, as the CLI and notebooks need.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.errors import (
    DatabaseUnavailableError,
    RoleError,
    TenantContextError,
    TenantSuspendedError,
    UserError,
)
from supercore_core.ops.audit import record_superuser_use

APP_ROLE = "supercore_app"
ADMIN_ROLE = "supercore_admin"
UNSPECIFIED_REASON = "unspecified (the caller gave no reason)"
PERSON_INFO_KEY = "supercore_person_id"
AUTH_ROLE = "supercore_auth"
# Revision 0016: the membership look-ups (and the membership audit trigger) read
# past the callers' policies as supercore_auth, a role without login or RLS bypass. The
# only SECURITY DEFINER functions (the doctor checks; a restore re-owns them).
MEMBERSHIP_DEFINERS = frozenset(
    {
        "current_person_is_active",
        "current_person_is_platform_admin",
        "person_id_for_email",
        "person_id_for_subject",
        "person_tenant_role",
        "solution_id_for_slug",
        "tenant_memberships_audit",
    }
)


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
    sessions: sessionmaker[Session],
    *,
    solution_id: UUID | str,
    person_id: UUID | str | None = None,
) -> Iterator[Session]:
    """One transaction as ``supercore_app`` scoped to ``solution_id``; commits on success.

    With ``person_id`` the database acts for that person: nothing is visible unless they
    are an active member of the tenant (or a platform admin), and writes follow their role.
    Refusals of the role or of a suspended tenant are raised as ``RoleError`` and
    ``TenantSuspendedError``.
    """
    tenant = as_solution_id(solution_id)
    person = _person_of(sessions, person_id)
    # outermost, so that refusals at the commit's final flush are translated as well
    with _refusals_as_user_errors(), sessions() as session, session.begin():
        _set_local_role(session, APP_ROLE)
        session.execute(
            text(
                "SELECT set_config('app.current_solution_id', :sid, true),"
                " set_config('app.current_person_id', :pid, true),"
                " set_config('app.superuser_mode', 'off', true)"
            ),
            {"sid": str(tenant), "pid": "" if person is None else str(person)},
        )
        yield session


@contextmanager
def person_session(sessions: sessionmaker[Session], *, person_id: UUID | str) -> Iterator[Session]:
    """One transaction as ``supercore_app`` for a person, in no tenant: their own row,
    memberships and the tenants they belong to (the tenant picker), without superuser mode.
    """
    person = as_person_id(person_id)
    with sessions() as session, session.begin():
        _set_local_role(session, APP_ROLE)
        session.execute(
            text(
                "SELECT set_config('app.current_person_id', :pid, true),"
                " set_config('app.superuser_mode', 'off', true)"
            ),
            {"pid": str(person)},
        )
        yield session


@contextmanager
def admin_session(
    sessions: sessionmaker[Session],
    *,
    reason: str = UNSPECIFIED_REASON,
    solution_id: UUID | str | None = None,
    person_id: UUID | str | None = None,
) -> Iterator[Session]:
    """One transaction as ``supercore_admin`` in superuser mode (cross-tenant work).

    Every use is recorded in the append-only ``audit_log`` (who, when, ``reason``, the
    tenant concerned if any, the signed-in ``person_id`` if any) by a transaction of its
    own committed first, so the entry stays even when the admin work fails or rolls back.
    """
    tenant = None if solution_id is None else as_solution_id(solution_id)
    person = _person_of(sessions, person_id)
    with sessions() as session:
        with session.begin():
            _enter_superuser_mode(session, person)
            _record(session, reason=reason, solution_id=tenant, person_id=person)
        with session.begin():
            _enter_superuser_mode(session, person)
            yield session


def sessions_for_person(
    sessions: sessionmaker[Session], person_id: UUID | str
) -> sessionmaker[Session]:
    """The same sessions acting for ``person_id``: every ``tenant_session`` and
    ``admin_session`` opened from them carries that person (unless given another), so
    library code that opens its own sessions (ingestion) is bound by the person's role."""
    kw = dict(sessions.kw)
    info = dict(kw.pop("info", None) or {})
    info[PERSON_INFO_KEY] = as_person_id(person_id)
    return sessionmaker(class_=sessions.class_, info=info, **kw)


def _person_of(sessions: sessionmaker[Session], person_id: UUID | str | None) -> UUID | None:
    if person_id is not None:
        return as_person_id(person_id)
    bound = (sessions.kw.get("info") or {}).get(PERSON_INFO_KEY)
    return None if bound is None else as_person_id(bound)


def _record(
    session: Session, *, reason: str, solution_id: UUID | None, person_id: UUID | None
) -> None:
    try:
        record_superuser_use(session, reason=reason, solution_id=solution_id, person_id=person_id)
    except DBAPIError as exc:
        if person_id is None or getattr(exc.orig, "sqlstate", None) != "42501":
            raise
        raise RoleError(
            "superuser mode is for platform admins: ask one to act for you, or to make you one"
        ) from exc


def as_person_id(value: UUID | str) -> UUID:
    """Parse a person id, raising ``TenantContextError`` for anything that is not a UUID."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise TenantContextError(f"not a person id (expected a UUID): {value!r}") from exc


@contextmanager
def _refusals_as_user_errors() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        refusal = refusal_error(exc)
        if refusal is None:
            raise
        raise refusal from exc


def refusal_error(exc: DBAPIError) -> UserError | None:
    """The ``UserError`` for a write the database refused by role or suspension, else None."""
    diag = getattr(exc.orig, "diag", None)
    state = getattr(diag, "sqlstate", None)
    message = str(getattr(diag, "message_primary", None) or "")
    if state == "55000" and message.startswith("tenant is suspended"):
        return TenantSuspendedError(
            "this tenant is suspended, so it is read-only (no chat, no ingest, no edits): "
            "a platform admin can make it active again"
        )
    if state == "42501" and message.startswith("permission denied: the "):
        return RoleError(f"{message.removeprefix('permission denied: ')}: ask an owner")
    if state == "42501" and "is not a member of tenant" in message:
        return RoleError("you are not a member of this tenant: ask an owner for access")
    return None


def _enter_superuser_mode(session: Session, person: UUID | None = None) -> None:
    _set_local_role(session, ADMIN_ROLE)
    session.execute(
        text(
            "SELECT set_config('app.superuser_mode', 'on', true),"
            " set_config('app.current_person_id', :pid, true)"
        ),
        {"pid": "" if person is None else str(person)},
    )


def _set_local_role(session: Session, role: str) -> None:
    try:
        session.execute(text(f"SET LOCAL ROLE {role}"))
    except DBAPIError as exc:
        raise _role_error(exc, role) from exc


# SQLSTATE classes of a server that is gone or not accepting connections (08 connection
# exception, 57P operator intervention: shutdown, crash, "starting up"); a refused connection
# has no SQLSTATE at all.
_UNREACHABLE_STATES = ("08", "57P")


def _role_error(exc: DBAPIError, role: str) -> UserError:
    """A refused connection is not a missing grant: say which one it is."""
    state = getattr(exc.orig, "sqlstate", None)
    if exc.connection_invalidated or (
        isinstance(exc, OperationalError)
        and (state is None or state.startswith(_UNREACHABLE_STATES))
    ):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return DatabaseUnavailableError(
            f"the database is not answering ({reason}): start it with `supercore db start` "
            "(or `make run`), or check DATABASE_URL"
        )
    return TenantContextError(
        f"this database login cannot act as {role}: grant it membership "
        f"(GRANT {role} TO <login>) or run `supercore db upgrade` first"
    )


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
