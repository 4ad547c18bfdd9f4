"""A document's text rebuilt from its stored chunks, for a re-chunked copy without an original.

Documents ingested from the command line keep no original file: their chunks are all the
pipeline keeps. Consecutive text chunks share an overlap (the next chunk starts with whole
trailing sentences of the previous one, or its trailing words), so they are joined on the
longest suffix of one that starts the next at a word boundary; a table split into pieces
repeats its header rows, which are dropped from the following pieces. The result is
Markdown (text parts and pipe tables separated by blank lines), which ``parse_bytes`` reads
back into the same text and table blocks, so re-chunking it at the original size gives the
original chunks. Page numbers (PDF) are not kept.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

_WORD_START = re.compile(r"(?:^|(?<=\s))\S")


@dataclass
class _Part:
    """A run of text (or one table) being rebuilt, and the last chunk that went into it."""

    kind: str
    text: str
    last: str


def overlap_length(previous: str, following: str) -> int:
    """Characters of the longest suffix of ``previous`` that starts ``following``, both cut at
    word boundaries and leaving ``following`` something of its own (0 when there is none)."""
    for match in _WORD_START.finditer(previous):
        size = len(previous) - match.start()
        if size >= len(following):
            continue
        if following[size].isspace() and following.startswith(previous[match.start() :]):
            return size
    return 0


def _header_size(lines: Sequence[str]) -> int:
    rule = len(lines) > 2 and "-" in lines[1] and set(lines[1]) <= set("|:- ")
    return 2 if rule else 1


def _join_table(part: _Part, piece: str) -> bool:
    """Append the rows of ``piece`` if it repeats the table's header; whether it did."""
    before, after = part.last.splitlines(), piece.splitlines()
    size = _header_size(before)
    if len(after) <= size or after[:size] != before[:size]:
        return False
    part.text += "\n" + "\n".join(after[size:])
    part.last = piece
    return True


def _join_text(part: _Part, piece: str) -> None:
    shared = overlap_length(part.last, piece)
    part.text += piece[shared:] if shared else "\n\n" + piece
    part.last = piece


def text_from_chunks(chunks: Sequence[tuple[str, str]]) -> str:
    """Markdown text of a document from its chunks in order, as ``(kind, content)`` pairs
    (``kind`` is the chunk's ``metadata["kind"]``: ``"text"`` or ``"table"``)."""
    parts: list[_Part] = []
    for kind, content in chunks:
        piece = content.strip()
        if not piece:
            continue
        last = parts[-1] if parts else None
        if last is not None and last.kind == kind == "text":
            _join_text(last, piece)
        elif not (last is not None and last.kind == kind == "table" and _join_table(last, piece)):
            parts.append(_Part(kind, piece, piece))
    return "\n\n".join(part.text for part in parts) + "\n"
