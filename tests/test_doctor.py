"""supercore doctor: a healthy database passes; each kind of breakage fails its check."""

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from supercore_core import Settings, admin_session, make_engine
from supercore_core.cli import app
from supercore_core.db import migrate
from supercore_core.ops.doctor import CHECKS, Limits, diagnose
from supercore_core.ops.recovery import recover_stalled
from tests.factories import make_tenant

ALL_CHECKS = [fn.__name__.removeprefix("check_") for fn in CHECKS]


@pytest.fixture
def scratch_engine(scratch_database: str) -> Iterator[Engine]:
    migrate.upgrade(scratch_database)
    engine = make_engine(Settings(database_url=scratch_database))
    yield engine
    engine.dispose()


def _status(engine: Engine, limits: Limits | None = None) -> dict[str, str]:
    return {c.name: c.status for c in diagnose(engine, limits).checks}


def test_healthy_database_passes_every_check(owner_engine: Engine) -> None:
    report = diagnose(owner_engine)
    assert [c.name for c in report.checks] == ALL_CHECKS
    assert report.healthy, report.failed
    statuses = {c.name: c.status for c in report.checks}
    assert statuses["login"] == "warn"  # the tests' owner login is a superuser
    detail = {c.name: c.detail for c in report.checks}
    assert "supercore_app under RLS" in detail["tenant_role"]
    assert "idx_document_chunks_embedding_hnsw" in detail["vector_index"]
    assert len(report.to_frame()) == len(ALL_CHECKS)


BREAKAGES = [
    ("rls", "ALTER TABLE documents NO FORCE ROW LEVEL SECURITY"),
    ("rls", "DROP POLICY tenant_isolation ON oracles"),
    ("roles", "ALTER TABLE oracles OWNER TO supercore_app"),
    ("tenant_context", "ALTER DATABASE {db} SET app.current_solution_id = '{tenant}'"),
    ("audit_log", "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"),
    (
        "functions",
        "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",
    ),
    ("functions", "ALTER FUNCTION person_tenant_role(uuid) OWNER TO CURRENT_USER"),
    (
        "indexes",
        "UPDATE pg_index SET indisvalid = false"
        " WHERE indexrelid = 'idx_documents_oracle_id'::regclass",
    ),
    ("migrations", "UPDATE alembic_version SET version_num = '0011'"),
]


@pytest.mark.parametrize(("check", "statement"), BREAKAGES)
def test_each_breakage_fails_its_check(
    scratch_engine: Engine, scratch_database: str, check: str, statement: str
) -> None:
    assert _status(scratch_engine)[check] in ("ok", "warn")
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        db = conn.info.dbname
        conn.execute(statement.format(db=db, tenant=uuid.uuid4()))
    assert _status(scratch_engine)[check] == "fail"


def test_a_role_that_bypasses_rls_fails_two_checks(scratch_engine: Engine) -> None:
    with scratch_engine.connect() as conn:
        conn.exec_driver_sql("ALTER ROLE supercore_app BYPASSRLS")
        conn.commit()
        try:
            statuses = _status(scratch_engine)
        finally:
            conn.exec_driver_sql("ALTER ROLE supercore_app NOBYPASSRLS")  # roles are cluster-wide
            conn.commit()
    assert (statuses["roles"], statuses["tenant_role"]) == ("fail", "fail")


def test_idle_transaction_and_lock_wait_are_warnings(
    scratch_engine: Engine, scratch_database: str
) -> None:
    limits = Limits(idle_in_transaction_s=0)
    with Session(scratch_engine) as session, session.begin():
        document_id = make_tenant(session).document_id
    with psycopg.connect(scratch_database) as holder:
        holder.execute(_TOUCH, (document_id,))  # holds the row lock, idle in transaction now
        waiter = threading.Thread(target=_touch, args=(scratch_database, document_id))
        waiter.start()
        try:
            _until(lambda: "pid" in _detail(scratch_engine, "locks", limits))
            report = {c.name: c for c in diagnose(scratch_engine, limits).checks}
        finally:
            holder.rollback()
            waiter.join(timeout=10)
    assert report["locks"].status == "warn" and "waits" in report["locks"].detail
    assert report["connections"].status == "warn"
    assert "idle in transaction" in report["connections"].detail
    assert report["locks"].name in ALL_CHECKS and not waiter.is_alive()


