"""Does a follow-up question need the conversation? The rule when no model rewrites it.

A question borrows the previous question only when it cannot stand on its own:

- it points back: a pronoun or demonstrative whose referent is in the conversation
  ("When does **it** open?", "Are **those** fees monthly?"), or it opens by continuing
  ("**And** in 2018?", "**What about** costs?"); or
- it is elliptical, with fewer than two content words of its own ("And 2019?", "Why?"),
  and retrieves nothing relevant by itself.

A complete new question ("What is the capital of France?") keeps its own words, so it finds
its own passages, or honestly none, instead of inheriting the previous topic's passages. The
question borrowed is the last one the oracle found something for (``ask`` picks it): after
"What is the capital of France?" found nothing, "And in 2018?" continues the topic before.
"""

import re
from collections.abc import Callable

from supercore_core.quoting import terms

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
