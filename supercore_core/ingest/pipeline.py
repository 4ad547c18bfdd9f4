"""Ingestion: files to parsed blocks to chunks to vectors, tracked as workflows.

Unlike other domain functions, ingestion takes the session factory: each document's
progress is committed as it happens (so another connection can watch the workflow row),
and each document's chunks are replaced in one transaction of their own.

One bad file never stops the others: whatever fails inside a document's ingestion (its
name, parser, limits, the embedder, the database refusing its chunks) marks that document
and its workflow failed with a reason a user can act on, and the run goes on. Sources are
consumed one at a time and only their chunks are kept until a batch is embedded, so memory
stays bounded whatever the run holds.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.catalog import oracle_by_id, require_not_suspended
from supercore_core.db.sessions import tenant_session
from supercore_core.embedding import Embedder
from supercore_core.errors import RoleError, TenantSuspendedError
from supercore_core.ingest.chunking import Chunk, ChunkingConfig, cap_chunk_bytes, chunk_blocks
from supercore_core.ingest.failures import embedding_failure, failure_reason
from supercore_core.ingest.limits import IngestLimits
from supercore_core.ingest.names import check_filename
from supercore_core.ingest.parsers import parse_bytes
from supercore_core.ingest.registry import Job, register
from supercore_core.ingest.sources import IngestOutcome, SourceFile
from supercore_core.ingest.store import (
    ChunkRow,
    cached_embeddings,
    content_hash,
    copy_chunks,
    remember_embeddings,
)

__all__ = ["STEPS", "IngestOutcome", "SourceFile", "ingest"]

STEPS = ("parse", "chunk", "embed", "store")
BATCH_DOCUMENTS = 32  # documents whose chunks are embedded in one call
BATCH_CHARS = 8_000_000  # ... or fewer, once their chunks hold this much text
_INTERRUPTED = "ingestion was interrupted before this document was stored: ingest it again"

# Refusals of the person's role or of a suspended tenant end the whole run, not one file.
_REFUSALS = (RoleError, TenantSuspendedError)


@dataclass
class _Item:
    """One source in a batch: its job and chunks until stored, or its outcome."""

    filename: str
    job: Job | None = None
    chunks: list[Chunk] = field(default_factory=list)
    outcome: IngestOutcome | None = None


def ingest(
    sessions: sessionmaker[Session],
    *,
    solution_id: UUID,
    oracle_id: UUID,
    sources: Iterable[SourceFile],
    embedder: Embedder,
    chunking: ChunkingConfig | None = None,
    on_done: Callable[[IngestOutcome], None] | None = None,
    limits: IngestLimits | None = None,
) -> list[IngestOutcome]:
    """Ingest ``sources`` into the oracle; returns one outcome per source, in order.

    The same bytes twice are a no-op; changed bytes under a known file name replace that
    document's chunks atomically; a bad file ends ``failed`` with its reason and nothing
    else changes. ``sources`` may be a generator: it is read one source at a time.
    """
    with tenant_session(sessions, solution_id=solution_id) as session:
        oracle = oracle_by_id(session, oracle_id)  # checked once: NotFoundError for others' ids
        require_not_suspended(session, solution_id)
        config = chunking or _oracle_chunking(oracle.retrieval_config)
    run = _Run(sessions, solution_id, oracle_id, embedder, config, limits or IngestLimits())
    try:
        return run.all(sources, on_done)
    except BaseException:  # interrupted, or the database went away: leave nothing processing
        run.abandon()
        raise


def _oracle_chunking(settings: dict[str, Any]) -> ChunkingConfig:
    return ChunkingConfig(
        chunk_tokens=int(settings.get("chunk_tokens", ChunkingConfig.chunk_tokens)),
        overlap_tokens=int(settings.get("overlap_tokens", ChunkingConfig.overlap_tokens)),
    )


class _Run:
    """One ingest call: batches of prepared documents, embedded together, stored one by one."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        solution_id: UUID,
        oracle_id: UUID,
        embedder: Embedder,
        config: ChunkingConfig,
        limits: IngestLimits,
    ) -> None:
        self.sessions, self.embedder, self.config, self.limits = sessions, embedder, config, limits
        self.solution_id, self.oracle_id = solution_id, oracle_id
        self.open: dict[UUID, Job] = {}  # registered, neither stored nor failed yet

    def all(
        self, sources: Iterable[SourceFile], on_done: Callable[[IngestOutcome], None] | None
    ) -> list[IngestOutcome]:
        """Every source's outcome; a repeated content starts a new batch, so the second copy
        sees the first one's outcome (the same bytes twice are a no-op)."""
        outcomes: list[IngestOutcome] = []
        batch: list[_Item] = []
        digests: set[str | None] = set()
        chars = 0
        for source in sources:
            digest = None if source.problem else hashlib.sha256(source.data).hexdigest()
            full = len(batch) == BATCH_DOCUMENTS or chars >= BATCH_CHARS
            if batch and (full or (digest is not None and digest in digests)):
                outcomes += self.finish(batch, on_done)
                batch, digests, chars = [], set(), 0
            item = self.start(source, digest)
            batch.append(item)
            digests.add(digest)
            chars += sum(len(chunk.text) for chunk in item.chunks)
        return outcomes + self.finish(batch, on_done)

    def start(self, source: SourceFile, digest: str | None) -> _Item:
        """Register the source's document and parse and chunk it; failures end here."""
        try:
            check_filename(source.filename)
            claim = register(self.sessions, self.solution_id, self.oracle_id, source, digest)
        except _REFUSALS:
            raise
        except Exception as exc:  # a bad name, or the database refused the row
            reason = failure_reason(exc, source.filename, "registering it")
            return _Item(source.filename, outcome=_failed(source.filename, None, reason))
        if isinstance(claim, IngestOutcome):
            return _Item(source.filename, outcome=claim)
        self.open[claim.document_id] = claim
        item = _Item(source.filename, claim)
        with self._recorded(item, "parsing and chunking it"):
            if source.problem is not None:
                raise source.problem
            item.chunks = self._prepare(claim, source)
        return item

    def _prepare(self, job: Job, source: SourceFile) -> list[Chunk]:
        parsed = parse_bytes(source.data, source.filename, limits=self.limits)
        _progress(self.sessions, job, "parse")
        chunks = chunk_blocks(parsed.blocks, self.embedder, self.config)
        chunks = cap_chunk_bytes(chunks, self.embedder, self.limits.max_chunk_bytes)
        _progress(self.sessions, job, "chunk")
        return chunks

    def finish(
        self, batch: list[_Item], on_done: Callable[[IngestOutcome], None] | None
    ) -> list[IngestOutcome]:
        """Embed the batch's chunks in one call and store each document; their outcomes."""
        for item, vectors in self._vectors([item for item in batch if item.outcome is None]):
            with self._recorded(item, "storing its chunks"):
                assert item.job is not None
                _store(self.sessions, item.job, item.chunks, vectors, self.embedder.model_name)
                self.open.pop(item.job.document_id, None)
                item.outcome = IngestOutcome(
                    item.filename, "completed", item.job.document_id, chunks=len(item.chunks)
                )
        outcomes = [item.outcome for item in batch if item.outcome is not None]
        for outcome in outcomes:
            if on_done is not None:
                on_done(outcome)
        return outcomes

    def _vectors(self, ready: list[_Item]) -> list[tuple[_Item, list[list[float]]]]:
        """Each document's vectors from one embedder call; if that fails, one call per
        document, so only the documents the embedder cannot take fail."""
        try:
            flat = iter(self._embed(ready))
            return [(item, [next(flat) for _ in item.chunks]) for item in ready]
        except _REFUSALS:
            raise
        except Exception as exc:
            if len(ready) == 1:
                self._fail(ready[0], embedding_failure(exc))
                return []
        return [pair for item in ready for pair in self._vectors([item])]

    def _embed(self, ready: list[_Item]) -> list[list[float]]:
        jobs = [item.job for item in ready if item.job is not None]
        texts = [chunk.text for item in ready for chunk in item.chunks]
        return _embed(self.sessions, jobs, self.embedder, texts)

    @contextmanager
    def _recorded(self, item: _Item, doing: str) -> Iterator[None]:
        """Any failure inside fails this document only, with a reason a user can act on."""
        try:
            yield
        except _REFUSALS:
            raise
        except Exception as exc:
            self._fail(item, failure_reason(exc, item.filename, doing))

    def _fail(self, item: _Item, reason: str) -> None:
        assert item.job is not None
        _fail(self.sessions, item.job, reason)
        self.open.pop(item.job.document_id, None)
        item.outcome = _failed(item.filename, item.job.document_id, reason)

    def abandon(self) -> None:
        """Fail every document still registered but unfinished (best effort)."""
        for job in list(self.open.values()):
            with suppress(Exception):
                _fail(self.sessions, job, _INTERRUPTED)
        self.open.clear()


def _failed(filename: str, document_id: UUID | None, reason: str) -> IngestOutcome:
    return IngestOutcome(filename, "failed", document_id, error=reason)


def _progress(sessions: sessionmaker[Session], job: Job, step: str) -> None:
    with tenant_session(sessions, solution_id=job.solution_id) as session:
        session.execute(
            text("SELECT update_workflow_progress(:w, :step, :n, :total)"),
            {"w": job.workflow_id, "step": step, "n": STEPS.index(step) + 1, "total": len(STEPS)},
        )


def _embed(
    sessions: sessionmaker[Session], jobs: list[Job], embedder: Embedder, texts: list[str]
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
    job: Job,
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


def _fail(sessions: sessionmaker[Session], job: Job, reason: str) -> None:
    """Mark the document and its workflow failed with ``reason``: one transaction."""
    with tenant_session(sessions, solution_id=job.solution_id) as session:
        session.execute(
            text("UPDATE documents SET status = 'failed', error_message = :r WHERE id = :d"),
            {"r": reason, "d": job.document_id},
        )
        session.execute(text("SELECT fail_workflow(:w, :r)"), {"w": job.workflow_id, "r": reason})
