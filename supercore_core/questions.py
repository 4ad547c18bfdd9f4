"""Checks on what users type: questions and chat session ids.

PostgreSQL refuses NUL in text, control characters rewrite terminals and logs, and an
unbounded question costs embedding, full-text and model work: each is refused up front with
a message that says what to change.
"""

import re

from supercore_core.errors import InvalidQuestionError

DEFAULT_MAX_QUESTION_CHARS = 4000
MAX_SESSION_ID_CHARS = 200
# C0 and C1 control characters except tab, newline, carriage return, vertical tab and form
# feed (plain whitespace in pasted text), and lone surrogates (undecodable input bytes).
_REFUSED = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_REFUSED_IN_IDS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # no line breaks either


def check_question(question: str, *, max_chars: int | None = DEFAULT_MAX_QUESTION_CHARS) -> str:
    """``question`` if it is allowed (unchanged).

    Args:
        question: What the user asked.
        max_chars: The longest question allowed (``Settings.max_question_chars``); None
            skips the length check (a question built from checked ones).

    Raises:
        InvalidQuestionError: Too long, or holds a control character or undecodable bytes.
    """
    if max_chars is not None and len(question) > max_chars:
        raise InvalidQuestionError(
            f"the question is {len(question):,} characters long, over the limit of "
            f"{max_chars:,} (setting SUPERCORE_MAX_QUESTION_CHARS): shorten it"
        )
    _refuse_characters(question, "the question", _REFUSED)
    return question


def check_session_id(session_id: str) -> str:
    """``session_id`` if it can name a conversation (unchanged).

    Raises:
        InvalidQuestionError: Blank, longer than 200 characters or holding control characters.
    """
    if not session_id.strip():
        raise InvalidQuestionError("the chat session id is empty")
    if len(session_id) > MAX_SESSION_ID_CHARS:
        raise InvalidQuestionError(
            f"the chat session id is {len(session_id):,} characters long, over the limit of "
            f"{MAX_SESSION_ID_CHARS}: use a shorter one"
        )
    _refuse_characters(session_id, "the chat session id", _REFUSED_IN_IDS)
    return session_id


def _refuse_characters(value: str, what: str, refused: re.Pattern[str]) -> None:
    found = refused.search(value)
    if found is None:
        return
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        raise InvalidQuestionError(f"{what} is not valid UTF-8 text: retype it")
    raise InvalidQuestionError(
        f"{what} contains the control character U+{ord(char):04X} at position "
        f"{found.start() + 1}: remove it and try again"
    )
