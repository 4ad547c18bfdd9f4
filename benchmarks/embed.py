"""Embedding throughput of the bundled MiniLM: PyTorch vs ONNX fp32 vs ONNX int8.

Same run, same texts: real chunks (the library's parser and chunker) of the TAT-QA gate set
in evals/ and, when ``../shared/datasets/scifact`` is present, of SciFact abstracts. The
implementations are timed in interleaved rounds (the machine is shared, so its load moves),
each figure is the median round. Cosines are against PyTorch's vectors of the same texts;
dense nDCG@10 is on the gate set (``supercore_core.embedding.parity``). Also: a cold start
per implementation (a fresh interpreter that loads the model and embeds one query), and
batched vs one text at a time for the default implementation.
"""

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import load_average, progress, ratio, timed, write_result
from supercore_core import Settings
from supercore_core.config import PROJECT_ROOT
from supercore_core.embedding import IMPLEMENTATIONS, Embedder, minilm_embedder
from supercore_core.embedding.parity import GATE_SET, cosines, dense_ndcg, folders
from supercore_core.ingest.chunking import ChunkingConfig, chunk_blocks
from supercore_core.ingest.parsers import parse_bytes

SCIFACT = PROJECT_ROOT.parent / "shared" / "datasets" / "scifact"
ROUNDS = 3


def chunk_texts(corpus: Path, embedder: Embedder, limit: int) -> list[str]:
    """Chunk texts of the first documents of a BEIR corpus, as ingestion makes them."""
    texts: list[str] = []
    with corpus.open(encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            body = "\n\n".join(p for p in (doc.get("title", ""), doc.get("text", "")) if p)
            blocks = parse_bytes(body.encode(), f"{doc['_id']}.txt").blocks
            texts += [c.text for c in chunk_blocks(blocks, embedder, ChunkingConfig())]
            if len(texts) >= limit:
                return texts[:limit]
    return texts


def text_sets(embedder: Embedder, count: int) -> dict[str, list[str]]:
    """Named sets of real chunk texts (the gate set always, SciFact when present)."""
    gate: list[str] = []
    for folder in sorted(p for p in GATE_SET.iterdir() if p.is_dir()):
        gate += chunk_texts(folder / "corpus.jsonl", embedder, count)
    sets = {"tatqa-gate": gate[:count]}
    if (SCIFACT / "corpus.jsonl").is_file():
        sets["scifact"] = chunk_texts(SCIFACT / "corpus.jsonl", embedder, count)
    return sets


def cold_start_s(implementation: str) -> float:
    """Wall time of a fresh interpreter that loads the embedder and embeds one query."""
    script = (
        "from supercore_core import Settings\n"
        "from supercore_core.embedding import minilm_embedder\n"
        f"minilm_embedder(Settings(embedder={implementation!r})).embed(['fees'])\n"
    )
    seconds, _ = timed(
        lambda: subprocess.run(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", script], check=True, cwd=PROJECT_ROOT, capture_output=True
        )
    )
    return round(seconds, 2)


def throughput(embedders: dict[str, Embedder], texts: list[str]) -> dict[str, Any]:
    """Texts/s per implementation (median of interleaved rounds) and cosines to PyTorch."""
    seconds: dict[str, list[float]] = {name: [] for name in embedders}
    vectors: dict[str, list[list[float]]] = {}
    for round_ in range(ROUNDS):
        progress(f"embed: round {round_ + 1}/{ROUNDS}, {len(texts)} texts")
        for name, embedder in embedders.items():
            took, vectors[name] = timed(lambda e=embedder: e.embed(texts))
            seconds[name].append(took)
    rates = {name: len(texts) / statistics.median(s) for name, s in seconds.items()}
    figures: dict[str, Any] = {}
    for name in embedders:
        agreement = cosines(vectors["torch"], vectors[name])
        figures[name] = {
            "texts_per_s": round(rates[name], 1),
            "texts_per_s_rounds": [round(len(texts) / s, 1) for s in seconds[name]],
            "ratio_vs_torch": ratio(rates[name], rates["torch"]),
            "cosine_to_torch_mean": round(agreement.mean, 5),
            "cosine_to_torch_min": round(agreement.min, 5),
        }
    return figures


def one_at_a_time(embedder: Embedder, texts: list[str], single: int) -> dict[str, Any]:
    """Batched vs one ``embed([text])`` call per text, for the first ``single`` texts."""
    batched_s, _ = timed(lambda: embedder.embed(texts))
    single_s, _ = timed(lambda: [embedder.embed([t]) for t in texts[:single]])
    batched_rate, single_rate = len(texts) / batched_s, single / single_s
    return {
        "batched_texts_per_s": round(batched_rate, 1),
        "one_at_a_time_texts_per_s": round(single_rate, 1),
        "ratio_batched_vs_one_at_a_time": ratio(batched_rate, single_rate),
    }


def run(count: int = 512, single: int = 128, batch_size: int = 64, seed: int = 3) -> dict[str, Any]:
    """PyTorch vs ONNX fp32 vs ONNX int8 on the same real chunk texts, in one run."""
    load_at_start = load_average()
    progress("embed: cold starts (a fresh interpreter each)")
    cold = {name: cold_start_s(name) for name in IMPLEMENTATIONS}
    settings = Settings()
    embedders = {name: minilm_embedder(settings, name) for name in ("torch", "onnx", "onnx-int8")}
    for embedder in embedders.values():
        embedder.embed(["warm up the model"])
    sets = text_sets(embedders["onnx"], count)
    results: dict[str, Any] = {"cold_start_s": cold}
    for name, texts in sets.items():
        results[name] = throughput(embedders, texts)
    progress("embed: dense nDCG@10 on the gate set")
    gate = folders()
    results["gate_ndcg_at_10"] = {n: round(dense_ndcg(e, gate), 4) for n, e in embedders.items()}
    default = settings.embedder
    results["one_at_a_time"] = one_at_a_time(embedders[default], sets["tatqa-gate"], single)
    counter = embedders["onnx"]
    params = {
        "sets": {
            name: {
                "texts": len(texts),
                "mean_tokens": round(float(np.mean([counter.count_tokens(t) for t in texts])), 1),
            }
            for name, texts in sets.items()
        },
        "rounds": ROUNDS,
        "default_implementation": default,
        "implementations": {n: e.model_name for n, e in embedders.items()},
        "load_average_1m_at_start": load_at_start,
        "load_average_1m_at_end": load_average(),
        "seed": seed,
        "batch_size_torch": batch_size,
    }
    path = write_result("embed", {"params": params, "results": results})
    progress(f"embed: wrote {path}")
    return results
