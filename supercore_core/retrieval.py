"""Dense, lexical and hybrid (score fusion, or reciprocal rank fusion) search over an
oracle's chunks.

Runs in the caller's tenant transaction. Dense search is exact over the oracle's rows (a
B-tree pre-filter, then a sort) unless the oracle has a valid HNSW index of its own
(``supercore_core.vector_index``: a partial index built once the oracle passes
``exact_below_chunks``); then the query names the oracle as a literal, so the planner
proves the partial index's predicate and walks that oracle's graph alone.
"""

from dataclasses import dataclass, replace
from typing import Any, Literal
from uuid import UUID

import numpy as np
from sqlalchemy import literal_column, select, text
from sqlalchemy.orm import Session

from supercore_core import bm25
from supercore_core.catalog import oracle_by_id
from supercore_core.embedding import Embedder
from supercore_core.ingest.store import driver_connection
from supercore_core.models import Oracle
from supercore_core.oracle_settings import check_retrieval, check_stored_retrieval
from supercore_core.questions import DEFAULT_MAX_QUESTION_CHARS, check_question
from supercore_core.vector_index.ddl import oracle_literal, ready_sql

Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "lexical", "hybrid")
Fusion = Literal["convex", "rrf"]
FUSIONS: tuple[Fusion, ...] = ("convex", "rrf")


