"""Parse uploaded bytes (txt, md, html, pdf, docx) into ordered text and table blocks.

Every failure caused by the file itself raises a ``DocumentError`` subclass whose message is
safe to show and says what to do; anything else is a bug.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import PurePath
from typing import Literal

import docx
from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag
from docx.table import Table
from pypdf import PdfReader

from supercore_core.errors import (
    CorruptFileError,
    EmptyDocumentError,
    OversizedFileError,
    UnsupportedFileError,
)

SUPPORTED_TYPES: tuple[str, ...] = ("docx", "html", "md", "pdf", "txt")
MIME_TYPES: dict[str, str] = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "md": "text/markdown",
    "pdf": "application/pdf",
    "txt": "text/plain",
}
_EXTENSIONS = {
    ".docx": "docx",
    ".htm": "html",
    ".html": "html",
    ".markdown": "md",
    ".md": "md",
    ".pdf": "pdf",
    ".txt": "txt",
}
_USE = "use pdf, docx, md, html or txt"
_MB = 1024 * 1024
_BLANK_LINES = re.compile(r"\n\s*\n")
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}\s")
_HTML_SKIP = frozenset({"head", "noscript", "script", "style", "template", "title"})
_HTML_BLOCK_TAGS = (
    "address article aside blockquote body dd details div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary ul"
)
_HTML_BLOCK = frozenset(_HTML_BLOCK_TAGS.split())


@dataclass(frozen=True)
class Block:
    """One paragraph of text, or one whole table rendered as pipe-table lines."""

    text: str
    kind: Literal["text", "table"]
    page: int | None = None  # 1-based page number for PDFs


@dataclass(frozen=True)
class ParsedDocument:
    """The blocks of a document in reading order, with what we know about the file."""

    blocks: tuple[Block, ...]
    file_type: str
    mime_type: str
    title: str | None


def file_type_of(filename: str) -> str:
    """The file type of ``filename`` by its extension (case-insensitive).

    Args:
        filename: The uploaded file's name; only the extension is used.

    Returns:
        One of ``SUPPORTED_TYPES``.

    Raises:
        UnsupportedFileError: The extension is missing or not one we can parse.
    """
    suffix = PurePath(filename).suffix.lower()
    if not suffix:
        raise UnsupportedFileError(f"{PurePath(filename).name} has no file extension: {_USE}")
    try:
        return _EXTENSIONS[suffix]
    except KeyError:
        raise UnsupportedFileError(f"unsupported file type {suffix}: {_USE}") from None


def parse_bytes(data: bytes, filename: str, *, max_bytes: int = 50 * _MB) -> ParsedDocument:
    """Parse an uploaded file into blocks of text and tables, in reading order.

    Args:
        data: The file's content.
        filename: The file's name; its extension picks the parser.
        max_bytes: Larger files are refused.

    Returns:
        The parsed document; it always has at least one non-empty block.

    Raises:
        UnsupportedFileError: The extension is not supported.
        OversizedFileError: ``data`` is longer than ``max_bytes``.
        CorruptFileError: The content is damaged, encrypted or not what the extension says.
        EmptyDocumentError: The file holds no text.
    """
    file_type = file_type_of(filename)
    name = PurePath(filename).name
    if len(data) > max_bytes:
        raise OversizedFileError(
            f"{name} is {_size(len(data))}, over the {_size(max_bytes)} limit: "
            "split it into smaller files"
        )
    blocks: tuple[Block, ...] = ()
    title: str | None = None
    if data.strip():
        parsed_blocks, title = _PARSERS[file_type](data, name)
        blocks = tuple(block for block in parsed_blocks if block.text)
    if not blocks:
        raise EmptyDocumentError(f"{name} contains no text: upload a file that has text in it")
    return ParsedDocument(blocks, file_type, MIME_TYPES[file_type], title or None)


def _size(n_bytes: int) -> str:
    if n_bytes >= _MB // 10:
        return f"{n_bytes / _MB:.1f} MB"
    return f"{n_bytes / _MB:.6f} MB ({n_bytes} bytes)"


def _squash(text: str) -> str:
    """Collapse every run of whitespace to one space."""
    return " ".join(text.split())


def _table_block(rows: Iterable[Iterable[str]], page: int | None = None) -> Block:
    """Render rows of cell texts as pipe-table lines, one line per non-empty row."""
    lines = []
    for row in rows:
        cells = [_squash(cell).replace("|", "\\|") for cell in row]
        if any(cells):
            lines.append("| " + " | ".join(cells) + " |")
    return Block("\n".join(lines), "table", page)


def _paragraphs(text: str, page: int | None = None) -> list[Block]:
    return [Block(_squash(part), "text", page) for part in _BLANK_LINES.split(text)]


def _decode(data: bytes, name: str) -> str:
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in data and not utf16:
        raise CorruptFileError(
            f"{name} looks like a binary file, not text: upload the original document "
            "or save it as UTF-8 text"
        )
    try:
        return data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError:
        raise CorruptFileError(
            f"{name} is not UTF-8 text: save it as UTF-8 and upload again"
        ) from None


def _parse_txt(data: bytes, name: str) -> tuple[list[Block], str | None]:
    return _paragraphs(_decode(data, name)), None


def _markdown_kind(line: str) -> str:
    if not line.strip():
        return "blank"
    if line.lstrip().startswith("|"):
        return "table"
    return "heading" if _MD_HEADING.match(line) else "text"


def _markdown_blocks(lines: list[str]) -> Iterator[Block]:
    for kind, group in groupby(lines, key=_markdown_kind):
        group_lines = list(group)
        if kind == "table":
            yield Block("\n".join(_squash(line) for line in group_lines), "table")
        elif kind == "heading":
            for line in group_lines:
                yield Block(_heading_text(line), "text")
        elif kind == "text":
            yield Block(_squash(" ".join(group_lines)), "text")


def _heading_text(line: str) -> str:
    """A heading's text without its leading (and optional closing) run of #."""
    words = line.split()[1:]
    return " ".join(words[:-1] if len(words) > 1 and not words[-1].strip("#") else words)


