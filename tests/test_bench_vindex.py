"""The vector-index benchmark's real-embedding path (benchmarks/vindex.py), in a tiny run.

SciFact is non-commercial and lives outside the project: these tests skip without it.
"""

from pathlib import Path

import pytest

from benchmarks.common import SCIFACT
from benchmarks.vindex import MIN_WORDS, run_search, scifact_texts

pytestmark = pytest.mark.skipif(
    not (SCIFACT / "corpus.jsonl").is_file(), reason=f"SciFact not found at {SCIFACT}"
)


def test_scifact_texts_are_sentences_in_corpus_order_and_the_first_queries() -> None:
    sentences, claims = scifact_texts(SCIFACT, 50, 7)
    assert len(sentences) == 50 and len(claims) == 7
    assert all(len(s.split()) >= MIN_WORDS for s in sentences)
    assert sentences == scifact_texts(SCIFACT, 60, 1)[0][:50]


@pytest.mark.slow
def test_tiny_run_measures_real_oracles_in_the_shared_table(tmp_path: Path) -> None:
    found = run_search(
        [300], tenants=2, background=200, queries=5, ingest_rows=50, real=SCIFACT,
        real_sizes=(100, 250), cache_dir=tmp_path,
    )  # fmt: skip
    real = found["real"]
    assert real["embedder"].startswith("all-MiniLM-L6-v2") and real["queries"] == 5
    assert [r["chunks"] for r in real["by_size"]] == [100, 250]
    for figures in [*found["by_size"], *real["by_size"]]:
        assert 0 <= figures["recall_at_10"]["own_index"] <= 1
        assert figures["latency"]["own_index"]["n"] == 5
    assert found["table_rows"] == 200 + 3 * 50 + 300 + 100 + 250
    assert len(list(tmp_path.glob("*.npy"))) == 2  # sentences and queries, cached