@dataclass(frozen=True)
class RetrievalConfig:
    """Retrieval settings; an oracle's ``retrieval_config`` overrides these defaults.

    Values are checked against the oracle settings schema (``oracle_settings``) on
    construction: ``InvalidSettingError`` names the field and its allowed range.
    """

    mode: Mode = "hybrid"
    k: int = 8
    candidates: int = 100
    # Hybrid: "convex" sums the weighted scores normalised by their theoretical minimum and
    # the list's best (Bruch et al., "An Analysis of Fusion Functions for Hybrid Retrieval",
    # TOIS 2023: TM2C2); "rrf" sums weight / (rrf_k + rank). RRF ignores how far ahead a
    # ranker's top hits are, so a weak ranker's noise counted as much as a strong one's
    # confident hits: hybrid fell below lexical alone on TAT-QA (README, retrieval quality).
    fusion: Fusion = "convex"
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    exact_below_chunks: int = 20_000
    # Recall@10 vs exact, 200k-chunk tenant of 1.2M: 0.61 at 100, 0.78 at 200, 0.90 at 400,
    # at the same latency (iterative scans dominate); see benchmarks/README.md.
    ef_search: int = 400
    # Chat treats a hit below this cosine similarity as not relevant (MiniLM: unrelated
    # texts score ~0.0-0.15).
    min_similarity: float = 0.25
    # Lucene BM25 (lexical mode and the lexical half of hybrid); BEIR's BM25 runs use these.
    bm25_k1: float = 0.9
    bm25_b: float = 0.4

    def __post_init__(self) -> None:
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name, value in check_retrieval(fields).items():
            object.__setattr__(self, name, value)  # normalised, e.g. k=8.0 -> 8

    @classmethod
    def from_oracle(
        cls, settings: dict[str, Any], *, oracle_name: str = "", **overrides: Any
    ) -> "RetrievalConfig":
        """Defaults, then the oracle's stored settings (checked), then non-None overrides."""
        stored = check_stored_retrieval(settings, oracle_name)
        known = {k: v for k, v in stored.items() if k in cls.__dataclass_fields__}
        chosen = {k: v for k, v in overrides.items() if v is not None}
        return cls(**(known | chosen))

    @classmethod
    def for_oracle(cls, oracle: Oracle) -> "RetrievalConfig":
        """The oracle's effective settings; stored values that are invalid raise
        ``InvalidSettingError`` naming the oracle, the field and how to fix it."""
        return cls.from_oracle(oracle.retrieval_config, oracle_name=oracle.oracle_name)


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk."""

    chunk_id: UUID
    document_id: UUID
    filename: str
    chunk_index: int
    content: str
    score: float
    rank: int
    retrievers: tuple[str, ...]
    metadata: dict[str, Any]
    similarity: float | None = None


@dataclass(frozen=True)
class SearchResults:
    """Hits for one query, best first."""

    query: str
    mode: Mode
    hits: tuple[Hit, ...]
    exact: bool

    def to_frame(self) -> Any:
        """The hits as a pandas DataFrame (one row per hit)."""
        import pandas as pd

        rows = [
            {
                "rank": h.rank,
                "score": h.score,
                "filename": h.filename,
                "chunk_index": h.chunk_index,
                "retrievers": "+".join(h.retrievers),
                "content": h.content,
                "chunk_id": h.chunk_id,
                "document_id": h.document_id,
            }
            for h in self.hits
        ]
        return pd.DataFrame(rows)


_SELECT = (
    "SELECT c.id, c.document_id, d.filename, c.chunk_index, c.content, {score} AS score,"
    " c.metadata FROM {source} JOIN documents d ON d.id = c.document_id"
)
# Exact: distances of the oracle's rows only (the B-tree pre-filter) in a MATERIALIZED CTE,
# ranked outside it, so the planner cannot answer the ORDER BY ... LIMIT with the HNSW index
# (which would filter after the index scan and under-return); then fetch the winners.
_DENSE_EXACT = (
    "WITH distances AS MATERIALIZED (SELECT id, embedding <=> :q AS distance"
    " FROM document_chunks WHERE oracle_id = :o AND embedding IS NOT NULL),"
    " ranked AS (SELECT id, distance FROM distances ORDER BY distance LIMIT :n) "
    + _SELECT.format(
        score="1 - r.distance", source="ranked r JOIN document_chunks c ON c.id = r.id"
    )
    + " ORDER BY r.distance"
)
# The oracle's own graph: ``{oracle}`` is the id as a literal (ddl.oracle_literal), never a
# parameter, since a generic plan cannot prove a partial index's predicate. Its rows are one
# tenant's, so no filter runs after the index scan: no iterative scan, ef_search >= LIMIT.
_DENSE_HNSW = (
    "WITH c AS (SELECT * FROM document_chunks WHERE oracle_id = {oracle}"
    " ORDER BY embedding <=> :q LIMIT :n) "
    + _SELECT.format(score="1 - (c.embedding <=> :q)", source="c")
    + " ORDER BY c.embedding <=> :q"
)
_DENSE_SETTINGS = (
    "SELECT set_config('hnsw.ef_search', :ef, true), set_config('hnsw.iterative_scan', 'off', true)"
)
# Lexical search ranks by BM25 (supercore_core.bm25); the previous ts_rank ranking, the
# benchmarks' same-run baseline, is in benchmarks/ts_rank.py.


def search(
    session: Session,
    *,
    oracle_id: UUID,
    query: str,
    embedder: Embedder,
    mode: Mode | None = None,
    k: int | None = None,
    config: RetrievalConfig | None = None,
    max_question_chars: int | None = DEFAULT_MAX_QUESTION_CHARS,
) -> SearchResults:
    """Search the oracle's chunks; settings come from the oracle unless given here.

    Raises:
        InvalidQuestionError: The query is longer than ``max_question_chars`` (None: no
            limit) or holds control characters.
        InvalidSettingError: ``k`` or the oracle's stored settings are out of range.
    """
    check_question(query, max_chars=max_question_chars)
    oracle, own_index = _oracle_and_index(session, oracle_id)
    base = config or RetrievalConfig.for_oracle(oracle)
    cfg = replace(base, mode=mode or base.mode, k=base.k if k is None else k)
    if not query.strip():
        return SearchResults(query, cfg.mode, (), exact=True)
    exact = not own_index
    pool = max(cfg.candidates, cfg.k)
    ranked: dict[str, list[tuple[Any, ...]]] = {}
    if cfg.mode in ("dense", "hybrid"):
        vector = embedder.embed([query])[0]
        ranked["dense"] = _dense(session, oracle_id, vector, pool, exact, cfg.ef_search)
    if cfg.mode in ("lexical", "hybrid"):
        ranked["lexical"] = bm25.rank(session, oracle_id, query, pool, k1=cfg.bm25_k1, b=cfg.bm25_b)
    hits = _fuse(ranked, cfg) if cfg.mode == "hybrid" else _single(ranked[cfg.mode], cfg)
    if cfg.mode == "hybrid":
        hits = _with_similarity(session, hits, ranked["dense"], vector)
    return SearchResults(query, cfg.mode, tuple(hits), exact)


def _oracle_and_index(session: Session, oracle_id: UUID) -> tuple[Oracle, bool]:
    """The oracle (its settings) and whether its own vector index is ready: one statement."""
    ready: Any = literal_column(ready_sql(oracle_id))
    row = session.execute(select(Oracle, ready).where(Oracle.id == oracle_id)).first()
    if row is None:
        return oracle_by_id(session, oracle_id), False  # raises NotFoundError
    return row[0], bool(row[1])


def _dense(
    session: Session, oracle_id: UUID, vector: list[float], n: int, exact: bool, ef_search: int
) -> list[tuple[Any, ...]]:
    driver_connection(session)
    params = {"o": oracle_id, "q": np.asarray(vector, np.float32), "n": n}
    if exact:
        return [tuple(row) for row in session.execute(text(_DENSE_EXACT), params)]
    session.execute(text(_DENSE_SETTINGS), {"ef": str(max(int(ef_search), n))})
    query = _DENSE_HNSW.format(oracle=oracle_literal(oracle_id))
    return [tuple(row) for row in session.execute(text(query), params)]


def _hit(row: tuple[Any, ...], score: float, rank: int, retrievers: tuple[str, ...]) -> Hit:
    chunk_id, document_id, filename, chunk_index, content, _, metadata = row
    return Hit(
        chunk_id, document_id, filename, chunk_index, content, score, rank, retrievers, metadata
    )


def _single(rows: list[tuple[Any, ...]], cfg: RetrievalConfig) -> list[Hit]:
    hits = [_hit(r, float(r[5]), i + 1, (cfg.mode,)) for i, r in enumerate(rows[: cfg.k])]
    if cfg.mode == "dense":
        return [replace(h, similarity=h.score) for h in hits]
    return hits


def _with_similarity(
    session: Session, hits: list[Hit], dense_rows: list[tuple[Any, ...]], vector: list[float]
) -> list[Hit]:
    """Cosine similarity for every fused hit (lexical-only ones are looked up by id)."""
    known = {row[0]: float(row[5]) for row in dense_rows}
    missing = [h.chunk_id for h in hits if h.chunk_id not in known]
    if missing:
        rows = session.execute(
            text("SELECT id, 1 - (embedding <=> :q) FROM document_chunks WHERE id = ANY(:ids)"),
            {"q": np.asarray(vector, np.float32), "ids": missing},
        )
        known |= {cid: float(sim) for cid, sim in rows if sim is not None}
    return [replace(h, similarity=known.get(h.chunk_id)) for h in hits]


# The lowest score each ranker can give: cosine similarity -1, BM25 0.
_FLOOR = {"dense": -1.0, "lexical": 0.0}


def _fuse(ranked: dict[str, list[tuple[Any, ...]]], cfg: RetrievalConfig) -> list[Hit]:
    """Hybrid: score = sum over the retrievers of weight x contribution, where the
    contribution is (score - floor) / (best - floor) ("convex"; a chunk one ranker did not
    return gets 0 from it) or 1 / (rrf_k + rank) ("rrf")."""
    weights = {"dense": cfg.dense_weight, "lexical": cfg.lexical_weight}
    scores: dict[Any, float] = {}
    found: dict[Any, tuple[tuple[Any, ...], list[str]]] = {}
    for name, rows in ranked.items():
        if not rows:
            continue
        floor = _FLOOR[name]
        spread = float(rows[0][5]) - floor
        for rank, row in enumerate(rows, start=1):
            if cfg.fusion == "rrf":
                part = 1 / (cfg.rrf_k + rank)
            else:
                part = (float(row[5]) - floor) / spread if spread > 0 else 1.0
            scores[row[0]] = scores.get(row[0], 0.0) + weights[name] * part
            found.setdefault(row[0], (row, []))[1].append(name)
    best = sorted(scores, key=lambda cid: scores[cid], reverse=True)[: cfg.k]
    return [
        _hit(found[cid][0], scores[cid], i + 1, tuple(found[cid][1])) for i, cid in enumerate(best)
    ]
