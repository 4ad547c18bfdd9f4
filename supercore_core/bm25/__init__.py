"""BM25 (Lucene's formula) over an oracle's chunks, inside PostgreSQL.

Corpus statistics live in ``bm25_oracle_stats`` and ``bm25_term_stats`` (revision
0018), kept exact by statement-level triggers on ``document_chunks``. ``ranking``
scores candidates found through the GIN index on ``content_tsv``; ``pruning`` decides which
query terms generate candidates and proves the top-n exact (else the full computation runs).
"""

from supercore_core.bm25.pruning import Plan, TermStat, is_exact, plan
from supercore_core.bm25.ranking import (
    DEFAULT_B,
    DEFAULT_K1,
    LEXICAL_CTES,
    MAX_TERMS,
    QUERY_LEXEMES,
    OracleStats,
    lexical_params,
    rank,
    ranked,
    term_stats,
)

__all__ = [
    "DEFAULT_B",
    "DEFAULT_K1",
    "LEXICAL_CTES",
    "MAX_TERMS",
    "QUERY_LEXEMES",
    "OracleStats",
    "Plan",
    "TermStat",
    "is_exact",
    "lexical_params",
    "plan",
    "rank",
    "ranked",
    "term_stats",
]
