"""Which chunks BM25 must score for an exact top n, and the proof that it was enough.

A term adds at most idf * g(max_tf) to a chunk's score, where max_tf bounds its frequency
in any chunk of the oracle and g(tf) = tf / (tf + k1 * (1 - b + b * tf / avgdl)) is the
saturation at the shortest possible chunk (dl >= tf). Query terms split by document
frequency: the rarest, whose postings fit a budget, each make a chunk a candidate; the
common ones only in pairs (a chunk holding two of them). A chunk that is not a candidate
holds at most one common term, so it scores at most the largest common bound. When the
n-th best candidate beats that, no other chunk can enter the top n; otherwise the caller
scores every chunk matching any term.
"""

import math
from dataclasses import dataclass
from itertools import combinations

# Postings (sum of df) the rare terms may bring as candidates: the oracle's chunks x n / 500
# (a fifth of them for a top 100), within these bounds. The smaller n, the higher the n-th
# candidate's score and the fewer rare terms the proof needs. Measured on SciFact (4,938
# chunks, 100 queries: 1,000 proves the top 100 exact for all, 200 the top 10, with 766 and
# 419 candidates against 1,609 when every match is scored) and the 200,000-chunk benchmark
# oracle (benchmarks/README.md, "Lexical: BM25").
CANDIDATE_BUDGET = 5_000
MIN_CANDIDATE_BUDGET = 200
# Above this many common terms the pairs would make too long a tsquery: score everything.
MAX_COMMON_TERMS = 24


@dataclass(frozen=True)
class TermStat:
    """A query lexeme present in the oracle: document frequency, idf, tf upper bound."""

    lexeme: str
    df: int
    idf: float
    max_tf: int = 256  # to_tsvector keeps at most 256 positions per lexeme


@dataclass(frozen=True)
class Plan:
    """Candidate-generating terms and pairs, and the bound on any other chunk's score."""

    rare: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    bound: float
    full: bool  # every matching chunk is a candidate: exact without a check

    def tsquery(self) -> str:
        """The candidates' match: rare terms OR-ed with the AND-ed pairs of common ones."""
        parts = [quote(t) for t in self.rare]
        parts += [f"({quote(a)} & {quote(b)})" for a, b in self.pairs]
        return " | ".join(parts)


def quote(lexeme: str) -> str:
    """A lexeme as a quoted tsquery operand (no re-stemming when cast to tsquery)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def idf(df: int, chunks: int) -> float:
    """Lucene's idf: ln(1 + (N - df + 0.5) / (df + 0.5))."""
    return math.log(1 + (chunks - df + 0.5) / (df + 0.5))


def term_bound(term: TermStat, k1: float, b: float, avgdl: float) -> float:
    """The most ``term`` can add to any chunk's score."""
    tf = term.max_tf
    return term.idf * tf / (tf + k1 * (1 - b + b * tf / avgdl))


def budget_for(chunks: int, n: int, budget: int | None = None) -> int:
    """``budget`` when given, else ``chunks * n / 500`` within the bounds."""
    if budget is not None:
        return budget
    return min(CANDIDATE_BUDGET, max(MIN_CANDIDATE_BUDGET, chunks * n // 500))


def full_plan(terms: list[TermStat]) -> Plan:
    """Every term makes a candidate: the full computation."""
    return Plan(tuple(t.lexeme for t in terms), (), 0.0, full=True)


def plan(
    terms: list[TermStat],
    k1: float,
    b: float,
    avgdl: float,
    budget: int = CANDIDATE_BUDGET,
) -> Plan:
    """Rarest terms while their postings fit ``budget``; pairs of the rest."""
    ordered = sorted(terms, key=lambda t: (t.df, t.lexeme))
    rare: list[TermStat] = []
    for term in ordered:
        if sum(t.df for t in rare) + term.df > budget:
            break
        rare.append(term)
    common = ordered[len(rare) :]
    if not common or len(common) > MAX_COMMON_TERMS or (not rare and len(common) == 1):
        return full_plan(terms)
    pairs = tuple((a.lexeme, b_.lexeme) for a, b_ in combinations(common, 2))
    bound = max(term_bound(t, k1, b, avgdl) for t in common)
    return Plan(tuple(t.lexeme for t in rare), pairs, bound, full=False)


def is_exact(scores: list[float], n: int, chosen: Plan) -> bool:
    """Whether the top ``n`` candidate scores (best first) are the oracle's top ``n``."""
    if chosen.full:
        return True
    return len(scores) >= n and scores[n - 1] > chosen.bound
