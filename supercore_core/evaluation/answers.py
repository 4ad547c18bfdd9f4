"""Answers for evaluation runs: the oracle's chat model over the retrieved chunks.

The prompt is built the way chat builds it (numbered passages, then the question, the
default system prompt), but nothing is stored as a conversation: evaluation traffic must
not show up as usage.
"""

import time
from collections.abc import Sequence

from supercore_core.chat import DEFAULT_SYSTEM_PROMPT, context_message
from supercore_core.config import Settings
from supercore_core.evaluation.runner import Answerer, AnswerOutcome
from supercore_core.llm import ChatModel, ChatTurn
from supercore_core.pricing import cost_of
from supercore_core.retrieval import Hit

DEFAULT_MAX_TOKENS = 512


def prompt_for(question: str, hits: Sequence[Hit]) -> list[ChatTurn]:
    """The user message a chat model sees: numbered passages, then the question."""
    return [ChatTurn("user", context_message(hits, question))]


def answerer_for(
    chat_model: ChatModel,
    settings: Settings,
    *,
    system: str = DEFAULT_SYSTEM_PROMPT,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> Answerer:
    """An ``Answerer`` that asks ``chat_model`` and prices each call (None = unpriced)."""

    def answer(question: str, hits: Sequence[Hit]) -> AnswerOutcome:
        started = time.perf_counter()
        completion = chat_model.complete(
            prompt_for(question, hits), system=system, max_tokens=max_tokens
        )
        cost = cost_of(chat_model.provider, completion.model, completion.input_tokens,
                       completion.output_tokens, settings=settings)  # fmt: skip
        return AnswerOutcome(
            completion.text,
            completion.input_tokens,
            completion.output_tokens,
            cost,
            completion.model,
            int((time.perf_counter() - started) * 1000),
        )

    return answer
