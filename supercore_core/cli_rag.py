"""CLI commands for tenants, ingestion, search and retrieval evaluation."""

import os
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from supercore_core.catalog import create_oracle, create_solution, list_oracles
from supercore_core.cli_support import (
    cli_sessions,
    echo_table,
    oracle_embedder,
    resolve,
    user_errors,
)
from supercore_core.config import Settings
from supercore_core.db.sessions import admin_session, tenant_session
from supercore_core.embedding import minilm_embedder
from supercore_core.errors import UserError
from supercore_core.evaluation import beir
from supercore_core.ingest.limits import IngestLimits
from supercore_core.ingest.parsers import SUPPORTED_TYPES
from supercore_core.ingest.pipeline import ingest
from supercore_core.ingest.progress import IngestMeter, tqdm_updater
from supercore_core.ingest.sources import read_source
from supercore_core.questions import check_question
from supercore_core.rendering import terminal_text
from supercore_core.retrieval import MODES, Mode, RetrievalConfig, search
from supercore_core.stats import overview

TenantOpt = Annotated[str, typer.Option("--tenant", help="tenant slug")]
OracleOpt = Annotated[str, typer.Option("--oracle", help="oracle name")]
ModeOpt = Annotated[str | None, typer.Option("--mode", help="dense, lexical or hybrid")]

tenant_app = typer.Typer(no_args_is_help=True, help="Tenants and their oracles.")
oracle_app = typer.Typer(no_args_is_help=True, help="The oracles of a tenant.")
eval_app = typer.Typer(no_args_is_help=True, help="Evaluations.")


def _mode(value: str | None) -> Mode | None:
    if value is None:
        return None
    for mode in MODES:
        if value == mode:
            return mode
    raise UserError(f"unknown mode {value!r}: use dense, lexical or hybrid")


@tenant_app.command("create")
@user_errors
def tenant_create(slug: str, name: str) -> None:
    """Create a tenant (with its RAG global oracle)."""
    with (
        cli_sessions() as sessions,
        admin_session(sessions, reason=f"create tenant {slug!r}") as session,
    ):
        solution = create_solution(session, slug=slug, name=name)
        typer.echo(f"tenant {slug} created: {solution.id}")


@tenant_app.command("list")
@user_errors
def tenant_list() -> None:
    """List every tenant with its status and what it holds (read in superuser mode)."""
    with (
        cli_sessions() as sessions,
        admin_session(sessions, reason="CLI: list tenants") as session,
    ):
        rows = overview(session).rows
    if not rows:
        typer.echo("no tenants yet: `supercore tenant create SLUG NAME` or `supercore demo load`")
        return
    echo_table(
        ["slug", "name", "status", "oracles", "documents", "chunks", "messages"],
        [[r.slug, r.name, r.status, r.oracles, r.documents, r.chunks, r.messages] for r in rows],
    )


@oracle_app.command("list")
@user_errors
def oracle_list(tenant: TenantOpt) -> None:
    """List a tenant's oracles: type, status, language model and retrieval mode."""
    with cli_sessions() as sessions:
        solution_id, _ = resolve(sessions, tenant, None)
        with tenant_session(sessions, solution_id=solution_id) as session:
            oracles = list_oracles(session, solution_id)
    if not oracles:
        typer.echo(
            f"{tenant} has no oracle yet: `supercore tenant add-oracle NAME --tenant {tenant}`"
        )
        return
    echo_table(
        ["name", "type", "status", "model", "retrieval"],
        [
            [o.oracle_name, o.oracle_type, o.status, f"{o.llm_provider}/{o.llm_model}",
             RetrievalConfig.from_oracle(o.retrieval_config).mode]
            for o in oracles
        ],
    )  # fmt: skip


@tenant_app.command("add-oracle")
@user_errors
def tenant_add_oracle(name: str, tenant: TenantOpt) -> None:
    """Create a domain oracle in a tenant."""
    with cli_sessions() as sessions:
        solution_id, _ = resolve(sessions, tenant, None)
        with tenant_session(sessions, solution_id=solution_id) as session:
            oracle = create_oracle(session, solution_id=solution_id, oracle_name=name)
            typer.echo(f"oracle {name} created in {tenant}: {oracle.id}")


def _files(paths: list[Path], follow_symlinks: bool) -> tuple[list[Path], list[Path]]:
    """Supported files named or found under the folders, and the symbolic links skipped."""
    found: list[Path] = []
    skipped: list[Path] = []
    for path in paths:
        if path.is_dir():
            for file in _walk(path, follow_symlinks):
                (skipped if file.is_symlink() and not follow_symlinks else found).append(file)
        elif path.is_file():
            found.append(path)
        else:
            raise UserError(f"no such file or folder: {terminal_text(str(path))}")
    return found, skipped


