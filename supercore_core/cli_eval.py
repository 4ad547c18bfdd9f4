"""CLI: ``supercore eval run|sweep|compare|cost|list|gate|clean`` (the evaluation commands)."""

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.catalog import oracle_by_id
from supercore_core.cli_eval_sweep import copy_options, eval_restore, print_copies, print_promotion
from supercore_core.cli_eval_targets import one_source, target
from supercore_core.cli_support import cli_sessions, resolve, user_errors
from supercore_core.config import Settings
from supercore_core.db.sessions import admin_session, tenant_session
from supercore_core.embedding import minilm_embedder
from supercore_core.errors import InvalidSettingError, UserError
from supercore_core.evaluation.answers import answerer_for
from supercore_core.evaluation.cost import cost_quality
from supercore_core.evaluation.gate import DEFAULT_GATES, read_gates, run_gate
from supercore_core.evaluation.judge import RagasJudge, ragas_judge_for
from supercore_core.evaluation.metrics import Aggregate
from supercore_core.evaluation.promotion import promote_if_better
from supercore_core.evaluation.runner import (
    Answerer,
    EvalRequest,
    evaluate,
    oracle_config,
)
from supercore_core.evaluation.runs import RunSummary, compare_runs, get_run, list_runs
from supercore_core.evaluation.scratch import (
    list_scratch,
    remove_scratch,
)
from supercore_core.evaluation.sweep import SweepGrid, SweepResult, run_sweep
from supercore_core.llm import chat_model_for
from supercore_core.oracle_settings import SEARCH_FIELDS, check_retrieval
from supercore_core.retrieval import FUSIONS, MODES, Fusion, Mode

DatasetOpt = Annotated[
    Path | None, typer.Option("--dataset", help="BEIR folder, loaded into a scratch oracle")
]
SetOpt = Annotated[str | None, typer.Option("--set", help="the oracle's golden set")]
TenantOpt = Annotated[str, typer.Option("--tenant", help="tenant slug")]
OracleOpt = Annotated[
    str | None, typer.Option("--oracle", help="an existing scratch oracle (never a live one)")
]
ScratchOpt = Annotated[
    str | None,
    typer.Option("--scratch", help="scratch oracle to load the dataset into [eval-<dataset>]"),
]
ConfigOpt = Annotated[
    str | None, typer.Option("--config", help="retrieval settings: JSON or a .json file")
]


def _fmt(agg: Aggregate) -> str:
    if math.isnan(agg.mean):
        return f"unmeasured ({agg.unmeasured} queries)"
    note = f", {agg.unmeasured} unmeasured" if agg.unmeasured else ""
    return f"{agg.mean:.4f}  [{agg.low:.4f}, {agg.high:.4f}]  n={agg.n}{note}"


def _print_run(run: RunSummary) -> None:
    typer.echo(f"run {run.id}  {run.status}  {run.dataset}  mode={run.mode}  "
               f"{run.query_count} queries  {run.timings.get('total_s', 0):.1f} s")  # fmt: skip
    for name, agg in run.metrics.items():
        typer.echo(f"  {name:<22} {_fmt(agg)}")
    cost = "unpriced" if run.cost_usd is None else f"${run.cost_usd:.6f}"
    typer.echo(f"  tokens {run.input_tokens} in / {run.output_tokens} out, cost {cost}")
    typer.echo(f"  canary hits: {run.canary_hits}")


def _config_overrides(config: str | None) -> dict[str, Any]:
    if config is None:
        return {}
    try:
        raw = Path(config).read_text("utf-8") if config.endswith(".json") else config
        parsed = json.loads(raw)
    except (json.JSONDecodeError, OSError) as exc:
        raise UserError(f"--config is neither JSON nor a readable .json file: {exc}") from exc
    if not isinstance(parsed, dict):
        raise UserError('--config must be a JSON object, e.g. {"mode": "hybrid", "k": 8}')
    try:
        checked = check_retrieval(parsed)
    except InvalidSettingError as exc:
        raise InvalidSettingError(f"--config: {exc}") from None
    chunking = sorted(set(checked) - set(SEARCH_FIELDS))
    if chunking:
        raise UserError(
            f"--config sets search settings only, not {chunking[0]}: evaluate chunk sizes "
            "with `supercore eval sweep --chunk-tokens`"
        )
    return checked


