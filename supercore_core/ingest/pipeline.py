"""Ingestion: files to parsed blocks to chunks to vectors, tracked as workflows.

Unlike other domain functions, ingestion takes the session factory: each document's
progress is committed as it happens (so another connection can watch the workflow row),
and each document's chunks are replaced in one transaction of their own.
"""

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.catalog import oracle_by_id
from supercore_core.db.limits import limit_error
from supercore_core.db.sessions import tenant_session
from supercore_core.embedding import Embedder
from supercore_core.errors import DocumentError
from supercore_core.ingest.chunking import Chunk, ChunkingConfig, chunk_blocks
from supercore_core.ingest.parsers import parse_bytes
from supercore_core.ingest.store import (
    ChunkRow,
    cached_embeddings,
    content_hash,
    copy_chunks,
    remember_embeddings,
)
from supercore_core.models import Document
from supercore_core.vector_index.maintain import after_ingest

STEPS = ("parse", "chunk", "embed", "store")
BATCH_DOCUMENTS = 32  # documents whose chunks are embedded in one call


@dataclass(frozen=True)
class SourceFile:
    """Bytes to ingest under a file name (the document's identity within the oracle)."""

    filename: str
    data: bytes
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one source."""

    filename: str
    status: Literal["completed", "unchanged", "failed"]
    document_id: UUID | None = None
    chunks: int = 0
    error: str | None = None


@dataclass(frozen=True)
class _Job:
    solution_id: UUID
    oracle_id: UUID
    document_id: UUID
    workflow_id: str
    source: SourceFile


def ingest(
    sessions: sessionmaker[Session],
    *,
    solution_id: UUID,
    oracle_id: UUID,
    sources: Iterable[SourceFile],
    embedder: Embedder,
    chunking: ChunkingConfig | None = None,
    on_done: Callable[[IngestOutcome], None] | None = None,
) -> list[IngestOutcome]:
    """Ingest ``sources`` into the oracle; returns one outcome per source, in order.

    The same bytes twice are a no-op; changed bytes under a known file name replace that
    document's chunks atomically; a bad file ends ``failed`` with its reason and nothing
    else changes.
    """
    with tenant_session(sessions, solution_id=solution_id) as session:
        oracle = oracle_by_id(session, oracle_id)  # checked once: NotFoundError for others' ids
        config = chunking or _oracle_chunking(oracle.retrieval_config)
    outcomes: list[IngestOutcome] = []
    for batch in _batches(sources, BATCH_DOCUMENTS):
        for outcome in _ingest_batch(sessions, solution_id, oracle_id, batch, embedder, config):
            outcomes.append(outcome)
            if on_done is not None:
                on_done(outcome)
    # Past its threshold the oracle gets a vector index of its own (when this login owns
    # the table; otherwise `supercore db reindex --vectors` does it).
    after_ingest(sessions, solution_id, oracle_id)
    return outcomes


def _batches(
    items: Iterable[SourceFile], size: int
) -> Iterator[tuple[tuple[str, SourceFile], ...]]:
    """Up to ``size`` sources a batch; a repeated file content starts a new batch, so the
    second copy sees the first one's outcome (the same bytes twice are a no-op)."""
    batch: list[tuple[str, SourceFile]] = []
    digests: set[str] = set()
    for source in items:
        digest = hashlib.sha256(source.data).hexdigest()
        if len(batch) == size or digest in digests:
            yield tuple(batch)
            batch, digests = [], set()
        batch.append((digest, source))
        digests.add(digest)
    if batch:
        yield tuple(batch)


def _oracle_chunking(settings: dict[str, Any]) -> ChunkingConfig:
    return ChunkingConfig(
        chunk_tokens=int(settings.get("chunk_tokens", ChunkingConfig.chunk_tokens)),
        overlap_tokens=int(settings.get("overlap_tokens", ChunkingConfig.overlap_tokens)),
    )


