"""The langchain-postgres comparison's scoring and verdict (benchmarks/langchain_compare.py).

The benchmark itself needs its own environment (langchain-postgres); these parts do not.
"""

from benchmarks.langchain_compare import asyncpg_url, document_run, round_trips, verdict


def test_document_run_keeps_each_document_at_its_best_chunk() -> None:
    run = document_run(["d2", "d1", "d2", "d3", "d1"])
    assert sorted(run, key=run.__getitem__, reverse=True) == ["d2", "d1", "d3"]


def test_round_trips_count_simple_queries_by_text_and_syncs() -> None:
    trace = "\n".join(
        [
            'F\t10\tQuery\t "BEGIN"',
            'F\t40\tParse\t "" "SELECT 1" 0',
            "F\t4\tSync",
            "B\t5\tReadyForQuery\t T",
            'F\t11\tQuery\t "COMMIT"',
            'F\t10\tQuery\t "BEGIN"',
            "F\t4\tSync",
        ]
    )
    assert round_trips(trace) == {"simple_queries": {"BEGIN": 2, "COMMIT": 1}, "syncs": 2}


NAMES = ("supercore_dense", "langchain_dense", "supercore_hybrid", "langchain_hybrid")


def _figures(p50: tuple[float, ...], ndcg: tuple[float, ...]) -> tuple[dict, dict]:
    latency = {name: {"k10": {"p50_ms": ms}} for name, ms in zip(NAMES, p50, strict=True)}
    scores = {n: {"nDCG@10": v, "R@100": 0.9} for n, v in zip(NAMES, ndcg, strict=True)}
    return latency, scores


def test_verdict_needs_half_the_latency_and_no_quality_loss() -> None:
    latency, scores = _figures((5, 10, 5, 8), (0.7, 0.7, 0.8, 0.7))
    result = verdict(latency, scores)
    assert result["dense"]["met"] is True
    assert result["hybrid"]["ratio_p50_k10_supercore_vs_langchain"] == 0.62
    assert result["hybrid"]["met"] is False


def test_verdict_fails_a_faster_search_that_ranks_worse() -> None:
    latency, scores = _figures((1, 10, 1, 10), (0.69, 0.7, 0.8, 0.7))
    result = verdict(latency, scores)
    assert result["dense"]["quality_equal_or_better"] is False
    assert result["dense"]["met"] is False
    assert result["hybrid"]["met"] is True


def test_asyncpg_url_keeps_everything_but_the_scheme() -> None:
    url = "postgresql://bench@localhost:5433/bench?host=/tmp/x"
    assert asyncpg_url(url) == "postgresql+asyncpg://bench@localhost:5433/bench?host=/tmp/x"