def eval_run(
    tenant: TenantOpt,
    dataset: DatasetOpt = None,
    golden_set: SetOpt = None,
    oracle: OracleOpt = None,
    scratch: ScratchOpt = None,
    config: ConfigOpt = None,
    canaries: Annotated[bool, typer.Option(help="plant and probe leakage canaries")] = True,
    answers: Annotated[
        bool, typer.Option(help="also answer with the oracle's chat model (offline if no key)")
    ] = False,
    judge: Annotated[
        str | None, typer.Option("--judge", help="LLM judge provider/model (needs its key)")
    ] = None,
) -> None:
    """Score an oracle on its golden set, or a benchmark in a scratch oracle; exit 1 on a leak."""
    data = one_source(dataset, golden_set)
    overrides = _config_overrides(config)
    chosen_judge = _judge(judge)
    with cli_sessions() as sessions:
        solution_id, oracle_id, chosen_set, embedder = target(
            sessions, tenant, oracle, scratch, data, golden_set
        )
        chosen = replace(oracle_config(sessions, solution_id, oracle_id), **overrides)
        answerer = _answerer(sessions, solution_id, oracle_id) if answers else None
        kind = "answer" if answers else "retrieval"
        request = EvalRequest(chosen_set, solution_id, oracle_id, chosen, answerer=answerer,
                              judge=chosen_judge, canaries=canaries, kind=kind)  # fmt: skip
        run = evaluate(sessions, request, embedder=embedder)
    _print_run(run)
    if run.status == "failed":
        raise UserError(f"run {run.id} failed: {run.canary_hits} canary hits (tenant leakage)")


def _answerer(sessions: sessionmaker[Session], solution_id: UUID, oracle_id: UUID) -> Answerer:
    settings = Settings()
    with tenant_session(sessions, solution_id=solution_id) as session:
        model = chat_model_for(oracle_by_id(session, oracle_id), settings)
    return answerer_for(model, settings)


def _judge(spec: str | None) -> RagasJudge | None:
    if spec is None:
        return None
    provider, model = _model(spec, "--judge")
    return ragas_judge_for(provider, model, Settings())


def _ints(value: str) -> list[int]:
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError as exc:
        raise UserError(f"expected comma-separated integers, got {value!r}") from exc


def _modes(value: str) -> list[Mode]:
    chosen = [m for m in MODES if m in value.split(",")]
    if len(chosen) != len([v for v in value.split(",") if v.strip()]):
        raise UserError(f"unknown mode in {value!r}: use dense, lexical or hybrid")
    return chosen


def _fusions(value: str) -> list[Fusion]:
    given = [v.strip() for v in value.split(",") if v.strip()]
    chosen = [f for f in FUSIONS if f in given]
    if len(chosen) != len(given):
        raise UserError(f"unknown fusion in {value!r}: use convex or rrf")
    return chosen


def _weights(value: str) -> list[tuple[float, float]]:
    try:
        pairs = [tuple(float(x) for x in w.split(":")) for w in value.split(",") if w.strip()]
    except ValueError as exc:
        raise UserError(f"weights are dense:lexical pairs like 1:1,2:1, got {value!r}") from exc
    if any(len(p) != 2 for p in pairs):
        raise UserError(f"weights are dense:lexical pairs like 1:1,2:1, got {value!r}")
    return [(p[0], p[1]) for p in pairs]


