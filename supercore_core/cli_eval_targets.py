"""Where an evaluation command runs: an oracle's golden set, or a benchmark in a scratch oracle."""

from pathlib import Path
from uuid import UUID

import typer
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from supercore_core.catalog import oracle_by_name
from supercore_core.cli_support import resolve
from supercore_core.config import Settings
from supercore_core.db.sessions import tenant_session
from supercore_core.embedding import Embedder, minilm_embedder
from supercore_core.errors import UserError
from supercore_core.evaluation.beir import BeirDataset, load_dataset
from supercore_core.evaluation.golden import open_golden
from supercore_core.evaluation.runner import ingest_dataset
from supercore_core.evaluation.scratch import default_scratch_name, require_scratch, scratch_oracle
from supercore_core.evaluation.sets import EvalSet
from supercore_core.ingest.progress import IngestMeter, tqdm_updater

Target = tuple[UUID, UUID, EvalSet, Embedder]


def one_source(dataset: Path | None, golden_set: str | None) -> BeirDataset | None:
    """The benchmark to load (None for a golden set); exactly one of the two is given."""
    if (dataset is None) == (golden_set is None):
        raise UserError("give --oracle NAME --set NAME (score an oracle on its golden set) or "
                        "--dataset DIR (a benchmark, loaded into a scratch oracle)")  # fmt: skip
    return load_dataset(dataset) if dataset is not None else None


def target(
    sessions: sessionmaker[Session], tenant: str, oracle: str | None, scratch: str | None,
    data: BeirDataset | None, golden_set: str | None,
) -> Target:  # fmt: skip
    """The tenant, oracle, evaluation set and embedder of a run or sweep."""
    if data is not None:
        return _benchmark_target(sessions, tenant, oracle, scratch, data)
    if scratch is not None:
        raise UserError("--scratch goes with --dataset: a golden set is scored on its own oracle")
    return _golden_target(sessions, tenant, oracle, str(golden_set))


def _dataset_target(
    sessions: sessionmaker[Session], tenant: str, oracle: str | None, scratch: str | None,
    dataset: str,
) -> tuple[UUID, UUID]:  # fmt: skip
    """The tenant and the scratch oracle a benchmark dataset loads into."""
    if oracle is not None and scratch is not None:
        raise UserError("give --oracle (an existing scratch oracle) or --scratch NAME, not both")
    solution_id, _ = resolve(sessions, tenant, None)
    with tenant_session(sessions, solution_id=solution_id) as session:
        if oracle is not None:
            found = oracle_by_name(session, solution_id, oracle)
            require_scratch(found)
        else:
            name = scratch or default_scratch_name(dataset)
            found = scratch_oracle(session, solution_id=solution_id, name=name,
                                   purpose="benchmark", source=dataset)  # fmt: skip
        typer.echo(f"evaluation data goes into scratch oracle {found.oracle_name!r} "
                   f"(remove with: supercore eval clean --tenant {tenant})")  # fmt: skip
        return solution_id, found.id


def _golden_target(
    sessions: sessionmaker[Session], tenant: str, oracle: str | None, name: str
) -> Target:
    """A live oracle and its golden set, scored as it is (nothing is loaded)."""
    if oracle is None:
        raise UserError("--set needs the oracle it belongs to: add --oracle NAME")
    found = open_golden(sessions, Settings(), tenant=tenant, oracle=oracle, name=name)
    for line in found.golden.info["stale"]:
        typer.echo(f"stale judgement, not scored: {line}")
    if found.golden.info["unscored"]:
        typer.echo(f"{len(found.golden.info['unscored'])} questions without a valid relevant "
                   "judgement are not scored")  # fmt: skip
    return found.solution_id, found.oracle_id, found.golden, found.embedder


def _benchmark_target(
    sessions: sessionmaker[Session], tenant: str, oracle: str | None, scratch: str | None,
    data: BeirDataset,
) -> tuple[UUID, UUID, EvalSet, Embedder]:  # fmt: skip
    """A BEIR dataset loaded into a scratch oracle (what is there already is skipped)."""
    solution_id, oracle_id = _dataset_target(sessions, tenant, oracle, scratch, data.name)
    embedder = minilm_embedder(Settings())
    meter = IngestMeter(data.corpus_size())
    with tqdm(total=meter.total, unit="doc", desc="load corpus") as bar:
        ingest_dataset(sessions, data, solution_id=solution_id, oracle_id=oracle_id,
                       embedder=meter.metered(embedder),
                       on_done=tqdm_updater(bar, meter))  # fmt: skip
    return solution_id, oracle_id, data, embedder
