"""BM25 statements: the query's lexemes, their statistics, and the scored top n.

Score of a chunk = sum over the query's distinct lexemes it holds of
idf * tf / (tf + k1 * (1 - b + b * dl / avgdl)), Lucene's BM25 (since Lucene 8 without the
constant (k1 + 1) factor, which does not change the order). tf is the number of the
lexeme's positions in ``content_tsv``; dl is the sum of those counts over every lexeme of
the chunk (``bm25_length``). to_tsvector keeps at most 256 positions per lexeme, so a word
repeated more than 256 times in one chunk counts 256 times.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from supercore_core.bm25.pruning import (
    CANDIDATE_BUDGET,
    Plan,
    TermStat,
    full_plan,
    idf,
    is_exact,
    plan,
)

DEFAULT_K1 = 0.9
DEFAULT_B = 0.4
# The question's first distinct lexemes, in order of appearance: a 16,000-word question
# becomes at most this many terms (the tsquery OR of them stays shallow).
MAX_TERMS = 256

# The query's lexemes with the oracle's statistics, in one round trip.
_STATS = """
WITH q AS (SELECT lexeme FROM unnest(to_tsvector('english', :text))
           ORDER BY positions[1], lexeme LIMIT :terms)
SELECT o.chunk_count, o.total_length, s.lexeme, s.df, s.max_tf FROM bm25_oracle_stats o
LEFT JOIN (bm25_term_stats s JOIN q ON q.lexeme = s.lexeme) ON s.oracle_id = o.oracle_id
WHERE o.oracle_id = :o
"""
# Candidates: chunks matching :match (GIN). Each is scored on every query term (:terms
# with their :idfs, by bm25_score of revision 0018, its length from bm25_chunk_lengths);
# the top :n by score, ties by file and chunk as the other rankers.
_RANK = """
WITH scored AS (
    SELECT c.id, d.filename, c.chunk_index,
           bm25_score(c.content_tsv, l.length, CAST(:terms AS text[]),
                      CAST(:idfs AS float8[]), CAST(:k1 AS float8), CAST(:b AS float8),
                      CAST(:avgdl AS float8)) AS score
    FROM document_chunks c JOIN documents d ON d.id = c.document_id
    JOIN bm25_chunk_lengths l ON l.chunk_id = c.id
    WHERE c.oracle_id = :o AND c.content_tsv @@ CAST(:match AS tsquery)
    ORDER BY score DESC, d.filename, c.chunk_index LIMIT :n)
SELECT c.id, c.document_id, r.filename, c.chunk_index, c.content, r.score, c.metadata
FROM scored r JOIN document_chunks c ON c.id = r.id
ORDER BY r.score DESC, r.filename, r.chunk_index
"""


@dataclass(frozen=True)
class OracleStats:
    """An oracle's BM25 statistics restricted to the query's lexemes."""

    chunks: int
    avgdl: float
    terms: tuple[TermStat, ...]


def term_stats(
    session: Session, oracle_id: UUID, query: str, limit: int = MAX_TERMS
) -> OracleStats:
    """N, avgdl and the df/idf of the query's first ``limit`` distinct lexemes (English
    stemmer, no stop words) that the oracle holds; none for an empty oracle."""
    params = {"o": oracle_id, "text": query, "terms": limit}
    rows = session.execute(text(_STATS), params).all()
    if not rows:
        return OracleStats(0, 0.0, ())
    chunks, total = int(rows[0][0]), int(rows[0][1])
    terms = tuple(
        TermStat(lexeme, int(df), idf(int(df), chunks), int(max_tf))
        for _, _, lexeme, df, max_tf in sorted(rows, key=lambda r: (r[2] is None, r[2] or ""))
        if lexeme is not None
    )
    return OracleStats(chunks, total / chunks, terms)


def rank(
    session: Session,
    oracle_id: UUID,
    query: str,
    n: int,
    *,
    k1: float = DEFAULT_K1,
    b: float = DEFAULT_B,
    budget: int = CANDIDATE_BUDGET,
) -> list[tuple[Any, ...]]:
    """The oracle's top ``n`` chunks for ``query`` by BM25, best first.

    Rows are (id, document_id, filename, chunk_index, content, score, metadata). The rare
    terms whose postings fit ``budget`` generate the candidates (see ``pruning``).
    """
    stats = term_stats(session, oracle_id, query)
    if not stats.terms:
        return []
    chosen = plan(list(stats.terms), k1, b, stats.avgdl, budget)
    rows = _ranked(session, oracle_id, stats, chosen, n, k1, b)
    if is_exact([float(r[5]) for r in rows], n, chosen):
        return rows
    return _ranked(session, oracle_id, stats, full_plan(list(stats.terms)), n, k1, b)


def _ranked(
    session: Session,
    oracle_id: UUID,
    stats: OracleStats,
    chosen: Plan,
    n: int,
    k1: float,
    b: float,
) -> list[tuple[Any, ...]]:
    params = {
        "o": oracle_id,
        "terms": [t.lexeme for t in stats.terms],
        "idfs": [t.idf for t in stats.terms],
        "match": chosen.tsquery(),
        "n": n,
        "k1": k1,
        "b": b,
        "avgdl": stats.avgdl,
    }
    return [tuple(row) for row in session.execute(text(_RANK), params)]