def eval_sweep(
    tenant: TenantOpt,
    dataset: DatasetOpt = None,
    golden_set: SetOpt = None,
    oracle: OracleOpt = None,
    scratch: ScratchOpt = None,
    modes: Annotated[str, typer.Option("--modes")] = "dense,lexical,hybrid",
    ks: Annotated[str, typer.Option("--k", help="e.g. 4,8")] = "8",
    fusions: Annotated[
        str, typer.Option("--fusion", help="hybrid: convex,rrf [the oracle's own]")
    ] = "",
    rrf_ks: Annotated[str, typer.Option("--rrf-k", help="e.g. 20,60 (with fusion rrf)")] = "60",
    weights: Annotated[str, typer.Option("--weights", help="dense:lexical, e.g. 1:1,2:1")] = "1:1",
    chunk_tokens: Annotated[
        str, typer.Option("--chunk-tokens", help="e.g. 120,200 (re-chunked scratch copies)")
    ] = "",
    metric: Annotated[str, typer.Option("--metric")] = "nDCG@10",
    promote: Annotated[
        bool, typer.Option("--promote", help="write the best if it beats the current settings")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="with --promote: even if not")] = False,
) -> None:
    """Sweep retrieval settings on an oracle's golden set (or a benchmark in a scratch oracle)."""
    data = one_source(dataset, golden_set)
    grid = SweepGrid(_modes(modes), _ints(ks), _ints(rrf_ks), _weights(weights),
                     [*_ints(chunk_tokens)] or [None], _fusions(fusions))  # fmt: skip
    grid.check()  # before the corpus is loaded
    with cli_sessions() as sessions:
        solution_id, oracle_id, chosen_set, embedder = target(
            sessions, tenant, oracle, scratch, data, golden_set
        )
        result = run_sweep(sessions, chosen_set, solution_id=solution_id, oracle_id=oracle_id,
                           embedder=embedder, grid=grid,
                           copies=copy_options(Settings()))  # fmt: skip
        best = result.best(metric)
        print_copies(result)
        _print_sweep(result, best, metric)
        if promote and result.baseline is not None:
            with tenant_session(sessions, solution_id=solution_id) as session:
                decision = promote_if_better(session, oracle_id=oracle_id,
                                             baseline=result.baseline, best=best,
                                             metric=metric, force=force)  # fmt: skip
            print_promotion(sessions, result, best, decision, tenant)


