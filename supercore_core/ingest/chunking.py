"""Token-aware chunking of parsed blocks for embedding.

Text is packed sentence by sentence (word by word for an over-long sentence) into chunks of
at most ``chunk_tokens`` tokens, each carrying about ``overlap_tokens`` of trailing text into
the next. A table that fits stays whole; a larger one is split by rows with its header
repeated. A chunk never mixes table and text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Protocol

from supercore_core.ingest.parsers import Block

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# A run without spaces is cut in windows of this many characters per token of the limit,
# so cutting it costs time linear in its length (a longer token just makes a shorter piece).
_MAX_CHARS_PER_TOKEN = 100


class Tokenizer(Protocol):
    """Counts tokens the way the embedding model will."""

    def count_tokens(self, text: str) -> int:
        """The number of tokens in ``text``."""
        ...


class WhitespaceTokenizer:
    """Counts whitespace-separated words: for tests, and when no model tokenizer is at hand."""

    def count_tokens(self, text: str) -> int:
        """The number of whitespace-separated words in ``text``."""
        return len(text.split())


@dataclass(frozen=True)
class ChunkingConfig:
    """How big chunks are and how much text consecutive text chunks share.

    Attributes:
        chunk_tokens: Most tokens in a chunk; must be positive.
        overlap_tokens: About how many trailing tokens of a text chunk start the next one;
            at least 0 and less than ``chunk_tokens``.
    """

    chunk_tokens: int = 200
    overlap_tokens: int = 40

    def __post_init__(self) -> None:
        if self.chunk_tokens <= 0:
            raise ValueError(f"chunk_tokens must be positive, got {self.chunk_tokens}")
        if not 0 <= self.overlap_tokens < self.chunk_tokens:
            raise ValueError(
                f"overlap_tokens must be at least 0 and less than chunk_tokens "
                f"({self.chunk_tokens}), got {self.overlap_tokens}"
            )


@dataclass(frozen=True)
class Chunk:
    """A piece of a document ready to embed.

    Attributes:
        index: Position of the chunk in the document, from 0.
        text: The chunk's text.
        token_count: The tokenizer's count of ``text``.
        metadata: ``{"kind": "text" | "table"}``, plus ``"pages"`` (sorted, distinct) when
            the blocks it came from have page numbers.
    """

    index: int
    text: str
    token_count: int
    metadata: dict[str, Any]


@dataclass(frozen=True)
class _Unit:
    """A sentence, word or table row with its token count, counted once."""

    text: str
    tokens: int
    page: int | None
    sep: str = " "  # joins it to the unit before it in a chunk


def chunk_blocks(
    blocks: Sequence[Block], tokenizer: Tokenizer, config: ChunkingConfig
) -> list[Chunk]:
    """Split blocks into chunks of at most ``config.chunk_tokens`` tokens.

    Args:
        blocks: Parsed blocks in reading order.
        tokenizer: Counts tokens as the embedding model does.
        config: Chunk size and overlap.

    Returns:
        Chunks indexed from 0, in reading order; the same input gives the same output.
    """
    pieces: list[tuple[str, list[_Unit]]] = []
    kept = [block for block in blocks if block.text.strip()]
    for is_table, run in groupby(kept, key=lambda block: block.kind == "table"):
        if is_table:
            for table in run:
                pieces.extend(("table", units) for units in _table_pieces(table, tokenizer, config))
        else:
            pieces.extend(("text", units) for units in _text_pieces(list(run), tokenizer, config))
    chunks = []
    for index, (kind, units) in enumerate(pieces):
        text = _join(units)
        metadata: dict[str, Any] = {"kind": kind}
        pages = sorted({unit.page for unit in units if unit.page is not None})
        if pages:
            metadata["pages"] = pages
        chunks.append(Chunk(index, text, tokenizer.count_tokens(text), metadata))
    return chunks


def _join(units: Sequence[_Unit]) -> str:
    return "".join((unit.sep if i else "") + unit.text for i, unit in enumerate(units))


def _split(text: str, tokenizer: Tokenizer, limit: int) -> Iterator[tuple[str, int]]:
    """Yield (piece, tokens) of at most ``limit`` tokens: the text, else words, else characters."""
    tokens = tokenizer.count_tokens(text)
    if tokens <= limit:
        yield text, tokens
    elif len(words := text.split()) > 1:
        for word in words:
            yield from _split(word, tokenizer, limit)
    else:
        start = 0
        while start < len(text):  # a window at a time: no copying of the rest per piece
            window = text[start : start + limit * _MAX_CHARS_PER_TOKEN]
            size = _longest_prefix(window, tokenizer, limit)
            yield window[:size], tokenizer.count_tokens(window[:size])
            start += size


def _longest_prefix(text: str, tokenizer: Tokenizer, limit: int) -> int:
    """Length of the longest prefix within ``limit`` tokens (at least 1), by bisection."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if tokenizer.count_tokens(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _is_rule(line: str) -> bool:
    """Whether ``line`` is a Markdown table's |---|:--:| separator row."""
    return "-" in line and set(line) <= set("|:- ")


def _text_units(blocks: Sequence[Block], tokenizer: Tokenizer, limit: int) -> list[_Unit]:
    units = []
    for block in blocks:
        sep = "\n\n"
        for sentence in _SENTENCE_END.split(block.text.strip()):
            for piece, tokens in _split(sentence, tokenizer, limit):
                units.append(_Unit(piece, tokens, block.page, sep))
                sep = " "
    return units


