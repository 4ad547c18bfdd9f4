"""The audit log of superuser mode: recorded by admin_session, append-only, tenant-scoped."""

import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from supercore_core import UserError, admin_session, tenant_session
from supercore_core.cli import app
from supercore_core.ops.audit import list_audit, record_superuser_use
from tests.factories import make_solution


@pytest.fixture(scope="module")
def tenant_id(owner_engine: Engine) -> uuid.UUID:
    with Session(owner_engine) as session, session.begin():
        return make_solution(session).id


def _login(url: str) -> str:
    return str(urlsplit(url).username)


def test_admin_session_records_who_when_and_why(
    admin_sessions: sessionmaker[Session], admin_login_url: str, tenant_id: uuid.UUID
) -> None:
    reason = f"support ticket {uuid.uuid4().hex[:6]}"
    with admin_session(admin_sessions, reason=reason, solution_id=tenant_id) as session:
        pass
    with admin_session(admin_sessions, reason="read the audit log") as session:
        entries = list_audit(session, limit=5).entries
        now = session.execute(text("SELECT now()")).scalar_one()
    mine = next(e for e in entries if e.reason == reason)
    assert (mine.session_user, mine.current_user) == (_login(admin_login_url), "supercore_admin")
    assert (mine.action, mine.solution_id) == ("superuser_mode", tenant_id)
    assert 0 <= (now - mine.occurred_at).total_seconds() < 60
    assert entries[0].reason == "read the audit log"  # newest first, this use included


def test_entry_survives_a_failed_admin_transaction(admin_sessions: sessionmaker[Session]) -> None:
    reason = f"doomed {uuid.uuid4().hex[:6]}"
    with pytest.raises(ZeroDivisionError), admin_session(admin_sessions, reason=reason):
        _ = 1 / 0
    with admin_session(admin_sessions, reason="check") as session:
        reasons = [e.reason for e in list_audit(session, limit=10).entries]
    assert reason in reasons


def test_to_frame_has_one_row_per_entry(admin_sessions: sessionmaker[Session]) -> None:
    with admin_session(admin_sessions, reason="frame") as session:
        log = list_audit(session, limit=3)
    frame = log.to_frame()
    assert len(frame) == len(log.entries) == 3
    assert {"occurred_at", "session_user", "reason", "solution_id"} <= set(frame.columns)


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_bad_reason_is_refused(admin_sessions: sessionmaker[Session], reason: str) -> None:
    with (
        pytest.raises(UserError, match="needs a reason"),
        admin_session(admin_sessions, reason=reason),
    ):
        pass


def test_bad_limit_is_refused(admin_sessions: sessionmaker[Session]) -> None:
    with admin_session(admin_sessions, reason="bad limit") as session, pytest.raises(UserError):
        list_audit(session, limit=0)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET reason = 'rewritten'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ],
)
@pytest.mark.parametrize("seat", ["app", "admin"])
def test_application_roles_cannot_change_the_log(
    app_sessions: sessionmaker[Session],
    admin_sessions: sessionmaker[Session],
    tenant_id: uuid.UUID,
    statement: str,
    seat: str,
) -> None:
    if seat == "app":
        context = tenant_session(app_sessions, solution_id=tenant_id)
    else:
        context = admin_session(admin_sessions, reason="try to rewrite history")
    with context as session, pytest.raises(DBAPIError, match="permission denied"):
        session.execute(text(statement))


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET reason = 'rewritten'", "DELETE FROM audit_log", "TRUNCATE audit_log"],
)
def test_even_the_owner_is_refused(
    owner_engine: Engine, admin_sessions: sessionmaker[Session], statement: str
) -> None:
    with admin_session(admin_sessions, reason="make sure there is a row"):
        pass
    with owner_engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(statement))


def test_owner_maintenance_opt_in_works_for_one_transaction(owner_engine: Engine) -> None:
    with owner_engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(text("SET LOCAL supercore.audit_maintenance = 'on'"))
        deleted = conn.execute(text("DELETE FROM audit_log")).rowcount
        transaction.rollback()  # pruning works; keep the rows for the other tests
    assert deleted > 0


def test_maintenance_setting_gives_the_app_nothing(
    app_sessions: sessionmaker[Session], tenant_id: uuid.UUID
) -> None:
    with tenant_session(app_sessions, solution_id=tenant_id) as session:
        session.execute(text("SET LOCAL supercore.audit_maintenance = 'on'"))
        with pytest.raises(DBAPIError, match="permission denied"):
            session.execute(text("DELETE FROM audit_log"))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("session_user_name", "'someone_else'"),
        ("current_user_name", "'supercore_app'"),
        ("occurred_at", "now() - interval '1 day'"),
    ],
)
def test_admin_cannot_forge_who_or_when(
    admin_sessions: sessionmaker[Session], column: str, value: str
) -> None:
    forged = text(f"INSERT INTO audit_log (reason, {column}) VALUES ('forged', {value})")
    with (
        admin_session(admin_sessions, reason="forgery attempt") as session,
        pytest.raises(DBAPIError, match="row-level security"),
    ):
        session.execute(forged)


def test_tenant_cannot_insert_and_reads_only_its_own(
    app_sessions: sessionmaker[Session], admin_sessions: sessionmaker[Session]
) -> None:
    with admin_session(admin_sessions, reason="two tenants") as session:
        mine, theirs = make_solution(session).id, make_solution(session).id
        record_superuser_use(session, reason="about mine", solution_id=mine)
        record_superuser_use(session, reason="about theirs", solution_id=theirs)
    with tenant_session(app_sessions, solution_id=mine) as session:
        seen = list_audit(session).entries
        with pytest.raises(DBAPIError, match="permission denied"):
            session.execute(text("INSERT INTO audit_log (reason) VALUES ('tenant')"))
    assert [(e.reason, e.solution_id) for e in seen] == [("about mine", mine)]


def test_superuser_mode_setting_alone_cannot_write(
    app_sessions: sessionmaker[Session], tenant_id: uuid.UUID
) -> None:
    with tenant_session(app_sessions, solution_id=tenant_id) as session:
        session.execute(text("SELECT set_config('app.superuser_mode', 'on', true)"))
        with pytest.raises(DBAPIError, match="permission denied"):
            record_superuser_use(session, reason="sneaky")


def test_cli_lists_entries(
    monkeypatch: pytest.MonkeyPatch, admin_login_url: str, admin_sessions: sessionmaker[Session]
) -> None:
    reason = f"cli check {uuid.uuid4().hex[:6]}"
    with admin_session(admin_sessions, reason=reason):
        pass
    monkeypatch.setenv("DATABASE_URL", admin_login_url)
    result = CliRunner().invoke(app, ["audit", "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert reason in result.output and "supercore_admin" in result.output
    bad = CliRunner().invoke(app, ["audit", "--limit", "0"])
    assert bad.exit_code == 1 and "limit must be at least 1" in bad.output
