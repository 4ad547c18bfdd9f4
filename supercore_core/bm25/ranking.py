"""BM25 statements: the query's lexemes with their statistics, and the scored top n.

Score of a chunk = sum over the query's distinct lexemes it holds of
idf * tf / (tf + k1 * (1 - b + b * dl / avgdl)), Lucene's BM25 (since Lucene 8 without the
constant (k1 + 1) factor, which does not change the order). tf is the number of the
lexeme's positions in ``content_tsv``; dl is the sum of those counts over every lexeme of
the chunk (``bm25_length``). to_tsvector keeps at most 256 positions per lexeme, so a word
repeated more than 256 times in one chunk counts 256 times.

The ranking is one statement (``lexical_ctes``): the pruned candidates are scored; when
their n-th score does not prove the top n exact, the full computation runs in the same
statement (a one-time filter skips it otherwise). Hybrid search embeds the same CTEs.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from supercore_core.bm25.pruning import TermStat, budget_for, full_plan, idf, plan

DEFAULT_K1 = 0.9
DEFAULT_B = 0.4
# The question's first distinct lexemes, in order of appearance: a 16,000-word question
# becomes at most this many terms (the tsquery OR of them stays shallow).
MAX_TERMS = 256

# The query's lexemes present in the oracle, as arrays (one row, also for an empty oracle).
QUERY_LEXEMES = """
SELECT array_agg(s.lexeme ORDER BY s.lexeme COLLATE "C"),
       array_agg(s.df ORDER BY s.lexeme COLLATE "C"),
       array_agg(s.max_tf ORDER BY s.lexeme COLLATE "C")
FROM bm25_term_stats s
WHERE s.oracle_id = {oracle} AND s.lexeme IN (
    SELECT q.lexeme FROM unnest(to_tsvector('english', :text)) q
    ORDER BY q.positions[1], q.lexeme LIMIT :terms)
"""
_STATS = f"""
SELECT o.chunk_count, o.total_length, t.* FROM bm25_oracle_stats o
CROSS JOIN LATERAL ({QUERY_LEXEMES.format(oracle="o.oracle_id")}) t
WHERE o.oracle_id = :o
"""
# A candidate's score: its tsvector filtered to the query lexemes (setweight + ts_filter,
# no SRF over the whole vector), each lexeme's idf found by its place in :bm25_terms, its
# length by primary key (a join let the planner hash every length of the table).
_SCORE = """(SELECT sum((CAST(:bm25_idfs AS float8[]))[array_position(
                 CAST(:bm25_terms AS text[]), u.lexeme)]
             * COALESCE(cardinality(u.positions), 1)
             / (COALESCE(cardinality(u.positions), 1) + CAST(:bm25_k1 AS float8)
                * (1 - CAST(:bm25_b AS float8)
                   + CAST(:bm25_b AS float8) * (SELECT l.length FROM bm25_chunk_lengths l
                                                WHERE l.chunk_id = c.id)
                     / CAST(:bm25_avgdl AS float8))))
         FROM unnest(ts_filter(setweight(c.content_tsv, 'A', CAST(:bm25_terms AS text[])),
                               '{{a}}')) u)"""  # braces doubled for str.format
_CANDIDATES = f"""
    SELECT c.id, c.document_id, c.chunk_index, {_SCORE} AS score
    FROM document_chunks c
    WHERE c.oracle_id = :o AND c.content_tsv @@ CAST(:{{match}} AS tsquery){{gate}}
    ORDER BY score DESC FETCH FIRST CAST(:bm25_n AS int) ROWS WITH TIES"""
# bm25_top: the top :bm25_n (id, document_id, chunk_index, score, filename, rank), ties by
# file and chunk as the other rankers. bm25_all runs only when bm25_pruned is not provably
# the top n (its gate is a one-time filter on an InitPlan).
LEXICAL_CTES = f"""
bm25_pruned AS MATERIALIZED ({_CANDIDATES.format(match="bm25_match", gate="")}),
bm25_proof AS (
    SELECT CAST(:bm25_full AS boolean)
           OR (count(*) >= CAST(:bm25_n AS int) AND min(score) > CAST(:bm25_bound AS float8))
           AS exact
    FROM bm25_pruned),
