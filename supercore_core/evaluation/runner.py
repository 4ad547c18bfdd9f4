"""Evaluate one oracle on a BEIR dataset: retrieve, score, probe the canaries, store the run."""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.catalog import create_solution, oracle_by_id
from supercore_core.db.sessions import admin_session, tenant_session
from supercore_core.embedding import Embedder
from supercore_core.evaluation.beir import BeirDataset
from supercore_core.evaluation.canaries import check_canaries, plant_canary
from supercore_core.evaluation.metrics import aggregate_all, ir_scores
from supercore_core.evaluation.ragas_metrics import Judge, Sample, judged_scores, ragas_scores
from supercore_core.evaluation.runs import NewRun, QueryResult, RunSummary, store_run
from supercore_core.evaluation.scratch import CANARY_FILENAME, require_scratch, scratch_oracle
from supercore_core.evaluation.sets import EvalSet
from supercore_core.ingest.chunking import ChunkingConfig
from supercore_core.ingest.pipeline import IngestOutcome, ingest
from supercore_core.models import Solution
from supercore_core.retrieval import Hit, RetrievalConfig, search

DEPTH = 100  # documents ranked per query (for R@100)


@dataclass(frozen=True)
class AnswerOutcome:
    """One generated answer with its tokens and cost (``None`` = unpriced)."""

    text: str
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal | None
    model: str
    latency_ms: int = 0


Answerer = Callable[[str, Sequence[Hit]], AnswerOutcome]


class QueryEmbedder:
    """Wraps an embedder: queries embedded in one batch up front, then served from memory."""

    def __init__(self, inner: Embedder, queries: Sequence[str] = ()) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.dimensions = inner.dimensions
        self._memo: dict[str, list[float]] = {}
        self.prime(queries)

    def prime(self, texts: Sequence[str]) -> None:
        """Embed the texts not seen yet, in one call."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if missing:
            self._memo.update(zip(missing, self.inner.embed(missing), strict=True))

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors of ``texts`` (embedding any not primed)."""
        self.prime(texts)
        return [self._memo[t] for t in texts]

    def count_tokens(self, text: str) -> int:
        """Delegated to the wrapped embedder."""
        return self.inner.count_tokens(text)


@dataclass(frozen=True)
class Retrieved:
    """One query's retrieval: ranked documents and the top-k chunks a model would see."""

    documents: dict[str, float]
    contexts: tuple[Hit, ...]
    latency_ms: int


def retrieve(
    session: Session,
    *,
    oracle_id: UUID,
    query: str,
    embedder: Embedder,
    config: RetrievalConfig,
    doc_key: Callable[[Hit], str],
    depth: int = DEPTH,
) -> Retrieved:
    """Rank ``depth`` documents (best chunk each) and keep the top ``config.k`` chunks."""
    started = time.perf_counter()
    deep = replace(config, k=depth * 3, candidates=max(config.candidates, depth * 3))
    # Dataset queries have no length limit; their characters are checked at load.
    hits = search(session, oracle_id=oracle_id, query=query, embedder=embedder, config=deep,
                  max_question_chars=None).hits  # fmt: skip
    hits = tuple(h for h in hits if h.filename != CANARY_FILENAME)
    documents: dict[str, float] = {}
    for hit in hits:
        documents.setdefault(doc_key(hit), hit.score)
    top = dict(list(documents.items())[:depth])
    latency = int((time.perf_counter() - started) * 1000)
    return Retrieved(top, hits[: config.k], latency)


@dataclass(frozen=True)
class EvalRequest:
    """What to evaluate and how."""

    dataset: EvalSet
    solution_id: UUID
    oracle_id: UUID
    config: RetrievalConfig | None = None  # None: the oracle's own retrieval config
    depth: int = DEPTH
    answerer: Answerer | None = None
    judge: Judge | None = None
    canaries: bool = True
    kind: str = "retrieval"
    metadata: Mapping[str, Any] | None = None
    progress: Callable[[int, int], None] | None = None  # (queries done, queries in all)


