"""The lexical ranking before BM25 (OR-ed terms ranked by ``ts_rank``): the benchmarks'
same-run baseline for ``search()``'s lexical mode. Not used by the library."""

from sqlalchemy import text
from sqlalchemy.orm import Session

from supercore_core.retrieval import _SELECT

# Questions rarely contain every term: OR the stemmed terms. ts_rank beat ts_rank_cd on
# TAT-QA (nDCG@10 0.548 vs 0.313 on 400 queries). The OR is built from the question's first
# LEXICAL_TERMS distinct lexemes (in order of appearance), quoted as tsquery operands: the
# server walks a tsquery recursively, and plainto_tsquery of ~24,000 words exhausted its
# stack ("stack depth limit exceeded"). ts_rank counts each distinct lexeme once anyway.
# The tsquery is built first and passed in as a constant, so the planner estimates the
# match as it did for plainto_tsquery (and uses the GIN index the same way).
LEXICAL_TERMS = 256
_TSQUERY = (
    r"SELECT string_agg('''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || '''',"
    " ' | ' ORDER BY first) FROM (SELECT lexeme, positions[1] AS first"
    " FROM unnest(to_tsvector('english', :text)) ORDER BY positions[1], lexeme LIMIT :terms) w"
)
_LEXICAL = (
    "WITH q AS (SELECT CAST(:q AS tsquery) AS q) "
    + _SELECT.format(score="ts_rank(c.content_tsv, q.q)", source="q, document_chunks c")
    + " WHERE c.oracle_id = :o AND c.content_tsv @@ q.q"
    # Equal ranks are common; break ties by file and chunk, not by the random ids' order.
    + " ORDER BY score DESC, d.filename, c.chunk_index LIMIT :n"
)


def lexical_terms(session: Session, query: str) -> str | None:
    """The OR-ed tsquery text the lexical statement matches (None: only stop words)."""
    terms: str | None = session.execute(
        text(_TSQUERY), {"text": query, "terms": LEXICAL_TERMS}
    ).scalar_one()
    return terms
