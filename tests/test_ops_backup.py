"""Backup and restore: a round trip reproduces rows, embeddings, grants and RLS policies.

Everything runs on throwaway databases (``scratch_database`` and one more), never on the
session's shared database.
"""

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from supercore_core import Conversation, Settings, make_engine
from supercore_core.cli import app
from supercore_core.db import migrate
from supercore_core.errors import UserError
from supercore_core.ops.backup import backup, restore
from supercore_core.ops.client_tools import ClientToolError, pick, tool_version
from tests.conftest import create_database, drop_database
from tests.factories import SEED_TABLES, TABLES, make_message, make_tenant

# Tables populate() fills; later revisions' tables are compared too, empty or not.
FILLED = (*SEED_TABLES, "embedding_cache", "audit_log")
SNAPSHOT_QUERIES = {
    "grants": "SELECT table_name, grantee, privilege_type FROM information_schema"
    ".role_table_grants WHERE table_schema = 'public' ORDER BY 1, 2, 3",
    "column_grants": "SELECT table_name, column_name, grantee, privilege_type FROM"
    " information_schema.column_privileges WHERE table_schema = 'public'"
    " AND grantee LIKE 'supercore%' ORDER BY 1, 2, 3, 4",
    "function_grants": "SELECT p.proname, p.proacl::text FROM pg_proc p"
    " WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1, 2",
    "policies": "SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check"
    " FROM pg_policies WHERE schemaname = 'public' ORDER BY 1, 2",
    "rls": "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
    " WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1",
    "triggers": "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger"
    " WHERE NOT tgisinternal ORDER BY 1, 2",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    "database_acl": "SELECT datacl::text FROM pg_database WHERE datname = current_database()",
    "revision": "SELECT version_num FROM alembic_version",
}


def snapshot(url: str) -> dict[str, Any]:
    """Every row of every table (as text, embeddings included) plus the security setup."""
    with psycopg.connect(url) as conn:
        state: dict[str, Any] = {
            name: conn.execute(query).fetchall() for name, query in SNAPSHOT_QUERIES.items()
        }
        for table in TABLES:
            state[table] = conn.execute(f"SELECT t::text FROM {table} t ORDER BY 1").fetchall()
    return state


def populate(url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(Settings(database_url=url))
    try:
        with Session(engine) as session, session.begin():
            for _ in range(3):
                tenant = make_tenant(session)
                conversation = session.get_one(Conversation, tenant.conversation_id)
                make_message(
                    session, conversation, role="assistant", content="second", sequence_number=2
                )
            session.execute(
                text("INSERT INTO audit_log (reason, solution_id) VALUES ('restore test', :s)"),
                {"s": tenant.solution_id},
            )
            session.execute(
                text(
                    "INSERT INTO embedding_cache (solution_id, model, content_hash, embedding)"
                    " VALUES (:s, 'fake', repeat('a', 64), CAST(:v AS vector))"
                ),
                {"s": tenant.solution_id, "v": str([0.25] * 384)},
            )
    finally:
        engine.dispose()


@pytest.fixture
def other_database(server_url: str) -> Iterator[str]:
    name = f"supercore_scratch_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name)
    yield url
    drop_database(server_url, name)


def test_round_trip_backup_reset_restore(scratch_database: str, tmp_path: Path) -> None:
    populate(scratch_database)
    before = snapshot(scratch_database)
    assert all(len(before[t]) > 0 for t in FILLED)
    result = backup(scratch_database, tmp_path / "full.dump")
    assert result.size_bytes > 0 and result.path.is_file()
    migrate.downgrade(scratch_database, "base")
    migrate.upgrade(scratch_database, "head")
    assert snapshot(scratch_database) != before  # the reset really emptied it
    restored = restore(scratch_database, tmp_path / "full.dump", clean=True)
    assert not restored.data_only and restored.entries > 50
    assert snapshot(scratch_database) == before


def test_restore_into_a_new_database(
    scratch_database: str, other_database: str, tmp_path: Path
) -> None:
    populate(scratch_database)
    backup(scratch_database, tmp_path / "full.dump")
    restore(other_database, tmp_path / "full.dump")
    before, after = snapshot(scratch_database), snapshot(other_database)
    before.pop("database_acl"), after.pop("database_acl")
    assert after == before
    with psycopg.connect(other_database) as conn:
        temp = conn.execute(
            "SELECT has_database_privilege('public', current_database(), 'TEMP'),"
            " has_database_privilege('supercore_app', current_database(), 'TEMP')"
        ).fetchone()
    assert temp == (False, True)  # revision 0009's hardening re-applied


def test_schema_only_then_data_only(
    scratch_database: str, other_database: str, tmp_path: Path
) -> None:
    populate(scratch_database)
    backup(scratch_database, tmp_path / "schema.dump", schema_only=True)
    backup(scratch_database, tmp_path / "data.dump", data_only=True)
    restore(other_database, tmp_path / "schema.dump")
    empty = snapshot(other_database)
    assert all(empty[t] == [] for t in TABLES) and empty["policies"]
    loaded = restore(other_database, tmp_path / "data.dump")
    assert loaded.data_only
    before, after = snapshot(scratch_database), snapshot(other_database)
    before.pop("database_acl"), after.pop("database_acl")
    assert after == before  # message counters were not counted twice by triggers


def test_tables_option_dumps_only_those(scratch_database: str, tmp_path: Path) -> None:
    populate(scratch_database)
    result = backup(scratch_database, tmp_path / "docs.dump", tables=["documents"])
    listing = _listing(result.tool.path.parent / "pg_restore", result.path)
    assert " TABLE public documents " in listing and " TABLE public solutions " not in listing


def _listing(pg_restore: Path, file: Path) -> str:
    return subprocess.run(  # noqa: S603
        [str(pg_restore), "--list", str(file)], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"schema_only": True, "data_only": True}, UserError, "not both"),
        ({"tables": ["Robert'); DROP"]}, UserError, "not a table name"),
        ({"tables": ["no_such_table"]}, ClientToolError, "no matching tables"),
    ],
)
def test_bad_backup_requests(
    scratch_database: str, tmp_path: Path, kwargs: dict[str, Any], error: type, message: str
) -> None:
    migrate.upgrade(scratch_database, "0002")
    with pytest.raises(error, match=message):
        backup(scratch_database, tmp_path / "x.dump", **kwargs)


