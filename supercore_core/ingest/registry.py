"""Claiming a document row for ingestion: one per file name per oracle, even when several
runs ingest the same new file at once (a unique index makes the later inserts wait and
conflict), and never two runs working on one document."""

import json
import uuid
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.db.sessions import tenant_session
from supercore_core.ingest.sources import IngestOutcome, SourceFile
from supercore_core.models import Document
from supercore_core.rendering import terminal_text

BUSY_FOR_S = 1800  # a running workflow this fresh means another run is ingesting the file


@dataclass(frozen=True)
class Job:
    """A registered document being ingested, and its workflow."""

    solution_id: UUID
    oracle_id: UUID
    document_id: UUID
    workflow_id: str
    filename: str


def register(
    sessions: sessionmaker[Session],
    solution_id: UUID,
    oracle_id: UUID,
    source: SourceFile,
    digest: str | None,
) -> Job | IngestOutcome:
    """Claim the document row (one per file name, even under concurrent runs) and start its
    workflow; an outcome instead when it is unchanged or another run is ingesting it."""
    with tenant_session(sessions, solution_id=solution_id) as session:
        document = _named(session, oracle_id, source.filename)
        if _already_ingested(session, oracle_id, document, digest):
            return IngestOutcome(source.filename, "unchanged")
        if document is None:
            document = _insert(session, solution_id, oracle_id, source.filename)
            if _already_ingested(session, oracle_id, document, digest):  # a concurrent run's
                return IngestOutcome(source.filename, "unchanged")
        if document.status == "processing" and _busy(session, document.id):
            return IngestOutcome(
                source.filename,
                "failed",
                error=f"{terminal_text(source.filename)} is being ingested by another run right "
                "now: wait for it to finish, then ingest it again if needed (a run that was "
                "killed stops counting after 30 minutes without progress)",
            )
        if document.status == "processing":  # a run that stopped without a trace
            _supersede(session, document.id)
        document.file_type = source.filename.rsplit(".", 1)[-1].lower()[:16] or "unknown"
        document.file_size_bytes = len(source.data)
        document.content_hash = digest
        document.status = "processing"
        document.error_message = None
        document.metadata_ = {**(document.metadata_ or {}), **source.metadata}
        session.flush()
        return _start_workflow(session, document, source.filename)


def _named(session: Session, oracle_id: UUID, filename: str) -> Document | None:
    """The oracle's document with this file name, locked until the transaction ends."""
    query = select(Document).where(Document.oracle_id == oracle_id, Document.filename == filename)
    return session.scalars(query.with_for_update()).first()


def _insert(session: Session, solution_id: UUID, oracle_id: UUID, filename: str) -> Document:
    """A new document row, or the one a concurrent run inserted first (the unique index on
    (oracle_id, filename) makes this insert wait for it, then conflict)."""
    document = Document(
        oracle_id=oracle_id, solution_id=solution_id, filename=filename, file_type="unknown"
    )
    try:
        with session.begin_nested():
            session.add(document)
            session.flush()
    except IntegrityError:
        existing = _named(session, oracle_id, filename)
        if existing is None:
            raise
        return existing
    return document


def _busy(session: Session, document_id: UUID) -> bool:
    """Whether a workflow of this document is running and made progress recently."""
    return bool(
        session.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM temporal_workflows WHERE document_id = :d"
                " AND status = 'running' AND updated_at > now() - make_interval(secs => :s))"
            ),
            {"d": document_id, "s": BUSY_FOR_S},
        )
    )


def _supersede(session: Session, document_id: UUID) -> None:
    """Fail the stale running workflows of a document another run takes over."""
    session.execute(
        text(
            "SELECT fail_workflow(workflow_id, :r) FROM temporal_workflows"
            " WHERE document_id = :d AND status = 'running'"
        ),
        {"d": document_id, "r": "superseded: the file was ingested again after this run stopped"},
    )


def _start_workflow(session: Session, document: Document, filename: str) -> Job:
    workflow_id = f"ingest-{document.id}-{uuid.uuid4().hex[:8]}"
    session.execute(
        text(
            "SELECT create_workflow_tracking(:w, 'IngestDocument', CAST(:i AS jsonb), :s, :o, :d)"
        ),
        {
            "w": workflow_id,
            "i": json.dumps({"filename": filename}),
            "s": document.solution_id,
            "o": document.oracle_id,
            "d": document.id,
        },
    )
    return Job(document.solution_id, document.oracle_id, document.id, workflow_id, filename)


def _already_ingested(
    session: Session, oracle_id: UUID, document: Document | None, digest: str | None
) -> bool:
    """Same name and bytes, or a new name for bytes the oracle already holds."""
    if digest is None:
        return False
    if document is not None:
        return document.content_hash == digest and document.status == "completed"
    twin = select(Document.id).where(
        Document.oracle_id == oracle_id,
        Document.content_hash == digest,
        Document.status == "completed",
    )
    return session.scalars(twin.limit(1)).first() is not None