def _ingest_batch(
    sessions: sessionmaker[Session],
    solution_id: UUID,
    oracle_id: UUID,
    batch: tuple[tuple[str, SourceFile], ...],
    embedder: Embedder,
    config: ChunkingConfig,
) -> list[IngestOutcome]:
    """Register and chunk each document, embed the batch's chunks in one call, store each."""
    outcomes: dict[int, IngestOutcome] = {}
    prepared: list[tuple[int, _Job, list[Chunk]]] = []
    for position, (digest, source) in enumerate(batch):
        job = _register(sessions, solution_id, oracle_id, source, digest)
        if job is None:
            outcomes[position] = IngestOutcome(source.filename, "unchanged")
            continue
        with _recorded_failure(sessions, job, outcomes, position):
            prepared.append((position, job, _prepare(sessions, job, embedder, config)))
    texts = [c.text for _, _, chunks in prepared for c in chunks]
    jobs = [job for _, job, _ in prepared]
    try:
        vectors = iter(_embed(sessions, jobs, embedder, texts))
    except Exception as exc:  # the embedder broke: no document of the batch stays "processing"
        limit = limit_error(exc, "embedding this batch")
        for job in jobs:
            _fail(sessions, job, str(limit or f"embedding failed: {type(exc).__name__}: {exc}"))
        if limit is not None:
            raise limit from exc
        raise
    for position, job, chunks in prepared:
        mine = [next(vectors) for _ in chunks]
        with _recorded_failure(sessions, job, outcomes, position):
            _store(sessions, job, chunks, mine, embedder.model_name)
            outcomes[position] = IngestOutcome(
                job.source.filename, "completed", job.document_id, chunks=len(chunks)
            )
    return [outcomes[i] for i in range(len(batch))]


@contextmanager
def _recorded_failure(
    sessions: sessionmaker[Session], job: _Job, outcomes: dict[int, IngestOutcome], position: int
) -> Iterator[None]:
    """A DocumentError fails this document only; a database limit (timeout, full disk) fails
    it and stops the run with a clear ``DatabaseLimitError``; a bug is recorded, re-raised."""
    try:
        yield
    except DocumentError as exc:
        _fail(sessions, job, str(exc))
        outcomes[position] = IngestOutcome(
            job.source.filename, "failed", job.document_id, error=str(exc)
        )
    except Exception as exc:
        limit = limit_error(exc, f"loading {job.source.filename}")
        _fail(
            sessions, job, str(limit) if limit else f"internal error: {type(exc).__name__}: {exc}"
        )
        if limit is not None:
            raise limit from exc
        raise


def _register(
    sessions: sessionmaker[Session],
    solution_id: UUID,
    oracle_id: UUID,
    source: SourceFile,
    digest: str,
) -> _Job | None:
    """Create or reuse the document row and start its workflow; None when unchanged."""
    with tenant_session(sessions, solution_id=solution_id) as session:
        same = select(Document).where(Document.oracle_id == oracle_id)
        document = session.scalars(same.where(Document.filename == source.filename)).first()
        if _already_ingested(session, same, document, digest):
            return None
        if document is None:
            document = Document(
                oracle_id=oracle_id, solution_id=solution_id, filename=source.filename
            )
            session.add(document)
        document.file_type = source.filename.rsplit(".", 1)[-1].lower()[:16] or "unknown"
        document.file_size_bytes = len(source.data)
        document.content_hash = digest
        document.status = "processing"
        document.error_message = None
        document.metadata_ = {**(document.metadata_ or {}), **source.metadata}
        session.flush()
        workflow_id = f"ingest-{document.id}-{uuid.uuid4().hex[:8]}"
        session.execute(
            text(
                "SELECT create_workflow_tracking("
                ":w, 'IngestDocument', CAST(:i AS jsonb), :s, :o, :d)"
            ),
            {
                "w": workflow_id,
                "i": json.dumps({"filename": source.filename}),
                "s": solution_id,
                "o": oracle_id,
                "d": document.id,
            },
        )
        return _Job(solution_id, oracle_id, document.id, workflow_id, source)


