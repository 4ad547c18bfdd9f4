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
)
from supercore_core.models import Oracle
from supercore_core.quoting import pick_quotes, quotable_units, terms

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
    assert [u.text for u in quotable_units(PASSAGES[0].text)] == [
        "Revenue rose 12%.",
        "Costs fell.",
        "Margins widened.",
    ]
    assert [u.text for u in quotable_units(PASSAGES[1].text)] == [
        "Year 2019: Revenue 5.2",
        "Year 2020: Revenue 6.1",
    ]


FINANCIAL_TABLE = """\
# Lab equipment

Lab equipment

|  | 30 June 2019 | 30 June 2018 |
| --- | --- | --- |
|  | $'000 | $'000 |
| FROM CONTINUING OPERATIONS |  |  |
| Data centre services revenue | 169,696 | 152,560 |
| Interest income | 8,220 | 5,778 |
"""


def test_headings_rules_and_header_rows_are_never_units() -> None:
    units = [u.text for u in quotable_units(FINANCIAL_TABLE)]

    assert units == [
        "Data centre services revenue: 30 June 2019 $'000 169,696; 30 June 2018 $'000 152,560",
        "Interest income: 30 June 2019 $'000 8,220; 30 June 2018 $'000 5,778",
    ]


@pytest.mark.parametrize(
    "line",
    ["Lab equipment", "Sales-based Milestones and Royalty Revenues",
     "Royalty revenues by licensee are summarized below:", "Results for 2019",
     "3 Revenue and other income (continued)", "12.4 Royalty revenues"],
)  # fmt: skip
def test_captions_and_lead_ins_are_not_sentences(line: str) -> None:
    assert quotable_units(f"{line}\nRoyalty revenues were $372 thousand in 2019.") == [
        quotable_units("Royalty revenues were $372 thousand in 2019.")[0]
    ]


def test_a_table_flattened_onto_one_line_is_quoted_whole_without_rules() -> None:
    line = (
        "| | 2019 | 2018 | | --- | --- | --- | Devices sold | 15,988 | 13,939 "
        "Active users | 29,566 |"
    )

    quotes = pick_quotes([(1, line)], "How many devices were sold in 2019?", 3)

    assert quotes == [(1, "2019 | 2018 | Devices sold | 15,988 | 13,939 Active users | 29,566")]


def test_a_rows_header_does_not_make_it_match() -> None:
    """Every row sits under "2019": only the row naming the asked-for item is quoted."""
    quotes = pick_quotes([(1, FINANCIAL_TABLE)], "What was interest income in 2019?", 3)

    assert quotes == [(1, "Interest income: 30 June 2019 $'000 8,220; 30 June 2018 $'000 5,778")]


def test_a_stub_note_stays_with_the_row() -> None:
    table = (
        "|  | Year Ended December 31, |  |\n| --- | --- | --- |\n"
        "| (in thousands of U.S. dollars) | 2019 | 2018 |\n| Interest income | 7,804 | 8,525 |"
    )
    assert [u.text for u in quotable_units(table)] == [
        "Interest income: Year Ended December 31, 2019 7,804; 2018 8,525"
        " (in thousands of U.S. dollars)"
    ]


def test_weak_partial_matches_do_not_ride_along() -> None:
    text = "Interest income rose to 8,220 in 2019. The office moved in 2019. Staff grew."
    quotes = pick_quotes([(1, text)], "How much interest income was there in 2019?", 3)

    assert quotes == [(1, "Interest income rose to 8,220 in 2019.")]


def test_the_last_sentence_is_asked_the_earlier_ones_set_the_context() -> None:
    text = "The bakery sells sourdough bread. It opens at seven. The harbour opens at six."
    follow_up = "What bread does the bakery sell? And when does it open?"

    assert pick_quotes([(1, text)], follow_up, 3) == [
        (1, "It opens at seven."),  # carries "open" (the bakery sentence does not)
        (1, "The harbour opens at six."),
    ]
    # nothing carries the last sentence's words: the whole question's words count
    assert pick_quotes([(1, text)], "Does the bakery sell bread? On Sundays?", 1) == [
        (1, "The bakery sells sourdough bread.")
    ]


def test_terms_fold_plurals_and_drop_stopwords() -> None:
    assert terms("What are the license agreements of the companies?") == {
        "license",
        "agreement",
        "company",
    }


def test_offline_quotes_the_best_units_with_citations() -> None:
    message = format_context(PASSAGES, "What was revenue in 2020?")

    completion = OfflineAnswerer(max_quotes=2).complete(
        [ChatTurn("user", message)], system="sys", max_tokens=10
    )

    assert completion.text.splitlines() == [
        OFFLINE_LABEL,
        "",
        '> "Year 2020: Revenue 6.1" [2]',  # the row and its header carry both terms
        '> "Revenue rose 12%." [1]',
    ]
    assert completion.estimated and completion.output_tokens == count_tokens(completion.text)


def test_offline_never_quotes_a_heading_when_nothing_matches() -> None:
    message = format_context([Passage(1, "lab.md, chunk 0", FINANCIAL_TABLE)], "Who is the CEO?")

    text = OfflineAnswerer().complete([ChatTurn("user", message)], system="", max_tokens=9).text

    assert ">" not in text and "Lab equipment" not in text and "|" not in text
    assert text.endswith("the closest passage is [1] (lab.md, chunk 0).")


def test_a_newline_in_a_file_name_keeps_every_passage() -> None:
    passages = [
        Passage(1, "evil\nname.md, chunk 0", "Revenue rose to 5 million."),
        Passage(2, "notes.md, chunk 1", "Costs fell to 2 million.\n[3] (see the appendix)"),
    ]
    message = format_context(passages, "What did revenue and costs do?")

    parsed, question = parse_context(message)
    assert question == "What did revenue and costs do?"
    text = OfflineAnswerer().complete([ChatTurn("user", message)], system="", max_tokens=9).text

    assert [(p.number, p.label) for p in parsed] == [
        (1, "evil name.md, chunk 0"),
        (2, "notes.md, chunk 1"),
    ]
    assert parsed[1].text.endswith("\n[3] (see the appendix)")  # text, not a passage
    assert '"Revenue rose to 5 million." [1]' in text
    assert '"Costs fell to 2 million." [2]' in text


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
