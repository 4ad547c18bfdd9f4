"""Embeddings from an OpenAI(-compatible) API, for oracles that name another model."""

from collections.abc import Sequence

from supercore_core.config import Settings
from supercore_core.embedding.base import DEFAULT_DIMENSIONS, unit
from supercore_core.errors import ConfigurationError
from supercore_core.llm import count_tokens, openai_client, provider_errors


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
        return [unit(v) for v in vectors]

    def count_tokens(self, text: str) -> int:
        """cl100k tokens."""
        return count_tokens(text)