bm25_all AS ({
    _CANDIDATES.format(match="bm25_all_match", gate=" AND NOT (SELECT exact FROM bm25_proof)")
}),
bm25_top AS (
    SELECT id, document_id, chunk_index, score, filename,
           row_number() OVER (ORDER BY score DESC, filename, chunk_index) AS rank
    FROM (SELECT x.*, (SELECT d.filename FROM documents d WHERE d.id = x.document_id) AS filename
          FROM (SELECT * FROM bm25_pruned WHERE (SELECT exact FROM bm25_proof)
                UNION ALL SELECT * FROM bm25_all) x) named)"""
_RANK = f"""
WITH {LEXICAL_CTES}
SELECT c.id, c.document_id, t.filename, c.chunk_index, c.content, t.score, c.metadata
FROM bm25_top t JOIN document_chunks c ON c.id = t.id
WHERE t.rank <= CAST(:bm25_n AS int) ORDER BY t.rank
"""


@dataclass(frozen=True)
class OracleStats:
    """An oracle's BM25 statistics restricted to the query's lexemes."""

    chunks: int
    avgdl: float
    terms: tuple[TermStat, ...]

    @classmethod
    def from_row(
        cls,
        chunks: int | None,
        total_length: int | None,
        lexemes: Sequence[str] | None,
        dfs: Sequence[int] | None,
        max_tfs: Sequence[int] | None,
    ) -> "OracleStats":
        """From ``QUERY_LEXEMES``'s arrays and the oracle's counts (None: no statistics)."""
        if not chunks:
            return cls(0, 0.0, ())
        terms = tuple(
            TermStat(lexeme, int(df), idf(int(df), chunks), int(max_tf))
            for lexeme, df, max_tf in zip(lexemes or (), dfs or (), max_tfs or (), strict=True)
        )
        return cls(chunks, int(total_length or 0) / chunks, terms)


def term_stats(
    session: Session, oracle_id: UUID, query: str, limit: int = MAX_TERMS
) -> OracleStats:
    """N, avgdl and the df/idf of the query's first ``limit`` distinct lexemes (English
    stemmer, no stop words) that the oracle holds; none for an empty oracle."""
    row = session.execute(text(_STATS), {"o": oracle_id, "text": query, "terms": limit}).first()
    return OracleStats(0, 0.0, ()) if row is None else OracleStats.from_row(*row)


def lexical_params(
    stats: OracleStats, n: int, *, k1: float, b: float, budget: int | None = None
) -> dict[str, Any]:
    """Parameters of ``LEXICAL_CTES`` for the top ``n`` (``stats`` must hold terms)."""
    terms = list(stats.terms)
    chosen = plan(terms, k1, b, stats.avgdl, budget_for(stats.chunks, n, budget))
    return {
        "bm25_terms": [t.lexeme for t in terms],
        "bm25_idfs": [t.idf for t in terms],
        "bm25_match": chosen.tsquery(),
        "bm25_all_match": full_plan(terms).tsquery(),
        "bm25_full": chosen.full,
        "bm25_bound": chosen.bound,
        "bm25_n": n,
        "bm25_k1": k1,
        "bm25_b": b,
        "bm25_avgdl": stats.avgdl,
    }


def rank(
    session: Session,
    oracle_id: UUID,
    query: str,
    n: int,
    *,
    k1: float = DEFAULT_K1,
    b: float = DEFAULT_B,
    budget: int | None = None,
) -> list[tuple[Any, ...]]:
    """The oracle's top ``n`` chunks for ``query`` by BM25, best first.

    Rows are (id, document_id, filename, chunk_index, content, score, metadata). The rare
    terms whose postings fit ``budget`` (default: ``pruning.budget_for`` the oracle's size
    and ``n``) generate the candidates (see ``pruning``).
    """
    stats = term_stats(session, oracle_id, query)
    return ranked(session, oracle_id, stats, n, k1=k1, b=b, budget=budget)


def ranked(
    session: Session,
    oracle_id: UUID,
    stats: OracleStats,
    n: int,
    *,
    k1: float,
    b: float,
    budget: int | None = None,
) -> list[tuple[Any, ...]]:
    """``rank`` with the statistics already read: one statement."""
    if not stats.terms or n < 1:
        return []
    params = {"o": oracle_id, **lexical_params(stats, n, k1=k1, b=b, budget=budget)}
    return [tuple(row) for row in session.execute(text(_RANK), params)]