_TOUCH = "UPDATE documents SET title = title WHERE id = %s"


def _touch(url: str, document_id: uuid.UUID) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SET lock_timeout = '10s'")
        conn.execute(_TOUCH, (document_id,))


def _detail(engine: Engine, name: str, limits: Limits) -> str:
    return next(c.detail for c in diagnose(engine, limits).checks if c.name == name)


def _until(condition: Callable[[], bool], tries: int = 50) -> None:
    for _ in range(tries):
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in 5 s")


def test_stalled_workflow_warns_and_recovery_says_what_happened(scratch_engine: Engine) -> None:
    with Session(scratch_engine) as session, session.begin():
        tenant = make_tenant(session)
        session.execute(
            text("UPDATE documents SET status = 'processing' WHERE id = :d"),
            {"d": tenant.document_id},
        )
    limits = Limits(stalled_workflow_s=0)
    assert _status(scratch_engine, limits)["workflows"] == "warn"
    sessions = sessionmaker(scratch_engine)
    with admin_session(sessions, reason="recover stalled workflows") as session:
        recovered = recover_stalled(session, idle_for_s=0)
    assert [r.workflow_id for r in recovered] == [tenant.workflow_id]
    assert "interrupted after step" in recovered[0].reason
    with scratch_engine.connect() as conn:
        doc = conn.exec_driver_sql(
            "SELECT status, error_message FROM documents WHERE id = %s", (tenant.document_id,)
        ).one()
    assert doc == ("failed", recovered[0].reason)
    assert _status(scratch_engine, limits)["workflows"] == "ok"


def test_unreachable_server_is_one_failed_check() -> None:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    report = diagnose(engine)
    assert [(c.name, c.status) for c in report.checks] == [("server", "fail")]
    assert "unreachable" in report.checks[0].detail


def test_cli_exit_codes(
    scratch_engine: Engine, scratch_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_database)
    healthy = CliRunner().invoke(app, ["doctor"])
    assert healthy.exit_code == 0, healthy.output
    assert "ok    rls" in healthy.output
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("ALTER TABLE messages DISABLE ROW LEVEL SECURITY")
    broken = CliRunner().invoke(app, ["doctor"])
    assert broken.exit_code == 1
    assert "FAIL  rls" in broken.output and "messages: RLS off" in broken.output
    assert "1 check(s) failed: rls" in broken.output


@pytest.mark.parametrize("seat", ["app", "admin"])
def test_application_logins_pass_the_security_checks(
    settings: Settings, app_login_url: str, admin_login_url: str, seat: str
) -> None:
    url = app_login_url if seat == "app" else admin_login_url
    engine = make_engine(settings, url=url)
    try:
        report = diagnose(engine)
    finally:
        engine.dispose()
    statuses = {c.name: c.status for c in report.checks}
    assert report.healthy, report.failed
    assert statuses["login"] == statuses["tenant_role"] == statuses["rls"] == "ok"
    assert statuses["migrations"] == "warn"  # alembic_version is the owner's to read


def test_sparse_btree_is_reported_when_pgstattuple_is_installed(
    scratch_engine: Engine, scratch_database: str
) -> None:
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE churn (x int)")
        conn.execute("CREATE INDEX churn_x ON churn (x)")
        conn.execute("INSERT INTO churn SELECT generate_series(1, 100000)")
        conn.execute("DELETE FROM churn WHERE x % 10 <> 0")
        conn.execute("VACUUM churn")
    quiet = {c.name: c for c in diagnose(scratch_engine).checks}["indexes"]
    assert "churn_x: leaf pages" not in quiet.detail  # no pgstattuple, no measurement
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pgstattuple")
    loud = {c.name: c for c in diagnose(scratch_engine).checks}["indexes"]
    assert loud.status == "warn" and "churn_x: leaf pages" in loud.detail
