"""IR metrics against hand-computed values; NaN is unmeasured; bootstrap intervals."""

import math

import pytest

from supercore_core.evaluation.metrics import Aggregate, aggregate, aggregate_all, ir_scores

QRELS = {
    "q1": {"d1": 1, "d3": 1},
    "q2": {"d9": 1},
    "q3": {"d5": 1},
    "q4": {"d2": 0},  # judged, nothing relevant: unmeasured
}
RUN = {
    "q1": {"d1": 0.9, "d2": 0.8, "d3": 0.7},  # relevant at ranks 1 and 3
    "q2": {"d4": 0.9, "d9": 0.5},  # relevant at rank 2
    "q3": {},  # nothing retrieved
    "q4": {"d2": 0.4},
}


def test_ir_scores_match_hand_computed_values() -> None:
    scores = ir_scores(QRELS, RUN)
    # q1: DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) = 1.6309
    assert scores["q1"]["nDCG@10"] == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert scores["q1"]["MRR@10"] == pytest.approx(1.0)
    assert scores["q1"]["R@10"] == pytest.approx(1.0)
    assert scores["q1"]["HitRate@10"] == pytest.approx(1.0)
    # q2: one relevant at rank 2: nDCG = 1/log2(3), RR = 1/2
    assert scores["q2"]["nDCG@10"] == pytest.approx(1 / math.log2(3))
    assert scores["q2"]["MRR@10"] == pytest.approx(0.5)
    assert scores["q2"]["HitRate@10"] == pytest.approx(1.0)


def test_a_query_that_retrieved_nothing_scores_zero() -> None:
    assert set(ir_scores(QRELS, RUN)["q3"].values()) == {0.0}


def test_a_query_without_relevant_documents_is_unmeasured() -> None:
    assert all(math.isnan(v) for v in ir_scores(QRELS, RUN)["q4"].values())


def test_nan_is_counted_never_averaged_in() -> None:
    result = aggregate([1.0, 0.0, math.nan, 1.0, math.nan])
    assert result.mean == pytest.approx(2 / 3)
    assert (result.n, result.unmeasured) == (3, 2)


def test_bootstrap_interval_brackets_the_mean_and_is_reproducible() -> None:
    values = [0.0, 1.0] * 20 + [1.0] * 10
    result = aggregate(values, seed=7)
    assert result.low < result.mean < result.high
    assert result.mean == pytest.approx(0.6)
    assert 0.45 < result.low < 0.55 and 0.65 < result.high < 0.75  # normal approx: 0.46-0.74
    assert aggregate(values, seed=7) == result


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], (None, 0, 0)),
        ([math.nan], (None, 0, 1)),
        ([0.4], (0.4, 1, 0)),
        ([0.5, 0.5, 0.5], (0.5, 3, 0)),
    ],
)
def test_degenerate_samples(values: list[float], expected: tuple[float | None, int, int]) -> None:
    result = aggregate(values)
    mean, n, unmeasured = expected
    assert (result.n, result.unmeasured) == (n, unmeasured)
    if mean is None:
        assert math.isnan(result.mean) and math.isnan(result.low)
    else:
        assert result.low == result.mean == result.high == pytest.approx(mean)


def test_aggregate_all_and_json_round_trip() -> None:
    per_query = [{"a": 1.0, "b": math.nan}, {"a": 0.0}]
    result = aggregate_all(per_query)
    assert result["a"].mean == pytest.approx(0.5)
    assert result["b"].n == 0 and result["b"].unmeasured == 2
    data = result["b"].as_dict()
    assert data["mean"] is None
    back = Aggregate.from_dict(data)
    assert math.isnan(back.mean) and back.unmeasured == 2
