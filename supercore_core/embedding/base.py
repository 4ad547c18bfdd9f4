"""The embedder Protocol and what every implementation shares."""

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_DIMENSIONS = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors and counts tokens the way the model does.

    ``model_name`` keys the embedding cache and is stored on every chunk: it names the
    model and, for another implementation than the reference one, that implementation
    (``all-MiniLM-L6-v2+onnx-int8``), so stored vectors say what produced them.
    """

    model_name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text`` (special tokens excluded)."""
        ...


def unit(vector: list[float]) -> list[float]:
    """``vector`` scaled to length 1 (a zero vector is returned as is)."""
    norm = sum(v * v for v in vector) ** 0.5
    return [v / norm for v in vector] if norm else vector