def test_bad_restore_requests(scratch_database: str, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such backup file"):
        restore(scratch_database, tmp_path / "missing.dump")
    (tmp_path / "junk.dump").write_bytes(b"not a dump")
    with pytest.raises(ClientToolError, match="is not a backup"):
        restore(scratch_database, tmp_path / "junk.dump")
    migrate.upgrade(scratch_database, "0002")
    backup(scratch_database, tmp_path / "data.dump", data_only=True)
    with pytest.raises(UserError, match="data-only backup: restore it without --clean"):
        restore(scratch_database, tmp_path / "data.dump", clean=True)


def test_restore_over_existing_schema_needs_clean_and_changes_nothing(
    scratch_database: str, tmp_path: Path
) -> None:
    populate(scratch_database)
    backup(scratch_database, tmp_path / "full.dump")
    before = snapshot(scratch_database)
    with pytest.raises(ClientToolError, match="pass --clean"):
        restore(scratch_database, tmp_path / "full.dump")
    assert snapshot(scratch_database) == before  # one transaction: nothing half-restored


def test_an_older_client_is_refused_with_the_versions(tmp_path: Path) -> None:
    with pytest.raises(ClientToolError, match="no pg_dump found"):
        pick("pg_dump", (18, "18.6"), [])
    system = shutil.which("pg_dump")
    if system is None:
        pytest.skip("no pg_dump on PATH to compare with")
    tool = tool_version(Path(system))
    newer = tool.major + 1
    with pytest.raises(ClientToolError, match=f"must be PostgreSQL {newer} or newer"):
        pick("pg_dump", (newer, f"{newer}.0"), [tool.path])
    assert pick("pg_dump", (tool.major, tool.version), [tool.path]) == tool


def test_cli_backup_and_restore(
    scratch_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(scratch_database)
    before = snapshot(scratch_database)
    monkeypatch.setenv("DATABASE_URL", scratch_database)
    runner = CliRunner()
    dump = tmp_path / "cli.dump"
    made = runner.invoke(app, ["db", "backup", str(dump)])
    assert made.exit_code == 0, made.output
    assert "backup written" in made.output and str(dump) in made.output
    bad = runner.invoke(app, ["db", "backup", "--schema-only", "--data-only", str(dump)])
    assert bad.exit_code == 1 and "not both" in bad.output
    back = runner.invoke(app, ["db", "restore", "--clean", str(dump)])
    assert back.exit_code == 0, back.output
    assert "restored" in back.output
    assert snapshot(scratch_database) == before
