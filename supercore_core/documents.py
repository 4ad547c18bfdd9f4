"""An oracle's documents: list with status, browse chunks, delete, re-ingest.

Domain functions run in the caller's tenant session. Uploaded originals are kept in an
``UploadStore`` (a folder per tenant and oracle, a file per document) so a document can be
re-ingested later; ``documents.storage_path`` records where, relative to the store. An
original is written only once its document exists, so never before the tenant and oracle
are verified, and deleting one document never removes another's original.
"""

import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.db.sessions import tenant_session
from supercore_core.embedding import Embedder
from supercore_core.errors import NotFoundError, UserError
from supercore_core.ingest.limits import IngestLimits
from supercore_core.ingest.parsers import file_type_of
from supercore_core.ingest.pipeline import IngestOutcome, SourceFile, ingest
from supercore_core.models import Document, DocumentChunk


@dataclass(frozen=True)
class DocumentRow:
    """One document and its ingestion status (``error`` says why it failed)."""

    document_id: UUID
    filename: str
    file_type: str
    status: str
    chunks: int
    size_bytes: int | None
    error: str | None
    has_original: bool
    created_at: datetime
    processed_at: datetime | None


@dataclass(frozen=True)
class DocumentList:
    """An oracle's documents, newest first."""

    rows: tuple[DocumentRow, ...]

    def to_frame(self) -> Any:
        """The documents as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.rows])

    def count(self, status: str) -> int:
        """How many documents have ``status``."""
        return sum(1 for r in self.rows if r.status == status)


@dataclass(frozen=True)
class ChunkRow:
    """One chunk as the chunk browser shows it."""

    chunk_id: UUID
    chunk_index: int
    tokens: int | None
    content: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class ChunkPage:
    """A page of a document's chunks, in order, and how many there are in all."""

    document_id: UUID
    total: int
    offset: int
    rows: tuple[ChunkRow, ...]

    def to_frame(self) -> Any:
        """The chunks as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.rows])


def list_documents(session: Session, oracle_id: UUID) -> DocumentList:
    """The oracle's documents with status, chunk count and failure reason, newest first."""
    query = (
        select(Document)
        .where(Document.oracle_id == oracle_id)
        .order_by(Document.created_at.desc(), Document.filename)
    )
    return DocumentList(
        tuple(
            DocumentRow(
                d.id,
                d.filename,
                d.file_type,
                d.status,
                d.chunk_count,
                d.file_size_bytes,
                d.error_message,
                d.storage_path is not None,
                d.created_at,
                d.processed_at,
            )
            for d in session.scalars(query)
        )
    )


def document_by_id(session: Session, document_id: UUID) -> Document:
    """The document with ``document_id`` in the session's tenant."""
    found = session.get(Document, document_id)
    if found is None:
        raise NotFoundError(f"document {document_id} not found in this tenant")
    return found


def chunk_page(
    session: Session, document_id: UUID, *, offset: int = 0, limit: int = 20
) -> ChunkPage:
    """Chunks ``offset`` to ``offset + limit`` of a document, in order."""
    if offset < 0 or limit < 1:
        raise UserError("offset must be 0 or more and limit at least 1")
    document_by_id(session, document_id)
    total = session.scalar(select(func.count()).where(DocumentChunk.document_id == document_id))
    query = (
        select(DocumentChunk)
        .where(DocumentChunk.document_id == document_id)
        .order_by(DocumentChunk.chunk_index)
        .offset(offset)
        .limit(limit)
    )
    rows = tuple(
        ChunkRow(c.id, c.chunk_index, c.token_count, c.content, c.metadata_)
        for c in session.scalars(query)
    )
    return ChunkPage(document_id, int(total or 0), offset, rows)


def delete_document(session: Session, document_id: UUID) -> str | None:
    """Delete a document and its chunks; returns its ``storage_path`` for the caller to
    remove once the transaction has committed, or None when no original is kept or another
    document still uses it (originals stored by content hash before issue 15 could be shared).
    """
    document = document_by_id(session, document_id)
    path = document.storage_path
    session.execute(delete(Document).where(Document.id == document_id))
    if path is None:
        return None
    shared = select(func.count()).where(Document.storage_path == path)
    return None if session.scalar(shared) else path


