"""CLI: ``supercore demo load`` (what ``make run`` calls before opening the dashboard)."""

import time
from typing import Annotated

import typer
from tqdm import tqdm

from supercore_core import demo
from supercore_core.cli_support import cli_sessions, user_errors
from supercore_core.config import Settings
from supercore_core.embedding import minilm_embedder

demo_app = typer.Typer(no_args_is_help=True, help="Demo data from TAT-QA annual reports.")


@demo_app.command("load")
@user_errors
def demo_load(
    force: Annotated[
        bool, typer.Option("--force", help="load even when the demo is already there")
    ] = False,
) -> None:
    """Create the demo tenants, ingest their reports and ask their questions (offline)."""
    tenants, settings = demo.demo_tenants(), Settings()
    started = time.perf_counter()
    with cli_sessions() as sessions:
        if not force and demo.is_loaded(sessions, tenants):
            typer.echo(f"demo data already loaded ({len(tenants)} tenants): skipped")
            return
        with tqdm(total=demo.steps(tenants), unit="step", desc="demo data") as bar:

            def step(label: str) -> None:
                bar.set_postfix_str(label[:40])
                bar.update()

            report = demo.load_demo(
                sessions, embedder=minilm_embedder(settings), settings=settings, tenants=tenants,
                on_step=step,
            )  # fmt: skip
    typer.echo(
        f"demo data: {report.tenants} tenants, {report.documents_ingested} documents ingested "
        f"({report.documents_unchanged} unchanged, {report.documents_failed} failed), "
        f"{report.questions_asked} questions answered offline in "
        f"{time.perf_counter() - started:.0f} s"
    )
