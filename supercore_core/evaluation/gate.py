"""The CI gate: evaluate the gate dataset per tenant and mode, compare with the baselines.

``evals/gates.toml`` names the dataset (one BEIR folder per tenant) and, per retrieval mode,
a baseline per metric. The gate fails when a metric's bootstrap interval lies entirely
below its baseline (a regression beyond the interval) or when any canary leaked.
"""

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from supercore_core.config import PROJECT_ROOT
from supercore_core.db.sessions import tenant_session
from supercore_core.embedding import Embedder
from supercore_core.errors import ConfigurationError
from supercore_core.evaluation.beir import BeirDataset, load_dataset
from supercore_core.evaluation.metrics import Aggregate, aggregate
from supercore_core.evaluation.runner import (
    EvalRequest,
    QueryEmbedder,
    ensure_tenant_oracle,
    evaluate,
    ingest_dataset,
)
from supercore_core.evaluation.runs import RunSummary, get_run
from supercore_core.retrieval import MODES, Mode, RetrievalConfig

DEFAULT_GATES = PROJECT_ROOT / "evals" / "gates.toml"


@dataclass(frozen=True)
class GateSpec:
    """The parsed gates file."""

    tenants: tuple[Path, ...]
    oracle: str
    baselines: Mapping[Mode, Mapping[str, float]]  # mode -> metric -> baseline


def read_gates(path: Path = DEFAULT_GATES) -> GateSpec:
    """Parse ``gates.toml``; a clear error for a missing file, dataset or unknown mode."""
    if not path.is_file():
        raise ConfigurationError(f"no gates file at {path}: see evals/gates.toml")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    root = (path.parent / str(data.get("dataset", ""))).resolve()
    tenants = tuple(sorted(p for p in root.iterdir() if p.is_dir())) if root.is_dir() else ()
    if not tenants:
        raise ConfigurationError(f"gate dataset {root} has no tenant folders")
    baselines = data.get("baselines", {})
    unknown = sorted(set(baselines) - set(MODES))
    if unknown or not baselines:
        raise ConfigurationError(
            f"gates file {path}: [baselines.<mode>] needs dense, lexical or hybrid "
            f"(got {', '.join(unknown) or 'none'})"
        )
    ordered = {mode: baselines[mode] for mode in MODES if mode in baselines}
    return GateSpec(tenants, str(data.get("oracle", "gate")), ordered)


@dataclass(frozen=True)
class GateCheck:
    """One metric of one mode against its baseline."""

    mode: str
    metric: str
    baseline: float
    value: Aggregate

    @property
    def passed(self) -> bool:
        """False when the whole interval lies below the baseline, or nothing was measured."""
        return self.value.n > 0 and not self.value.high < self.baseline


@dataclass(frozen=True)
class GateReport:
    """Every check, the runs behind them, and canary hits."""

    checks: tuple[GateCheck, ...]
    runs: tuple[RunSummary, ...]

    @property
    def canary_hits(self) -> int:
        """Leaks found by the canary probes of all runs."""
        return sum(run.canary_hits for run in self.runs)

    @property
    def passed(self) -> bool:
        """Every check passed and no canary leaked."""
        return self.canary_hits == 0 and all(c.passed for c in self.checks)

    def to_frame(self) -> Any:
        """One row per check."""
        import pandas as pd

        return pd.DataFrame(
            [
                {"mode": c.mode, "metric": c.metric, "baseline": c.baseline,
                 "mean": c.value.mean, "low": c.value.low, "high": c.value.high,
                 "n": c.value.n, "passed": c.passed}
                for c in self.checks
            ]
        )  # fmt: skip


def _tenant_runs(
    sessions: sessionmaker[Session], spec: GateSpec, folder: Path, embedder: Embedder
) -> list[tuple[BeirDataset, RunSummary]]:
    dataset = load_dataset(folder)
    embedder = QueryEmbedder(embedder)  # each query embedded once for all modes
    solution_id, oracle_id = ensure_tenant_oracle(sessions, f"eval-{folder.name}", spec.oracle)
    ingest_dataset(sessions, dataset, solution_id=solution_id, oracle_id=oracle_id,
                   embedder=embedder)  # fmt: skip
    return [
        (dataset, evaluate(sessions, EvalRequest(dataset, solution_id, oracle_id,
                                                 RetrievalConfig(mode=mode), kind="gate"),
                           embedder=embedder))
        for mode in spec.baselines
    ]  # fmt: skip


def run_gate(
    sessions: sessionmaker[Session],
    embedder: Embedder,
    spec: GateSpec | None = None,
    on_run: Callable[[RunSummary], None] | None = None,
) -> GateReport:
    """Evaluate every tenant folder in every mode; pool per-query values per mode; check."""
    spec = spec or read_gates()
    runs: list[RunSummary] = []
    pooled: dict[str, dict[str, list[float]]] = {}
    for folder in spec.tenants:
        for _, run in _tenant_runs(sessions, spec, folder, embedder):
            runs.append(run)
            if on_run is not None:
                on_run(run)
            with tenant_session(sessions, solution_id=run.solution_id) as session:
                results = get_run(session, run.id).results
            for metric in spec.baselines[run.config["mode"]]:
                values = pooled.setdefault(run.mode, {}).setdefault(metric, [])
                values += [r.metrics.get(metric, float("nan")) for r in results]
    checks = tuple(
        GateCheck(mode, metric, float(baseline), aggregate(pooled[mode][metric]))
        for mode, metrics in spec.baselines.items()
        for metric, baseline in metrics.items()
    )
    return GateReport(checks, tuple(runs))