def set_storage_path(session: Session, document_id: UUID, path: str) -> None:
    """Record where the document's original is kept."""
    document_by_id(session, document_id).storage_path = path
    session.flush()


def forget_content_hash(session: Session, document_id: UUID) -> Document:
    """Make the next ingest of this document's file re-run in full, even for the same bytes."""
    document = document_by_id(session, document_id)
    document.content_hash = None
    session.flush()
    return document


class UploadStore:
    """Uploaded originals on disk, ``<root>/<tenant>/<oracle>/<document id><suffix>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, document: Document, data: bytes) -> str:
        """Keep ``data`` as ``document``'s original (replacing an earlier one); returns the
        path relative to the store. The file appears whole or not at all."""
        relative = f"{document.solution_id}/{document.oracle_id}/{document.id}"
        relative += _suffix(document.filename)
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as temporary:
            temporary.write(data)
        os.replace(temporary.name, target)
        return relative

    def load(self, solution_id: UUID, relative: str) -> bytes:
        """The stored bytes (only under the tenant's own folder)."""
        if not relative.startswith(f"{solution_id}/") or ".." in PurePath(relative).parts:
            raise NotFoundError("the stored original does not belong to this tenant")
        path = self.root / relative
        if not path.is_file():
            raise NotFoundError(
                "the original file is no longer stored: upload it again under the same name"
            )
        return path.read_bytes()

    def remove(self, relative: str | None) -> None:
        """Delete a stored original if it exists."""
        if relative:
            (self.root / relative).unlink(missing_ok=True)


def _suffix(filename: str) -> str:
    """The file's extension if it is one we parse, else none (names are never trusted)."""
    try:
        file_type_of(filename)
    except UserError:
        return ""
    return PurePath(filename).suffix.lower()


def ingest_uploads(
    sessions: sessionmaker[Session],
    store: UploadStore,
    *,
    solution_id: UUID,
    oracle_id: UUID,
    sources: list[SourceFile],
    embedder: Embedder,
    on_done: Callable[[IngestOutcome], None] | None = None,
    limits: IngestLimits | None = None,
) -> list[IngestOutcome]:
    """Ingest the uploads, then keep each document's original and record where it is.

    Nothing is written to disk before ``ingest`` has verified the tenant's oracle, and only
    for sources that became documents (a refused file name never reaches the disk).
    """
    outcomes = ingest(
        sessions, solution_id=solution_id, oracle_id=oracle_id, sources=sources,
        embedder=embedder, on_done=on_done, limits=limits,
    )  # fmt: skip
    data = {s.filename: s.data for s in sources if s.problem is None}
    with tenant_session(sessions, solution_id=solution_id) as session:
        for outcome in outcomes:
            if outcome.document_id is not None and outcome.filename in data:
                document = document_by_id(session, outcome.document_id)
                document.storage_path = store.save(document, data[outcome.filename])
        session.flush()
    return outcomes


def reingest(
    sessions: sessionmaker[Session],
    store: UploadStore,
    *,
    solution_id: UUID,
    document_id: UUID,
    embedder: Embedder,
    limits: IngestLimits | None = None,
) -> IngestOutcome:
    """Parse, chunk and embed a document again from its stored original."""
    with tenant_session(sessions, solution_id=solution_id) as session:
        document = document_by_id(session, document_id)
        if document.storage_path is None:
            raise NotFoundError(
                f"{document.filename} was not uploaded here, so no original is kept: "
                "upload the file again under the same name"
            )
        data = store.load(solution_id, document.storage_path)
        forget_content_hash(session, document_id)
        oracle_id, filename = document.oracle_id, document.filename
    [outcome] = ingest(
        sessions, solution_id=solution_id, oracle_id=oracle_id,
        sources=[SourceFile(filename, data)], embedder=embedder, limits=limits,
    )  # fmt: skip
    return outcome
