"""Parse uploaded bytes (txt, md, html, pdf, docx) into ordered text and table blocks.

Every failure caused by the file itself raises a ``DocumentError`` subclass whose message is
safe to show and says what to do; anything else is a bug.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import PurePath

import docx
from docx.table import Table
from pypdf import PdfReader

from supercore_core.errors import (
    CorruptFileError,
    DocumentLimitError,
    EmptyDocumentError,
    OversizedFileError,
    UnsupportedFileError,
)
from supercore_core.ingest.archive import check_zip
from supercore_core.ingest.blocks import Block, paragraphs, squash, storable, table_block
from supercore_core.ingest.html import parse_html
from supercore_core.ingest.limits import IngestLimits, setting_name, size_text

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
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}\s")
# UTF-32 first: its little-endian mark starts with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", 4),
    (codecs.BOM_UTF32_BE, "utf-32", 4),
    (codecs.BOM_UTF16_LE, "utf-16", 2),
    (codecs.BOM_UTF16_BE, "utf-16", 2),
)
__all__ = [
    "MIME_TYPES",
    "SUPPORTED_TYPES",
    "Block",
    "ParsedDocument",
    "file_type_of",
    "parse_bytes",
]


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


def parse_bytes(
    data: bytes,
    filename: str,
    *,
    limits: IngestLimits | None = None,
    max_bytes: int | None = None,
) -> ParsedDocument:
    """Parse an uploaded file into blocks of text and tables, in reading order.

    Args:
        data: The file's content.
        filename: The file's name; its extension picks the parser.
        limits: Size, depth and page limits (defaults: ``IngestLimits()``).
        max_bytes: Larger files are refused (overrides ``limits.max_file_bytes``).

    Returns:
        The parsed document; it always has at least one non-empty block, and its text holds
        nothing PostgreSQL refuses (NUL, lone surrogates).

    Raises:
        UnsupportedFileError: The extension is not supported.
        OversizedFileError: ``data`` is longer than the file size limit.
        DocumentLimitError: The content goes past another limit (inflated size, pages, text,
            nesting); the message names the setting.
        CorruptFileError: The content is damaged, encrypted or not what the extension says.
        EmptyDocumentError: The file holds no text.
    """
    limits = limits or IngestLimits()
    file_type = file_type_of(filename)
    name = PurePath(filename).name
    check_file_size(len(data), name, max_bytes or limits.max_file_bytes)
    blocks: tuple[Block, ...] = ()
    title: str | None = None
    if data.strip():
        parsed_blocks, title = _PARSERS[file_type](data, name, limits)
        cleaned = (Block(storable(b.text), b.kind, b.page) for b in parsed_blocks)
        blocks = tuple(block for block in cleaned if block.text)
        _check_text(sum(len(b.text) for b in blocks), name, limits)
    if not blocks:
        raise EmptyDocumentError(f"{name} contains no text: upload a file that has text in it")
    return ParsedDocument(blocks, file_type, MIME_TYPES[file_type], storable(title or "") or None)


def check_file_size(size: int, name: str, max_bytes: int) -> None:
    """Raise ``OversizedFileError`` if a file of ``size`` bytes is over ``max_bytes``."""
    if size > max_bytes:
        raise OversizedFileError(
            f"{name} is {size_text(size)}, over the {size_text(max_bytes)} limit "
            f"({setting_name('max_file_bytes')}): split it into smaller files"
        )


def _check_text(chars: int, name: str, limits: IngestLimits) -> None:
    if chars > limits.max_text_chars:
        raise DocumentLimitError(
            f"{name} holds more than {limits.max_text_chars:,} characters of text, over the "
            f"limit ({setting_name('max_text_chars')}): split it into smaller files"
        )


def _decode(data: bytes, name: str) -> str:
    for bom, encoding, width in _BOMS:
        if data.startswith(bom):
            return _decode_wide(data, name, encoding, width)
    if b"\x00" in data:
        raise CorruptFileError(
            f"{name} looks like a binary file, not text: upload the original document "
            "or save it as UTF-8 text"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CorruptFileError(
            f"{name} is not UTF-8 text: save it as UTF-8 and upload again"
        ) from None


def _decode_wide(data: bytes, name: str, encoding: str, width: int) -> str:
    label = encoding.upper()
    if len(data) % width:
        raise CorruptFileError(
            f"{name} starts with a {label} byte-order mark but its length ({len(data)} bytes) "
            f"is not a multiple of {width}: the file is cut short or damaged; save it again "
            "(as UTF-8 if you can) and upload it"
        )
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CorruptFileError(
            f"{name} starts with a {label} byte-order mark but is not valid {label} text "
            f"({exc.reason} at byte {exc.start}): save it again as UTF-8 and upload it"
        ) from None


def _parse_txt(data: bytes, name: str, limits: IngestLimits) -> tuple[list[Block], str | None]:
    return paragraphs(_decode(data, name)), None


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
            yield Block("\n".join(squash(line) for line in group_lines), "table")
        elif kind == "heading":
            for line in group_lines:
                yield Block(_heading_text(line), "text")
        elif kind == "text":
            yield Block(squash(" ".join(group_lines)), "text")


def _heading_text(line: str) -> str:
    """A heading's text without its leading (and optional closing) run of #."""
    words = line.split()[1:]
    return " ".join(words[:-1] if len(words) > 1 and not words[-1].strip("#") else words)


