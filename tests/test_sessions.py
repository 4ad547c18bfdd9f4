"""tenant_session / admin_session: transaction-local context, no leaks through the pool."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import (
    Settings,
    TenantContextError,
    admin_session,
    make_engine,
    make_sessions,
    tenant_session,
)
from tests.factories import make_oracle, make_solution


@pytest.fixture(scope="module")
def tenant_ids(owner_engine: Engine) -> tuple[uuid.UUID, uuid.UUID]:
    with Session(owner_engine) as session, session.begin():
        a, b = make_solution(session), make_solution(session)
        make_oracle(session, a)
        make_oracle(session, b)
        return a.id, b.id


@pytest.fixture
def one_connection_engine(settings: Settings, app_login_url: str) -> Iterator[Engine]:
    """A pool of exactly one connection, so every checkout reuses the same backend."""
    engine = make_engine(settings.model_copy(update={"pool_size": 1}), url=app_login_url)
    engine.pool._max_overflow = 0  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


def _context(session: Session) -> tuple[object, ...]:
    row = session.execute(
        text(
            "SELECT current_solution_id(), current_user_is_superuser(),"
            " current_user, pg_backend_pid()"
        )
    ).one()
    return tuple(row)


def test_tenant_session_scopes_one_transaction(
    one_connection_engine: Engine, tenant_ids: tuple[uuid.UUID, uuid.UUID]
) -> None:
    sessions = make_sessions(one_connection_engine)
    with tenant_session(sessions, solution_id=tenant_ids[0]) as session:
        solution, superuser, role, pid = _context(session)
        oracles = session.execute(text("SELECT DISTINCT solution_id FROM oracles")).scalars().all()
    assert (solution, superuser, role) == (tenant_ids[0], False, "supercore_app")
    assert oracles == [tenant_ids[0]]
    with sessions() as session:
        after = _context(session)
    assert after[0] is None and after[2] != "supercore_app"
    assert after[3] == pid  # same pooled connection, context gone


def test_session_level_context_does_not_survive_checkin(
    one_connection_engine: Engine, tenant_ids: tuple[uuid.UUID, uuid.UUID]
) -> None:
    with one_connection_engine.connect() as conn:
        conn.execute(text("SELECT set_current_solution(:s)"), {"s": tenant_ids[1]})
        conn.execute(text("SET ROLE supercore_app"))
        conn.commit()
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with one_connection_engine.connect() as conn:
        row = conn.execute(
            text("SELECT current_solution_id(), current_user <> 'supercore_app', pg_backend_pid()")
        ).one()
        visible = conn.execute(text("SELECT count(*) FROM oracles")).scalar_one()
    assert tuple(row) == (None, True, pid)
    assert visible == 0


def test_temp_tables_do_not_survive_checkin(
    one_connection_engine: Engine, tenant_ids: tuple[uuid.UUID, uuid.UUID]
) -> None:
    sessions = make_sessions(one_connection_engine)
    with tenant_session(sessions, solution_id=tenant_ids[0]) as session:
        session.execute(text("CREATE TEMP TABLE oracles (LIKE public.oracles)"))
    with tenant_session(sessions, solution_id=tenant_ids[1]) as session:
        shadow = session.execute(text("SELECT to_regclass('pg_temp.oracles')")).scalar_one()
    assert shadow is None


def test_admin_mode_does_not_survive_the_transaction(
    admin_sessions: sessionmaker[Session], tenant_ids: tuple[uuid.UUID, uuid.UUID]
) -> None:
    with admin_session(admin_sessions) as session:
        assert _context(session)[1:3] == (True, "supercore_admin")
        tenants = set(session.execute(text("SELECT solution_id FROM oracles")).scalars())
    assert set(tenant_ids) <= tenants
    with admin_sessions() as session:
        assert session.execute(text("SELECT current_user_is_superuser()")).scalar_one() is False


def test_tenant_session_commits_and_rolls_back(
    app_sessions: sessionmaker[Session], tenant_ids: tuple[uuid.UUID, uuid.UUID]
) -> None:
    tenant = tenant_ids[0]
    rename = text("UPDATE solutions SET name = :n WHERE id = :id")
    with tenant_session(app_sessions, solution_id=tenant) as session:
        session.execute(rename, {"n": "Committed", "id": tenant})
    with pytest.raises(RuntimeError), tenant_session(app_sessions, solution_id=tenant) as session:
        session.execute(rename, {"n": "Rolled back", "id": tenant})
        raise RuntimeError("boom")
    with tenant_session(app_sessions, solution_id=tenant) as session:
        name = session.execute(text("SELECT name FROM solutions WHERE id = :id"), {"id": tenant})
        assert name.scalar_one() == "Committed"


@pytest.mark.parametrize("bad", ["", "acme-corp", None, "12345678-1234"])
def test_tenant_session_rejects_a_bad_tenant_id(
    app_sessions: sessionmaker[Session], bad: str | None
) -> None:
    with pytest.raises(TenantContextError, match="not a tenant id"):
        tenant_session(app_sessions, solution_id=bad).__enter__()  # type: ignore[arg-type]


def test_app_login_cannot_open_an_admin_session(app_sessions: sessionmaker[Session]) -> None:
    with pytest.raises(TenantContextError, match="cannot act as supercore_admin"):
        admin_session(app_sessions).__enter__()


def test_unknown_tenant_sees_nothing(app_sessions: sessionmaker[Session]) -> None:
    with tenant_session(app_sessions, solution_id=uuid.uuid4()) as session:
        assert session.execute(text("SELECT count(*) FROM oracles")).scalar_one() == 0
