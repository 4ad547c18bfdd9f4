"""Token-aware chunking: size limits, overlap, tables, pages, determinism."""

from itertools import pairwise
from pathlib import Path

import pytest

from supercore_core.ingest.chunking import (
    Chunk,
    ChunkingConfig,
    WhitespaceTokenizer,
    chunk_blocks,
)
from supercore_core.ingest.parsers import Block, parse_bytes

WORDS = WhitespaceTokenizer()


def sentences(count: int, start: int = 0) -> str:
    """Sentences of five words each: 'Sentence 3 has five words.'"""
    return " ".join(f"Sentence {n} has five words." for n in range(start, start + count))


def shared_words(first: str, second: str) -> int:
    """How many trailing words of ``first`` start ``second`` (the longest such run)."""
    a, b = first.split(), second.split()
    return max((k for k in range(1, min(len(a), len(b)) + 1) if a[-k:] == b[:k]), default=0)


class CharTokenizer:
    """One token per character: makes a single long word too big for a chunk."""

    def count_tokens(self, text: str) -> int:
        return len(text)


class JoinCostTokenizer:
    """Words plus one token per gap between them: sums of parts undercount joined text."""

    def count_tokens(self, text: str) -> int:
        words = len(text.split())
        return 2 * words - 1 if words else 0


class RecordingTokenizer:
    """Counts words and records how many characters it was asked to tokenise."""

    def __init__(self) -> None:
        self.characters = 0

    def count_tokens(self, text: str) -> int:
        self.characters += len(text)
        return len(text.split())


@pytest.mark.parametrize(
    ("chunk_tokens", "overlap_tokens", "message"),
    [
        (0, 0, "chunk_tokens must be positive, got 0"),
        (-5, 0, "chunk_tokens must be positive, got -5"),
        (10, 10, r"overlap_tokens must be at least 0 and less than chunk_tokens \(10\), got 10"),
        (10, 11, r"less than chunk_tokens \(10\), got 11"),
        (10, -1, r"overlap_tokens must be at least 0 .* got -1"),
    ],
)
def test_config_rejects_bad_sizes(chunk_tokens: int, overlap_tokens: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ChunkingConfig(chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens)


def test_config_defaults() -> None:
    config = ChunkingConfig()
    assert (config.chunk_tokens, config.overlap_tokens) == (200, 40)


def test_whitespace_tokenizer_counts_words() -> None:
    assert WORDS.count_tokens("  one two\nthree\t ") == 3
    assert WORDS.count_tokens("") == 0


def test_short_text_is_one_chunk() -> None:
    chunks = chunk_blocks([Block("One. Two.", "text")], WORDS, ChunkingConfig(10, 2))
    assert chunks == [Chunk(0, "One. Two.", 2, {"kind": "text"})]


def test_no_blocks_no_chunks() -> None:
    assert chunk_blocks([Block("  ", "text")], WORDS, ChunkingConfig()) == []


@pytest.mark.parametrize(("size", "overlap"), [(20, 5), (12, 0), (7, 6), (30, 10)])
def test_text_chunks_never_exceed_the_limit(size: int, overlap: int) -> None:
    blocks = [Block(sentences(30), "text"), Block(sentences(30, 30), "text")]
    chunks = chunk_blocks(blocks, WORDS, ChunkingConfig(size, overlap))
    assert len(chunks) > 1
    assert all(0 < chunk.token_count <= size for chunk in chunks)
    assert [chunk.token_count for chunk in chunks] == [WORDS.count_tokens(c.text) for c in chunks]
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))


def test_consecutive_text_chunks_overlap_by_whole_sentences() -> None:
    chunks = chunk_blocks([Block(sentences(40), "text")], WORDS, ChunkingConfig(20, 5))
    for first, second in pairwise(chunks):
        assert shared_words(first.text, second.text) == 5
        assert second.text.startswith("Sentence ")
    assert chunks[0].text == sentences(4)
    assert chunks[1].text == sentences(4, start=3)


def test_overlap_falls_back_to_trailing_words_of_a_long_sentence() -> None:
    text = " ".join(f"w{n}" for n in range(30)) + "."
    chunks = chunk_blocks([Block(text, "text")], WORDS, ChunkingConfig(10, 3))
    assert chunks[0].text == "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9"
    assert chunks[1].text.startswith("w7 w8 w9 w10")
    assert all(chunk.token_count <= 10 for chunk in chunks)


def test_without_overlap_chunks_partition_the_text() -> None:
    text = sentences(25)
    chunks = chunk_blocks([Block(text, "text")], WORDS, ChunkingConfig(12, 0))
    assert " ".join(chunk.text for chunk in chunks) == text
    assert all(shared_words(a.text, b.text) == 0 for a, b in pairwise(chunks))


def test_every_sentence_appears_in_order() -> None:
    text = sentences(50)
    chunks = chunk_blocks([Block(text, "text")], WORDS, ChunkingConfig(23, 7))
    seen = [s for chunk in chunks for s in chunk.text.split(".") if s.strip()]
    numbers = [int(s.split()[1]) for s in seen]
    assert sorted(set(numbers)) == list(range(50))
    assert numbers == sorted(numbers)


def test_paragraph_breaks_are_kept_inside_a_chunk() -> None:
    blocks = [Block("First para.", "text"), Block("Second para.", "text")]
    chunks = chunk_blocks(blocks, WORDS, ChunkingConfig(50, 5))
    assert [chunk.text for chunk in chunks] == ["First para.\n\nSecond para."]


def test_a_word_longer_than_a_chunk_is_cut_by_characters() -> None:
    chunks = chunk_blocks(
        [Block("x" * 25 + " tail", "text")], CharTokenizer(), ChunkingConfig(10, 0)
    )
    assert [chunk.text for chunk in chunks] == ["x" * 10, "x" * 10, "xxxxx tail"]
    assert all(chunk.token_count <= 10 for chunk in chunks)