def _walk(folder: Path, follow_symlinks: bool) -> list[Path]:
    """Supported files under ``folder``, sorted, and (unless following links) the linked
    folders that were not entered."""
    found: list[Path] = []
    for root, folders, names in os.walk(folder, followlinks=follow_symlinks):
        if not follow_symlinks:
            found += (Path(root, n) for n in folders if Path(root, n).is_symlink())
        found += (
            Path(root, n) for n in names if Path(n).suffix.lstrip(".").lower() in SUPPORTED_TYPES
        )
    return sorted(found)


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="files or folders")],
    tenant: TenantOpt,
    oracle: OracleOpt,
    follow_symlinks: Annotated[
        bool,
        typer.Option(
            "--follow-symlinks",
            help="ingest what symbolic links inside the folders point to (skipped by default: "
            "a link can point anywhere, such as /etc/passwd)",
        ),
    ] = False,
) -> None:
    """Ingest files into an oracle; exits 1 if any file failed, listing them."""
    files, skipped = _files(paths, follow_symlinks)
    limits = IngestLimits.from_settings(Settings())
    with cli_sessions() as sessions:
        solution_id, oracle_id = resolve(sessions, tenant, oracle)
        assert oracle_id is not None
        meter = IngestMeter(len(files))
        embedder = meter.metered(oracle_embedder(sessions, solution_id, oracle_id))
        with tqdm(total=len(files), unit="doc", desc="ingest") as bar:
            outcomes = ingest(
                sessions,
                solution_id=solution_id,
                oracle_id=oracle_id,
                sources=(read_source(f, limits.max_file_bytes) for f in files),
                embedder=embedder,
                on_done=tqdm_updater(bar, meter),
                limits=limits,
            )
    for link in skipped:
        typer.echo(
            terminal_text(
                f"skipped   {link}: a symbolic link (--follow-symlinks ingests its target)"
            )
        )
    for outcome in outcomes:
        detail = outcome.error or f"{outcome.chunks} chunks"
        typer.echo(terminal_text(f"{outcome.status:<9} {outcome.filename}: {detail}"))
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        names = ", ".join(terminal_text(o.filename) for o in failed)
        raise UserError(f"{len(failed)} of {len(outcomes)} files failed: {names} (reasons above)")


def search_command(
    query: str,
    tenant: TenantOpt,
    oracle: OracleOpt,
    mode: ModeOpt = None,
    k: Annotated[int | None, typer.Option("-k", help="number of hits")] = None,
) -> None:
    """Search an oracle and print the hits (control characters in names and text escaped)."""
    limit = Settings().max_question_chars
    check_question(query, max_chars=limit)  # before the embedding model loads
    with cli_sessions() as sessions:
        solution_id, oracle_id = resolve(sessions, tenant, oracle)
        assert oracle_id is not None
        embedder = oracle_embedder(sessions, solution_id, oracle_id)
        with tenant_session(sessions, solution_id=solution_id) as session:
            results = search(
                session, oracle_id=oracle_id, query=query, embedder=embedder,
                mode=_mode(mode), k=k, max_question_chars=limit,
            )  # fmt: skip
    for hit in results.hits:
        snippet = terminal_text(" ".join(hit.content.split())[:100])
        name = terminal_text(hit.filename)
        typer.echo(f"{hit.rank:>3}  {hit.score:.4f}  {name}#{hit.chunk_index}  {snippet}")
    if not results.hits:
        typer.echo("no hits")


@eval_app.command("retrieval")
@user_errors
def eval_retrieval(
    dataset_dir: Path,
    mode: Annotated[str, typer.Option("--mode")] = "hybrid",
    k: Annotated[int, typer.Option("-k", min=1, max=300)] = 100,
    run_out: Annotated[Path | None, typer.Option("--run-out", help="TREC run file")] = None,
) -> None:
    """Load a BEIR folder into its own tenant, run every query, print nDCG@10, R@100, MRR@10."""
    dataset = beir.load_dataset(dataset_dir)
    checked = _mode(mode)
    assert checked is not None
    embedder = minilm_embedder(Settings())
    meter = IngestMeter(dataset.corpus_size())
    with cli_sessions() as sessions:
        with tqdm(total=meter.total, unit="doc", desc="load corpus") as bar:
            solution_id, oracle_id = beir.load_corpus(
                sessions, dataset, meter.metered(embedder), on_done=tqdm_updater(bar, meter)
            )
        with tqdm(total=len(dataset.queries), unit="query", desc=f"{checked} queries") as bar:
            run = beir.run_queries(
                sessions, dataset, solution_id=solution_id, oracle_id=oracle_id,
                embedder=embedder, mode=checked, k=k, on_query=bar.update,
            )  # fmt: skip
    if run_out is not None:
        beir.write_trec_run(run, run_out, tag=f"supercore-{checked}")
    for measure, value in beir.score(dataset, run).items():
        typer.echo(f"{measure:<10} {value:.4f}")
