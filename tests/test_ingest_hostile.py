"""Hostile and broken files in a real ingestion run: each fails alone, clearly (issue 15).

Ingestion commits as it goes, so every test works in a tenant of its own.
"""

import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import documents, tenant_session
from supercore_core.errors import NotFoundError, OversizedFileError
from supercore_core.ingest.chunking import ChunkingConfig
from supercore_core.ingest.limits import IngestLimits
from supercore_core.ingest.pipeline import IngestOutcome, SourceFile, ingest
from supercore_core.ingest.registry import Job, register
from supercore_core.models import Oracle
from tests.factories import make_document, make_oracle, make_solution
from tests.fakes import HashingEmbedder
from tests.test_ingest_limits import docx_bomb, nested_html
from tests.test_ingest_pipeline import S1, S2, S3, Ids, new_tenant, rows
from tests.test_parsers import make_pdf

BIG_CHUNKS = ChunkingConfig(chunk_tokens=1_000_000, overlap_tokens=0)


@pytest.fixture
def tenant(owner_engine: Engine) -> Ids:
    return new_tenant(owner_engine)


def run(
    sessions: sessionmaker[Session], ids: Ids, *sources: SourceFile, **kwargs: Any
) -> list[IngestOutcome]:
    return ingest(
        sessions, solution_id=ids.solution_id, oracle_id=ids.oracle_id, sources=sources,
        embedder=kwargs.pop("embedder", HashingEmbedder()), **kwargs,
    )  # fmt: skip


def states(engine: Engine, ids: Ids) -> dict[str, tuple[str, str | None]]:
    """file name -> (document status, status of its last workflow)."""
    found = rows(
        engine,
        "SELECT d.filename, d.status, (SELECT w.status FROM temporal_workflows w"
        " WHERE w.document_id = d.id ORDER BY w.created_at DESC LIMIT 1) AS workflow"
        " FROM documents d WHERE d.solution_id = :s",
        s=ids.solution_id,
    )
    return {r["filename"]: (r["status"], r["workflow"]) for r in found}


def distinct_words(count: int) -> bytes:
    """``count`` distinct short words on one line, plus one word too long for a lexeme."""
    words = (f"w{n:06x}q" for n in range(count))
    return (" ".join(words) + " " + "x" * 5_000).encode()


def test_hostile_files_fail_alone_and_the_run_goes_on(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids, tmp_path: Path
) -> None:
    outcomes = run(
        app_sessions, tenant,
        SourceFile("first.txt", S1.encode()),
        SourceFile("bomb.docx", docx_bomb(tmp_path)),
        SourceFile("nested.html", nested_html(600)),
        SourceFile("wide.txt", "Hello\x00World. Wide text.".encode("utf-16")),
        SourceFile("nul.pdf", make_pdf([["Hello\\000World"]])),
        SourceFile("odd.txt", "Hi".encode("utf-16") + b"!"),
        SourceFile("words.txt", distinct_words(200_000)),
        SourceFile("last.md", S2.encode()),
        chunking=BIG_CHUNKS,
    )  # fmt: skip
    by_name = {o.filename: o for o in outcomes}
    assert {o.filename: o.status for o in outcomes} == {
        "first.txt": "completed", "bomb.docx": "failed", "nested.html": "failed",
        "wide.txt": "completed", "nul.pdf": "completed", "odd.txt": "failed",
        "words.txt": "completed", "last.md": "completed",
    }  # fmt: skip
    assert "(SUPERCORE_INGEST_MAX_INFLATED_MB)" in str(by_name["bomb.docx"].error)
    assert "(SUPERCORE_INGEST_MAX_HTML_DEPTH)" in str(by_name["nested.html"].error)
    assert "is not a multiple of 2" in str(by_name["odd.txt"].error)
    assert by_name["words.txt"].chunks > 1  # split under the chunk byte limit
    assert {status for status, _ in states(owner_engine, tenant).values()} == {
        "completed", "failed"
    }  # fmt: skip
    assert all(doc == flow for doc, flow in states(owner_engine, tenant).values())
    stored = rows(
        owner_engine,
        "SELECT string_agg(content, ' ') AS text FROM document_chunks WHERE solution_id = :s",
        s=tenant.solution_id,
    )[0]["text"]
    assert "HelloWorld" in stored