def _parse_md(data: bytes, name: str, limits: IngestLimits) -> tuple[list[Block], str | None]:
    lines = _decode(data, name).splitlines()
    titles = (_heading_text(line) for line in lines if line.startswith("# "))
    return list(_markdown_blocks(lines)), next(titles, None)


def _parse_html(data: bytes, name: str, limits: IngestLimits) -> tuple[list[Block], str | None]:
    if b"\x00" in data:
        _decode(data, name)  # raises for binary content
    return parse_html(data, name, limits)


def _parse_pdf(data: bytes, name: str, limits: IngestLimits) -> tuple[list[Block], str | None]:
    unreadable = f"{name} is not a readable PDF"
    try:
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and not reader.decrypt("")
        pages = [] if locked else _pdf_pages(reader, name, limits)
        title = None if locked else reader.metadata and reader.metadata.title
    except DocumentLimitError:
        raise
    except Exception as exc:  # pypdf raises many exception types on malformed input
        raise CorruptFileError(f"{unreadable}: {exc}; re-export or re-save it as PDF") from exc
    if locked:
        raise CorruptFileError(
            f"{unreadable}: it is password-protected; remove the password and upload it again"
        )
    blocks = [block for n, text in enumerate(pages, 1) for block in paragraphs(text, n)]
    if not any(block.text for block in blocks):
        raise EmptyDocumentError(
            f"{name} contains no extractable text: it may be a scanned image; "
            "run OCR on it or upload a text version"
        )
    return blocks, squash(title) if isinstance(title, str) else None


def _pdf_pages(reader: PdfReader, name: str, limits: IngestLimits) -> list[str]:
    """Each page's text; refused past the page or text limit before extracting more."""
    count = len(reader.pages)
    if count > limits.max_pdf_pages:
        raise DocumentLimitError(
            f"{name} has {count:,} pages, over the {limits.max_pdf_pages:,}-page limit "
            f"({setting_name('max_pdf_pages')}): split it into smaller PDFs"
        )
    texts: list[str] = []
    chars = 0
    for page in reader.pages:
        texts.append(page.extract_text() or "")
        chars += len(texts[-1])
        _check_text(chars, name, limits)
    return texts


def _parse_docx(data: bytes, name: str, limits: IngestLimits) -> tuple[list[Block], str | None]:
    check_zip(data, name, limits)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # zipfile, lxml and python-docx each raise their own types
        raise CorruptFileError(
            f"{name} is not a readable Word document ({exc}): open it in Word and save it "
            "again as .docx"
        ) from exc
    blocks: list[Block] = []
    title = squash(document.core_properties.title or "") or None
    # Style names looked up once: Paragraph.style scans every style per paragraph (1.6 ms
    # each: a 10 MB document.xml of short paragraphs took minutes).
    names = {style.style_id: style.name or "" for style in document.styles}
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.append(table_block([cell.text for cell in row.cells] for row in item.rows))
            continue
        text = squash(item.text)
        blocks.append(Block(text, "text"))
        style = names.get(item._p.style or "", "")
        if title is None and text and style.startswith(("Heading", "Title")):
            title = text
    return blocks, title


_PARSERS: dict[str, Callable[[bytes, str, IngestLimits], tuple[list[Block], str | None]]] = {
    "docx": _parse_docx,
    "html": _parse_html,
    "md": _parse_md,
    "pdf": _parse_pdf,
    "txt": _parse_txt,
}
