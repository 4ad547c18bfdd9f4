"""What ingestion takes (a file's bytes under its name) and what it gives back per file."""

import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from supercore_core.errors import CorruptFileError, DocumentError, OversizedFileError
from supercore_core.ingest.parsers import check_file_size


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


def read_source(path: Path, max_bytes: int, *, name: str | None = None) -> SourceFile:
    """The file at ``path`` as a source, its size checked before a byte is read.

    A file over ``max_bytes`` becomes a refused source (it fails with a clear reason and is
    never loaded); a file that grows past the limit while being read is refused too.
    """
    filename = name or path.name
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):  # a FIFO or device would block or never end
            return SourceFile.refused(
                filename, CorruptFileError(f"{filename} is not a regular file: copy its content")
            )
        check_file_size(status.st_size, filename, max_bytes)
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
        check_file_size(len(data), filename, max_bytes)
    except OversizedFileError as exc:
        return SourceFile.refused(filename, exc)
    except OSError as exc:
        return SourceFile.refused(
            filename, CorruptFileError(f"{filename} could not be read ({exc.strerror})")
        )
    return SourceFile(filename, data)