def test_limit_holds_when_joining_costs_extra_tokens() -> None:
    tokenizer = JoinCostTokenizer()
    chunks = chunk_blocks([Block(sentences(20), "text")], tokenizer, ChunkingConfig(15, 4))
    assert len(chunks) > 1
    assert all(chunk.token_count <= 15 for chunk in chunks)
    assert [c.token_count for c in chunks] == [tokenizer.count_tokens(c.text) for c in chunks]


def test_counting_work_grows_linearly_with_the_document() -> None:
    tokenizer = RecordingTokenizer()
    text = sentences(4000)
    chunks = chunk_blocks([Block(text, "text")], tokenizer, ChunkingConfig(200, 40))
    assert len(chunks) > 100
    assert tokenizer.characters < 4 * len(text)


TABLE = "| Plan | Fee |\n|---|---|\n| Basic | 5 |\n| Pro | 12 |"


def test_a_table_that_fits_is_one_chunk_never_mixed_with_text() -> None:
    blocks = [
        Block("Before the table.", "text"),
        Block(TABLE, "table"),
        Block("After the table.", "text"),
    ]
    chunks = chunk_blocks(blocks, WORDS, ChunkingConfig(50, 10))
    assert [(c.text, c.metadata["kind"]) for c in chunks] == [
        ("Before the table.", "text"),
        (TABLE, "table"),
        ("After the table.", "text"),
    ]
    assert chunks[1].token_count == WORDS.count_tokens(TABLE)


def big_table(rows: int) -> str:
    lines = ["| Plan | Fee |", "|---|---|"]
    lines += [f"| Plan{n} | {n} |" for n in range(rows)]
    return "\n".join(lines)


def test_an_oversized_table_is_split_by_rows_with_the_header_repeated() -> None:
    table = big_table(12)
    chunks = chunk_blocks([Block(table, "table", page=3)], WORDS, ChunkingConfig(20, 5))
    assert len(chunks) == 6  # 6 header tokens + 2 rows of 5 each
    rows = []
    for chunk in chunks:
        lines = chunk.text.split("\n")
        assert lines[:2] == ["| Plan | Fee |", "|---|---|"]
        assert chunk.token_count <= 20
        assert chunk.metadata == {"kind": "table", "pages": [3]}
        rows += lines[2:]
    assert rows == table.split("\n")[2:]


@pytest.mark.parametrize(("limit", "with_header"), [(30, True), (20, False)])
def test_table_pieces_fit_when_joining_costs_extra_tokens(limit: int, with_header: bool) -> None:
    tokenizer = JoinCostTokenizer()
    table = big_table(8)
    chunks = chunk_blocks([Block(table, "table")], tokenizer, ChunkingConfig(limit, 0))
    assert all(chunk.token_count <= limit for chunk in chunks)
    header = ["| Plan | Fee |", "|---|---|"]
    rows = [line for c in chunks for line in c.text.split("\n") if line not in header]
    assert rows == table.split("\n")[2:]
    assert all(c.text.startswith("| Plan | Fee |\n|---|---|\n") == with_header for c in chunks)


def test_a_table_without_a_rule_repeats_its_first_row() -> None:
    table = "\n".join(["| Name | Value |"] + [f"| n{n} | {n} |" for n in range(6)])
    chunks = chunk_blocks([Block(table, "table")], WORDS, ChunkingConfig(15, 0))
    assert [chunk.text for chunk in chunks] == [
        "| Name | Value |\n| n0 | 0 |\n| n1 | 1 |",
        "| Name | Value |\n| n2 | 2 |\n| n3 | 3 |",
        "| Name | Value |\n| n4 | 4 |\n| n5 | 5 |",
    ]


def test_a_row_too_big_for_any_chunk_is_split_by_words() -> None:
    table = "| A | B |\n| " + " ".join(f"w{n}" for n in range(30)) + " |"
    chunks = chunk_blocks([Block(table, "table")], WORDS, ChunkingConfig(10, 0))
    assert all(chunk.token_count <= 10 for chunk in chunks)
    assert all(chunk.text.startswith("| A | B |\n") for chunk in chunks)
    assert all(chunk.metadata == {"kind": "table"} for chunk in chunks)
    assert "w29" in chunks[-1].text


def test_pages_are_the_sorted_distinct_pages_of_the_source_blocks() -> None:
    blocks = [
        Block(sentences(3), "text", page=2),
        Block(sentences(3, 3), "text", page=1),
        Block(sentences(3, 6), "text", page=2),
        Block(sentences(3, 9), "text", page=4),
    ]
    chunks = chunk_blocks(blocks, WORDS, ChunkingConfig(30, 0))
    assert [chunk.metadata for chunk in chunks] == [
        {"kind": "text", "pages": [1, 2]},
        {"kind": "text", "pages": [2, 4]},
    ]


def test_output_is_deterministic() -> None:
    blocks = [Block(sentences(40), "text", page=1), Block(big_table(10), "table", page=2)]
    config = ChunkingConfig(17, 4)
    assert chunk_blocks(blocks, WORDS, config) == chunk_blocks(blocks, WORDS, config)


def test_parsed_markdown_table_survives_chunking() -> None:
    path = Path(__file__).parent / "data" / "ingest" / "sample.md"
    parsed = parse_bytes(path.read_bytes(), path.name)
    chunks = chunk_blocks(parsed.blocks, WORDS, ChunkingConfig(30, 5))
    tables = [chunk for chunk in chunks if chunk.metadata["kind"] == "table"]
    assert [chunk.text for chunk in tables] == [b.text for b in parsed.blocks if b.kind == "table"]
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
