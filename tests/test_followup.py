"""When a follow-up borrows the previous question (no model to rewrite it)."""

import pytest

from supercore_core.followup import needs_previous, refers_back, standalone, topic
from supercore_core.llm import ChatTurn


def never_called() -> bool:
    raise AssertionError("a question that decides by its words alone must not search")


@pytest.mark.parametrize(
    "question",
    ["When does it open?", "What about those fees?", "Is that true for 2019 as well?",
     "How did their revenue change?", "What else?", "And in 2018?", "What about net income?",
     "how about the dividend policy"],
)  # fmt: skip
def test_a_question_that_points_back_borrows(question: str) -> None:
    assert refers_back(question)
    assert needs_previous(question, never_called)


@pytest.mark.parametrize(
    "question",
    ["What is the capital of France?", "What was interest income in 2019?",
     "Which vessels did the group sell?"],
)  # fmt: skip
def test_a_complete_new_question_stands_alone(question: str) -> None:
    assert not refers_back(question)
    assert standalone("What does the turbine report say?", question, never_called) == question


@pytest.mark.parametrize(
    ("question", "found_alone", "borrows"),
    [("2019?", False, True), ("2019?", True, False), ("Why?", False, True),
     ("Dividends?", True, False)],
)  # fmt: skip
def test_an_elliptical_question_borrows_only_when_it_finds_nothing_alone(
    question: str, found_alone: bool, borrows: bool
) -> None:
    calls: list[str] = []

    def search_alone() -> bool:
        calls.append(question)
        return found_alone

    result = standalone("What was revenue in 2018?", question, search_alone)

    assert calls == [question]
    assert result == (f"What was revenue in 2018? {question}" if borrows else question)


def test_pronouns_and_openings_are_whole_words() -> None:
    assert not refers_back("Which items were itemised in the ledger?")  # "it" inside words
    assert not refers_back("Andover plant output in 2019?")  # "And" inside a word


def test_the_topic_is_the_last_question_that_got_a_real_answer() -> None:
    history = [
        ChatTurn("user", "What does the bakery sell?"),
        ChatTurn("assistant", "Bread."),
        ChatTurn("user", "What is the capital of France?"),
        ChatTurn("assistant", "none"),
    ]

    assert topic(history, unanswered="none") == "What does the bakery sell?"
    assert topic(history[:2], unanswered="none") == "What does the bakery sell?"
    assert topic(history[2:], unanswered="none") == "What is the capital of France?"
