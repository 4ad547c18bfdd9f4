"""ANALYZE / VACUUM / REINDEX on a throwaway database: every table done, indexes rebuilt."""

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from supercore_core import Settings, make_engine
from supercore_core.cli import app
from supercore_core.db import migrate
from supercore_core.errors import UserError
from supercore_core.ops.maintenance import analyze, reindex, vacuum
from tests.factories import TABLES, make_tenant

ONE_INDEX = "idx_document_chunks_oracle"  # the shared HNSW index went in 0017


@pytest.fixture
def scratch_engine(scratch_database: str) -> Iterator[Engine]:
    migrate.upgrade(scratch_database)
    engine = make_engine(Settings(database_url=scratch_database))
    with Session(engine) as session, session.begin():
        make_tenant(session)
    yield engine
    engine.dispose()


def _filenodes(url: str, table: str) -> dict[str, int]:
    """relfilenode of ``table`` and each of its indexes (a rebuild changes them)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relfilenode FROM pg_class c WHERE c.oid = %s::regclass"
            " OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = %s::regclass)",
            (table, table),
        ).fetchall()
    return {name: node for name, node in rows}


def test_analyze_covers_every_table(scratch_engine: Engine, scratch_database: str) -> None:
    seen: list[tuple[str, int, int]] = []
    report = analyze(scratch_engine, on_step=lambda *step: seen.append(step))
    done = {s.target for s in report.steps}
    assert set(TABLES) <= done and all(s.seconds >= 0 for s in report.steps)
    assert [p for _, p, _ in seen] == list(range(1, len(done) + 1))
    with psycopg.connect(scratch_database) as conn:
        missing = conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NULL"
        ).fetchall()
    assert missing == []


def test_vacuum_and_vacuum_full(scratch_engine: Engine, scratch_database: str) -> None:
    assert vacuum(scratch_engine).action == "vacuum"
    with psycopg.connect(scratch_database) as conn:
        unvacuumed = conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NULL"
        ).fetchall()
    assert unvacuumed == []
    before = _filenodes(scratch_database, "documents")
    report = vacuum(scratch_engine, full=True)
    after = _filenodes(scratch_database, "documents")
    assert report.action == "vacuum full" and report.seconds > 0
    assert all(after[name] != node for name, node in before.items())  # rewritten


def test_reindex_one_index_only(scratch_engine: Engine, scratch_database: str) -> None:
    before = _filenodes(scratch_database, "document_chunks")
    report = reindex(scratch_engine, ONE_INDEX)
    after = _filenodes(scratch_database, "document_chunks")
    assert [s.target for s in report.steps] == [ONE_INDEX]
    changed = {name for name in before if after.get(name) != before[name]}
    assert changed == {ONE_INDEX}
    with psycopg.connect(scratch_database) as conn:
        invalid = conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone()
    assert invalid == (0,)


def test_reindex_a_table_rebuilds_all_its_indexes(
    scratch_engine: Engine, scratch_database: str
) -> None:
    before = _filenodes(scratch_database, "documents")
    reindex(scratch_engine, "documents")
    after = _filenodes(scratch_database, "documents")
    assert after["documents"] == before["documents"]
    assert all(after[n] != before[n] for n in before if n != "documents")


@pytest.mark.parametrize("target", ["no_such_thing", "documents; DROP TABLE solutions", "pg_class"])
def test_reindex_unknown_target(scratch_engine: Engine, target: str) -> None:
    with pytest.raises(UserError, match="no table or index named"):
        reindex(scratch_engine, target)


def test_cli_maintenance(
    scratch_engine: Engine, scratch_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_database)
    runner = CliRunner()
    analyzed = runner.invoke(app, ["db", "analyze"])
    assert analyzed.exit_code == 0, analyzed.output
    assert "documents" in analyzed.output and "analyze: " in analyzed.output
    vacuumed = runner.invoke(app, ["db", "vacuum", "--full"])
    assert vacuumed.exit_code == 0 and "vacuum full: " in vacuumed.output
    rebuilt = runner.invoke(app, ["db", "reindex", ONE_INDEX])
    assert rebuilt.exit_code == 0 and "reindex: 1 done" in rebuilt.output
    unknown = runner.invoke(app, ["db", "reindex", "nope"])
    assert unknown.exit_code == 1 and "no table or index named 'nope'" in unknown.output