def test_a_chunk_the_database_refuses_fails_its_document_with_a_human_reason(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    limits = IngestLimits(max_chunk_bytes=10_000_000)  # let a 1.8 MB chunk reach the database
    outcomes = run(
        app_sessions, tenant,
        SourceFile("words.txt", distinct_words(200_000)),
        SourceFile("after.txt", S3.encode()),
        chunking=BIG_CHUNKS, limits=limits,
    )  # fmt: skip
    assert [o.status for o in outcomes] == ["failed", "completed"]
    error = str(outcomes[0].error)
    assert error.startswith("words.txt could not be stored: the database refused a chunk as too")
    assert "string is too long for tsvector" in error and "internal error" not in error
    assert states(owner_engine, tenant) == {
        "words.txt": ("failed", "failed"), "after.txt": ("completed", "completed"),
    }  # fmt: skip


@pytest.mark.parametrize(
    "filename", ["fake.txt\ncompleted real.txt", "nul\x00.txt", "e" * 260 + ".txt", "\x1b[2J.md"]
)
def test_a_bad_file_name_fails_alone_and_creates_no_document(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids, filename: str
) -> None:
    outcomes = run(
        app_sessions, tenant, SourceFile(filename, S1.encode()), SourceFile("ok.txt", S2.encode())
    )
    assert [o.status for o in outcomes] == ["failed", "completed"]
    assert outcomes[0].document_id is None
    assert str(outcomes[0].error).startswith("the file name ")
    assert "\n" not in str(outcomes[0].error) and "\x00" not in str(outcomes[0].error)
    assert states(owner_engine, tenant) == {"ok.txt": ("completed", "completed")}


def test_a_file_refused_before_reading_is_recorded_failed(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    problem = OversizedFileError("big.txt is 200.0 MB, over the 50.0 MB limit")
    outcomes = run(
        app_sessions, tenant, SourceFile.refused("big.txt", problem), SourceFile("ok.txt", b"Ok.")
    )
    assert [(o.status, o.error) for o in outcomes] == [
        ("failed", str(problem)), ("completed", None)
    ]  # fmt: skip
    assert states(owner_engine, tenant)["big.txt"] == ("failed", "failed")


class PickyEmbedder(HashingEmbedder):
    """Fails any call that holds a text with "poison" in it."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if any("poison" in t for t in texts):
            raise RuntimeError("the model cannot take this text")
        return super().embed(texts)


def test_an_embedder_failure_fails_only_the_document_it_cannot_take(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    outcomes = run(
        app_sessions, tenant, SourceFile("a.txt", S1.encode()),
        SourceFile("bad.txt", b"A poison pill."), SourceFile("c.txt", S2.encode()),
        embedder=PickyEmbedder(),
    )  # fmt: skip
    assert [o.status for o in outcomes] == ["completed", "failed", "completed"]
    assert str(outcomes[1].error).startswith(
        "embedding failed (RuntimeError: the model cannot take this text)"
    )
    assert states(owner_engine, tenant) == {
        "a.txt": ("completed", "completed"), "bad.txt": ("failed", "failed"),
        "c.txt": ("completed", "completed"),
    }  # fmt: skip


class InterruptingEmbedder(HashingEmbedder):
    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        raise KeyboardInterrupt


def test_an_interrupted_run_leaves_nothing_processing(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    with pytest.raises(KeyboardInterrupt):
        run(app_sessions, tenant, SourceFile("a.txt", S1.encode()), SourceFile("b.txt", b"B."),
            embedder=InterruptingEmbedder())  # fmt: skip
    assert states(owner_engine, tenant) == {
        "a.txt": ("failed", "failed"), "b.txt": ("failed", "failed"),
    }  # fmt: skip
    reasons = rows(owner_engine, "SELECT error_message FROM documents WHERE solution_id = :s",
                   s=tenant.solution_id)  # fmt: skip
    assert {r["error_message"] for r in reasons} == {
        "ingestion was interrupted before this document was stored: ingest it again"
    }


def test_four_concurrent_ingests_of_one_new_file_make_one_document(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    start = threading.Barrier(4)
    outcomes: list[IngestOutcome] = []

    def one() -> None:
        start.wait()
        outcomes.extend(run(app_sessions, tenant, SourceFile("same.txt", S1.encode())))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 4
    assert states(owner_engine, tenant) == {"same.txt": ("completed", "completed")}
    assert [o.status for o in outcomes].count("completed") == 1
    for outcome in outcomes:
        if outcome.status == "failed":
            assert outcome.error == (
                "same.txt is being ingested by another run right now: wait for it to finish, "
                "then ingest it again if needed (a run that was killed stops counting after "
                "30 minutes without progress)"
            )
        else:
            assert outcome.status in ("completed", "unchanged")


def test_the_database_allows_one_document_per_file_name_per_oracle(owner_engine: Engine) -> None:
    with Session(owner_engine) as session, session.begin():
        solution = make_solution(session)
        oracle = make_oracle(session, solution)
        make_document(session, oracle, filename="twice.txt")
        other = make_oracle(session, solution)
        make_document(session, other, filename="twice.txt")  # another oracle: fine
        with pytest.raises(IntegrityError, match="uq_documents_oracle_filename"):
            make_document(session, oracle, filename="twice.txt")


def test_identical_originals_are_stored_per_document(
    app_sessions: sessionmaker[Session], tenant: Ids, tmp_path: Path
) -> None:
    store = documents.UploadStore(tmp_path)

    def upload(name: str, data: bytes) -> IngestOutcome:
        [outcome] = documents.ingest_uploads(
            app_sessions, store, solution_id=tenant.solution_id, oracle_id=tenant.oracle_id,
            sources=[SourceFile(name, data)], embedder=HashingEmbedder(),
        )  # fmt: skip
        return outcome

    first = upload("a.txt", S1.encode())
    upload("b.txt", S2.encode())
    second = upload("b.txt", S1.encode())  # now the same bytes as a.txt
    assert first.status == second.status == "completed"
    assert first.document_id is not None and second.document_id is not None
    with tenant_session(app_sessions, solution_id=tenant.solution_id) as session:
        path = documents.delete_document(session, first.document_id)
    store.remove(path)
    again = documents.reingest(
        app_sessions, store, solution_id=tenant.solution_id,
        document_id=second.document_id, embedder=HashingEmbedder(),
    )  # fmt: skip
    assert (again.status, again.document_id) == ("completed", second.document_id)


def test_a_shared_legacy_original_is_kept_while_another_document_uses_it(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    legacy = f"{tenant.solution_id}/{tenant.oracle_id}/{'ab' * 32}.txt"
    with Session(owner_engine) as session, session.begin():
        oracle = session.get(Oracle, tenant.oracle_id)
        assert oracle is not None
        one = make_document(session, oracle, filename="one.txt", storage_path=legacy)
        make_document(session, oracle, filename="two.txt", storage_path=legacy)
        one_id = one.id
    with tenant_session(app_sessions, solution_id=tenant.solution_id) as session:
        assert documents.delete_document(session, one_id) is None  # two.txt still uses it


def test_wrong_tenants_oracle_writes_no_file(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids, tmp_path: Path
) -> None:
    other = new_tenant(owner_engine)
    store = documents.UploadStore(tmp_path)
    with pytest.raises(NotFoundError):
        documents.ingest_uploads(
            app_sessions, store, solution_id=tenant.solution_id, oracle_id=other.oracle_id,
            sources=[SourceFile("planted.txt", S1.encode())], embedder=HashingEmbedder(),
        )  # fmt: skip
    assert list(tmp_path.rglob("*")) == []


def test_a_name_the_store_cannot_use_never_reaches_the_disk(
    app_sessions: sessionmaker[Session], tenant: Ids, tmp_path: Path
) -> None:
    store = documents.UploadStore(tmp_path)
    outcomes = documents.ingest_uploads(
        app_sessions, store, solution_id=tenant.solution_id, oracle_id=tenant.oracle_id,
        sources=[SourceFile("x." + "e" * 300, b"data"), SourceFile("n\x00.txt", b"data"),
                 SourceFile("ok.txt", S1.encode())],
        embedder=HashingEmbedder(),
    )  # fmt: skip
    assert [o.status for o in outcomes] == ["failed", "failed", "completed"]
    assert "over the 255-character limit" in str(outcomes[0].error)
    saved = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert saved == [f"{outcomes[2].document_id}.txt"]
    assert uuid.UUID(saved[0].removesuffix(".txt")) == outcomes[2].document_id


def test_a_file_left_processing_by_a_killed_run_is_taken_over_once_stale(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids
) -> None:
    source = SourceFile("left.txt", S1.encode())
    job = register(app_sessions, tenant.solution_id, tenant.oracle_id, source, None)
    assert isinstance(job, Job)  # registered, then the run "died"
    [busy] = run(app_sessions, tenant, source)
    assert busy.status == "failed" and "being ingested by another run" in str(busy.error)
    with owner_engine.begin() as conn:  # no progress for an hour (the trigger would reset it)
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(
            text("UPDATE temporal_workflows SET updated_at = now() - interval '1 hour'"
                 " WHERE workflow_id = :w"), {"w": job.workflow_id},
        )  # fmt: skip
    [again] = run(app_sessions, tenant, source)
    assert (again.status, again.document_id) == ("completed", job.document_id)
    [old] = rows(owner_engine, "SELECT status, error_message FROM temporal_workflows"
                 " WHERE workflow_id = :w", w=job.workflow_id)  # fmt: skip
    assert (old["status"], old["error_message"]) == (
        "failed", "superseded: the file was ingested again after this run stopped"
    )  # fmt: skip
