"""Chunk-size variants of a live oracle: copies of its own documents, re-chunked in scratch.

A chunk size N is evaluated on the scratch oracle ``<oracle>~chunks<N>`` (purpose
``rechunk``, hidden from pickers, removed by ``eval clean``) that holds a copy of each
ingested document of the live oracle: its stored original when one is kept, else its text
rebuilt from its chunks (``chunk_text``; as ``<file name>.txt``, or ``.md`` when it holds
tables), ingested through the pipeline at N tokens. Chunk texts the tenant has embedded
before come from its embedding cache, so only new texts are embedded. The live oracle is only read.

A copy is kept for the next sweep: copies of documents no longer in the live oracle are
deleted, unchanged sources are skipped by the pipeline and changed ones replaced; a copy
made with another embedding model is emptied first. Each copied document's metadata names
the live document it copies (``copy_of``: file name, content hash, where the text came
from), which maps the copy's document ids to the live ones a golden set judges.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.catalog import oracle_by_id
from supercore_core.db.sessions import tenant_session
from supercore_core.documents import UploadStore, delete_document
from supercore_core.embedding import Embedder
from supercore_core.errors import CorruptFileError, NotFoundError, UserError
from supercore_core.evaluation.chunk_text import text_from_chunks
from supercore_core.evaluation.scratch import scratch_oracle
from supercore_core.ingest.chunking import ChunkingConfig
from supercore_core.ingest.limits import IngestLimits
from supercore_core.ingest.names import MAX_FILENAME_CHARS
from supercore_core.ingest.pipeline import IngestOutcome, SourceFile, ingest
from supercore_core.ingest.progress import IngestMeter
from supercore_core.models import Document, DocumentChunk

COPY_KEY = "copy_of"  # in a copied document's metadata: the live document it copies


@dataclass(frozen=True)
class CopyOptions:
    """Where uploaded originals are kept (None: rebuild every text from its chunks), and
    the ingestion limits of the copy."""

    store: UploadStore | None = None
    limits: IngestLimits | None = None


@dataclass(frozen=True)
class _Planned:
    """One live document, the name of its copy and whether the copy reads its original."""

    document_id: UUID
    filename: str
    content_hash: str | None
    storage_path: str | None
    copy_name: str

    @property
    def from_original(self) -> bool:
        return self.storage_path is not None


@dataclass(frozen=True)
class LiveCopy:
    """A re-chunked copy of a live oracle, and what making it took.

    ``aliases`` maps each copied document's id to the live document's id; ``embedded``
    counts the texts the embedder was given (the rest of ``chunks`` came from the tenant's
    embedding cache or from a copy kept since the last sweep, ``unchanged``).
    """

    oracle_id: UUID
    name: str
    chunk_tokens: int
    aliases: Mapping[str, str]
    live_names: Mapping[str, str]  # live document id -> file name
    from_original: int
    from_chunks: int
    unchanged: int
    chunks: int
    embedded: int
    failed: tuple[str, ...]

    def missing(self, document_ids: Sequence[str]) -> list[str]:
        """File names of the given live documents that the copy does not hold."""
        copied = set(self.aliases.values())
        return sorted(self.live_names.get(d, d) for d in document_ids if d not in copied)

    def snapshot(self) -> dict[str, Any]:
        """What a run on the copy records about it."""
        return {
            "copy": self.name, "chunk_tokens": self.chunk_tokens, "documents": len(self.aliases),
            "from_original": self.from_original, "from_chunks": self.from_chunks,
            "unchanged": self.unchanged, "chunks": self.chunks, "embedded": self.embedded,
            "failed": list(self.failed),
        }  # fmt: skip


def copy_name(oracle_name: str, chunk_tokens: int) -> str:
    """The scratch oracle a chunk size of ``oracle_name`` is evaluated on."""
    return f"{oracle_name}~chunks{chunk_tokens}"


def _plan(
    session: Session, solution_id: UUID, oracle_id: UUID, store: UploadStore | None
) -> list[_Planned]:
    """The live oracle's ingested documents, each with the unique name of its copy."""
    query = (
        select(Document)
        .where(Document.oracle_id == oracle_id, Document.status == "completed")
        .order_by(Document.filename)
    )
    live = list(session.scalars(query))
    if not live:
        name = oracle_by_id(session, oracle_id).oracle_name
        raise UserError(
            f"oracle {name!r} has no ingested documents: there is nothing to re-chunk "
            "(ingest documents first, or sweep without --chunk-tokens)"
        )
    tables = _with_tables(session, oracle_id)
    names = {d.filename for d in live}  # originals keep their name: reserve them first
    plan = []
    for document in live:
        path = document.storage_path
        kept = path if store is not None and path and store.has(solution_id, path) else None
        suffix = ".md" if document.id in tables else ".txt"
        name = document.filename if kept else _text_name(document, suffix, names)
        names.add(name)
        plan.append(_Planned(document.id, document.filename, document.content_hash, kept, name))
    return plan


def _with_tables(session: Session, oracle_id: UUID) -> set[UUID]:
    """The oracle's documents with a table chunk."""
    query = select(DocumentChunk.document_id).where(
        DocumentChunk.oracle_id == oracle_id, DocumentChunk.metadata_["kind"].astext == "table"
    )
    return set(session.scalars(query.distinct()))


def _text_name(document: Document, suffix: str, taken: set[str]) -> str:
    """``<file name>.txt`` for a text rebuilt from chunks, ``.md`` when it holds tables
    (Markdown keeps them tables; plain text keeps a line starting with ``|`` or ``#`` text)."""
    name = f"{document.filename}{suffix}"
    if name in taken or len(name) > MAX_FILENAME_CHARS:
        name = f"{document.id}{suffix}"
    return name


