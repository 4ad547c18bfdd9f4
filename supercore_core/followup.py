"""Does a follow-up question need the conversation? The rule when no model rewrites it.

A question borrows the previous question only when it cannot stand on its own:

- it points back: a pronoun or demonstrative whose referent is in the conversation
  ("When does **it** open?", "Are **those** fees monthly?"), or it opens by continuing
  ("**And** in 2018?", "**What about** costs?"); or
- it is elliptical, with fewer than two content words of its own ("And 2019?", "Why?"),
  and retrieves nothing relevant by itself.

A complete new question ("What is the capital of France?") keeps its own words, so it finds
its own passages, or honestly none, instead of inheriting the previous topic's passages. The
question borrowed is the last one the oracle found something for (``topic``): after "What is
the capital of France?" found nothing, "And in 2018?" continues the topic before.
"""

import re
from collections.abc import Callable

from supercore_core.errors import LLMProviderError
from supercore_core.llm import ChatModel, ChatTurn, Completion
from supercore_core.quoting import terms

REWRITE_PROMPT = (
    "Rewrite the user's last question as one standalone question that can be understood "
    "without the conversation. Reply with the question only."
)

REFERRING = frozenset(
    re.findall(
        r"\w+",
        "it its itself they them their theirs themselves this that these those he him his "
        "she her hers former latter same else",
    )
)
_WORD = re.compile(r"[a-z]+")


_CONTINUING = re.compile(r"^\s*(?:and|or|but|also|what about|how about)\b", re.IGNORECASE)


def refers_back(question: str) -> bool:
    """True when the question points at something said earlier: a pronoun or demonstrative,
    or an opening that continues the last question ("And in 2018?", "What about costs?")."""
    if _CONTINUING.match(question):
        return True
    return any(w in REFERRING for w in _WORD.findall(question.lower()))


def needs_previous(question: str, found_alone: Callable[[], bool]) -> bool:
    """Whether ``question`` should be searched together with the previous question.

    ``found_alone`` retrieves with the question by itself and says whether anything
    relevant came back; it is called only for elliptical questions.
    """
    if refers_back(question):
        return True
    return len(terms(question)) < 2 and not found_alone()


def standalone(previous: str, question: str, found_alone: Callable[[], bool]) -> str:
    """The text to retrieve with: the question, or the previous question and the question."""
    return f"{previous} {question}" if needs_previous(question, found_alone) else question


def standalone_question(
    chat_model: ChatModel,
    history: list[ChatTurn],
    question: str,
    *,
    found: Callable[[str], bool],
    unanswered: str,
) -> tuple[str, Completion | None]:
    """The follow-up as a standalone question for retrieval, and the rewrite call if any.

    A model rewrites it with the last turns; offline, or when that call fails, ``standalone``
    decides, borrowing ``topic(history)``. ``found`` says whether a query retrieves anything
    relevant; ``unanswered`` is the reply that means it did not.
    """
    if not history:
        return question, None
    if not chat_model.offline:
        transcript = "\n".join(f"{t.role}: {t.content}" for t in history[-4:])
        ask_rewrite = ChatTurn("user", f"{transcript}\nuser: {question}")
        try:
            rewrite = chat_model.complete([ask_rewrite], system=REWRITE_PROMPT, max_tokens=200)
        except LLMProviderError:  # the answer call reports the failure with the message kept
            rewrite = None
        if rewrite is not None:
            return rewrite.text.strip() or question, rewrite
    previous = topic(history, unanswered)
    return standalone(previous, question, lambda: found(question)), None


def topic(history: list[ChatTurn], unanswered: str) -> str:
    """The last question that got a real answer (else simply the last question): after
    "What is the capital of France?" found nothing, a follow-up continues the topic before."""
    pairs = list(zip(history[::2], history[1::2], strict=False))
    for asked, answered in reversed(pairs):
        if answered.content != unanswered:
            return asked.content
    return next(t.content for t in reversed(history) if t.role == "user")
