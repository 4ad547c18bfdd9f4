"""IR metrics per query (ir_measures) and aggregates with bootstrap confidence intervals.

A NaN score means "unmeasured" (no relevant documents judged, no answer to score, no judge
configured): it is counted and reported, never averaged in.
"""

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ir_measures
import numpy as np
from ir_measures import RR, R, Success, nDCG

# Display name -> ir_measures measure. Success@k is the hit rate: 1 if any relevant document
# is in the top k.
IR_MEASURES = {
    "nDCG@10": nDCG @ 10,
    "R@10": R @ 10,
    "R@100": R @ 100,
    "MRR@10": RR @ 10,
    "HitRate@10": Success @ 10,
}
CONFIDENCE = 0.95
RESAMPLES = 1000

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]


def ir_scores(
    qrels: Qrels, run: Run, measures: Mapping[str, Any] = IR_MEASURES
) -> dict[str, dict[str, float]]:
    """Per query id, each measure's value.

    A judged query with no relevant document scores NaN (unmeasured); a query that retrieved
    nothing scores 0.
    """
    by_measure = {str(m): name for name, m in measures.items()}
    scores: dict[str, dict[str, float]] = {}
    for qid, judged in qrels.items():
        relevant = any(score > 0 for score in judged.values())
        value = 0.0 if relevant else math.nan
        scores[qid] = dict.fromkeys(measures, value)
    present = {qid: dict(docs) for qid, docs in run.items() if docs and qid in qrels}
    rels = {qid: dict(qrels[qid]) for qid in present}
    for row in ir_measures.iter_calc(list(measures.values()), rels, present):
        if any(s > 0 for s in qrels[row.query_id].values()):
            scores[row.query_id][by_measure[str(row.measure)]] = float(row.value)
    return scores


@dataclass(frozen=True)
class Aggregate:
    """Mean of the measured values with a bootstrap confidence interval."""

    mean: float
    low: float
    high: float
    n: int
    unmeasured: int

    def as_dict(self) -> dict[str, float | int | None]:
        """JSON-safe form (NaN as None)."""
        return {
            "mean": _finite(self.mean),
            "low": _finite(self.low),
            "high": _finite(self.high),
            "n": self.n,
            "unmeasured": self.unmeasured,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, float | int | None]) -> "Aggregate":
        """Inverse of ``as_dict``."""

        def num(key: str) -> float:
            value = data.get(key)
            return math.nan if value is None else float(value)

        return cls(num("mean"), num("low"), num("high"), int(data.get("n") or 0),
                   int(data.get("unmeasured") or 0))  # fmt: skip


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def aggregate(
    values: Iterable[float],
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Aggregate:
    """Mean and percentile-bootstrap interval of the non-NaN values (seeded: reproducible)."""
    raw = np.asarray([math.nan if v is None else v for v in values], dtype=float)
    measured = raw[~np.isnan(raw)]
    unmeasured = int(raw.size - measured.size)
    if measured.size == 0:
        return Aggregate(math.nan, math.nan, math.nan, 0, unmeasured)
    mean = float(measured.mean())
    if measured.size < 2 or float(np.ptp(measured)) == 0.0:
        return Aggregate(mean, mean, mean, int(measured.size), unmeasured)
    from scipy import stats  # type: ignore[import-untyped]  # slow import: only when needed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.bootstrap(
            (measured,),
            np.mean,
            confidence_level=confidence,
            n_resamples=resamples,
            method="percentile",
            random_state=np.random.default_rng(seed),
        )
    ci = result.confidence_interval
    return Aggregate(mean, float(ci.low), float(ci.high), int(measured.size), unmeasured)


def aggregate_all(
    per_query: Sequence[Mapping[str, float]], *, seed: int = 0
) -> dict[str, Aggregate]:
    """One ``Aggregate`` per metric name found in any query's scores."""
    names = sorted({name for scores in per_query for name in scores})
    return {
        name: aggregate((s.get(name, math.nan) for s in per_query), seed=seed) for name in names
    }
