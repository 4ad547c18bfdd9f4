"""Opt-in: real provider calls with your keys (`pytest -m llm`); skipped without a key."""

import pytest

from supercore_core import Settings
from supercore_core.llm import AnthropicChatModel, ChatModel, ChatTurn, OpenAIChatModel
from supercore_core.pricing import cost_of

pytestmark = pytest.mark.llm


def _live(provider: str) -> ChatModel:
    settings = Settings()
    if provider == "anthropic" and settings.anthropic_api_key:
        return AnthropicChatModel("claude-3-5-haiku-latest", settings)
    if provider == "openai" and settings.openai_api_key:
        return OpenAIChatModel("gpt-4o-mini", settings)
    pytest.skip(f"no {provider} key: set SUPERCORE_{provider.upper()}_API_KEY to run")


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_a_real_model_answers_from_the_context_and_is_priced(provider: str) -> None:
    model = _live(provider)
    pieces: list[str] = []
    prompt = "Context:\n\n[1] (a.txt, chunk 0)\nThe vault code is 4711.\n\nQuestion: The code?"

    completion = model.complete(
        [ChatTurn("user", prompt)], system="Answer from the context.", max_tokens=50,
        on_token=pieces.append,
    )  # fmt: skip

    assert "4711" in completion.text and "".join(pieces) == completion.text
    assert completion.input_tokens > 10 and not completion.estimated
    cost = cost_of(provider, completion.model, completion.input_tokens, completion.output_tokens,
                   settings=Settings())  # fmt: skip
    assert cost is not None and cost > 0
