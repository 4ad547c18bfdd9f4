"""Embedding throughput of MiniLMEmbedder: batched vs one text at a time."""

from typing import Any

import numpy as np
import torch

from benchmarks.common import load_average, progress, ratio, timed, write_result
from supercore_core.config import PROJECT_ROOT
from supercore_core.embedding import MiniLMEmbedder

WORDS_PER_TEXT = 60


def prose(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` windows of 60 consecutive words of the project README (real English)."""
    words = (PROJECT_ROOT / "README.md").read_text().split()
    starts = rng.integers(0, len(words) - WORDS_PER_TEXT, size=count)
    return [" ".join(words[s : s + WORDS_PER_TEXT]) for s in starts]


def run(count: int = 512, single: int = 128, batch_size: int = 64, seed: int = 3) -> dict[str, Any]:
    """Texts/s embedding ``count`` texts of ~60 words in batches vs one call per text.

    The one-at-a-time baseline embeds the first ``single`` of the same texts (texts/s is
    comparable; all 512 one by one take minutes on a busy 2-core machine).
    """
    load_at_start = load_average()
    corpus = prose(np.random.default_rng(seed), count)
    single = min(single, count)
    embedder = MiniLMEmbedder(batch_size=batch_size)
    progress("embed: loading the model (not timed)")
    load_s, _ = timed(lambda: embedder.embed(corpus[:batch_size]))
    progress(f"embed: {count} texts in batches of {batch_size}")
    batched_s, batched = timed(lambda: embedder.embed(corpus))
    progress(f"embed: {single} of the same texts one at a time")
    single_s, one_by_one = timed(lambda: [embedder.embed([t])[0] for t in corpus[:single]])
    # The same vectors either way (padding in a batch moves them by float noise only).
    products = np.asarray(batched[:single]) * np.asarray(one_by_one)
    agreement = float(np.min(np.sum(products, axis=1)))
    batched_rate = round(count / batched_s, 1)
    single_rate = round(single / single_s, 1)
    results = {
        "batched": {"texts": count, "seconds": round(batched_s, 2), "texts_per_s": batched_rate},
        "one_at_a_time": {
            "texts": single,
            "seconds": round(single_s, 2),
            "texts_per_s": single_rate,
        },
        "ratio_batched_vs_one_at_a_time": ratio(batched_rate, single_rate),
        "min_cosine_batched_vs_single": round(agreement, 6),
        "model_load_and_first_batch_s": round(load_s, 2),
    }
    params = {
        "texts": count,
        "words_per_text": WORDS_PER_TEXT,
        "text": "60-word windows of README.md",
        "batch_size": batch_size,
        "model": embedder.model_name,
        "mean_tokens_per_text": float(np.mean([embedder.count_tokens(t) for t in corpus])),
        "torch_threads": torch.get_num_threads(),
        "seed": seed,
        "load_average_1m_at_start": load_at_start,
    }
    path = write_result("embed", {"params": params, "results": results})
    progress(f"embed: wrote {path}")
    return results
