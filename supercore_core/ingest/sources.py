"""What ingestion takes (a file's bytes under its name) and what it gives back per file."""

from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from supercore_core.errors import DocumentError


@dataclass(frozen=True)
class SourceFile:
    """Bytes to ingest under a file name (the document's identity within the oracle).

    ``problem`` is set (and ``data`` empty) for a file refused before it was read, such as
    one over the size limit: its document is recorded as failed with that reason.
    """

    filename: str
    data: bytes
    metadata: dict[str, Any] = field(default_factory=dict)
    problem: DocumentError | None = None

    @classmethod
    def refused(cls, filename: str, problem: DocumentError) -> "SourceFile":
        """A source that fails with ``problem`` without being read."""
        return cls(filename, b"", problem=problem)


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one source."""

    filename: str
    status: Literal["completed", "unchanged", "failed"]
    document_id: UUID | None = None
    chunks: int = 0
    error: str | None = None
