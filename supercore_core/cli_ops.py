"""CLI commands for operating the database: backup, restore, maintenance, doctor, audit."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from supercore_core.cli_support import cli_sessions, user_errors
from supercore_core.config import Settings
from supercore_core.db.engine import libpq_url, make_engine
from supercore_core.db.sessions import admin_session
from supercore_core.errors import UserError
from supercore_core.ops import doctor, maintenance
from supercore_core.ops.audit import list_audit
from supercore_core.ops.backup import backup, restore
from supercore_core.ops.maintenance import MaintenanceReport, OnStep
from supercore_core.ops.recovery import recover_stalled
from supercore_core.vector_index.maintain import sync


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    """Add the operations commands to the top-level and ``db`` command groups."""
    app.command("audit")(user_errors(audit_command))
    db_app.command("backup")(user_errors(backup_command))
    db_app.command("restore")(user_errors(restore_command))
    db_app.command("analyze")(user_errors(analyze_command))
    db_app.command("vacuum")(user_errors(vacuum_command))
    db_app.command("reindex")(user_errors(reindex_command))
    db_app.command("recover")(user_errors(recover_command))
    app.command("doctor")(user_errors(doctor_command))


def audit_command(
    limit: Annotated[int, typer.Option("--limit", help="newest N entries")] = 50,
) -> None:
    """List the newest uses of superuser mode (who, when, what for)."""
    reason = "supercore audit: list the audit log"
    with cli_sessions() as sessions, admin_session(sessions, reason=reason) as session:
        log = list_audit(session, limit=limit)
    for e in log.entries:
        tenant = f" tenant={e.solution_id}" if e.solution_id else ""
        when = e.occurred_at.isoformat(timespec="seconds")
        typer.echo(f"{e.id:>6}  {when}  {e.session_user} as {e.current_user}{tenant}  {e.reason}")
    if not log.entries:
        typer.echo("no audit entries")


def _database() -> tuple[str, bool]:
    """The libpq URL of the configured database and whether it is the embedded server."""
    settings = Settings()
    return libpq_url(settings, start_embedded=True), settings.uses_embedded_server


def backup_command(
    file: Annotated[Path, typer.Argument(help="where to write the dump (custom format)")],
    schema_only: Annotated[bool, typer.Option("--schema-only", help="no rows")] = False,
    data_only: Annotated[bool, typer.Option("--data-only", help="rows only")] = False,
    tables: Annotated[
        list[str] | None, typer.Option("--tables", help="only this table (repeatable)")
    ] = None,
) -> None:
    """Dump the database with pg_dump (the client version that fits the server)."""
    url, embedded = _database()
    done = backup(
        url, file, schema_only=schema_only, data_only=data_only, tables=tables or (),
        prefer_embedded=embedded,
    )  # fmt: skip
    typer.echo(
        f"backup written: {done.path} ({done.size_bytes / 1e6:.2f} MB in {done.seconds:.1f} s,"
        f" pg_dump {done.tool.version}, server {done.server_version})"
    )


def restore_command(
    file: Annotated[Path, typer.Argument(help="a dump made by `supercore db backup`")],
    clean: Annotated[bool, typer.Option("--clean", help="drop existing objects first")] = False,
) -> None:
    """Restore a dump in one transaction (group roles are created if missing)."""
    url, embedded = _database()
    done = restore(url, file, clean=clean, prefer_embedded=embedded)
    kind = "data-only " if done.data_only else ""
    typer.echo(
        f"restored {kind}{done.path}: {done.entries} entries in {done.seconds:.1f} s"
        f" (pg_restore {done.tool.version})"
    )


def _report(done: MaintenanceReport) -> None:
    for step in done.steps:
        typer.echo(f"  {step.target:<40} {step.seconds:8.2f} s")
    typer.echo(f"{done.action}: {len(done.steps)} done in {done.seconds:.2f} s")


def _progress(action: str) -> OnStep:
    def show(target: str, position: int, total: int) -> None:
        typer.echo(f"[{position}/{total}] {action} {target}", err=True)

    return show


@contextmanager
def _owner_engine() -> Iterator[Engine]:
    engine = make_engine(Settings(), start_embedded=True)
    try:
        yield engine
    finally:
        engine.dispose()


def analyze_command() -> None:
    """ANALYZE every table (planner statistics), with progress and the time taken."""
    with _owner_engine() as engine:
        _report(maintenance.analyze(engine, on_step=_progress("analyze")))


def vacuum_command(
    full: Annotated[bool, typer.Option("--full", help="rewrite tables (locks each)")] = False,
) -> None:
    """VACUUM (ANALYZE) every table, or VACUUM FULL with --full."""
    with _owner_engine() as engine:
        _report(maintenance.vacuum(engine, full=full, on_step=_progress("vacuum")))


def reindex_command(
    target: Annotated[str | None, typer.Argument(help="a table or index; default all")] = None,
    vectors: Annotated[
        bool,
        typer.Option(
            "--vectors",
            help="instead: give each oracle past exact_below_chunks its own HNSW index, "
            "drop those of shrunk or deleted oracles, calibrate ef_search (audited)",
        ),
    ] = False,
) -> None:
    """REINDEX CONCURRENTLY (a table, an index, or all), or sync per-oracle vector indexes."""
    with _owner_engine() as engine:
        if not vectors:
            _report(maintenance.reindex(engine, target, on_step=_progress("reindex")))
            return
        if target is not None:
            raise UserError("--vectors takes no table or index: it syncs every oracle")
        changes = sync(engine, reason="supercore db reindex --vectors")
    for change in changes:
        if change.action not in ("exact", "kept") or change.detail:
            typer.echo(f"  {change.oracle_id}  {change.action:<8} {change.chunks:>10,} chunks"
                       f"  {change.detail}")  # fmt: skip
    counts = {
        a: sum(c.action == a for c in changes) for a in dict.fromkeys(c.action for c in changes)
    }
    typer.echo(
        "vector indexes: " + (", ".join(f"{n} {a}" for a, n in counts.items()) or "no oracles")
    )


_MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def doctor_command() -> None:
    """Check the database: isolation, correctness, health; exits 1 if anything fails."""
    with _owner_engine() as engine:
        report = doctor.diagnose(engine)
    for check in report.checks:
        typer.echo(f"{_MARKS[check.status]}  {check.name:<15} {check.detail}")
    if not report.healthy:
        names = ", ".join(c.name for c in report.failed)
        raise UserError(f"{len(report.failed)} check(s) failed: {names}")


def recover_command(
    idle_minutes: Annotated[
        float, typer.Option("--idle-minutes", help="no progress for this long = dead")
    ] = 30,
) -> None:
    """Mark workflows (and their documents) failed that stopped making progress."""
    reason = f"supercore db recover: fail workflows idle for {idle_minutes} min"
    with cli_sessions() as sessions, admin_session(sessions, reason=reason) as session:
        recovered = recover_stalled(session, idle_for_s=idle_minutes * 60)
    for item in recovered:
        typer.echo(f"failed {item.workflow_id}: {item.reason}")
    typer.echo(f"{len(recovered)} stalled workflow(s) marked failed")
