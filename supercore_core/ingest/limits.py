"""Ingestion limits: how big, deep or long one document may get before it is refused.

Every limit is checked before the memory it guards is allocated, and every refusal names
its setting (``SUPERCORE_INGEST_...``) so the message says what to raise if the file is
genuine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from supercore_core.config import Settings

MB = 1024 * 1024


@dataclass(frozen=True)
class IngestLimits:
    """Per-document ingestion limits (defaults match ``Settings``).

    Attributes:
        max_file_bytes: Largest file accepted, checked before it is read.
        max_inflated_bytes: Most bytes a zip-based file (.docx) may inflate to, all entries
            together; checked in the zip's directory and again while inflating.
        max_xml_bytes: Most bytes the XML parts of a zip-based file may inflate to: parsed
            into a tree they take about 20 times their size.
        max_zip_entries: Most entries in a zip-based file.
        max_pdf_pages: Most pages in a PDF.
        max_text_chars: Most characters of text extracted from one document.
        max_html_depth: Deepest nesting of HTML elements.
        max_html_tags: Most tags (opening and closing) in an HTML file, counted before it is
            parsed (a parsed element takes about a kilobyte).
        max_chunk_bytes: Most UTF-8 bytes in one chunk; longer chunks are split so the
            full-text index (tsvector, at most 1 MB) can always hold them.
    """

    max_file_bytes: int = 50 * MB
    max_inflated_bytes: int = 100 * MB
    max_xml_bytes: int = 20 * MB
    max_zip_entries: int = 10_000
    max_pdf_pages: int = 2_000
    max_text_chars: int = 50_000_000
    max_html_depth: int = 512
    max_html_tags: int = 300_000
    max_chunk_bytes: int = 200_000

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestLimits:
        """The limits configured in ``settings``."""
        return cls(
            max_file_bytes=int(settings.ingest_max_file_mb * MB),
            max_inflated_bytes=int(settings.ingest_max_inflated_mb * MB),
            max_xml_bytes=int(settings.ingest_max_xml_mb * MB),
            max_zip_entries=settings.ingest_max_zip_entries,
            max_pdf_pages=settings.ingest_max_pdf_pages,
            max_text_chars=settings.ingest_max_text_chars,
            max_html_depth=settings.ingest_max_html_depth,
            max_html_tags=settings.ingest_max_html_tags,
            max_chunk_bytes=settings.ingest_max_chunk_bytes,
        )


def setting_name(field: str) -> str:
    """The environment variable that sets limit ``field`` (e.g. ``max_pdf_pages``)."""
    unit = "_MB" if field.endswith("_bytes") and field != "max_chunk_bytes" else ""
    base = field.removesuffix("_bytes") if unit else field
    return f"SUPERCORE_INGEST_{base.upper()}{unit}"


def size_text(n_bytes: int) -> str:
    """``n_bytes`` in MB, with the exact byte count when under 0.1 MB."""
    if n_bytes >= MB // 10:
        return f"{n_bytes / MB:.1f} MB"
    return f"{n_bytes / MB:.6f} MB ({n_bytes} bytes)"
