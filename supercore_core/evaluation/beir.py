"""BEIR-format retrieval evaluation: load a dataset into its own tenant, run, score.

A BEIR folder holds ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl``
(``_id``, ``text``) and ``qrels.tsv`` (``query-id  corpus-id  score`` with a header).
"""

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import ir_measures
from ir_measures import RR, R, nDCG
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.catalog import create_solution, get_or_create_oracle
from supercore_core.db.sessions import admin_session, tenant_session
from supercore_core.embedding import Embedder
from supercore_core.errors import InvalidQuestionError, UserError
from supercore_core.ingest.pipeline import IngestOutcome, SourceFile, ingest
from supercore_core.models import Solution
from supercore_core.questions import check_question
from supercore_core.retrieval import Hit, Mode, RetrievalConfig, search

MEASURES = (nDCG @ 10, R @ 100, RR @ 10)
_SUFFIX = ".txt"


@dataclass(frozen=True)
class BeirDataset:
    """A BEIR folder's queries and relevance judgements (the corpus is streamed)."""

    name: str
    path: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    def corpus(self) -> Iterator[SourceFile]:
        """Each corpus document as a source file named ``<_id>.txt``."""
        with (self.path / "corpus.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                doc = json.loads(line)
                body = "\n\n".join(p for p in (doc.get("title", ""), doc.get("text", "")) if p)
                yield SourceFile(f"{doc['_id']}{_SUFFIX}", body.encode(), {"beir_id": doc["_id"]})

    def corpus_size(self) -> int:
        """Number of corpus documents."""
        with (self.path / "corpus.jsonl").open(encoding="utf-8") as lines:
            return sum(1 for line in lines if line.strip())

    def doc_key(self, hit: Hit) -> str:
        """The corpus id of a hit (documents are ingested as ``<id>.txt``)."""
        return hit.filename.removesuffix(_SUFFIX)

    def reference_answers(self) -> dict[str, str]:
        """Reference answers from ``answers.jsonl`` (lists joined, scale appended), if any."""
        path = self.path / "answers.jsonl"
        if not path.is_file():
            return {}
        answers: dict[str, str] = {}
        with path.open(encoding="utf-8") as lines:
            for row in map(json.loads, lines):
                value = row.get("answer")
                text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
                answers[row["_id"]] = f"{text} {row.get('scale') or ''}".strip()
        return answers

    def reference_texts(self) -> dict[str, str]:
        """Corpus id to text."""
        return {s.filename.removesuffix(_SUFFIX): s.data.decode() for s in self.corpus()}

    def snapshot(self) -> dict[str, Any]:
        """The folder a run used."""
        return {"dataset_path": str(self.path)}


def load_dataset(path: Path) -> BeirDataset:
    """Read queries and qrels of a BEIR folder, with a clear error for what is missing."""
    missing = [
        n for n in ("corpus.jsonl", "queries.jsonl", "qrels.tsv") if not (path / n).is_file()
    ]
    if missing:
        raise UserError(f"{path} is not a BEIR dataset folder: missing {', '.join(missing)}")
    with (path / "queries.jsonl").open(encoding="utf-8") as lines:
        queries = {q["_id"]: q["text"] for q in map(json.loads, lines)}
    qrels: dict[str, dict[str, int]] = {}
    with (path / "qrels.tsv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    judged = {qid: text for qid, text in queries.items() if qid in qrels}
    _check_queries(path / "queries.jsonl", judged)
    return BeirDataset(path.resolve().name, path, judged, qrels)


def _check_queries(path: Path, queries: dict[str, str]) -> None:
    """Refuse control characters before a run starts (no length limit: the file is the
    operator's own, and long argument-style queries are common in BEIR)."""
    for qid, query in queries.items():
        try:
            check_question(query, max_chars=None)
        except InvalidQuestionError as exc:
            raise InvalidQuestionError(f"query {qid!r} in {path}: {exc}") from None


def ensure_eval_oracle(sessions: sessionmaker[Session], dataset: BeirDataset) -> tuple[UUID, UUID]:
    """The evaluation tenant ``eval-<name>`` and its oracle, created when missing."""
    slug = f"eval-{dataset.name.lower().replace('_', '-')}"[:63]
    with admin_session(sessions, reason=f"find or create evaluation tenant {slug!r}") as session:
        solution = session.query(Solution).filter_by(slug=slug).one_or_none()
        if solution is None:
            solution = create_solution(session, slug=slug, name=f"Evaluation: {dataset.name}")
        oracle = get_or_create_oracle(session, solution_id=solution.id, oracle_name=dataset.name)
        return solution.id, oracle.id


def load_corpus(
    sessions: sessionmaker[Session],
    dataset: BeirDataset,
    embedder: Embedder,
    on_done: Callable[[IngestOutcome], None] | None = None,
) -> tuple[UUID, UUID]:
    """Ingest the corpus into the evaluation oracle (what is already there is skipped)."""
    solution_id, oracle_id = ensure_eval_oracle(sessions, dataset)
    ingest(
        sessions,
        solution_id=solution_id,
        oracle_id=oracle_id,
        sources=dataset.corpus(),
        embedder=embedder,
        on_done=on_done,
    )
    return solution_id, oracle_id


def run_queries(
    sessions: sessionmaker[Session],
    dataset: BeirDataset,
    *,
    solution_id: UUID,
    oracle_id: UUID,
    embedder: Embedder,
    mode: Mode,
    k: int,
    on_query: Callable[[], None] | None = None,
) -> dict[str, dict[str, float]]:
    """Run every judged query; returns a run: query id -> {corpus id: score}, best k docs."""
    config = RetrievalConfig(mode=mode, k=k * 3, candidates=max(100, k * 3))
    run: dict[str, dict[str, float]] = {}
    for qid, query in dataset.queries.items():
        with tenant_session(sessions, solution_id=solution_id) as session:
            hits = search(session, oracle_id=oracle_id, query=query, embedder=embedder,
                          config=config, max_question_chars=None)  # fmt: skip
        docs: dict[str, float] = {}
        for hit in hits.hits:  # best chunk per document
            docs.setdefault(hit.filename.removesuffix(_SUFFIX), hit.score)
        run[qid] = dict(list(docs.items())[:k])
        if on_query is not None:
            on_query()
    return run


def score(dataset: BeirDataset, run: dict[str, dict[str, float]]) -> dict[str, float]:
    """nDCG@10, R@100 and RR@10 (MRR@10) averaged over the judged queries."""
    results = ir_measures.calc_aggregate(MEASURES, dataset.qrels, run)
    return {str(measure): float(value) for measure, value in results.items()}


def write_trec_run(run: dict[str, dict[str, float]], path: Path, tag: str) -> None:
    """TREC run format: ``qid Q0 docid rank score tag``."""
    with path.open("w", encoding="utf-8") as out:
        for qid, docs in run.items():
            ranked = sorted(docs.items(), key=lambda item: item[1], reverse=True)
            for rank, (docid, value) in enumerate(ranked, start=1):
                out.write(f"{qid} Q0 {docid} {rank} {value:.6f} {tag}\n")
