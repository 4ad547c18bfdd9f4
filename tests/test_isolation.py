"""Tenant isolation, tested like an attacker holding a supercore_app login.

The attacker's login is a member of supercore_app only: neither superuser, table owner
nor BYPASSRLS, so PostgreSQL applies every policy to it.
"""

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import admin_session, tenant_session
from tests.factories import SEED_TABLES, TABLES, Tenant, make_tenant

CHILD_TABLES = SEED_TABLES[1:]


@pytest.fixture(scope="module")
def tenants(owner_engine: Engine) -> list[Tenant]:
    """Three tenants, each with one row in every table."""
    with Session(owner_engine) as session, session.begin():
        return [make_tenant(session) for _ in range(3)]


@pytest.fixture
def as_tenant(app_sessions: sessionmaker[Session]) -> Any:
    """Open a tenant session whose changes are always rolled back."""

    def open_session(tenant: Tenant) -> Any:
        return RolledBackTenantSession(app_sessions, tenant)

    return open_session


class RolledBackTenantSession:
    """A real ``tenant_session`` whose work is undone through a savepoint."""

    def __init__(self, sessions: sessionmaker[Session], tenant: Tenant) -> None:
        self._outer = tenant_session(sessions, solution_id=tenant.solution_id)

    def __enter__(self) -> Session:
        self._session = self._outer.__enter__()
        self._savepoint = self._session.begin_nested()
        return self._session

    def __exit__(self, *exc: object) -> None:
        self._savepoint.rollback()
        self._outer.__exit__(None, None, None)


def _insert_sql(table: str) -> str:
    return {
        "oracles": "INSERT INTO oracles (solution_id, oracle_name) VALUES (:sid, :name)",
        "documents": "INSERT INTO documents (oracle_id, solution_id, filename, file_type)"
        " VALUES (:oid, :sid, :name, 'txt')",
        "document_chunks": "INSERT INTO document_chunks"
        " (document_id, oracle_id, solution_id, chunk_index, content)"
        " VALUES (:did, :oid, :sid, 999, :name)",
        "conversations": "INSERT INTO conversations (oracle_id, solution_id, session_id)"
        " VALUES (:oid, :sid, :name)",
        "messages": "INSERT INTO messages"
        " (conversation_id, oracle_id, solution_id, role, content, sequence_number)"
        " VALUES (:cid, :oid, :sid, 'user', :name, 999)",
        "temporal_workflows": "INSERT INTO temporal_workflows"
        " (workflow_id, workflow_type, solution_id) VALUES (:name, 'Attack', :sid)",
    }[table]


def _insert_params(target: Tenant) -> dict[str, Any]:
    return {
        "sid": target.solution_id,
        "oid": target.oracle_id,
        "did": target.document_id,
        "cid": target.conversation_id,
        "name": f"x-{uuid.uuid4().hex}",
    }


def _visible(session: Session, table: str, target: Tenant) -> bool:
    column, value = target.row_key(table)
    query = text(f"SELECT count(*) FROM {table} WHERE {column} = :v")
    return session.execute(query, {"v": value}).scalar_one() == 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    viewer=st.integers(0, 2),
    target=st.integers(0, 2),
    table=st.sampled_from(SEED_TABLES),
    operation=st.sampled_from(["select", "update", "delete", "insert", "move"]),
)
def test_a_tenant_reaches_only_its_own_rows(
    as_tenant: Any, tenants: list[Tenant], viewer: int, target: int, table: str, operation: str
) -> None:
    me, them = tenants[viewer], tenants[target]
    own = viewer == target
    with as_tenant(me) as session:
        if operation == "select":
            assert _visible(session, table, them) is own
        elif operation in {"update", "delete"}:
            _assert_write(session, table, them, operation, allowed=own)
        elif operation == "insert":
            _assert_insert(session, table, them, allowed=own)
        else:
            _assert_move(session, table, me, them, allowed=own)


def _assert_write(
    session: Session, table: str, target: Tenant, operation: str, *, allowed: bool
) -> None:
    column, value = target.row_key(table)
    touched = "name" if table == "solutions" else "updated_at"
    verb = "DELETE FROM {t}" if operation == "delete" else f"UPDATE {{t}} SET {touched} = {touched}"
    statement = text(verb.format(t=table) + f" WHERE {column} = :v")
    if table == "solutions" and operation == "delete":
        with pytest.raises(DBAPIError, match="permission denied"), session.begin_nested():
            session.execute(statement, {"v": value})
        return
    with session.begin_nested():
        affected = session.execute(statement, {"v": value}).rowcount  # type: ignore[attr-defined]
    assert affected == (1 if allowed else 0)