def _parse_md(data: bytes, name: str) -> tuple[list[Block], str | None]:
    lines = _decode(data, name).splitlines()
    titles = (_heading_text(line) for line in lines if line.startswith("# "))
    return list(_markdown_blocks(lines)), next(titles, None)


class _HtmlWalker:
    """Collects text and table blocks from an HTML tree in document order."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._inline: list[str] = []

    def flush(self) -> None:
        text = _squash("".join(self._inline))
        self._inline.clear()
        if text:
            self.blocks.append(Block(text, "text"))

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, PreformattedString):  # comments, doctype, CDATA
                continue
            if isinstance(child, NavigableString):
                self._inline.append(str(child))
            elif isinstance(child, Tag) and child.name not in _HTML_SKIP:
                self._visit(child)

    def _visit(self, tag: Tag) -> None:
        if tag.name == "br":
            self._inline.append(" ")
        elif tag.name == "table":
            self.flush()
            rows = [row for row in tag.find_all("tr") if row.find_parent("table") is tag]
            cells = [row.find_all(["td", "th"], recursive=False) for row in rows]
            self.blocks.append(_table_block([c.get_text(" ") for c in row] for row in cells))
        elif tag.name in _HTML_BLOCK:
            self.flush()
            self.walk(tag)
            self.flush()
        else:
            self.walk(tag)


def _parse_html(data: bytes, name: str) -> tuple[list[Block], str | None]:
    if b"\x00" in data:
        _decode(data, name)  # raises for binary content
    soup = BeautifulSoup(data, "html.parser")
    walker = _HtmlWalker()
    walker.walk(soup.body or soup)
    walker.flush()
    heading = soup.title or soup.find("h1")
    title = _squash(heading.get_text(" ")) if isinstance(heading, Tag) else None
    return walker.blocks, title


def _parse_pdf(data: bytes, name: str) -> tuple[list[Block], str | None]:
    unreadable = f"{name} is not a readable PDF"
    try:
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and not reader.decrypt("")
        pages = [] if locked else [page.extract_text() or "" for page in reader.pages]
        title = None if locked else reader.metadata and reader.metadata.title
    except Exception as exc:  # pypdf raises many exception types on malformed input
        raise CorruptFileError(f"{unreadable}: {exc}; re-export or re-save it as PDF") from exc
    if locked:
        raise CorruptFileError(
            f"{unreadable}: it is password-protected; remove the password and upload it again"
        )
    blocks = [block for n, text in enumerate(pages, 1) for block in _paragraphs(text, n)]
    if not any(block.text for block in blocks):
        raise EmptyDocumentError(
            f"{name} contains no extractable text: it may be a scanned image; "
            "run OCR on it or upload a text version"
        )
    return blocks, _squash(title) if isinstance(title, str) else None


def _parse_docx(data: bytes, name: str) -> tuple[list[Block], str | None]:
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # zipfile, lxml and python-docx each raise their own types
        raise CorruptFileError(
            f"{name} is not a readable Word document ({exc}): open it in Word and save it "
            "again as .docx"
        ) from exc
    blocks: list[Block] = []
    title = _squash(document.core_properties.title or "") or None
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.append(_table_block([cell.text for cell in row.cells] for row in item.rows))
            continue
        text = _squash(item.text)
        blocks.append(Block(text, "text"))
        style = item.style.name if item.style is not None else ""
        if title is None and text and (style or "").startswith(("Heading", "Title")):
            title = text
    return blocks, title


_PARSERS: dict[str, Callable[[bytes, str], tuple[list[Block], str | None]]] = {
    "docx": _parse_docx,
    "html": _parse_html,
    "md": _parse_md,
    "pdf": _parse_pdf,
    "txt": _parse_txt,
}
