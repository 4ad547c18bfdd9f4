"""Parity of an embedder with the PyTorch reference: cosines and dense nDCG@10.

Used by the parity gate in ``make test`` and by ``benchmarks/embed.py``. Retrieval here is
exact dense search in memory over each BEIR folder's documents (title and text, cut at
256 word pieces like every chunk), so the figure isolates the embedder from the database.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from supercore_core.embedding.base import Embedder
from supercore_core.evaluation.beir import BeirDataset, load_dataset
from supercore_core.evaluation.metrics import ir_scores

GATE_SET = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "tatqa-gate"
MIN_MEAN_COSINE = 0.99
MIN_COSINE = 0.98
MAX_NDCG_DROP = 0.005


@dataclass(frozen=True)
class Cosines:
    """Cosine of each candidate vector with the reference vector of the same text."""

    mean: float
    min: float
    texts: int


def cosines(reference: Sequence[Sequence[float]], candidate: Sequence[Sequence[float]]) -> Cosines:
    """Cosines of unit vectors, pairwise by position."""
    a, b = np.asarray(reference, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
    values = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return Cosines(float(values.mean()), float(values.min()), len(values))


def folders(root: Path = GATE_SET) -> list[BeirDataset]:
    """The BEIR folders under ``root`` (the gate set has one per tenant), or ``root`` itself."""
    if (root / "corpus.jsonl").is_file():
        return [load_dataset(root)]
    return [load_dataset(p) for p in sorted(root.iterdir()) if (p / "corpus.jsonl").is_file()]


def documents(dataset: BeirDataset) -> dict[str, str]:
    """Corpus id -> text as ingested (``<id>.txt`` holds title and text)."""
    return {s.filename.removesuffix(".txt"): s.data.decode() for s in dataset.corpus()}


def sample_texts(datasets: Sequence[BeirDataset]) -> list[str]:
    """Every document and judged query of ``datasets``: the fixed parity sample."""
    texts: list[str] = []
    for dataset in datasets:
        texts += list(documents(dataset).values()) + list(dataset.queries.values())
    return texts


def dense_ndcg(embedder: Embedder, datasets: Sequence[BeirDataset], k: int = 10) -> float:
    """nDCG@10 of exact dense retrieval, per-query values pooled over ``datasets``."""
    values: list[float] = []
    for dataset in datasets:
        docs = documents(dataset)
        ids, qids = list(docs), list(dataset.queries)
        doc_vectors = np.asarray(embedder.embed(list(docs.values())))
        query_vectors = np.asarray(embedder.embed([dataset.queries[q] for q in qids]))
        scores = query_vectors @ doc_vectors.T
        run = {
            qid: {ids[j]: float(row[j]) for j in np.argsort(-row)[:k]}
            for qid, row in zip(qids, scores, strict=True)
        }
        per_query = ir_scores(dataset.qrels, run)
        values += [v["nDCG@10"] for v in per_query.values() if not np.isnan(v["nDCG@10"])]
    return float(np.mean(values))
