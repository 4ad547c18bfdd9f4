"""Ingestion end to end as the application login: documents, chunks, workflows, cache.

Ingestion commits as it goes, so every test works in a tenant of its own (created and
committed with the owner engine) instead of a rolled-back transaction.
"""

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import tenant_session
from supercore_core.errors import NotFoundError
from supercore_core.ingest.chunking import ChunkingConfig
from supercore_core.ingest.pipeline import IngestOutcome, SourceFile, ingest
from tests.factories import make_oracle, make_solution
from tests.fakes import HashingEmbedder, ProbingEmbedder

# Five-word sentences with five-token chunks and no overlap: one chunk per sentence.
CHUNKING = ChunkingConfig(chunk_tokens=5, overlap_tokens=0)
S1 = "Alpha bravo charlie delta echo."
S2 = "Foxtrot golf hotel india juliet."
S3 = "Kilo lima mike november oscar."
S4 = "Papa quebec romeo sierra tango."
S5 = "Uniform victor whiskey xray yankee."


@dataclass(frozen=True)
class Ids:
    solution_id: uuid.UUID
    oracle_id: uuid.UUID


def new_tenant(owner_engine: Engine) -> Ids:
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session))
        return Ids(oracle.solution_id, oracle.id)


@pytest.fixture
def tenant(owner_engine: Engine) -> Ids:
    return new_tenant(owner_engine)


def run(
    sessions: sessionmaker[Session],
    ids: Ids,
    *sources: SourceFile,
    embedder: HashingEmbedder | None = None,
    **kwargs: Any,
) -> list[IngestOutcome]:
    return ingest(
        sessions,
        solution_id=ids.solution_id,
        oracle_id=ids.oracle_id,
        sources=sources,
        embedder=embedder or HashingEmbedder(),
        chunking=kwargs.pop("chunking", CHUNKING),
        **kwargs,
    )


