"""The offline answerer and the prompt format every model sees."""

import pytest

from supercore_core import Settings
from supercore_core.llm import (
    OFFLINE_LABEL,
    ChatTurn,
    OfflineAnswerer,
    Passage,
    chat_model_for,
    count_tokens,
    format_context,
    parse_context,
    quotable_units,
)
from supercore_core.models import Oracle

PASSAGES = [
    Passage(1, "report.pdf, chunk 3", "Revenue rose 12%. Costs fell.\nMargins widened."),
    Passage(
        2, "notes.md, chunk 0", "| Year | Revenue |\n|---|---|\n| 2019 | 5.2 |\n| 2020 | 6.1 |"
    ),
]


def test_context_round_trips() -> None:
    message = format_context(PASSAGES, "How did revenue change?")

    assert parse_context(message) == (PASSAGES, "How did revenue change?")


def test_a_plain_message_has_no_passages() -> None:
    assert parse_context("hello there") == ([], "hello there")


def test_units_are_sentences_and_table_rows_with_their_header() -> None:
    assert quotable_units(PASSAGES[0].text) == [
        "Revenue rose 12%.",
        "Costs fell.",
        "Margins widened.",
    ]
    assert quotable_units(PASSAGES[1].text) == [
        "| Year | Revenue | | 2019 | 5.2 |",
        "| Year | Revenue | | 2020 | 6.1 |",
    ]


def test_offline_quotes_the_best_units_with_citations() -> None:
    message = format_context(PASSAGES, "What was revenue in 2020?")

    completion = OfflineAnswerer(max_quotes=2).complete(
        [ChatTurn("user", message)], system="sys", max_tokens=10
    )

    assert completion.text.splitlines() == [
        OFFLINE_LABEL,
        "",
        '> "| Year | Revenue | | 2020 | 6.1 |" [2]',
        '> "Revenue rose 12%." [1]',  # ties go to the better-ranked passage
    ]
    assert completion.estimated and completion.output_tokens == count_tokens(completion.text)


def test_offline_without_passages_says_so() -> None:
    completion = OfflineAnswerer().complete([ChatTurn("user", "hi")], system="", max_tokens=10)

    assert completion.text.endswith("No passages were retrieved for this question.")


def test_cl100k_counts_are_real() -> None:
    assert count_tokens("hello world") == 2
    assert count_tokens("<|endoftext|>") > 1  # special tokens are counted as text


@pytest.mark.parametrize("key", ["", None])
def test_an_empty_key_means_offline(key: str | None) -> None:
    settings = Settings(anthropic_api_key=key)
    oracle = Oracle(oracle_name="o", llm_provider="anthropic", llm_model="m", temperature=0.5)

    assert isinstance(chat_model_for(oracle, settings), OfflineAnswerer)
