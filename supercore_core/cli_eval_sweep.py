"""CLI: what a sweep re-chunked and promoted, and ``supercore eval restore``.

A chunk size promoted into a live oracle changes its settings only: its documents keep
their chunks until re-ingested, which these lines say, with how.
"""

import json
from typing import Annotated
from uuid import UUID

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.catalog import oracle_by_id
from supercore_core.cli_support import cli_sessions, resolve
from supercore_core.config import Settings
from supercore_core.db.sessions import tenant_session
from supercore_core.documents import UploadStore
from supercore_core.errors import UserError
from supercore_core.evaluation.promotion import Promotion, restore_config
from supercore_core.evaluation.rechunk import CopyOptions
from supercore_core.evaluation.runs import RunSummary
from supercore_core.evaluation.sweep import SweepResult
from supercore_core.ingest.limits import IngestLimits
from supercore_core.models import Document
from supercore_core.rendering import terminal_text


def copy_options(settings: Settings) -> CopyOptions:
    """Originals where the dashboard keeps uploads; the configured ingestion limits."""
    return CopyOptions(
        UploadStore(settings.data_dir / "uploads"), IngestLimits.from_settings(settings)
    )


def print_copies(result: SweepResult) -> None:
    """One line per re-chunked copy of a live oracle: where its texts came from, how many
    chunk texts were embedded and how many came from the embedding cache."""
    for copy in result.copies:
        typer.echo(
            f"re-chunked copy {terminal_text(copy.name)}: {len(copy.aliases)} documents "
            f"({copy.from_original} from stored originals, {copy.from_chunks} rebuilt from "
            f"their chunks; {copy.unchanged} unchanged since the last sweep), {copy.chunks} "
            f"chunks, {copy.embedded} texts embedded (the rest from the embedding cache)"
        )
        for failure in copy.failed:
            typer.echo(terminal_text(f"  not copied: {failure}"))


def restorable_run(result: SweepResult, best: RunSummary) -> UUID:
    """The run that keeps the previous configuration: the winner, or the baseline when the
    winner ran on a scratch copy (which ``eval clean`` removes)."""
    if result.baseline is not None and best.oracle_id != result.oracle_id:
        return result.baseline.id
    return best.id


def print_promotion(
    sessions: sessionmaker[Session], result: SweepResult, best: RunSummary,
    decision: Promotion, tenant: str,
) -> None:  # fmt: skip
    """Whether the winner was written, how to undo it, and what a new chunk size needs."""
    typer.echo(("promoted: " if decision.promoted else "not promoted: ") + decision.reason)
    if not decision.promoted:
        return
    run = restorable_run(result, best)
    typer.echo(f"previous settings kept in run {run}: "
               f"supercore eval restore {run} --tenant {tenant}")  # fmt: skip
    if decision.chunking is not None:
        typer.echo(_reingest_note(sessions, result, decision.chunking))


def _reingest_note(
    sessions: sessionmaker[Session], result: SweepResult, chunking: dict[str, int]
) -> str:
    with tenant_session(sessions, solution_id=result.runs[0].solution_id) as session:
        name = oracle_by_id(session, result.oracle_id).oracle_name
        query = (
            select(Document.storage_path.is_not(None), func.count())
            .where(Document.oracle_id == result.oracle_id)
            .group_by(Document.storage_path.is_not(None))
        )
        counts = {bool(kept): int(n) for kept, n in session.execute(query)}
    how = []
    if counts.get(True):
        how.append(f"{counts[True]} uploaded: Re-ingest each on the Documents page")
    if counts.get(False):
        how.append(f"{counts[False]} ingested from the command line (no original kept): delete "
                   "them on the Documents page, then `supercore ingest` their files again (a "
                   "file with unchanged bytes is otherwise skipped)")  # fmt: skip
    return (
        f"re-ingest needed: chunk size {chunking['chunk_tokens']} (overlap "
        f"{chunking['overlap_tokens']}) is written to the settings of oracle "
        f"{terminal_text(name)!r} and applies to documents ingested from now on; the "
        f"{sum(counts.values())} documents in it keep their chunks until re-ingested"
        + (": " + "; ".join(how) if how else "")
    )


def eval_restore(
    run: Annotated[str, typer.Argument(help="the promoted run, or its sweep's baseline run")],
    tenant: Annotated[str, typer.Option("--tenant", help="tenant slug")],
) -> None:
    """Put back the settings a promotion replaced (chunks stay as they are)."""
    try:
        run_id = UUID(run)
    except ValueError as exc:
        raise UserError(f"not a run id (expected a UUID): {run!r}") from exc
    with cli_sessions() as sessions:
        solution_id, _ = resolve(sessions, tenant, None)
        with tenant_session(sessions, solution_id=solution_id) as session:
            restored = restore_config(session, run_id=run_id)
    shown = json.dumps(restored) if restored else "the default settings"
    typer.echo(f"restored: {shown} (documents re-ingested meanwhile keep their chunks)")