def rows(engine: Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows as dicts, read through a separate owner connection (sees committed data only)."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def chunks_of(engine: Engine, document_id: uuid.UUID) -> list[dict[str, Any]]:
    return rows(
        engine,
        "SELECT id, chunk_index, content, embedding::text AS embedding, embedding_model,"
        " token_count, metadata FROM document_chunks WHERE document_id = :d ORDER BY chunk_index",
        d=document_id,
    )


def document(engine: Engine, document_id: uuid.UUID | None) -> dict[str, Any]:
    (row,) = rows(engine, "SELECT * FROM documents WHERE id = :d", d=document_id)
    return row


def workflows(engine: Engine, document_id: uuid.UUID | None) -> list[dict[str, Any]]:
    return rows(
        engine,
        "SELECT * FROM temporal_workflows WHERE document_id = :d ORDER BY started_at, created_at",
        d=document_id,
    )


def tenant_counts(engine: Engine, solution_id: uuid.UUID) -> dict[str, int]:
    tables = ("documents", "document_chunks", "temporal_workflows", "embedding_cache")
    return {
        table: rows(
            engine, f"SELECT count(*) AS n FROM {table} WHERE solution_id = :s", s=solution_id
        )[0]["n"]
        for table in tables
    }


def sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def test_completed_ingestion_stores_embedded_chunks(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    embedder = HashingEmbedder()
    data = f"{S1} {S2}\n\n{S3}".encode()

    (outcome,) = run(
        app_sessions,
        tenant,
        SourceFile("report.txt", data, {"source": "unit-test"}),
        embedder=embedder,
    )

    assert outcome.status == "completed"
    assert (outcome.filename, outcome.chunks, outcome.error) == ("report.txt", 3, None)
    stored = chunks_of(owner_engine, outcome.document_id)
    assert [c["content"] for c in stored] == [S1, S2, S3]
    assert [c["chunk_index"] for c in stored] == [0, 1, 2]
    assert [c["token_count"] for c in stored] == [5, 5, 5]
    assert {c["embedding_model"] for c in stored} == {"fake-hashing"}
    assert [c["metadata"] for c in stored] == [{"kind": "text"}] * 3
    for chunk in stored:
        assert json.loads(chunk["embedding"]) == pytest.approx(
            embedder.vector(chunk["content"]), abs=1e-6
        )
    assert sorted(embedder.embedded) == sorted([S1, S2, S3])


def test_completed_ingestion_updates_the_document_row(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    data = f"{S1} {S2}".encode()

    (outcome,) = run(app_sessions, tenant, SourceFile("Notes.TXT", data, {"team": "risk"}))

    row = document(owner_engine, outcome.document_id)
    assert row["status"] == "completed"
    assert row["chunk_count"] == 2
    assert row["content_hash"] == sha256(data)
    assert row["processed_at"] is not None
    assert row["error_message"] is None
    assert (row["filename"], row["file_type"], row["file_size_bytes"]) == (
        "Notes.TXT",
        "txt",
        len(data),
    )
    assert row["metadata"] == {"team": "risk"}
    assert (row["solution_id"], row["oracle_id"]) == (tenant.solution_id, tenant.oracle_id)


def test_completed_ingestion_completes_its_workflow(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    (outcome,) = run(app_sessions, tenant, SourceFile("report.txt", f"{S1} {S2} {S3}".encode()))

    (workflow,) = workflows(owner_engine, outcome.document_id)
    assert workflow["status"] == "completed"
    assert workflow["progress_percent"] == Decimal(100)
    assert (workflow["steps_completed"], workflow["total_steps"]) == (4, 4)
    assert workflow["output_data"] == {"chunks_created": 3}
    assert workflow["input_data"] == {"filename": "report.txt"}
    assert workflow["error_message"] is None
    assert workflow["completed_at"] is not None
    assert (workflow["solution_id"], workflow["oracle_id"]) == (
        tenant.solution_id,
        tenant.oracle_id,
    )


def test_same_bytes_twice_are_unchanged_and_not_embedded_again(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    source = SourceFile("report.txt", f"{S1} {S2}".encode())
    first_embedder, second_embedder = HashingEmbedder(), HashingEmbedder()
    (first,) = run(app_sessions, tenant, source, embedder=first_embedder)
    before = chunks_of(owner_engine, first.document_id)

    (second,) = run(app_sessions, tenant, source, embedder=second_embedder)

    assert first.status == "completed"
    assert second == IngestOutcome("report.txt", "unchanged")
    assert (second_embedder.calls, second_embedder.embedded) == (0, [])
    assert chunks_of(owner_engine, first.document_id) == before
    assert len(workflows(owner_engine, first.document_id)) == 1
    assert tenant_counts(owner_engine, tenant.solution_id)["documents"] == 1


def test_changed_bytes_replace_the_documents_chunks(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    (first,) = run(app_sessions, tenant, SourceFile("report.txt", f"{S1} {S2} {S3}".encode()))
    old_ids = {c["id"] for c in chunks_of(owner_engine, first.document_id)}
    embedder = HashingEmbedder()

    (second,) = run(
        app_sessions, tenant, SourceFile("report.txt", f"{S4} {S5}".encode()), embedder=embedder
    )

    assert (second.status, second.document_id, second.chunks) == ("completed", first.document_id, 2)
    stored = chunks_of(owner_engine, second.document_id)
    assert [c["content"] for c in stored] == [S4, S5]
    assert old_ids.isdisjoint(c["id"] for c in stored)
    assert sorted(embedder.embedded) == sorted([S4, S5])
    row = document(owner_engine, second.document_id)
    assert (row["status"], row["chunk_count"]) == ("completed", 2)
    assert row["content_hash"] == sha256(f"{S4} {S5}")
    assert tenant_counts(owner_engine, tenant.solution_id)["document_chunks"] == 2


def test_changed_bytes_replace_chunks_and_reuse_cached_embeddings(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    (first,) = run(app_sessions, tenant, SourceFile("report.txt", f"{S1} {S2} {S3}".encode()))
    old_ids = {c["id"] for c in chunks_of(owner_engine, first.document_id)}
    embedder = HashingEmbedder()

    (second,) = run(
        app_sessions,
        tenant,
        SourceFile("report.txt", f"{S1} {S2} {S4} {S5}".encode()),
        embedder=embedder,
    )

    assert (second.status, second.document_id, second.chunks) == ("completed", first.document_id, 4)
    stored = chunks_of(owner_engine, second.document_id)
    assert [c["content"] for c in stored] == [S1, S2, S4, S5]
    assert old_ids.isdisjoint(c["id"] for c in stored)
    assert sorted(embedder.embedded) == sorted([S4, S5])
    assert json.loads(stored[0]["embedding"]) == pytest.approx(embedder.vector(S1), abs=1e-6)
    row = document(owner_engine, second.document_id)
    assert (row["status"], row["chunk_count"]) == ("completed", 4)
    assert [w["status"] for w in workflows(owner_engine, second.document_id)] == [
        "completed",
        "completed",
    ]
    assert tenant_counts(owner_engine, tenant.solution_id)["document_chunks"] == 4


BAD_FILES = [
    pytest.param(
        "notes.xyz", b"Some perfectly good words.", "unsupported file type .xyz", id="xyz"
    ),
    pytest.param("empty.txt", b"", "empty.txt contains no text", id="empty"),
    pytest.param(
        "broken.pdf", b"%PDF-1.7 this is not really a pdf", "not a readable PDF", id="pdf"
    ),
    pytest.param(
        "blob.txt", b"MZ\x90\x00\x03\x00\x00\x00binary", "looks like a binary file", id="bin"
    ),
]


@pytest.mark.parametrize(("filename", "data", "reason"), BAD_FILES)
def test_bad_file_fails_with_its_reason_while_a_good_one_completes(
    app_sessions: sessionmaker[Session],
    owner_engine: Engine,
    tenant: Ids,
    filename: str,
    data: bytes,
    reason: str,
) -> None:
    bad, good = run(
        app_sessions, tenant, SourceFile(filename, data), SourceFile("good.txt", S1.encode())
    )

    assert bad.status == "failed"
    assert bad.error is not None and reason in bad.error
    assert bad.chunks == 0
    row = document(owner_engine, bad.document_id)
    assert (row["status"], row["error_message"], row["chunk_count"]) == ("failed", bad.error, 0)
    (workflow,) = workflows(owner_engine, bad.document_id)
    assert (workflow["status"], workflow["error_message"]) == ("failed", bad.error)
    assert chunks_of(owner_engine, bad.document_id) == []
    assert (good.status, good.chunks) == ("completed", 1)
    assert [c["content"] for c in chunks_of(owner_engine, good.document_id)] == [S1]


def test_failed_file_leaves_other_documents_chunks_untouched(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    a, b = run(
        app_sessions,
        tenant,
        SourceFile("a.txt", f"{S1} {S2}".encode()),
        SourceFile("b.txt", f"{S3} {S4}".encode()),
    )
    before = [chunks_of(owner_engine, a.document_id), chunks_of(owner_engine, b.document_id)]

    (failed,) = run(app_sessions, tenant, SourceFile("c.pdf", b"%PDF-1.4 garbage"))

    assert failed.status == "failed"
    after = [chunks_of(owner_engine, a.document_id), chunks_of(owner_engine, b.document_id)]
    assert after == before
    assert [document(owner_engine, d)["status"] for d in (a.document_id, b.document_id)] == [
        "completed",
        "completed",
    ]
    assert tenant_counts(owner_engine, tenant.solution_id)["document_chunks"] == 4


@pytest.mark.parametrize("chunking", [None, CHUNKING], ids=["oracle-chunking", "given-chunking"])
def test_another_tenants_oracle_is_not_found_and_nothing_is_written(
    app_sessions: sessionmaker[Session],
    owner_engine: Engine,
    chunking: ChunkingConfig | None,
) -> None:
    attacker, victim = new_tenant(owner_engine), new_tenant(owner_engine)
    embedder = HashingEmbedder()

    with pytest.raises(NotFoundError, match=str(victim.oracle_id)):
        ingest(
            app_sessions,
            solution_id=attacker.solution_id,
            oracle_id=victim.oracle_id,
            sources=[SourceFile("steal.txt", S1.encode())],
            embedder=embedder,
            chunking=chunking,
        )

    empty = {"documents": 0, "document_chunks": 0, "temporal_workflows": 0, "embedding_cache": 0}
    assert tenant_counts(owner_engine, attacker.solution_id) == empty
    assert tenant_counts(owner_engine, victim.solution_id) == empty
    assert embedder.calls == 0


def test_progress_is_visible_from_another_connection_mid_ingestion(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    seen: list[dict[str, Any]] = []

    def probe() -> None:
        seen.extend(
            rows(
                owner_engine,
                "SELECT status, current_step, steps_completed, total_steps, progress_percent"
                " FROM temporal_workflows WHERE solution_id = :s",
                s=tenant.solution_id,
            )
        )

    (outcome,) = run(
        app_sessions, tenant, SourceFile("slow.txt", S1.encode()), embedder=ProbingEmbedder(probe)
    )

    assert outcome.status == "completed"
    assert seen == [
        {
            "status": "running",
            "current_step": "chunk",
            "steps_completed": 2,
            "total_steps": 4,
            "progress_percent": Decimal("50.00"),
        }
    ]


def test_on_done_sees_each_outcome_committed_in_order(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    seen: list[tuple[str, str, str]] = []

    def on_done(outcome: IngestOutcome) -> None:
        status = document(owner_engine, outcome.document_id)["status"]
        seen.append((outcome.filename, outcome.status, status))

    outcomes = run(
        app_sessions,
        tenant,
        SourceFile("one.txt", S1.encode()),
        SourceFile("two.xyz", S2.encode()),
        SourceFile("three.txt", S3.encode()),
        on_done=on_done,
    )

    assert [o.status for o in outcomes] == ["completed", "failed", "completed"]
    assert seen == [
        ("one.txt", "completed", "completed"),
        ("two.xyz", "failed", "failed"),
        ("three.txt", "completed", "completed"),
    ]


def test_embedding_cache_is_kept_per_tenant(
    app_sessions: sessionmaker[Session], owner_engine: Engine
) -> None:
    first, second = new_tenant(owner_engine), new_tenant(owner_engine)
    source = SourceFile("shared.txt", f"{S1} {S2}".encode())
    run(app_sessions, first, source)
    second_embedder = HashingEmbedder()

    (outcome,) = run(app_sessions, second, source, embedder=second_embedder)

    # The second tenant gets no cache hits from the first: it embeds everything itself.
    assert outcome.status == "completed"
    assert sorted(second_embedder.embedded) == sorted([S1, S2])
    hashes = sorted(sha256(s) for s in (S1, S2))
    cached = rows(
        owner_engine,
        "SELECT solution_id, model, content_hash FROM embedding_cache"
        " WHERE content_hash = ANY(:h) AND solution_id IN (:a, :b)"
        " ORDER BY solution_id, content_hash",
        h=hashes,
        a=first.solution_id,
        b=second.solution_id,
    )
    assert sorted((r["solution_id"], r["model"], r["content_hash"]) for r in cached) == sorted(
        (t.solution_id, "fake-hashing", h) for t in (first, second) for h in hashes
    )
    with tenant_session(app_sessions, solution_id=first.solution_id) as session:
        visible = session.execute(text("SELECT DISTINCT solution_id FROM embedding_cache")).all()
    assert visible == [(first.solution_id,)]


# --- Regressions: content hashes are shared by failed and duplicate uploads ---------------


def test_rejected_file_renamed_and_uploaded_again_is_ingested(
    app_sessions: sessionmaker[Session], tenant: Ids
) -> None:
    (rejected,) = run(app_sessions, tenant, SourceFile("notes.xyz", S1.encode()))
    assert rejected.status == "failed"

    (renamed,) = run(app_sessions, tenant, SourceFile("notes.txt", S1.encode()))

    assert (renamed.status, renamed.chunks) == ("completed", 1)


def test_two_empty_files_in_one_batch_both_fail(
    app_sessions: sessionmaker[Session], tenant: Ids
) -> None:
    outcomes = run(app_sessions, tenant, SourceFile("a.txt", b""), SourceFile("b.md", b""))

    assert [o.status for o in outcomes] == ["failed", "failed"]


def test_file_changed_to_another_documents_bytes_is_replaced(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    a, _ = run(
        app_sessions,
        tenant,
        SourceFile("a.txt", S1.encode()),
        SourceFile("b.txt", S2.encode()),
    )

    (changed,) = run(app_sessions, tenant, SourceFile("a.txt", S2.encode()))

    assert changed.status == "completed"
    assert [c["content"] for c in chunks_of(owner_engine, a.document_id)] == [S2]


def test_the_same_bytes_twice_in_one_batch_are_ingested_once(
    app_sessions: sessionmaker[Session], tenant: Ids
) -> None:
    outcomes = run(
        app_sessions, tenant, SourceFile("a.txt", S1.encode()), SourceFile("b.txt", S1.encode())
    )
    assert [o.status for o in outcomes] == ["completed", "unchanged"]


class BrokenEmbedder(HashingEmbedder):
    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        raise RuntimeError("model crashed")


def test_a_broken_embedder_leaves_no_document_processing(
    app_sessions: sessionmaker[Session], tenant: Ids
) -> None:
    [outcome] = run(
        app_sessions, tenant, SourceFile("a.txt", S1.encode()), embedder=BrokenEmbedder()
    )
    assert outcome.status == "failed"
    assert outcome.error is not None and "RuntimeError: model crashed" in outcome.error
    with tenant_session(app_sessions, solution_id=tenant.solution_id) as session:
        rows = session.execute(text("SELECT status, error_message FROM documents")).all()
    assert [(status, error.startswith("embedding failed (")) for status, error in rows] == [
        ("failed", True)
    ]
