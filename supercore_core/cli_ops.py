"""CLI commands for operating the database: backup, restore, maintenance, doctor, audit."""

from typing import Annotated

import typer

from supercore_core.cli_support import cli_sessions, user_errors
from supercore_core.db.sessions import admin_session
from supercore_core.ops.audit import list_audit


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    """Add the operations commands to the top-level and ``db`` command groups."""
    app.command("audit")(user_errors(audit_command))


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
