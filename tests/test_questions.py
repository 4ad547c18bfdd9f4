"""Questions and chat session ids: length limit, NUL and control characters refused."""

import pytest

from supercore_core.config import Settings
from supercore_core.errors import InvalidQuestionError
from supercore_core.questions import DEFAULT_MAX_QUESTION_CHARS, check_question, check_session_id


def test_a_normal_question_passes_unchanged() -> None:
    question = "How did fees change in 2019?\nAnd costs?\t(see table)\f"
    assert check_question(question) == question


def test_the_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().max_question_chars == DEFAULT_MAX_QUESTION_CHARS == 4000
    monkeypatch.setenv("SUPERCORE_MAX_QUESTION_CHARS", "50")
    assert Settings().max_question_chars == 50


def test_too_long() -> None:
    with pytest.raises(InvalidQuestionError) as caught:
        check_question("word " * 1000)
    assert str(caught.value) == (
        "the question is 5,000 characters long, over the limit of 4,000 "
        "(setting SUPERCORE_MAX_QUESTION_CHARS): shorten it"
    )
    assert check_question("x" * 5000, max_chars=None) == "x" * 5000


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("fees\x00", "control character U\\+0000 at position 5"),
        ("\x1b[2Jfees", "control character U\\+001B at position 1"),
        ("fees\x7f", "U\\+007F"),
        ("fees\x9b", "U\\+009B"),
        ("fees \udcff", "not valid UTF-8 text"),
    ],
)
def test_control_characters(question: str, message: str) -> None:
    with pytest.raises(InvalidQuestionError, match=f"^the question .*{message}"):
        check_question(question)


@pytest.mark.parametrize(
    ("session_id", "message"),
    [
        ("", "the chat session id is empty"),
        ("  ", "the chat session id is empty"),
        ("cli-1\x00", "the chat session id contains the control character U\\+0000"),
        ("cli-\n1", "U\\+000A"),
        ("s" * 201, "201 characters long, over the limit of 200"),
    ],
)
def test_session_ids(session_id: str, message: str) -> None:
    with pytest.raises(InvalidQuestionError, match=message):
        check_session_id(session_id)
    assert check_session_id("dash-0123abcd") == "dash-0123abcd"
