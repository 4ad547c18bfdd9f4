"""The real Anthropic and OpenAI SDKs against a scripted HTTP server on loopback.

No network: each test points the SDK's base URL at a local server that streams a reply or
fails the way the real APIs do (429, 401, 500, a timeout).
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from supercore_core import Settings
from supercore_core.errors import ConfigurationError, LLMProviderError
from supercore_core.llm import (
    AnthropicChatModel,
    ChatModel,
    ChatTurn,
    OfflineAnswerer,
    OpenAIChatModel,
    chat_model_for,
)
from supercore_core.models import Oracle
from tests.loopback import Script, serve


def _sse(events: list[tuple[str | None, dict[str, Any] | str]]) -> bytes:
    lines = []
    for event, data in events:
        if event:
            lines.append(f"event: {event}")
        lines.append(f"data: {data if isinstance(data, str) else json.dumps(data)}\n")
    return ("\n".join(lines) + "\n").encode()


OPENAI_STREAM = _sse(
    [
        (None, {"id": "c1", "object": "chat.completion.chunk", "created": 0,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Bread "},
                             "finish_reason": None}]}),
        (None, {"id": "c1", "object": "chat.completion.chunk", "created": 0,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "delta": {"content": "[1]."}, "finish_reason": "stop"}]}),
        (None, {"id": "c1", "object": "chat.completion.chunk", "created": 0,
                "model": "gpt-4o-mini-2024-07-18", "choices": [],
                "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}}),
        (None, "[DONE]"),
    ]
)  # fmt: skip
ANTHROPIC_STREAM = _sse(
    [
        ("message_start", {"type": "message_start", "message": {
            "id": "m1", "type": "message", "role": "assistant", "model": "claude-test-1",
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 42, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "Bread "}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "[1]."}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta",
                           "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 7}}),
        ("message_stop", {"type": "message_stop"}),
    ]
)  # fmt: skip


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    with serve() as running:
        yield running


def _settings(base: str, **extra: Any) -> Settings:
    return Settings(
        anthropic_api_key=SecretStr("sk-ant-test"),
        anthropic_base_url=base,
        openai_api_key=SecretStr("sk-test"),
        openai_base_url=f"{base}/v1",
        llm_timeout_s=extra.pop("llm_timeout_s", 5.0),
        llm_max_retries=0,
        **extra,
    )


def _model(provider: str, base: str, **extra: Any) -> ChatModel:
    settings = _settings(base, **extra)
    if provider == "anthropic":
        return AnthropicChatModel("claude-test-1", settings)
    return OpenAIChatModel("gpt-4o-mini", settings)


QUESTION = [ChatTurn("user", "What does the bakery sell?")]


@pytest.mark.parametrize(
    ("provider", "body", "model"),
    [("openai", OPENAI_STREAM, "gpt-4o-mini-2024-07-18"),
     ("anthropic", ANTHROPIC_STREAM, "claude-test-1")],
)  # fmt: skip
def test_streams_the_reply_and_reports_real_usage(
    server: tuple[str, Script], provider: str, body: bytes, model: str
) -> None:
    base, script = server
    script.body = body
    pieces: list[str] = []

    completion = _model(provider, base).complete(
        QUESTION, system="Cite passages.", max_tokens=64, on_token=pieces.append
    )

    assert pieces == ["Bread ", "[1]."] and completion.text == "Bread [1]."
    assert (completion.input_tokens, completion.output_tokens) == (42, 7)
    assert not completion.estimated and completion.model == model
    sent = json.dumps(script.requests[0])
    assert "Cite passages." in sent and "What does the bakery sell?" in sent


ERRORS = [
    (429, {"error": {"type": "rate_limit_error", "message": "slow down"}}, "rate limit.*HTTP 429"),
    (
        401,
        {"error": {"type": "authentication_error", "message": "bad key"}},
        "rejected the API key",
    ),
    (500, {"error": {"type": "api_error", "message": "boom"}}, "API error \\(HTTP 500\\)"),
]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize(("status", "payload", "message"), ERRORS)
def test_api_failures_become_one_clear_error(
    server: tuple[str, Script], provider: str, status: int, payload: Any, message: str
) -> None:
    base, script = server
    script.status, script.body = status, json.dumps(payload).encode()

    with pytest.raises(LLMProviderError, match=rf"^{provider} .*{message}"):
        _model(provider, base).complete(QUESTION, system="s", max_tokens=16)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_slow_api_times_out_with_a_hint(server: tuple[str, Script], provider: str) -> None:
    base, script = server
    script.delay_s, script.body = 2.0, OPENAI_STREAM

    with pytest.raises(LLMProviderError, match=r"did not answer within 0\.3 s.*LLM_TIMEOUT_S"):
        _model(provider, base, llm_timeout_s=0.3).complete(QUESTION, system="s", max_tokens=16)


def test_unreachable_api_is_a_clear_error() -> None:
    model = _model("openai", "http://127.0.0.1:9")  # discard port: nothing listens

    with pytest.raises(LLMProviderError, match="cannot reach the openai API"):
        model.complete(QUESTION, system="s", max_tokens=16)


def _oracle(provider: str) -> Oracle:
    return Oracle(oracle_name="o", llm_provider=provider, llm_model="m", temperature=0.2)


@pytest.mark.parametrize(
    ("provider", "keys", "expected"),
    [
        ("anthropic", True, AnthropicChatModel),
        ("openai", True, OpenAIChatModel),
        ("anthropic", False, OfflineAnswerer),
        ("openai", False, OfflineAnswerer),
        ("offline", True, OfflineAnswerer),
    ],
)
def test_oracle_provider_picks_the_model(provider: str, keys: bool, expected: type) -> None:
    settings = _settings("http://127.0.0.1:9") if keys else Settings(
        anthropic_api_key=None, openai_api_key=None)  # fmt: skip

    assert isinstance(chat_model_for(_oracle(provider), settings), expected)


def test_unknown_provider_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown LLM provider 'mistral'"):
        chat_model_for(_oracle("mistral"), Settings())