def _already_ingested(session: Session, same: Any, document: Document | None, digest: str) -> bool:
    """Same name and bytes, or a new name for bytes the oracle already holds."""
    if document is not None:
        return document.content_hash == digest and document.status == "completed"
    twin = same.where(Document.content_hash == digest, Document.status == "completed")
    return session.scalars(twin).first() is not None


def _progress(sessions: sessionmaker[Session], job: _Job, step: str) -> None:
    with tenant_session(sessions, solution_id=job.solution_id) as session:
        session.execute(
            text("SELECT update_workflow_progress(:w, :step, :n, :total)"),
            {"w": job.workflow_id, "step": step, "n": STEPS.index(step) + 1, "total": len(STEPS)},
        )


def _prepare(
    sessions: sessionmaker[Session], job: _Job, embedder: Embedder, config: ChunkingConfig
) -> list[Chunk]:
    parsed = parse_bytes(job.source.data, job.source.filename)
    _progress(sessions, job, "parse")
    chunks = chunk_blocks(parsed.blocks, embedder, config)
    _progress(sessions, job, "chunk")
    return chunks


def _embed(
    sessions: sessionmaker[Session], jobs: list[_Job], embedder: Embedder, texts: list[str]
) -> list[list[float]]:
    """Vectors for ``texts``: from the tenant's cache, the rest in one embedder call."""
    if not jobs:
        return []
    solution_id = jobs[0].solution_id
    hashes = [content_hash(t) for t in texts]
    with tenant_session(sessions, solution_id=solution_id) as session:
        known = cached_embeddings(
            session, solution_id=solution_id, model=embedder.model_name, hashes=hashes
        )
    missing = sorted({h: t for h, t in zip(hashes, texts, strict=True) if h not in known}.items())
    vectors = embedder.embed([t for _, t in missing]) if missing else []
    fresh = dict(zip([h for h, _ in missing], vectors, strict=True))
    with tenant_session(sessions, solution_id=solution_id) as session:
        remember_embeddings(
            session, solution_id=solution_id, model=embedder.model_name, vectors=fresh
        )
    for job in jobs:
        _progress(sessions, job, "embed")
    return [known.get(h) or fresh[h] for h in hashes]


def _store(
    sessions: sessionmaker[Session],
    job: _Job,
    chunks: list[Chunk],
    vectors: list[list[float]],
    model: str,
) -> None:
    """Replace the document's chunks, mark it completed and finish the workflow: one transaction."""
    ids = (job.document_id, job.oracle_id, job.solution_id)
    rows = (
        ChunkRow(*ids, c.index, c.text, v, model, c.token_count, c.metadata)
        for c, v in zip(chunks, vectors, strict=True)
    )
    with tenant_session(sessions, solution_id=job.solution_id) as session:
        session.execute(
            text("DELETE FROM document_chunks WHERE document_id = :d"), {"d": job.document_id}
        )
        count = copy_chunks(session, rows)
        session.execute(
            text(
                "UPDATE documents SET status = 'completed', chunk_count = :n, processed_at = now(),"
                " error_message = NULL WHERE id = :d"
            ),
            {"n": count, "d": job.document_id},
        )
        session.execute(
            text("SELECT complete_workflow(:w, CAST(:o AS jsonb))"),
            {"w": job.workflow_id, "o": json.dumps({"chunks_created": count})},
        )


def _fail(sessions: sessionmaker[Session], job: _Job, reason: str) -> None:
    with tenant_session(sessions, solution_id=job.solution_id) as session:
        session.execute(
            text("UPDATE documents SET status = 'failed', error_message = :r WHERE id = :d"),
            {"r": reason, "d": job.document_id},
        )
        session.execute(text("SELECT fail_workflow(:w, :r)"), {"w": job.workflow_id, "r": reason})
