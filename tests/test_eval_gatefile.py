"""gates.toml parsing and the gate's verdict rule (no database)."""

import math
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from supercore_core.errors import ConfigurationError
from supercore_core.evaluation.gate import DEFAULT_GATES, GateCheck, GateReport, read_gates
from supercore_core.evaluation.metrics import Aggregate
from supercore_core.evaluation.runs import RunSummary


def test_the_project_gates_file_covers_three_tenants_and_modes() -> None:
    spec = read_gates(DEFAULT_GATES)
    assert [p.name for p in spec.tenants] == ["gate-a", "gate-b", "gate-c"]
    assert list(spec.baselines) == ["dense", "lexical", "hybrid"]
    assert all(0 < v <= 1 for metrics in spec.baselines.values() for v in metrics.values())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('dataset = "nowhere"\n[baselines.hybrid]\n"nDCG@10" = 0.5\n', "has no tenant folders"),
        ('dataset = "data"\n[baselines.fuzzy]\n"nDCG@10" = 0.5\n', "got fuzzy"),
        ('dataset = "data"\n', "got none"),
    ],
)
def test_bad_gates_files(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "data" / "tenant").mkdir(parents=True)
    (tmp_path / "gates.toml").write_text(body)
    with pytest.raises(ConfigurationError, match=message):
        read_gates(tmp_path / "gates.toml")


@pytest.mark.parametrize(
    ("low", "high", "passed"),
    [(0.70, 0.80, True), (0.60, 0.75, True), (0.60, 0.74, False), (math.nan, math.nan, False)],
)
def test_a_check_fails_only_when_the_whole_interval_is_below(
    low: float, high: float, passed: bool
) -> None:
    n = 0 if math.isnan(low) else 50  # nothing measured fails too
    check = GateCheck("hybrid", "nDCG@10", 0.75, Aggregate((low + high) / 2, low, high, n, 0))
    assert check.passed is passed


def run_with(canary_hits: int) -> RunSummary:
    return RunSummary(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "d", "gate", "completed",
                      {"mode": "hybrid"}, {}, 1, canary_hits, 0, 0, None, {}, None,
                      datetime.now(UTC))  # fmt: skip


def test_any_canary_hit_fails_the_gate() -> None:
    check = GateCheck("hybrid", "nDCG@10", 0.5, Aggregate(0.9, 0.85, 0.95, 50, 0))
    assert GateReport((check,), (run_with(0), run_with(0))).passed
    leaked = GateReport((check,), (run_with(0), run_with(1)))
    assert leaked.canary_hits == 1 and not leaked.passed
    assert list(leaked.to_frame()["passed"]) == [True]
