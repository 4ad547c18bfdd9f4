"""The `supercore db` CLI: lifecycle of an embedded server and clear errors."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from supercore_core.cli import app
from supercore_core.db import migrate

runner = CliRunner()


@pytest.fixture
def no_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "SUPERCORE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_embedded_lifecycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_database_url: None
) -> None:
    monkeypatch.setenv("SUPERCORE_DATA_DIR", str(tmp_path / "sc"))
    try:
        started = runner.invoke(app, ["db", "upgrade"])
        assert started.exit_code == 0, started.output
        status = runner.invoke(app, ["db", "status"])
        assert status.exit_code == 0, status.output
        head = migrate.head_revision()
        assert "running" in status.output and f"{head} (head {head}): up to date" in status.output
        url = runner.invoke(app, ["db", "url"])
        assert url.output.strip().startswith("postgresql://") and str(tmp_path) in url.output
        reset = runner.invoke(app, ["db", "reset", "--yes"])
        assert reset.exit_code == 0, reset.output
    finally:
        stopped = runner.invoke(app, ["db", "stop"])
    assert stopped.output.strip() == "stopped"
    after = runner.invoke(app, ["db", "status"])
    assert after.exit_code == 1 and "stopped" in after.output


def test_url_when_embedded_server_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_database_url: None
) -> None:
    monkeypatch.setenv("SUPERCORE_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["db", "url"])
    assert result.exit_code == 1
    assert "is not running: start it with `supercore db start`" in result.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://user@localhost/db", "DATABASE_URL must start with postgresql://"),
        ("not a url", "DATABASE_URL must start with postgresql://"),
        ("postgresql://nobody@127.0.0.1:1/none", "cannot connect to PostgreSQL at"),
    ],
)
def test_bad_database_url_gives_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_start_refuses_when_an_external_url_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/x")
    result = runner.invoke(app, ["db", "start"])
    assert result.exit_code == 1 and "DATABASE_URL is set" in result.output


def test_reset_needs_confirmation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/x")
    result = runner.invoke(app, ["db", "reset"])
    assert result.exit_code == 1 and "--yes" in result.output
