"""Backup and restore with pg_dump / pg_restore (custom format, compressed).

A dump holds one database: tables, rows (embeddings included), indexes, functions, grants,
RLS flags and policies. Roles and database-level privileges live in the cluster, not in
the dump, so ``restore`` first creates the two group roles when missing (as revision 0001
does) and afterwards re-applies the database-level hardening (as revision 0009 does).
Login roles are the operator's: create them again on a new server.
"""

import os
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from supercore_core.db.sessions import AUTH_ROLE, MEMBERSHIP_DEFINERS
from supercore_core.errors import UserError
from supercore_core.ops.client_tools import (
    ClientTool,
    ClientToolError,
    candidates,
    pick,
    server_major,
    split_password,
)

_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SCHEMA_ENTRY = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA)", re.MULTILINE)

ENSURE_ROLES = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supercore_app') THEN
        CREATE ROLE supercore_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supercore_admin') THEN
        CREATE ROLE supercore_admin NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supercore_auth') THEN
        CREATE ROLE supercore_auth NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT pg_has_role('supercore_admin', 'supercore_app', 'MEMBER') THEN
        GRANT supercore_app TO supercore_admin;
    END IF;
END $$
"""


@dataclass(frozen=True)
class BackupResult:
    """A finished dump."""

    path: Path
    size_bytes: int
    seconds: float
    tool: ClientTool
    server_version: str


@dataclass(frozen=True)
class RestoreResult:
    """A finished restore."""

    path: Path
    seconds: float
    entries: int
    data_only: bool
    tool: ClientTool


def backup(
    url: str,
    file: Path,
    *,
    schema_only: bool = False,
    data_only: bool = False,
    tables: Sequence[str] = (),
    prefer_embedded: bool = False,
) -> BackupResult:
    """Dump the database at ``url`` to ``file`` (pg_dump custom format).

    ``tables`` limits the dump to those tables of the public schema (each must exist).
    """
    if schema_only and data_only:
        raise UserError("choose --schema-only or --data-only, not both")
    server = server_major(url)
    tool = pick("pg_dump", server, candidates("pg_dump", prefer_embedded=prefer_embedded))
    args = ["--format=custom", "--no-password", f"--file={file}"]
    args += ["--schema-only"] * schema_only + ["--data-only"] * data_only
    if tables:
        args.append("--strict-names")
        args += [f"--table=public.{_table_name(t)}" for t in tables]
    started = time.perf_counter()
    _run(tool, url, args)
    return BackupResult(file, file.stat().st_size, time.perf_counter() - started, tool, server[1])


def restore(
    url: str, file: Path, *, clean: bool = False, prefer_embedded: bool = False
) -> RestoreResult:
    """Restore ``file`` into the database at ``url`` in one transaction (all or nothing).

    ``clean`` drops the archive's objects first (restore over an existing schema). A
    data-only archive is loaded with triggers disabled (so counters are not counted
    twice), which needs a superuser.
    """
    if not file.is_file():
        raise UserError(f"no such backup file: {file}")
    server = server_major(url)
    tool = pick("pg_restore", server, candidates("pg_restore", prefer_embedded=prefer_embedded))
    toc = _toc(tool, file)
    data_only = _SCHEMA_ENTRY.search(toc) is None
    if clean and data_only:
        raise UserError(f"{file} is a data-only backup: restore it without --clean")
    _ensure_roles(url)
    args = ["--no-password", "--exit-on-error", "--single-transaction", "--no-owner"]
    args += ["--clean", "--if-exists"] * clean + ["--disable-triggers"] * data_only
    started = time.perf_counter()
    _run(tool, url, [*args, str(file)])
    if not data_only:
        harden_database(url)
    entries = sum(1 for line in toc.splitlines() if line and not line.startswith(";"))
    return RestoreResult(file, time.perf_counter() - started, entries, data_only, tool)


def _table_name(name: str) -> str:
    if not _TABLE_NAME.match(name):
        raise UserError(f"not a table name: {name!r} (use lowercase names like documents)")
    return name


def _toc(tool: ClientTool, file: Path) -> str:
    done = subprocess.run(  # noqa: S603 - located client binary, no shell
        [str(tool.path), "--list", str(file)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ClientToolError(
            f"{file} is not a backup pg_restore {tool.version} can read: {_last_line(done.stderr)}"
        )
    return done.stdout


def _run(tool: ClientTool, url: str, args: list[str]) -> None:
    conninfo, env = split_password(url)
    done = subprocess.run(  # noqa: S603 - located client binary, no shell
        [str(tool.path), f"--dbname={conninfo}", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    if done.returncode != 0:
        raise ClientToolError(f"{tool.path.name} failed: {_explain(done.stderr)}")


def _explain(stderr: str) -> str:
    reason = _last_line(stderr)
    if "row-level security" in stderr:
        return (
            f"{reason}; FORCE ROW LEVEL SECURITY applies even to table owners: back up and "
            "restore with a superuser or a login that has BYPASSRLS"
        )
    if "already exists" in stderr:
        return f"{reason}; restore into an empty database, or pass --clean"
    return reason


def _last_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if "error" in line.lower()]
    return (lines or stderr.strip().splitlines() or ["no message"])[0].strip()


def _ensure_roles(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ENSURE_ROLES)


def harden_database(url: str) -> None:
    """Database-level privileges a per-database dump does not carry (revision 0009's), and
    the owner of the membership look-ups (revision 0014), which ``--no-owner`` drops."""
    with psycopg.connect(url, autocommit=True) as conn:
        name = sql.Identifier(str(conn.info.dbname))
        conn.execute(sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(name))
        conn.execute(sql.SQL("GRANT TEMPORARY ON DATABASE {} TO supercore_app").format(name))
        definers = conn.execute(
            "SELECT oid::regprocedure::text FROM pg_proc WHERE prosecdef"
            " AND pronamespace = 'public'::regnamespace AND proname = ANY(%s)",
            [sorted(MEMBERSHIP_DEFINERS)],
        ).fetchall()
        for (function,) in definers:
            conn.execute(sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(
                sql.SQL(function), sql.Identifier(AUTH_ROLE)))  # fmt: skip
