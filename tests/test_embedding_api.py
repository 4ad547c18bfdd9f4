"""The OpenAI-compatible embedder (real SDK, loopback server) and choosing an oracle's embedder."""

import json
import math

import pytest
from pydantic import SecretStr

from supercore_core import Settings
from supercore_core.embedding import (
    MiniLMEmbedder,
    OnnxMiniLMEmbedder,
    OpenAIEmbedder,
    embedder_for,
)
from supercore_core.errors import ConfigurationError, LLMProviderError
from supercore_core.models import Oracle
from tests.loopback import serve


def _settings(base: str, key: str | None = "sk-test") -> Settings:
    return Settings(
        openai_api_key=SecretStr(key) if key else None,
        openai_base_url=f"{base}/v1",
        llm_max_retries=0,
    )


def _response(*vectors: list[float]) -> bytes:
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
    # Out of order on purpose: the embedder must sort by index.
    return json.dumps({"object": "list", "data": data[::-1], "model": "m",
                       "usage": {"prompt_tokens": 4, "total_tokens": 4}}).encode()  # fmt: skip


def test_embeds_in_order_normalised_with_requested_dimensions() -> None:
    with serve() as (base, script):
        script.body = _response([3.0, 4.0, 0.0], [0.0, 0.0, 2.0])
        embedder = OpenAIEmbedder("text-embedding-3-small", _settings(base), dimensions=3)

        vectors = embedder.embed(["first text", "second text"])

    assert vectors == [[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]]
    assert all(math.isclose(sum(x * x for x in v), 1.0) for v in vectors)
    assert script.requests[0]["dimensions"] == 3
    assert script.requests[0]["input"] == ["first text", "second text"]


def test_wrong_vector_length_is_a_clear_error() -> None:
    with serve() as (base, script):
        script.body = _response([1.0, 0.0])
        embedder = OpenAIEmbedder("m", _settings(base), dimensions=3)

        with pytest.raises(ConfigurationError, match="another length than 3"):
            embedder.embed(["x"])


def test_api_failure_is_a_provider_error() -> None:
    with serve() as (base, script):
        script.status, script.body = 401, b'{"error": {"message": "bad key"}}'

        with pytest.raises(LLMProviderError, match="rejected the API key"):
            OpenAIEmbedder("m", _settings(base)).embed(["x"])


def test_no_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="SUPERCORE_OPENAI_API_KEY"):
        OpenAIEmbedder("text-embedding-3-small", _settings("http://127.0.0.1:9", key=None))


@pytest.mark.parametrize(
    ("model", "implementation", "expected"),
    [
        ("all-MiniLM-L6-v2", "onnx", OnnxMiniLMEmbedder),
        ("all-MiniLM-L6-v2", "torch", MiniLMEmbedder),
        ("text-embedding-3-small", "onnx", OpenAIEmbedder),
    ],
)
def test_oracle_embedding_model_picks_the_embedder(
    model: str, implementation: str, expected: type
) -> None:
    oracle = Oracle(embedding_model=model, embedding_dimensions=384)
    settings = _settings("http://127.0.0.1:9").model_copy(update={"embedder": implementation})

    assert isinstance(embedder_for(oracle, settings), expected)