def _print_sweep(result: SweepResult, best: RunSummary, metric: str) -> None:
    frame = result.to_frame()
    columns = ["mode", "k", "fusion", "rrf_k", "dense_weight", "lexical_weight",
               "chunk_tokens", metric, f"{metric} low", f"{metric} high", "run_id"]  # fmt: skip
    typer.echo(frame[columns].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if result.baseline is not None and metric in result.baseline.metrics:
        typer.echo(f"current settings: {_fmt(result.baseline.metrics[metric])}")
    typer.echo(f"best by {metric}: run {best.id} ({best.metrics[metric].mean:.4f})")


def eval_clean(
    tenant: TenantOpt,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only list them")] = False,
) -> None:
    """Remove the tenant's scratch evaluation oracles (their documents and runs go too),
    re-chunked copies of live oracles included."""
    with cli_sessions() as sessions:
        solution_id, _ = resolve(sessions, tenant, None)
        with tenant_session(sessions, solution_id=solution_id) as session:
            if dry_run:
                names = [o.oracle_name for o in list_scratch(session, solution_id)]
                typer.echo("\n".join(names) if names else "no scratch oracles")
                return
            removed = remove_scratch(session, solution_id)
    for name in removed.oracles:
        typer.echo(f"removed scratch oracle {name}")
    if removed.stray_canaries:
        typer.echo(f"removed {removed.stray_canaries} leakage canaries left in live oracles")
    if not removed.oracles and not removed.stray_canaries:
        typer.echo("nothing to remove")


@contextmanager
def _reader(sessions: sessionmaker[Session], tenant: str | None) -> Iterator[Session]:
    if tenant is None:
        with admin_session(sessions, reason="read evaluation runs (CLI)") as session:
            yield session
        return
    solution_id, _ = resolve(sessions, tenant, None)
    with tenant_session(sessions, solution_id=solution_id) as session:
        yield session


def _run_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError as exc:
        raise UserError(f"not a run id (expected a UUID): {value!r}") from exc


def eval_compare(
    run_a: str,
    run_b: str,
    tenant: Annotated[str | None, typer.Option("--tenant")] = None,
) -> None:
    """Compare run B with run A: per metric, the paired difference and its interval."""
    a, b = _run_id(run_a), _run_id(run_b)
    with cli_sessions() as sessions, _reader(sessions, tenant) as session:
        comparison = compare_runs(session, a, b)
    typer.echo(f"{comparison.paired_queries} paired queries; delta = B - A (95% bootstrap CI)")
    for d in comparison.metrics:
        mark = "  *" if d.significant else ""
        interval = f"[{d.delta.low:+.4f}, {d.delta.high:+.4f}]"
        typer.echo(f"  {d.metric:<22} A {d.a.mean:.4f}  B {d.b.mean:.4f}  "
                   f"delta {d.delta.mean:+.4f} {interval}{mark}")  # fmt: skip


def eval_cost(
    runs: Annotated[list[str], typer.Argument(help="run ids (runs made with --answers)")],
    models: Annotated[list[str], typer.Option("--model", help="provider/model, repeatable")],
    metric: Annotated[str, typer.Option("--metric")] = "id_context_recall",
    tenant: Annotated[str | None, typer.Option("--tenant")] = None,
) -> None:
    """Cost per answered question of runs on each model (genai-prices), with quality."""
    ids = [_run_id(r) for r in runs]
    chosen = [_model(m) for m in models]
    with cli_sessions() as sessions, _reader(sessions, tenant) as session:
        details = [get_run(session, run_id) for run_id in ids]
    report = cost_quality(details, chosen, Settings(), metric=metric)
    for p in report.points:
        cost = "unpriced" if p.cost_per_question is None else f"${p.cost_per_question * 1000:.4f}"
        mark = "  pareto" if p.pareto else ""
        typer.echo(f"{p.config:<14} {p.model:<36} {metric} {p.quality:.3f}  "
                   f"{p.answered} answered  {cost} per 1k questions{mark}")  # fmt: skip


def _model(spec: str, option: str = "--model") -> tuple[str, str]:
    provider, _, model = spec.partition("/")
    if not model:
        raise UserError(f"{option} takes provider/model, e.g. openai/gpt-4o-mini, not {spec!r}")
    return provider, model


def eval_list(
    tenant: Annotated[str | None, typer.Option("--tenant")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 20,
) -> None:
    """List stored runs, newest first (all tenants without --tenant)."""
    with cli_sessions() as sessions, _reader(sessions, tenant) as session:
        runs = list_runs(session, limit=limit).runs
    for run in runs:
        ndcg = run.metrics.get("nDCG@10")
        score = f"{ndcg.mean:.4f}" if ndcg and not math.isnan(ndcg.mean) else "-"
        typer.echo(f"{run.id}  {run.created_at:%Y-%m-%d %H:%M}  {run.status:<9} {run.kind:<9} "
                   f"{run.dataset:<20} {run.mode:<8} nDCG@10 {score}")  # fmt: skip
    if not runs:
        typer.echo("no runs")


def eval_gate(
    gates: Annotated[Path, typer.Option("--gates", help="thresholds file")] = DEFAULT_GATES,
) -> None:
    """Run the CI gate; exit 1 on a regression beyond the interval or any canary hit."""
    spec = read_gates(gates)
    with cli_sessions() as sessions:
        report = run_gate(
            sessions, minilm_embedder(Settings()), spec,
            on_run=lambda r: typer.echo(f"  {r.dataset} {r.mode}: {r.status}"),
        )  # fmt: skip
    for check in report.checks:
        verdict = "ok" if check.passed else "REGRESSION"
        typer.echo(f"{check.mode:<8} {check.metric:<12} baseline {check.baseline:.4f}  "
                   f"{_fmt(check.value)}  {verdict}")  # fmt: skip
    typer.echo(f"canary hits: {report.canary_hits}")
    if not report.passed:
        failed = [f"{c.mode} {c.metric}" for c in report.checks if not c.passed]
        raise UserError(f"gate failed: regressions {failed or 'none'}, "
                        f"{report.canary_hits} canary hits")  # fmt: skip
    typer.echo("gate passed")


def register(eval_app: typer.Typer) -> None:
    """Add the evaluation commands to the ``eval`` group."""
    commands: dict[str, Callable[..., None]] = {
        "run": eval_run, "sweep": eval_sweep, "compare": eval_compare,
        "cost": eval_cost, "list": eval_list, "gate": eval_gate, "clean": eval_clean,
        "restore": eval_restore,
    }  # fmt: skip
    for name, command in commands.items():
        eval_app.command(name)(user_errors(command))
