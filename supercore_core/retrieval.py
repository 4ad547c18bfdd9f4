"""Dense, lexical and hybrid (score fusion, or reciprocal rank fusion) search over an
oracle's chunks.

Runs in the caller's tenant transaction. Dense search is exact over the oracle's rows (a
B-tree pre-filter, then a sort) unless the oracle has a valid HNSW index of its own
(``supercore_core.vector_index``: a partial index built once the oracle passes
``exact_below_chunks``); then the query names the oracle as a literal, so the planner
proves the partial index's predicate and walks that oracle's graph alone.

A search is two statements: the oracle's settings with the BM25 statistics of the query's
lexemes, then the search. Hybrid fuses both retrievers' candidates inside that one
statement and reads content only for the winning ``k`` (a dense or lexical search fetches
``k`` rows, not the candidate pool).
"""

from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple
from uuid import UUID

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from supercore_core import bm25
from supercore_core.embedding import Embedder
from supercore_core.errors import NotFoundError
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
# Exact: distances of the oracle's rows only (the B-tree pre-filter) in a subquery fenced by
# OFFSET 0, ranked outside it, so the planner cannot answer the ORDER BY ... LIMIT with an
# HNSW index (which would filter after the index scan and under-return; an oracle's own
# index may become valid between the two statements of a search); then fetch the winners.
_EXACT_DISTANCES = (
    "(SELECT id, embedding <=> :q AS distance FROM document_chunks"
    " WHERE oracle_id = :o AND embedding IS NOT NULL OFFSET 0)"
)
_DENSE_EXACT = (
    f"WITH ranked AS (SELECT id, distance FROM {_EXACT_DISTANCES} distances"
    " ORDER BY distance LIMIT :n) "
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

# Before the search, one round trip: the oracle's name and settings, whether its own vector
# index is ready ({ready}: vector_index.ddl.ready_sql), and the BM25 statistics of the
# query's lexemes (none for an empty :text).
_PREPARE = f"""
SELECT o.oracle_name, o.retrieval_config, {{ready}}, s.chunk_count, s.total_length, t.*
FROM oracles o LEFT JOIN bm25_oracle_stats s ON s.oracle_id = o.id
CROSS JOIN LATERAL ({bm25.QUERY_LEXEMES.format(oracle="o.id")}) t
WHERE o.id = :o
"""
# Hybrid in one statement: each retriever's top :pool with its rank, the fusion of their
# contributions ({dense_part}, {lexical_part}: the chosen fusion), ties in the order the
# chunks were first found (dense before lexical-only), the winners' rows and similarities.
_DENSE_TOP_EXACT = f"""
dense_top AS (SELECT id, 1 - distance AS score, row_number() OVER (ORDER BY distance) AS rank
    FROM (SELECT id, distance FROM {_EXACT_DISTANCES} distances
          ORDER BY distance LIMIT :pool) x)"""
_DENSE_TOP_HNSW = """
dense_top AS (SELECT id, 1 - distance AS score, row_number() OVER (ORDER BY distance) AS rank
    FROM (SELECT id, embedding <=> :q AS distance FROM document_chunks
          WHERE oracle_id = {oracle} ORDER BY embedding <=> :q LIMIT :pool) x)"""
_NO_LEXICAL = """
bm25_top AS (SELECT CAST(NULL AS uuid) AS id, CAST(NULL AS float8) AS score,
    CAST(NULL AS bigint) AS rank WHERE false)"""
_HYBRID = """
WITH {dense_top}, {lexical_ctes},
parts AS (
    SELECT id, 0 AS source, rank AS tie, CAST(:dense_weight AS float8) * {dense_part} AS part
    FROM dense_top
    UNION ALL
    SELECT id, 1, :pool + rank, CAST(:lexical_weight AS float8) * {lexical_part}
    FROM bm25_top WHERE rank <= :pool),
fused AS (
    SELECT id, sum(part) AS score, array_agg(source ORDER BY source) AS sources, min(tie) AS tie
    FROM parts GROUP BY id ORDER BY score DESC, tie LIMIT :k)
SELECT c.id, c.document_id, d.filename, c.chunk_index, c.content, f.score, c.metadata,
       f.sources, 1 - (c.embedding <=> :q) AS similarity
FROM fused f JOIN document_chunks c ON c.id = f.id JOIN documents d ON d.id = c.document_id
ORDER BY f.score DESC, f.tie
"""
# A retriever's contribution. Convex: (score - floor) / (best - floor), the floor being the
# lowest score the ranker can give (cosine similarity -1, BM25 0); 1 when best = floor.
_CONVEX = """CASE WHEN max(score) OVER () - CAST(:{name}_floor AS float8) > 0
    THEN (score - CAST(:{name}_floor AS float8))
         / (max(score) OVER () - CAST(:{name}_floor AS float8))
    ELSE CAST(1 AS float8) END"""
_RRF = "CAST(1 AS float8) / (CAST(:rrf_k AS float8) + rank)"
_FLOOR = {"dense": -1.0, "lexical": 0.0}
_RETRIEVERS = ("dense", "lexical")


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

    Two statements (three for an oracle with its own vector index): the oracle with the
    query's BM25 statistics, then the search itself, fusion included.

    Raises:
        InvalidQuestionError: The query is longer than ``max_question_chars`` (None: no
            limit) or holds control characters.
        InvalidSettingError: ``k`` or the oracle's stored settings are out of range.
    """
    check_question(query, max_chars=max_question_chars)
    name, settings, own_index, stats = read_oracle(
        session, oracle_id, "" if mode == "dense" else query
    )
    base = config or RetrievalConfig.from_oracle(settings, oracle_name=name)
    cfg = replace(base, mode=mode or base.mode, k=base.k if k is None else k)
    if not query.strip():
        return SearchResults(query, cfg.mode, (), exact=True)
    exact = not own_index
    if cfg.mode == "lexical":
        rows = bm25.ranked(session, oracle_id, stats, cfg.k, k1=cfg.bm25_k1, b=cfg.bm25_b)
        return SearchResults(query, cfg.mode, tuple(_single(rows, cfg)), exact)
    vector = embedder.embed([query])[0]
    if cfg.mode == "dense":
        rows = _dense(session, oracle_id, vector, cfg.k, exact, cfg.ef_search)
        return SearchResults(query, cfg.mode, tuple(_single(rows, cfg)), exact)
    hits = _hybrid(session, oracle_id, vector, stats, cfg, exact)
    return SearchResults(query, cfg.mode, tuple(hits), exact)


class OracleRead(NamedTuple):
    """What a search reads of its oracle before searching."""

    name: str
    settings: dict[str, Any]
    own_index: bool
    stats: bm25.OracleStats


def read_oracle(session: Session, oracle_id: UUID, query: str = "") -> OracleRead:
    """The oracle's name and stored settings, whether its own vector index is ready, and
    the BM25 statistics of ``query``'s lexemes: one statement.

    Raises:
        NotFoundError: No such oracle in the session's tenant.
    """
    row = session.execute(
        text(_PREPARE.format(ready=ready_sql(oracle_id))),
        {"o": oracle_id, "text": query, "terms": bm25.MAX_TERMS},
    ).first()
    if row is None:
        raise NotFoundError(f"oracle {oracle_id} not found in this tenant")
    name, settings, own_index, *statistics = row
    return OracleRead(name, settings, bool(own_index), bm25.OracleStats.from_row(*statistics))


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


def hybrid_statement(oracle_id: UUID, *, exact: bool, lexical: bool, fusion: Fusion) -> str:
    """The hybrid search statement: exact or the oracle's own graph, with or without a
    lexical half (none when the oracle holds none of the query's lexemes)."""
    if exact:
        dense_top = _DENSE_TOP_EXACT
    else:
        dense_top = _DENSE_TOP_HNSW.format(oracle=oracle_literal(oracle_id))
    return _HYBRID.format(
        dense_top=dense_top,
        lexical_ctes=bm25.LEXICAL_CTES if lexical else _NO_LEXICAL,
        dense_part=_RRF if fusion == "rrf" else _CONVEX.format(name="dense"),
        lexical_part=_RRF if fusion == "rrf" else _CONVEX.format(name="lexical"),
    )


def _hybrid(
    session: Session,
    oracle_id: UUID,
    vector: list[float],
    stats: bm25.OracleStats,
    cfg: RetrievalConfig,
    exact: bool,
) -> list[Hit]:
    """Score fusion ("convex": the sum of weight x contribution, a chunk one ranker did not
    return getting 0 from it) or reciprocal rank fusion ("rrf": weight / (rrf_k + rank)) of
    each retriever's top ``candidates``, in one statement."""
    pool = max(cfg.candidates, cfg.k)
    params: dict[str, Any] = {
        "o": oracle_id, "q": np.asarray(vector, np.float32), "pool": pool, "k": cfg.k,
        "dense_weight": cfg.dense_weight, "lexical_weight": cfg.lexical_weight,
        "rrf_k": cfg.rrf_k, "dense_floor": _FLOOR["dense"], "lexical_floor": _FLOOR["lexical"],
    }  # fmt: skip
    if stats.terms:
        params |= bm25.lexical_params(stats, pool, k1=cfg.bm25_k1, b=cfg.bm25_b)
    if not exact:
        session.execute(text(_DENSE_SETTINGS), {"ef": str(max(int(cfg.ef_search), pool))})
    statement = hybrid_statement(
        oracle_id, exact=exact, lexical=bool(stats.terms), fusion=cfg.fusion
    )
    driver_connection(session)
    rows = session.execute(text(statement), params)
    return [
        replace(
            _hit(row[:7], float(row[5]), rank, tuple(_RETRIEVERS[s] for s in row[7])),
            similarity=None if row[8] is None else float(row[8]),
        )
        for rank, row in enumerate(rows, start=1)
    ]
