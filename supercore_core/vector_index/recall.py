"""Recall@10 of dense search against exact search, on queries made from stored chunks
(midpoints of pairs: off the graph, see ``query_vectors``).

Two uses: ``calibrate`` picks an ``ef_search`` one rung of a ladder above the smallest that
reaches the target on an oracle's own graph (run right after the graph is built), and
``production_recall`` measures what ``retrieval.search`` returns today (the path it takes,
the oracle's stored ``ef_search``), for ``supercore doctor`` and the Index page.

Both run in the caller's transaction (a tenant session for one's own oracle, an admin
session across tenants); they only read.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from supercore_core.ingest.store import driver_connection
from supercore_core.retrieval import RetrievalConfig, _dense, read_oracle

K = 10
TARGET_RECALL = 0.98  # the standing bar: an oracle below it is flagged
CALIBRATION_RECALL = 0.99  # calibration aims higher, so sampling noise stays above the bar
EF_LADDER = (40, 64, 100, 160, 250, 400, 640, 1000)
SAMPLES = 30
# Midpoint queries still read higher than held-out ones (benchmark, 1.2 M rows: 0.997 against
# 0.978 at 200,000 chunks, 0.993 against 0.962 at 10,000), so calibration keeps one ladder
# step above the first ef_search that reaches CALIBRATION_RECALL.
MARGIN_STEPS = 1

_SAMPLE = text(
    "SELECT embedding FROM document_chunks WHERE oracle_id = :o AND embedding IS NOT NULL"
    " ORDER BY md5(id::text || :seed) LIMIT :n"
)
_EXACT_DISTANCES = text(
    "WITH d AS MATERIALIZED (SELECT embedding <=> :q AS distance FROM document_chunks"
    " WHERE oracle_id = :o AND embedding IS NOT NULL)"
    " SELECT distance FROM d ORDER BY distance LIMIT :k"
)
# Distances equal within this are ties (float4 vectors, float8 distances).
_TIE = 1e-6


@dataclass(frozen=True)
class Calibration:
    """The ``ef_search`` chosen for one oracle's graph and the recall seen on the way."""

    oracle_id: UUID
    ef_search: int
    recall: float
    recall_by_ef: dict[int, float]
    samples: int


@dataclass(frozen=True)
class OracleRecall:
    """Recall@10 of the production dense path of one oracle."""

    oracle_id: UUID
    path: str  # "exact" or "own index"
    ef_search: int
    recall: float
    samples: int

    @property
    def flagged(self) -> bool:
        """Below the standing target (0.98)."""
        return self.recall < TARGET_RECALL


def sample_vectors(session: Session, oracle_id: UUID, n: int = SAMPLES) -> list[Any]:
    """Up to ``n`` stored embeddings of the oracle (a fixed pseudo-random sample)."""
    driver_connection(session)
    rows = session.execute(_SAMPLE, {"o": oracle_id, "seed": "recall", "n": n}).scalars()
    # Binary results come back as pgvector ``Vector``s, text ones as arrays already.
    return [np.asarray(getattr(v, "to_numpy", lambda v=v: v)(), np.float32) for v in rows]


def exact_distances(session: Session, oracle_id: UUID, vector: Any, k: int = K) -> list[float]:
    """The cosine distances of the true top ``k``, nearest first."""
    rows = session.execute(_EXACT_DISTANCES, {"o": oracle_id, "q": vector, "k": k}).scalars()
    return [float(d) for d in rows]


def recall_at(truth: list[float], found: list[float], k: int = K) -> float:
    """Share of the true top ``k`` among the first ``k`` found, by distance: a hit counts
    when it is no farther than the k-th true neighbour, so duplicate chunks (ties) are not
    misses. 1.0 when there is no truth (an oracle without vectors)."""
    wanted = truth[:k]
    if not wanted:
        return 1.0
    close = sum(1 for d in found[:k] if d <= wanted[-1] + _TIE)
    return min(close, len(wanted)) / len(wanted)


def query_vectors(session: Session, oracle_id: UUID, n: int = SAMPLES) -> list[Any]:
    """``n`` queries off the graph: normalised midpoints of pairs of stored embeddings.

    A stored chunk makes an easy query: its neighbours are its own edges in the graph, so
    greedy search finds them at any ``ef_search`` (30 stored chunks reported 0.993 at
    ``ef_search`` 40 on 10,000 chunks where 100 held-out queries got 0.897 in the
    benchmark). A midpoint lies in the corpus's region but is no node of the graph, as a
    question is not."""
    stored = sample_vectors(session, oracle_id, 2 * n)
    pairs = [stored[i] + stored[i + 1] for i in range(0, len(stored) - 1, 2)]
    return [v / norm for v in pairs if (norm := float(np.linalg.norm(v))) > 0]


def _mean_recall(
    session: Session, oracle_id: UUID, vectors: list[Any], truths: list[list[float]], *, n: int,
    exact: bool, ef: int,
) -> float:  # fmt: skip
    """Mean recall@10 of ``retrieval._dense`` (score = 1 - distance) over the queries."""
    scores = [
        recall_at(truth, [1 - float(row[5]) for row in _dense(session, oracle_id, v, n, exact, ef)])
        for v, truth in zip(vectors, truths, strict=True)
    ]
    return float(np.mean(scores)) if scores else 1.0


def calibrate(session: Session, oracle_id: UUID, samples: int = SAMPLES) -> Calibration:
    """``MARGIN_STEPS`` above the smallest ``ef_search`` of ``EF_LADDER`` whose recall@10
    on the oracle's own graph reaches ``CALIBRATION_RECALL`` (see ``pick_ef``)."""
    vectors = query_vectors(session, oracle_id, samples)
    truths = [exact_distances(session, oracle_id, v) for v in vectors]
    seen: dict[int, float] = {}
    for ef in EF_LADDER:
        seen[ef] = _mean_recall(session, oracle_id, vectors, truths, n=K, exact=False, ef=ef)
        if pick_ef(seen) in seen:
            break
    chosen = pick_ef(seen)
    return Calibration(oracle_id, chosen, seen[chosen], seen, len(vectors))


def pick_ef(seen: dict[int, float], ladder: tuple[int, ...] = EF_LADDER) -> int:
    """The ladder step ``MARGIN_STEPS`` above the first whose recall in ``seen`` reaches
    ``CALIBRATION_RECALL``, capped at the top; the top when none does (yet)."""
    passing = next((ef for ef in ladder if seen.get(ef, 0.0) >= CALIBRATION_RECALL), None)
    if passing is None:
        return ladder[-1]
    return ladder[min(ladder.index(passing) + MARGIN_STEPS, len(ladder) - 1)]


def production_recall(session: Session, oracle_id: UUID, samples: int = SAMPLES) -> OracleRecall:
    """Recall@10 of the dense path ``search()`` takes for this oracle now, against exact."""
    found = read_oracle(session, oracle_id)
    cfg = RetrievalConfig.from_oracle(found.settings, oracle_name=found.name)
    own_index = found.own_index
    pool = max(cfg.candidates, cfg.k)
    vectors = query_vectors(session, oracle_id, samples)
    truths = [exact_distances(session, oracle_id, v) for v in vectors]
    recall = _mean_recall(
        session, oracle_id, vectors, truths, n=pool, exact=not own_index, ef=cfg.ef_search
    )
    path = "own index" if own_index else "exact"
    return OracleRecall(oracle_id, path, cfg.ef_search, recall, len(vectors))