def oracle_config(sessions: sessionmaker[Session], solution_id: UUID, oracle_id: UUID) -> Any:
    """The oracle's effective retrieval config (defaults overridden by its settings)."""
    with tenant_session(sessions, solution_id=solution_id) as session:
        return RetrievalConfig.for_oracle(oracle_by_id(session, oracle_id))


def oracle_snapshot(
    sessions: sessionmaker[Session], solution_id: UUID, oracle_id: UUID
) -> dict[str, Any]:
    """What besides the search settings shapes the results: chunking, embedder, model."""
    with tenant_session(sessions, solution_id=solution_id) as session:
        oracle = oracle_by_id(session, oracle_id)
        settings = oracle.retrieval_config
        return {
            "oracle": oracle.oracle_name,
            "chunk_tokens": int(settings.get("chunk_tokens", ChunkingConfig.chunk_tokens)),
            "overlap_tokens": int(settings.get("overlap_tokens", ChunkingConfig.overlap_tokens)),
            "embedding_model": oracle.embedding_model,
            "llm": f"{oracle.llm_provider}/{oracle.llm_model}",
        }


def evaluate(
    sessions: sessionmaker[Session], request: EvalRequest, *, embedder: Embedder
) -> RunSummary:
    """Run every judged query, score, probe the canaries and store the run in the tenant."""
    started, clock = datetime.now(UTC), time.perf_counter()
    sid, oid = request.solution_id, request.oracle_id
    config = request.config or oracle_config(sessions, sid, oid)
    if request.canaries:
        plant_canary(sessions, solution_id=sid, embedder=embedder)
    retrieved: dict[str, Retrieved] = {}
    queries = request.dataset.queries
    primed = QueryEmbedder(embedder, list(queries.values()) if config.mode != "lexical" else ())
    with tenant_session(sessions, solution_id=sid) as session:
        for done, (qid, query) in enumerate(queries.items(), start=1):
            retrieved[qid] = retrieve(session, oracle_id=oid, query=query, embedder=primed,
                                      config=config, doc_key=request.dataset.doc_key,
                                      depth=request.depth)  # fmt: skip
            if request.progress is not None:
                request.progress(done, len(queries))
    retrieval_s = time.perf_counter() - clock
    results, tokens, cost = _score(request, retrieved)
    report = None
    if request.canaries:
        report = check_canaries(sessions, solution_id=sid, oracle_id=oid, embedder=embedder)
    total_s = time.perf_counter() - clock
    run = NewRun(
        solution_id=sid, oracle_id=oid, dataset=request.dataset.name,
        config={**asdict(config), **oracle_snapshot(sessions, sid, oid),
                "depth": request.depth, **_models(request)},
        metrics=aggregate_all([r.metrics for r in results]), results=results, kind=request.kind,
        canary_hits=report.hits if report else 0, input_tokens=tokens[0],
        output_tokens=tokens[1], cost_usd=cost,
        timings={"retrieval_s": retrieval_s, "total_s": total_s,
                 "queries_per_s": len(results) / retrieval_s if retrieval_s else 0.0},
        metadata={**(request.metadata or {}), **request.dataset.snapshot(),
                  "canary_probes": report.probes if report else 0,
                  "canary_leaks": list(report.leaks) if report else []},
        started_at=started, completed_at=datetime.now(UTC),
    )  # fmt: skip
    with tenant_session(sessions, solution_id=sid) as session:
        return store_run(session, run)


def _models(request: EvalRequest) -> dict[str, Any]:
    judge = request.judge
    return {"judge": f"{judge.provider}/{judge.model}" if judge else None}


def _samples(
    request: EvalRequest,
    retrieved: Mapping[str, Retrieved],
    answers: Mapping[str, AnswerOutcome],
) -> list[Sample]:
    dataset = request.dataset
    texts = dataset.reference_texts()
    references = dataset.reference_answers()
    samples = []
    for qid, found in retrieved.items():
        relevant = [d for d, score in dataset.qrels.get(qid, {}).items() if score > 0]
        answer = answers.get(qid)
        samples.append(
            Sample(
                question=dataset.queries[qid],
                retrieved_contexts=[h.content for h in found.contexts],
                retrieved_ids=[dataset.doc_key(h) for h in found.contexts],
                reference_contexts=[texts[d] for d in relevant if d in texts],
                reference_ids=relevant,
                answer=answer.text if answer else None,
                reference_answer=references.get(qid),
            )
        )
    return samples