def _text_pieces(
    blocks: Sequence[Block], tokenizer: Tokenizer, config: ChunkingConfig
) -> Iterator[list[_Unit]]:
    """Pack sentences greedily, starting each chunk with the previous chunk's tail."""
    limit = config.chunk_tokens
    units = _text_units(blocks, tokenizer, limit)
    carry: list[_Unit] = []
    start = 0
    while start < len(units):
        group = list(carry)
        while group and sum(u.tokens for u in group) + units[start].tokens > limit:
            group.pop(0)
        end = _fill(group, units, start, limit)
        end = _verify(group, end - start, tokenizer, limit) + start
        yield group
        carry = _overlap(group, tokenizer, config.overlap_tokens)
        start = end


def _fill(group: list[_Unit], units: Sequence[_Unit], start: int, limit: int) -> int:
    """Append units from ``start`` while the summed counts fit; return the next index."""
    total = sum(unit.tokens for unit in group)
    end = start
    while end < len(units) and (end == start or total + units[end].tokens <= limit):
        group.append(units[end])
        total += units[end].tokens
        end += 1
    return end


def _verify(group: list[_Unit], new: int, tokenizer: Tokenizer, limit: int) -> int:
    """Drop units until the joined text really fits (sums can differ from the real count).

    Returns how many of the ``new`` units at the end of ``group`` are still in it.
    """
    while len(group) > 1 and tokenizer.count_tokens(_join(group)) > limit:
        if new > 1:
            group.pop()
            new -= 1
        else:
            group.pop(0)
    return new


def _overlap(group: Sequence[_Unit], tokenizer: Tokenizer, budget: int) -> list[_Unit]:
    """Whole trailing units within ``budget`` tokens, else trailing words of the last one."""
    tail: list[_Unit] = []
    total = 0
    for unit in reversed(group):
        if total + unit.tokens > budget:
            break
        tail.insert(0, unit)
        total += unit.tokens
    if tail or budget == 0 or not group:
        return tail
    last = group[-1]
    words: list[str] = []
    for word in reversed(last.text.split()):
        tokens = tokenizer.count_tokens(word)
        if total + tokens > budget:
            break
        words.insert(0, word)
        total += tokens
    return [_Unit(" ".join(words), total, last.page)] if words else []


def _table_pieces(
    table: Block, tokenizer: Tokenizer, config: ChunkingConfig
) -> Iterator[list[_Unit]]:
    """The whole table if it fits, else runs of rows each led by the header rows."""
    limit = config.chunk_tokens
    text = table.text.strip()
    tokens = tokenizer.count_tokens(text)
    if tokens <= limit:
        yield [_Unit(text, tokens, table.page)]
        return
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    size = 2 if len(lines) > 2 and _is_rule(lines[1]) else 1
    header = [_Unit(line, tokenizer.count_tokens(line), table.page, "\n") for line in lines[:size]]
    if len(lines) <= size or sum(u.tokens for u in header) >= limit:
        header, size = [], 0  # nothing to repeat, or no room to repeat it
    budget = limit - sum(unit.tokens for unit in header)
    rows = [
        _Unit(piece, count, table.page, "\n")
        for line in lines[size:]
        for piece, count in _split(line, tokenizer, budget)
    ]
    start = 0
    while start < len(rows):
        group = list(header)
        _fill(group, rows, start, limit)
        yield _fit_rows(group, len(header), tokenizer, limit)
        start += len(group) - len(header)


def _fit_rows(group: list[_Unit], fixed: int, tokenizer: Tokenizer, limit: int) -> list[_Unit]:
    """Drop trailing rows from ``group`` (keeping one) until the piece really fits.

    Returns the piece: ``group`` itself, or its rows alone if even one row and the ``fixed``
    header rows do not fit together.
    """
    while len(group) > fixed + 1 and tokenizer.count_tokens(_join(group)) > limit:
        group.pop()
    if fixed and tokenizer.count_tokens(_join(group)) > limit:
        return group[fixed:]
    return group


def cap_chunk_bytes(chunks: Sequence[Chunk], tokenizer: Tokenizer, max_bytes: int) -> list[Chunk]:
    """Split any chunk longer than ``max_bytes`` UTF-8 bytes, at whitespace where possible.

    A token limit alone does not bound a chunk's size (a tokenizer may count a long run of
    characters as few tokens), and PostgreSQL refuses a chunk whose full-text vector passes
    1 MB. Returns the chunks re-indexed from 0; chunks within the limit are unchanged.
    """
    if all(len(chunk.text.encode()) <= max_bytes for chunk in chunks):
        return list(chunks)
    pieces: list[tuple[str, dict[str, Any]]] = []
    for chunk in chunks:
        pieces.extend((piece, chunk.metadata) for piece in _byte_pieces(chunk.text, max_bytes))
    return [
        Chunk(index, text, tokenizer.count_tokens(text), dict(metadata))
        for index, (text, metadata) in enumerate(pieces)
    ]


def _byte_pieces(text: str, max_bytes: int) -> Iterator[str]:
    data = text.encode()
    while len(data) > max_bytes:
        head = data[:max_bytes].decode(errors="ignore")  # never cuts a character in two
        space = head.rfind(" ")
        cut = space if space > len(head) // 2 else len(head)
        yield head[:cut].strip()
        data = data[len(head[:cut].encode()) :].lstrip()
    if data.strip():
        yield data.decode()
