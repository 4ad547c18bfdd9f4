"""Evaluating an oracle end to end: retrieval metrics, ragas, answers, judge, canaries, sweeps."""

import json
import math
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import Oracle, tenant_session
from supercore_core.errors import ConfigurationError, InvalidSettingError
from supercore_core.evaluation.beir import BeirDataset, load_dataset
from supercore_core.evaluation.canaries import canary_token, check_canaries
from supercore_core.evaluation.ragas_metrics import JUDGED_METRICS, Judgement, Sample
from supercore_core.evaluation.runner import (
    AnswerOutcome,
    EvalRequest,
    evaluate,
    ingest_dataset,
)
from supercore_core.evaluation.runs import get_run, list_runs
from supercore_core.evaluation.scratch import scratch_marker
from supercore_core.evaluation.sweep import SweepGrid, promote_config, run_sweep
from supercore_core.ingest.pipeline import SourceFile, ingest
from supercore_core.retrieval import Hit, RetrievalConfig
from tests.factories import make_oracle, make_solution
from tests.fakes import HashingEmbedder

TINY = Path(__file__).parent / "data" / "beir_tiny"
ANSWERS = [
    {"_id": "q1", "answer": ["twelve percent"], "scale": ""},
    {"_id": "q2", "answer": 0.45, "scale": "USD"},
    {"_id": "q3", "answer": ["19 percent"], "scale": ""},
]


@dataclass(frozen=True)
class Tenant:
    solution_id: uuid.UUID
    oracle_id: uuid.UUID


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> BeirDataset:
    folder = tmp_path_factory.mktemp("tiny") / "beir_tiny"
    shutil.copytree(TINY, folder)
    (folder / "answers.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ANSWERS))
    return load_dataset(folder)


def new_tenant(owner_engine: Engine, *, scratch: bool = True) -> Tenant:
    """A tenant with one oracle: a scratch evaluation oracle unless ``scratch`` is False."""
    marker = scratch_marker("benchmark", "beir_tiny") if scratch else {}
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session), metadata_=marker)
        return Tenant(oracle.solution_id, oracle.id)


@pytest.fixture(scope="module")
def loaded(
    owner_engine: Engine, admin_sessions: sessionmaker[Session], dataset: BeirDataset
) -> Tenant:
    tenant = new_tenant(owner_engine)
    ingest_dataset(admin_sessions, dataset, solution_id=tenant.solution_id,
                   oracle_id=tenant.oracle_id, embedder=HashingEmbedder())  # fmt: skip
    return tenant


def test_retrieval_run_is_scored_and_stored(
    admin_sessions: sessionmaker[Session], loaded: Tenant, dataset: BeirDataset
) -> None:
    request = EvalRequest(dataset, loaded.solution_id, loaded.oracle_id,
                          RetrievalConfig(mode="hybrid", k=3))  # fmt: skip
    run = evaluate(admin_sessions, request, embedder=HashingEmbedder())
    assert run.status == "completed" and run.canary_hits == 0
    assert run.query_count == 3  # the unjudged query is not run
    assert run.metrics["nDCG@10"].mean == pytest.approx(1.0)
    assert run.metrics["HitRate@10"].mean == pytest.approx(1.0)
    assert run.metrics["id_context_recall"].mean == pytest.approx(1.0)
    # three chunks retrieved per query, one relevant: ID-based precision is 1/3
    assert run.metrics["id_context_precision"].mean == pytest.approx(1 / 3)
    assert "rouge_l" not in run.metrics  # no answers in this run
    assert run.config["mode"] == "hybrid" and run.config["chunk_tokens"] == 200
    assert run.cost_usd == Decimal(0)
    with tenant_session(admin_sessions, solution_id=loaded.solution_id) as session:
        detail = get_run(session, run.id)
    first = detail.results[0]
    assert first.retrieved[0] == "d1" and first.relevant == {"d1": 1}
    assert "supercore-leakage-canary" not in {d for r in detail.results for d in r.retrieved}


def test_reference_answers_join_lists_and_scales(dataset: BeirDataset) -> None:
    assert dataset.reference_answers() == {
        "q1": "twelve percent",
        "q2": "0.45 USD",
        "q3": "19 percent",
    }


class FakeJudge:
    provider = "fake"
    model = "judge-1"

    def __init__(self) -> None:
        self.seen: list[Sample] = []

    def judge(self, sample: Sample) -> Judgement:
        self.seen.append(sample)
        grounded = float(
            bool(sample.answer) and sample.answer in " ".join(sample.retrieved_contexts)
        )
        return Judgement({"faithfulness": grounded, "answer_relevancy": math.nan}, 10, 2,
                         Decimal("0.0001"))  # fmt: skip


def quote_first(question: str, hits: Sequence[Hit]) -> AnswerOutcome:
    text = hits[0].content if hits else "I do not know."
    return AnswerOutcome(text, 100, 20, Decimal("0.002"), "fake-model")


def test_answers_and_judge_are_scored_with_tokens_and_cost(
    admin_sessions: sessionmaker[Session], loaded: Tenant, dataset: BeirDataset
) -> None:
    judge = FakeJudge()
    request = EvalRequest(dataset, loaded.solution_id, loaded.oracle_id,
                          RetrievalConfig(mode="lexical", k=1), answerer=quote_first,
                          judge=judge, canaries=False, kind="answer")  # fmt: skip
    run = evaluate(admin_sessions, request, embedder=HashingEmbedder())
    assert len(judge.seen) == 3
    assert run.metrics["string_presence"].mean == pytest.approx(2 / 3)  # "0.45 USD" is not quoted
    assert run.metrics["exact_match"].mean == pytest.approx(0.0)
    assert 0.0 < run.metrics["rouge_l"].mean < 1.0
    assert run.metrics["faithfulness"].mean == pytest.approx(1.0)
    relevancy = run.metrics["answer_relevancy"]
    assert (relevancy.n, relevancy.unmeasured) == (0, 3)  # NaN: reported, not averaged
    assert set(JUDGED_METRICS) <= set(run.metrics)
    assert (run.input_tokens, run.output_tokens) == (3 * 110, 3 * 22)
    assert run.cost_usd == Decimal("0.0063")
    assert run.config["judge"] == "fake/judge-1"