def _copy_oracle(
    sessions: sessionmaker[Session], solution_id: UUID, oracle_id: UUID, chunking: ChunkingConfig
) -> tuple[UUID, str]:
    """The scratch oracle for the copy, with the chunking and the live oracle's embedder
    (emptied when it was made with another embedding model)."""
    with tenant_session(sessions, solution_id=solution_id) as session:
        live = oracle_by_id(session, oracle_id)
        name = copy_name(live.oracle_name, chunking.chunk_tokens)
        copy = scratch_oracle(session, solution_id=solution_id, name=name, purpose="rechunk",
                              source=f"oracle {live.oracle_name}")  # fmt: skip
        model = (live.embedding_model, live.embedding_dimensions)
        if (copy.embedding_model, copy.embedding_dimensions) != model:
            _delete_documents(session, copy.id, keep=set())
            copy.embedding_model, copy.embedding_dimensions = model
        copy.retrieval_config = {
            "chunk_tokens": chunking.chunk_tokens, "overlap_tokens": chunking.overlap_tokens,
        }  # fmt: skip
        session.flush()
        return copy.id, name


def _delete_documents(session: Session, oracle_id: UUID, *, keep: set[str]) -> int:
    """Delete the copy's documents not named in ``keep``; how many."""
    query = select(Document.id, Document.filename).where(Document.oracle_id == oracle_id)
    gone = [document_id for document_id, name in session.execute(query) if name not in keep]
    for document_id in gone:
        delete_document(session, document_id)
    session.flush()
    return len(gone)


def _text(session: Session, document_id: UUID) -> bytes:
    query = (
        select(DocumentChunk.metadata_, DocumentChunk.content)
        .where(DocumentChunk.document_id == document_id)
        .order_by(DocumentChunk.chunk_index)
    )
    rows = session.execute(query)
    chunks = [(str((meta or {}).get("kind", "text")), content) for meta, content in rows]
    return text_from_chunks(chunks).encode()


def _sources(
    sessions: sessionmaker[Session], solution_id: UUID, plan: Sequence[_Planned],
    store: UploadStore | None,
) -> Iterator[SourceFile]:  # fmt: skip
    """Each planned copy's bytes, read one document at a time."""
    for item in plan:
        origin = {"filename": item.filename, "content_hash": item.content_hash,
                  "source": "original" if item.from_original else "chunks"}  # fmt: skip
        metadata = {COPY_KEY: origin}
        if item.storage_path is not None and store is not None:
            try:
                data = store.load(solution_id, item.storage_path)
            except NotFoundError as exc:  # removed since it was planned
                yield SourceFile.refused(item.copy_name, CorruptFileError(str(exc)))
                continue
        else:
            with tenant_session(sessions, solution_id=solution_id) as session:
                data = _text(session, item.document_id)
        yield SourceFile(item.copy_name, data, metadata)


def _aliases(
    session: Session, copy_id: UUID, plan: Sequence[_Planned]
) -> tuple[dict[str, str], int]:
    """Copied document id -> live document id (by the live file name, unique in its oracle),
    and the copy's chunks."""
    live = {item.filename: str(item.document_id) for item in plan}
    query = select(Document.id, Document.metadata_, Document.chunk_count).where(
        Document.oracle_id == copy_id, Document.status == "completed"
    )
    aliases, chunks = {}, 0
    for document_id, metadata, count in session.execute(query):
        origin = (metadata or {}).get(COPY_KEY) or {}
        if origin.get("filename") in live:
            aliases[str(document_id)] = live[origin["filename"]]
            chunks += count
    return aliases, chunks


def copy_live_oracle(
    sessions: sessionmaker[Session],
    *,
    solution_id: UUID,
    oracle_id: UUID,
    chunking: ChunkingConfig,
    embedder: Embedder,
    options: CopyOptions | None = None,
) -> LiveCopy:
    """The live oracle's documents re-chunked with ``chunking`` in its scratch copy.

    Raises:
        UserError: The oracle has no ingested documents; or it is not in the tenant.
    """
    options = options or CopyOptions()
    with tenant_session(sessions, solution_id=solution_id) as session:
        plan = _plan(session, solution_id, oracle_id, options.store)
    copy_id, name = _copy_oracle(sessions, solution_id, oracle_id, chunking)
    with tenant_session(sessions, solution_id=solution_id) as session:
        _delete_documents(session, copy_id, keep={item.copy_name for item in plan})
    meter = IngestMeter(len(plan))
    outcomes = ingest(sessions, solution_id=solution_id, oracle_id=copy_id,
                      sources=_sources(sessions, solution_id, plan, options.store),
                      embedder=meter.metered(embedder), chunking=chunking,
                      limits=options.limits)  # fmt: skip
    with tenant_session(sessions, solution_id=solution_id) as session:
        aliases, chunks = _aliases(session, copy_id, plan)
    originals = sum(1 for item in plan if item.from_original)
    return LiveCopy(
        copy_id, name, chunking.chunk_tokens, aliases,
        {str(item.document_id): item.filename for item in plan},
        originals, len(plan) - originals, _count(outcomes, "unchanged"), chunks, meter.texts,
        tuple(f"{o.filename}: {o.error}" for o in outcomes if o.status == "failed"),
    )  # fmt: skip


def _count(outcomes: Sequence[IngestOutcome], status: str) -> int:
    return sum(1 for outcome in outcomes if outcome.status == status)
