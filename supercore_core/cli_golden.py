"""CLI: ``supercore golden import|export|list|stale`` (an oracle's golden sets)."""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from supercore_core.cli_support import cli_sessions, resolve, user_errors
from supercore_core.db.sessions import tenant_session
from supercore_core.errors import UserError
from supercore_core.golden import (
    export_golden,
    get_or_create_golden_set,
    golden_set_by_name,
    import_parsed,
    list_golden_sets,
    parse_file,
    questions_of,
    stale_judgements,
)

golden_app = typer.Typer(no_args_is_help=True, help="Golden sets: an oracle's own questions.")
TenantOpt = Annotated[str, typer.Option("--tenant", help="tenant slug")]
OracleOpt = Annotated[str, typer.Option("--oracle", help="oracle name")]
SetOpt = Annotated[str, typer.Option("--set", help="golden set name")]


def golden_import(
    file: Annotated[Path, typer.Argument(help=".jsonl, .csv, or BEIR qrels .tsv")],
    tenant: TenantOpt,
    oracle: OracleOpt,
    name: SetOpt,
    queries: Annotated[
        Path | None, typer.Option("--queries", help="BEIR queries.jsonl (with qrels)")
    ] = None,
) -> None:
    """Import questions and judgements into a set (created if missing); all or nothing."""
    parsed = parse_file(file, queries)
    with cli_sessions() as sessions:
        solution_id, oracle_id = resolve(sessions, tenant, oracle)
        assert oracle_id is not None
        with tenant_session(sessions, solution_id=solution_id) as session:
            golden = get_or_create_golden_set(session, oracle_id=oracle_id, name=name)
            report = import_parsed(session, golden, parsed)
    typer.echo(f"imported {report.questions} questions with {report.judgements} judgements "
               f"into {name!r} (version {report.version})")  # fmt: skip


def golden_export(
    tenant: TenantOpt,
    oracle: OracleOpt,
    name: SetOpt,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file [stdout]")] = None,
) -> None:
    """Write a set as JSONL or CSV (stale judgements are marked)."""
    if fmt not in ("jsonl", "csv"):
        raise UserError(f"unknown --format {fmt!r}: use jsonl or csv")
    with cli_sessions() as sessions:
        solution_id, oracle_id = resolve(sessions, tenant, oracle)
        assert oracle_id is not None
        with tenant_session(sessions, solution_id=solution_id) as session:
            golden = golden_set_by_name(session, oracle_id, name)
            text = export_golden(session, golden, "csv" if fmt == "csv" else "jsonl")
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


def golden_list(tenant: TenantOpt, oracle: OracleOpt) -> None:
    """The oracle's golden sets: questions, stale judgements, version."""
    with cli_sessions() as sessions:
        solution_id, oracle_id = resolve(sessions, tenant, oracle)
        assert oracle_id is not None
        with tenant_session(sessions, solution_id=solution_id) as session:
            rows = [
                (g.name, len(questions_of(session, g.id)), len(stale_judgements(session, g.id)),
                 g.version)
                for g in list_golden_sets(session, oracle_id)
            ]  # fmt: skip
    for set_name, questions, stale, version in rows:
        typer.echo(f"{set_name:<30} {questions:>5} questions  {stale:>4} stale  v{version}")
    if not rows:
        typer.echo("no golden sets: import one with `supercore golden import FILE ...`")


def golden_stale(tenant: TenantOpt, oracle: OracleOpt, name: SetOpt) -> None:
    """List judgements whose document was deleted or changed; exit 1 when there are any."""
    with cli_sessions() as sessions:
        solution_id, oracle_id = resolve(sessions, tenant, oracle)
        assert oracle_id is not None
        with tenant_session(sessions, solution_id=solution_id) as session:
            stale = stale_judgements(session, golden_set_by_name(session, oracle_id, name).id)
    for s in stale:
        typer.echo(f"{s.query_key}\t{s.filename}\t{s.stale}")
    if stale:
        raise typer.Exit(1)
    typer.echo("no stale judgements")


_COMMANDS: dict[str, Callable[..., None]] = {
    "import": golden_import, "export": golden_export, "list": golden_list, "stale": golden_stale,
}  # fmt: skip
for _name, _command in _COMMANDS.items():
    golden_app.command(_name)(user_errors(_command))