def _sum_cost(costs: Sequence[Decimal | None]) -> Decimal | None:
    """Total cost; unpriced (None) when any part is unpriced, never a silent $0."""
    if any(c is None for c in costs):
        return None
    return sum((c for c in costs if c is not None), Decimal(0))


def _score(
    request: EvalRequest, retrieved: Mapping[str, Retrieved]
) -> tuple[list[QueryResult], tuple[int, int], Decimal | None]:
    dataset = request.dataset
    answers: dict[str, AnswerOutcome] = {}
    if request.answerer is not None:
        for qid, found in retrieved.items():
            answers[qid] = request.answerer(dataset.queries[qid], found.contexts)
    samples = _samples(request, retrieved, answers)
    ir = ir_scores(dataset.qrels, {qid: r.documents for qid, r in retrieved.items()})
    ragas = ragas_scores(samples)
    judged = judged_scores(samples, request.judge) if request.judge else []
    results = []
    for i, (qid, found) in enumerate(retrieved.items()):
        metrics = {**ir[qid], **ragas[i], **(judged[i].scores if judged else {})}
        reference = samples[i].reference_answer
        results.append(_result(request, qid, found, metrics, answers.get(qid), reference))
    spent_in = sum(a.input_tokens for a in answers.values()) + sum(j.input_tokens for j in judged)
    spent_out = sum(a.output_tokens for a in answers.values()) + sum(
        j.output_tokens for j in judged
    )
    costs = [a.cost_usd for a in answers.values()] + [j.cost_usd for j in judged]
    return results, (spent_in, spent_out), _sum_cost(costs)


def _result(
    request: EvalRequest,
    qid: str,
    found: Retrieved,
    metrics: dict[str, float],
    answer: AnswerOutcome | None,
    reference: str | None,
) -> QueryResult:
    dataset = request.dataset
    return QueryResult(
        query_id=qid,
        query=dataset.queries[qid],
        retrieved=tuple(found.documents),
        relevant=dict(dataset.qrels.get(qid, {})),
        metrics=metrics,
        answer=answer.text if answer else None,
        reference_answer=reference,
        input_tokens=answer.input_tokens if answer else None,
        output_tokens=answer.output_tokens if answer else None,
        cost_usd=answer.cost_usd if answer else None,
        latency_ms=found.latency_ms + (answer.latency_ms if answer else 0),
    )


def ingest_dataset(
    sessions: sessionmaker[Session],
    dataset: BeirDataset,
    *,
    solution_id: UUID,
    oracle_id: UUID,
    embedder: Embedder,
    chunking: ChunkingConfig | None = None,
    on_done: Callable[[IngestOutcome], None] | None = None,
) -> list[IngestOutcome]:
    """Ingest the dataset's corpus into a scratch oracle (unchanged documents are skipped).

    Raises:
        UserError: The oracle is a live one (see ``scratch.require_scratch``).
    """
    with tenant_session(sessions, solution_id=solution_id) as session:
        require_scratch(oracle_by_id(session, oracle_id))
    return ingest(
        sessions,
        solution_id=solution_id,
        oracle_id=oracle_id,
        sources=dataset.corpus(),
        embedder=embedder,
        chunking=chunking,
        on_done=on_done,
    )


def ensure_tenant_oracle(
    sessions: sessionmaker[Session], slug: str, oracle: str
) -> tuple[UUID, UUID]:
    """The evaluation tenant ``slug`` and its scratch oracle ``oracle``, created when missing."""
    with admin_session(sessions, reason=f"find or create evaluation tenant {slug!r}") as session:
        found = session.scalars(select(Solution).where(Solution.slug == slug)).one_or_none()
        if found is None:
            found = create_solution(session, slug=slug, name=f"Evaluation: {slug}")
        target = scratch_oracle(session, solution_id=found.id, name=oracle,
                                purpose="benchmark", source=slug)  # fmt: skip
        return found.id, target.id
