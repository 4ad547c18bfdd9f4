"""Retrieval and answer evaluation: the public API for the CLI, notebooks and dashboard."""

from supercore_core.evaluation.answers import answerer_for
from supercore_core.evaluation.beir import BeirDataset, load_dataset
from supercore_core.evaluation.canaries import CanaryReport, check_canaries, plant_canary
from supercore_core.evaluation.cost import (
    CostQuality,
    Projection,
    cost_quality,
    price_run,
    project_costs,
    projections_frame,
)
from supercore_core.evaluation.gate import GateReport, read_gates, run_gate
from supercore_core.evaluation.golden import GoldenEvalSet, GoldenTarget, load_golden, open_golden
from supercore_core.evaluation.judge import RagasJudge, ragas_judge_for
from supercore_core.evaluation.metrics import Aggregate, aggregate, ir_scores
from supercore_core.evaluation.promotion import (
    Promotion,
    promote_if_better,
    restore_config,
    would_promote,
)
from supercore_core.evaluation.ragas_metrics import Judge, Judgement, Sample
from supercore_core.evaluation.runner import (
    AnswerOutcome,
    EvalRequest,
    ensure_tenant_oracle,
    evaluate,
    ingest_dataset,
)
from supercore_core.evaluation.runs import (
    RunComparison,
    RunDetail,
    RunList,
    RunSummary,
    compare_runs,
    get_run,
    list_runs,
)
from supercore_core.evaluation.scratch import remove_scratch, scratch_oracle
from supercore_core.evaluation.sweep import SweepGrid, SweepResult, promote_config, run_sweep

__all__ = [
    "Aggregate",
    "AnswerOutcome",
    "BeirDataset",
    "CanaryReport",
    "CostQuality",
    "EvalRequest",
    "GateReport",
    "GoldenEvalSet",
    "GoldenTarget",
    "Judge",
    "Judgement",
    "Projection",
    "Promotion",
    "RagasJudge",
    "RunComparison",
    "RunDetail",
    "RunList",
    "RunSummary",
    "Sample",
    "SweepGrid",
    "SweepResult",
    "aggregate",
    "answerer_for",
    "check_canaries",
    "compare_runs",
    "cost_quality",
    "ensure_tenant_oracle",
    "evaluate",
    "get_run",
    "ingest_dataset",
    "ir_scores",
    "list_runs",
    "load_dataset",
    "load_golden",
    "open_golden",
    "plant_canary",
    "price_run",
    "project_costs",
    "projections_frame",
    "promote_config",
    "promote_if_better",
    "ragas_judge_for",
    "read_gates",
    "remove_scratch",
    "restore_config",
    "run_gate",
    "run_sweep",
    "scratch_oracle",
    "would_promote",
]