def test_an_unpriced_answer_makes_the_run_unpriced(
    admin_sessions: sessionmaker[Session], loaded: Tenant, dataset: BeirDataset
) -> None:
    def unpriced(question: str, hits: Sequence[Hit]) -> AnswerOutcome:
        return AnswerOutcome("x", 1, 1, None, "mystery")

    request = EvalRequest(dataset, loaded.solution_id, loaded.oracle_id, answerer=unpriced,
                          canaries=False)  # fmt: skip
    assert evaluate(admin_sessions, request, embedder=HashingEmbedder()).cost_usd is None


def test_a_foreign_canary_in_the_oracle_fails_the_run(
    owner_engine: Engine, admin_sessions: sessionmaker[Session], dataset: BeirDataset
) -> None:
    victim, thief = new_tenant(owner_engine), new_tenant(owner_engine)
    embedder = HashingEmbedder()
    clean = evaluate(admin_sessions, EvalRequest(dataset, victim.solution_id, victim.oracle_id),
                     embedder=embedder)  # fmt: skip
    assert clean.status == "completed"
    # Simulate a leak: the victim's canary text turns up in the thief's oracle.
    stolen = f"copied text {canary_token(victim.solution_id)}"
    ingest(admin_sessions, solution_id=thief.solution_id, oracle_id=thief.oracle_id,
           sources=[SourceFile("stolen.txt", stolen.encode())], embedder=embedder)  # fmt: skip
    run = evaluate(admin_sessions, EvalRequest(dataset, thief.solution_id, thief.oracle_id),
                   embedder=embedder)  # fmt: skip
    assert run.status == "failed" and run.canary_hits >= 1
    with tenant_session(admin_sessions, solution_id=thief.solution_id) as session:
        assert list_runs(session, thief.oracle_id).runs[0].status == "failed"
    report = check_canaries(admin_sessions, solution_id=victim.solution_id,
                            oracle_id=victim.oracle_id, embedder=embedder)  # fmt: skip
    assert report.probes >= 3
    assert any(str(thief.solution_id) in leak for leak in report.leaks)


def test_sweep_rechunks_into_a_scratch_oracle_and_promotes(
    owner_engine: Engine, admin_sessions: sessionmaker[Session], dataset: BeirDataset
) -> None:
    tenant = new_tenant(owner_engine)
    embedder = HashingEmbedder()
    ingest_dataset(admin_sessions, dataset, solution_id=tenant.solution_id,
                   oracle_id=tenant.oracle_id, embedder=embedder)  # fmt: skip
    grid = SweepGrid(modes=("lexical", "hybrid"), ks=(2,), rrf_ks=(10, 60),
                     chunk_tokens=(None, 8), fusions=("convex", "rrf"))  # fmt: skip
    result = run_sweep(admin_sessions, dataset, solution_id=tenant.solution_id,
                       oracle_id=tenant.oracle_id, embedder=embedder, grid=grid)  # fmt: skip
    frame = result.to_frame()
    # (lexical + hybrid convex + hybrid RRF x 2 RRF k) x 2 chunk sizes: RRF k varies only
    # where it is used
    assert len(result.runs) == 8
    assert sorted(frame["chunk_tokens"].unique()) == [8, 200]
    assert set(frame[frame["mode"] == "lexical"]["rrf_k"]) == {60}
    hybrid = frame[frame["mode"] == "hybrid"]
    assert set(hybrid[hybrid["fusion"] == "convex"]["rrf_k"]) == {60}
    assert set(hybrid[hybrid["fusion"] == "rrf"]["rrf_k"]) == {10, 60}
    assert {r.oracle_id for r in result.runs} - {tenant.oracle_id}  # the scratch oracle
    assert result.plot().data[0].type == "bar"
    best = result.best("nDCG@10")
    with tenant_session(admin_sessions, solution_id=tenant.solution_id) as session:
        promoted = promote_config(session, oracle_id=tenant.oracle_id, config=best.config)
        assert promoted.retrieval_config["mode"] == best.mode
        assert promoted.retrieval_config["chunk_tokens"] == best.config["chunk_tokens"]
        names = {o.oracle_name for o in session.query(Oracle)}
    assert any(name.endswith("~chunks8") for name in names)


def test_promoting_a_bad_config_changes_nothing(
    owner_engine: Engine, admin_sessions: sessionmaker[Session]
) -> None:
    tenant = new_tenant(owner_engine)
    with tenant_session(admin_sessions, solution_id=tenant.solution_id) as session:
        with pytest.raises(ConfigurationError, match="unknown retrieval mode"):
            promote_config(session, oracle_id=tenant.oracle_id, config={"mode": "fuzzy"})
        assert session.get(Oracle, tenant.oracle_id).retrieval_config == {}  # type: ignore[union-attr]


def test_a_sweep_refuses_an_unknown_fusion_before_it_runs() -> None:
    with pytest.raises(InvalidSettingError, match="fusion"):
        SweepGrid(fusions=("linear",)).check()  # type: ignore[arg-type]
