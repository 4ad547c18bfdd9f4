"""Blocks of parsed text, and the text clean-ups every parser shares."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

_BLANK_LINES = re.compile(r"\n\s*\n")
# PostgreSQL text cannot hold NUL, and UTF-8 cannot encode lone surrogates.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class Block:
    """One paragraph of text, or one whole table rendered as pipe-table lines."""

    text: str
    kind: Literal["text", "table"]
    page: int | None = None  # 1-based page number for PDFs


def storable(text: str) -> str:
    """``text`` without NUL and with lone surrogates replaced by U+FFFD, so PostgreSQL
    (and UTF-8) accept it."""
    text = text.replace("\x00", "")
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def squash(text: str) -> str:
    """Collapse every run of whitespace to one space."""
    return " ".join(text.split())


def table_block(rows: Iterable[Iterable[str]], page: int | None = None) -> Block:
    """Render rows of cell texts as pipe-table lines, one line per non-empty row."""
    lines = []
    for row in rows:
        cells = [squash(cell).replace("|", "\\|") for cell in row]
        if any(cells):
            lines.append("| " + " | ".join(cells) + " |")
    return Block("\n".join(lines), "table", page)


def paragraphs(text: str, page: int | None = None) -> list[Block]:
    """Blocks of ``text`` split on blank lines, whitespace collapsed."""
    return [Block(squash(part), "text", page) for part in _BLANK_LINES.split(text)]