def _assert_insert(session: Session, table: str, target: Tenant, *, allowed: bool) -> None:
    if table == "solutions":
        with pytest.raises(DBAPIError, match="permission denied"), session.begin_nested():
            session.execute(text("INSERT INTO solutions (slug, name) VALUES ('evil-corp', 'E')"))
        return
    statement = text(_insert_sql(table))
    if allowed:
        with session.begin_nested():
            assert session.execute(statement, _insert_params(target)).rowcount == 1  # type: ignore[attr-defined]
        return
    with pytest.raises(DBAPIError, match="row-level security"), session.begin_nested():
        session.execute(statement, _insert_params(target))


def _assert_move(
    session: Session, table: str, me: Tenant, target: Tenant, *, allowed: bool
) -> None:
    column, value = me.row_key(table)
    if table == "solutions":  # the app role may not write solutions.id at all
        statement = text("UPDATE solutions SET id = :to WHERE id = :v")
        with pytest.raises(DBAPIError, match="permission denied"), session.begin_nested():
            session.execute(statement, {"to": target.solution_id, "v": value})
        return
    statement = text(f"UPDATE {table} SET solution_id = :to WHERE {column} = :v")
    if allowed:
        with session.begin_nested():
            session.execute(statement, {"to": target.solution_id, "v": value})
        return
    with pytest.raises(DBAPIError, match="row-level security"), session.begin_nested():
        session.execute(statement, {"to": target.solution_id, "v": value})
    assert _visible(session, table, me)


@pytest.mark.parametrize("column", ["status", "settings", "slug", "id"])
def test_a_tenant_cannot_change_its_own_status_plan_or_slug(
    as_tenant: Any, tenants: list[Tenant], column: str
) -> None:
    me = tenants[0]
    statement = text(f"UPDATE solutions SET {column} = {column} WHERE id = :id")
    with as_tenant(me) as session, pytest.raises(DBAPIError, match="permission denied"):
        session.execute(statement, {"id": me.solution_id})


def test_a_tenant_can_edit_its_own_name(as_tenant: Any, tenants: list[Tenant]) -> None:
    me = tenants[0]
    with as_tenant(me) as session:
        renamed = session.execute(
            text("UPDATE solutions SET name = 'Renamed', metadata = '{}' WHERE id = :id"),
            {"id": me.solution_id},
        )
        assert renamed.rowcount == 1  # type: ignore[attr-defined]


def test_no_statement_statistics_for_tenants(as_tenant: Any, tenants: list[Tenant]) -> None:
    denied = "permission denied|does not exist"  # no pg_stat_statements on some servers
    with as_tenant(tenants[0]) as session, pytest.raises(DBAPIError, match=denied):
        session.execute(text("SELECT * FROM pg_stat_statements"))


def test_a_temp_table_cannot_shadow_what_helpers_read(
    as_tenant: Any, tenants: list[Tenant]
) -> None:
    me, them = tenants[0], tenants[1]
    with as_tenant(me) as session:
        session.execute(
            text("CREATE TEMP TABLE pg_roles (rolname name, rolsuper bool, rolbypassrls bool)")
        )
        session.execute(text("INSERT INTO pg_temp.pg_roles VALUES (current_user, true, true)"))
        session.execute(text("SET LOCAL search_path = pg_temp, pg_catalog, public"))
        with pytest.raises(DBAPIError, match="no access to solution"), session.begin_nested():
            session.execute(text("SELECT assert_solution_access(:s)"), {"s": them.solution_id})


def test_workflow_ids_cannot_be_squatted_across_tenants(
    as_tenant: Any, admin_sessions: sessionmaker[Session], tenants: list[Tenant]
) -> None:
    theirs = tenants[1].workflow_id
    create = text(
        "SELECT create_workflow_tracking(:w, 'Ingest', '{}'::jsonb, current_solution_id())"
    )
    with as_tenant(tenants[0]) as session:
        session.execute(create, {"w": theirs})  # the same id in another tenant is no conflict
        session.execute(text("SELECT update_workflow_progress(:w, 'parse', 1, 4)"), {"w": theirs})
    create_for = text("SELECT create_workflow_tracking('shared-id', 'Ingest', '{}'::jsonb, :s)")
    with admin_session(admin_sessions) as session:
        savepoint = session.begin_nested()
        for tenant in tenants[:2]:
            session.execute(create_for, {"s": tenant.solution_id})
        with pytest.raises(DBAPIError, match="exists in several solutions"), session.begin_nested():
            session.execute(text("SELECT complete_workflow('shared-id', '{}'::jsonb)"))
        savepoint.rollback()


