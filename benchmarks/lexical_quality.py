"""Lexical ranking quality on a BEIR folder in minutes: BM25 (k1/b grid) against ts_rank.

The corpus is ingested through the real pipeline (same chunking, MiniLM's tokenizer counts
the tokens) into a throwaway server, with placeholder vectors instead of embeddings, so a
SciFact load takes a few minutes instead of ~20. Documents score by their best chunk, as
``supercore eval retrieval`` does; measures are the project's (nDCG@10, R@100, RR@10).

    python -m benchmarks.lexical_quality ../shared/datasets/scifact [--grid]
"""

import argparse
import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.common import progress, throwaway_database, write_result
from benchmarks.ts_rank import _LEXICAL, lexical_terms
from supercore_core import bm25, tenant_session
from supercore_core.embedding import MiniLMEmbedder
from supercore_core.evaluation.beir import ensure_eval_oracle, load_dataset, score
from supercore_core.ingest.pipeline import ingest

CHUNKS = 300  # chunks ranked per query (eval retrieval -k 100 asks for 3 x 100)
DOCS = 100
Ranker = Callable[[Session, UUID, str], list[tuple[Any, ...]]]


class PlaceholderEmbedder:
    """The real tokenizer (chunk boundaries as in production), cheap stand-in vectors."""

    model_name = "placeholder"
    dimensions = 384

    def __init__(self) -> None:
        self._tokens = MiniLMEmbedder()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def count_tokens(self, text_: str) -> int:
        return self._tokens.count_tokens(text_)

    @staticmethod
    def _vector(text_: str) -> list[float]:
        seed = hashlib.sha256(text_.encode()).digest()
        raw = [b - 127.5 for b in (seed * 12)[:384]]
        norm = sum(x * x for x in raw) ** 0.5
        return [x / norm for x in raw]


def ts_rank(session: Session, oracle_id: UUID, query: str) -> list[tuple[Any, ...]]:
    """The previous lexical ranking (OR-ed terms, ts_rank)."""
    terms = lexical_terms(session, query)
    if terms is None:
        return []
    params = {"o": oracle_id, "q": terms, "n": CHUNKS}
    return [tuple(r) for r in session.execute(text(_LEXICAL), params)]


def bm25_ranker(k1: float, b: float) -> Ranker:
    def rank(session: Session, oracle_id: UUID, query: str) -> list[tuple[Any, ...]]:
        return bm25.rank(session, oracle_id, query, CHUNKS, k1=k1, b=b)

    return rank


def evaluate(
    sessions: Any, dataset: Any, ids: tuple[UUID, UUID], ranker: Ranker
) -> dict[str, float]:
    run: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    for qid, query in dataset.queries.items():
        with tenant_session(sessions, solution_id=ids[0]) as session:
            rows = ranker(session, ids[1], query)
        docs: dict[str, float] = {}
        for row in rows:  # best chunk per document
            docs.setdefault(row[2].removesuffix(".txt"), float(row[5]))
        run[qid] = dict(list(docs.items())[:DOCS])
    scores = score(dataset, run)
    scores["seconds"] = round(time.perf_counter() - started, 1)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--grid", action="store_true", help="also try other k1/b values")
    args = parser.parse_args()
    dataset = load_dataset(args.dataset)
    results: dict[str, Any] = {"dataset": dataset.name}
    with throwaway_database() as db:
        ids = ensure_eval_oracle(db.sessions, dataset)
        progress(f"ingest {dataset.name} with placeholder vectors")
        started = time.perf_counter()
        ingest(db.sessions, solution_id=ids[0], oracle_id=ids[1], sources=dataset.corpus(),
               embedder=PlaceholderEmbedder())  # fmt: skip
        results["ingest_seconds"] = round(time.perf_counter() - started, 1)
        with db.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        rankers: dict[str, Ranker] = {
            "ts_rank": ts_rank,
            "bm25 k1=0.9 b=0.4": bm25_ranker(0.9, 0.4),
        }
        if args.grid:
            for k1, b in ((1.2, 0.75), (0.9, 0.75), (1.2, 0.4), (0.6, 0.4), (0.9, 0.6)):
                rankers[f"bm25 k1={k1} b={b}"] = bm25_ranker(k1, b)
        for name, ranker in rankers.items():
            results[name] = evaluate(db.sessions, dataset, ids, ranker)
            progress(f"{name}: {results[name]}")
    write_result(f"lexical_quality_{dataset.name}", results)


if __name__ == "__main__":
    main()
