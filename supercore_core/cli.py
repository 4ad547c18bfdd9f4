"""Thin typer CLI over the library: ``supercore db|tenant|user|ingest|search|eval ...``."""

from typing import Annotated

import typer

from supercore_core import cli_chat, cli_demo, cli_eval, cli_golden, cli_ops, cli_rag, cli_users
from supercore_core.cli_support import user_errors
from supercore_core.config import Settings
from supercore_core.db import embedded, migrate
from supercore_core.db.engine import check_connection, libpq_url, make_engine
from supercore_core.errors import ConfigurationError

app = typer.Typer(no_args_is_help=True, help="SuperCore Workbench command line.")
db_app = typer.Typer(no_args_is_help=True, help="The database: embedded server and migrations.")
app.add_typer(db_app, name="db")
app.add_typer(cli_rag.tenant_app, name="tenant")
app.add_typer(cli_rag.oracle_app, name="oracle")
app.add_typer(cli_rag.eval_app, name="eval")
app.add_typer(cli_demo.demo_app, name="demo")
app.add_typer(cli_golden.golden_app, name="golden")
app.add_typer(cli_users.user_app, name="user")
cli_eval.register(cli_rag.eval_app)
app.command("ingest")(user_errors(cli_rag.ingest_command))
app.command("search")(user_errors(cli_rag.search_command))
app.command("chat")(user_errors(cli_chat.chat_command))
app.command("usage")(user_errors(cli_chat.usage_command))
cli_ops.register(app, db_app)


def _embedded_only(settings: Settings, action: str) -> None:
    if not settings.uses_embedded_server:
        raise ConfigurationError(
            f"DATABASE_URL is set, so there is no embedded server to {action}; "
            "unset it to use the embedded database"
        )


@db_app.command("start")
@user_errors
def db_start() -> None:
    """Start the embedded PostgreSQL server (initialising it the first time)."""
    settings = Settings()
    _embedded_only(settings, "start")
    url = embedded.start(settings.pgdata, settings.database_name)
    typer.echo(f"embedded PostgreSQL running, data in {settings.pgdata}")
    typer.echo(url)


@db_app.command("stop")
@user_errors
def db_stop() -> None:
    """Stop the embedded PostgreSQL server."""
    settings = Settings()
    _embedded_only(settings, "stop")
    was_running = embedded.stop(settings.pgdata)
    typer.echo("stopped" if was_running else "not running")


@db_app.command("status")
@user_errors
def db_status() -> None:
    """Show where the database is, whether it answers, and its migration revision."""
    settings = Settings()
    if settings.uses_embedded_server:
        state = embedded.status(settings.pgdata)
        if not state.running:
            typer.echo(f"embedded server: stopped (data in {settings.pgdata})")
            raise typer.Exit(1)
        typer.echo(f"embedded server: running, pid {state.pid}, socket in {state.socket_dir}")
    engine = make_engine(settings)
    try:
        typer.echo(f"PostgreSQL {check_connection(engine)}")
        current, head = migrate.current_revision(engine), migrate.head_revision()
        note = "up to date" if current == head else "run `supercore db upgrade`"
        typer.echo(f"migrations: {current or 'none'} (head {head}): {note}")
    finally:
        engine.dispose()


@db_app.command("url")
@user_errors
def db_url() -> None:
    """Print the libpq URL of the database (for psql and notebooks)."""
    typer.echo(libpq_url(Settings()))


@db_app.command("upgrade")
@user_errors
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate up to REVISION (default head); starts the embedded server if needed."""
    url = libpq_url(Settings(), start_embedded=True)
    migrate.upgrade(url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
@user_errors
def db_downgrade(revision: Annotated[str, typer.Argument(help="e.g. -1, 0004 or base")]) -> None:
    """Migrate down to REVISION."""
    migrate.downgrade(libpq_url(Settings()), revision)
    typer.echo(f"database at {revision}")


@db_app.command("reset")
@user_errors
def db_reset(
    yes: Annotated[bool, typer.Option("--yes", help="confirm deleting every row")] = False,
) -> None:
    """Drop everything (downgrade to base) and migrate back to head."""
    if not yes:
        raise ConfigurationError("reset deletes all data: run again with --yes to confirm")
    url = libpq_url(Settings(), start_embedded=True)
    migrate.downgrade(url, "base")
    migrate.upgrade(url, "head")
    typer.echo("database reset to an empty schema at head")


def main() -> None:
    """Console-script entry point."""
    app()