@pytest.mark.parametrize("table", TABLES)
def test_no_context_sees_nothing(app_engine: Engine, tenants: list[Tenant], table: str) -> None:
    with app_engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0


@pytest.mark.parametrize("table", CHILD_TABLES)
def test_no_context_cannot_insert(app_engine: Engine, tenants: list[Tenant], table: str) -> None:
    with app_engine.connect() as conn, pytest.raises(DBAPIError, match="row-level security"):
        conn.execute(text(_insert_sql(table)), _insert_params(tenants[0]))


@pytest.mark.parametrize("table", ["documents", "document_chunks", "conversations", "messages"])
def test_own_row_cannot_point_at_another_tenants_parent(
    as_tenant: Any, tenants: list[Tenant], table: str
) -> None:
    mine, theirs = tenants[0], tenants[1]
    params = _insert_params(theirs) | {"sid": mine.solution_id}
    with as_tenant(mine) as session, pytest.raises(DBAPIError, match="foreign key"):
        session.execute(text(_insert_sql(table)), params)


@pytest.mark.parametrize(
    "statement",
    [
        "SET ROLE supercore_admin",
        "SET ROLE postgres",
        "SELECT enable_superuser_mode()",
        "SET SESSION AUTHORIZATION postgres",
    ],
)
def test_escalation_is_refused(as_tenant: Any, tenants: list[Tenant], statement: str) -> None:
    with as_tenant(tenants[0]) as session, pytest.raises(DBAPIError, match="permission denied"):
        session.execute(text(statement))


@pytest.mark.parametrize(
    "forge",
    [
        "SELECT set_config('app.superuser_mode', 'on', false)",
        "SELECT set_config('app.superuser_mode', 'on', true)",
        "SET app.superuser_mode = 'on'",
    ],
)
def test_forged_superuser_setting_grants_nothing(
    as_tenant: Any, tenants: list[Tenant], forge: str
) -> None:
    with as_tenant(tenants[0]) as session:
        session.execute(text(forge))
        assert session.execute(text("SELECT current_user_is_superuser()")).scalar_one() is False
        for table in SEED_TABLES:
            assert not _visible(session, table, tenants[1])


HELPER_ATTACKS = [
    ("SELECT create_rag_global_oracle(:sid)", "no access to solution"),
    ("SELECT get_or_create_conversation(:oid, :sid, 'steal')", "no access to solution"),
    ("SELECT get_or_create_conversation(:oid, :my_sid, 'steal')", "not found in solution"),
    ("SELECT get_next_message_sequence(:cid)", "not found"),
    (
        "SELECT create_workflow_tracking('steal', 'Attack', '{}'::jsonb, :sid)",
        "no access to solution",
    ),
    ("SELECT update_workflow_progress(:wid, 'x', 1, 2)", "not found"),
    ("SELECT complete_workflow(:wid, '{}'::jsonb)", "not found"),
    ("SELECT fail_workflow(:wid, 'sabotage')", "not found"),
]


@pytest.mark.parametrize(("call", "error"), HELPER_ATTACKS)
def test_helpers_refuse_another_tenants_ids(
    as_tenant: Any, tenants: list[Tenant], call: str, error: str
) -> None:
    mine, theirs = tenants[0], tenants[1]
    params = _insert_params(theirs) | {"wid": theirs.workflow_id, "my_sid": mine.solution_id}
    with as_tenant(mine) as session, pytest.raises(DBAPIError, match=error):
        session.execute(text(call), params)


def test_admin_session_sees_every_tenant(
    admin_sessions: sessionmaker[Session], tenants: list[Tenant]
) -> None:
    with admin_session(admin_sessions) as session:
        for table in SEED_TABLES:
            assert all(_visible(session, table, t) for t in tenants)


def test_admin_login_without_superuser_mode_sees_nothing(
    admin_engine: Engine, tenants: list[Tenant]
) -> None:
    with admin_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM oracles")).scalar_one() == 0
        conn.execute(text("SELECT enable_superuser_mode()"))
        assert conn.execute(text("SELECT count(*) FROM oracles")).scalar_one() >= 3
        conn.execute(text("SELECT disable_superuser_mode()"))
        assert conn.execute(text("SELECT count(*) FROM oracles")).scalar_one() == 0
