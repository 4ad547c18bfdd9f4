"""Test doubles injected where the library takes a Protocol-typed parameter."""

import hashlib
import math
import re
from collections.abc import Callable, Sequence

from supercore_core.llm import ChatTurn, Completion

_WORD = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """A deterministic bag-of-words embedder: texts that share words are close.

    Each lowercase word is hashed (sha256, so the same across processes) into one of
    ``dimensions`` buckets; the counts are scaled to unit length. Every text embedded is
    appended to ``embedded`` and every call counted in ``calls``.
    """

    model_name = "fake-hashing"
    dimensions = 384

    def __init__(self) -> None:
        self.embedded: list[str] = []
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        self.embedded.extend(texts)
        return [self.vector(text) for text in texts]

    def vector(self, text: str) -> list[float]:
        values = [0.0] * self.dimensions
        for word in _WORD.findall(text.lower()):
            digest = hashlib.sha256(word.encode()).digest()
            values[int.from_bytes(digest[:4], "big") % self.dimensions] += 1.0
        norm = math.sqrt(sum(v * v for v in values))
        if norm == 0.0:  # no words: a fixed unit vector rather than a zero one
            return [1.0] + [0.0] * (self.dimensions - 1)
        return [v / norm for v in values]

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class ProbingEmbedder(HashingEmbedder):
    """A HashingEmbedder that calls ``probe`` before embedding (to look at the database mid-run)."""

    def __init__(self, probe: Callable[[], None]) -> None:
        super().__init__()
        self.probe = probe

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.probe()
        return super().embed(texts)


class FakeChatModel:
    """A scripted ChatModel: fixed replies and token counts, or a provider error.

    ``replies`` are returned in turn (the last one repeats); every call's messages and
    system prompt are kept in ``calls``.
    """

    offline = False

    def __init__(
        self,
        *replies: str,
        provider: str = "openai",
        model: str = "gpt-4o-mini",
        input_tokens: int = 1000,
        output_tokens: int = 500,
        error: Exception | None = None,
    ) -> None:
        self.replies = list(replies) or ["The answer is in the context [1]."]
        self.provider, self.model = provider, model
        self.input_tokens, self.output_tokens = input_tokens, output_tokens
        self.error = error
        self.calls: list[tuple[list[ChatTurn], str]] = []

    def complete(
        self,
        messages: Sequence[ChatTurn],
        *,
        system: str,
        max_tokens: int,
        on_token: Callable[[str], None] | None = None,
    ) -> Completion:
        self.calls.append((list(messages), system))
        if self.error is not None:
            raise self.error
        reply = self.replies[min(len(self.calls), len(self.replies)) - 1]
        for word in reply.split(" "):
            if on_token:
                on_token(word + " ")
        return Completion(reply, self.input_tokens, self.output_tokens, False, self.model)
