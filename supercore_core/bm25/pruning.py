"""Which query terms generate BM25 candidates, and when their top-n is provably exact.

Lucene's BM25 gives a term at most its idf: tf / (tf + k1 * norm) < 1 for every tf and
length. Candidates are the chunks matching the rarest terms (few postings to read); every
query term is scored on them. A chunk holding none of the rare terms scores below the sum
of the idf of the common ones, so when the n-th best candidate reaches that sum, no other
chunk can enter the top n. Otherwise the caller scores every chunk matching any term.
"""

import math
from dataclasses import dataclass

# Postings (sum of df) the rare terms may bring as candidates before a common term is left
# to be scored only; measured on SciFact and the 200,000-chunk benchmark oracle.
CANDIDATE_BUDGET = 5_000


@dataclass(frozen=True)
class TermStat:
    """A query lexeme present in the oracle: its document frequency and Lucene idf."""

    lexeme: str
    df: int
    idf: float


@dataclass(frozen=True)
class Plan:
    """Rare terms (they generate candidates) and the bound on the rest's contribution."""

    rare: tuple[str, ...]
    common_bound: float
    full: bool  # every term generates candidates: exact without a check


def idf(df: int, chunks: int) -> float:
    """Lucene's idf: ln(1 + (N - df + 0.5) / (df + 0.5))."""
    return math.log(1 + (chunks - df + 0.5) / (df + 0.5))


def plan(terms: list[TermStat], budget: int = CANDIDATE_BUDGET) -> Plan:
    """Rarest terms first while their postings fit ``budget`` (at least one term)."""
    ordered = sorted(terms, key=lambda t: (t.df, t.lexeme))
    rare: list[TermStat] = []
    postings = 0
    for term in ordered:
        if rare and postings + term.df > budget:
            break
        rare.append(term)
        postings += term.df
    common = ordered[len(rare) :]
    return Plan(tuple(t.lexeme for t in rare), sum(t.idf for t in common), full=not common)


def is_exact(scores: list[float], n: int, chosen: Plan) -> bool:
    """Whether the top ``n`` candidate scores (best first) are the oracle's top ``n``."""
    if chosen.full:
        return True
    return len(scores) >= n and scores[n - 1] >= chosen.common_bound
