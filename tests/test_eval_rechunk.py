"""Chunk sizes swept on a live oracle's golden set: copies of its own documents, re-chunked in
scratch oracles, scored on the same judgements; the live oracle is never written."""

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import tenant_session
from supercore_core.catalog import list_oracles
from supercore_core.documents import UploadStore, ingest_uploads
from supercore_core.errors import InvalidSettingError, UserError
from supercore_core.evaluation.chunk_text import overlap_length, text_from_chunks
from supercore_core.evaluation.golden import load_golden
from supercore_core.evaluation.promotion import promote_if_better, restore_config
from supercore_core.evaluation.rechunk import CopyOptions, copy_live_oracle
from supercore_core.evaluation.runs import get_run
from supercore_core.evaluation.scratch import is_scratch, list_scratch, remove_scratch
from supercore_core.evaluation.sweep import SweepGrid, SweepResult, run_sweep
from supercore_core.golden import create_golden_set, import_parsed, parse_jsonl
from supercore_core.ingest.chunking import ChunkingConfig, WhitespaceTokenizer, chunk_blocks
from supercore_core.ingest.parsers import parse_bytes
from supercore_core.ingest.pipeline import SourceFile, ingest
from supercore_core.models import Document, DocumentChunk, Oracle
from tests.factories import make_oracle, make_solution
from tests.fakes import HashingEmbedder

LIVE_CHUNKING = {"chunk_tokens": 40, "overlap_tokens": 8}  # = sweep.chunking_for(40)


def _sentences(topic: str, count: int) -> str:
    return " ".join(
        f"Sentence {i} about {topic} names figure {i * 7 + len(topic)} and its note {topic}{i}."
        for i in range(count)
    )


TABLE = "\n".join(
    ["| risk | owner | level |", "| --- | --- | --- |"]
    + [f"| risk{i} | team{i} | level{i % 3} |" for i in range(30)]
)
UPLOADED = {  # kept as originals in the upload store
    "revenue.txt": _sentences("revenue", 12),
    "dividends.md": "# Dividends\n\n" + _sentences("dividend", 9),
}
FROM_CLI = {  # ingested without an original: their copies are rebuilt from chunks
    "headcount.txt": _sentences("headcount", 11) + "\n\n" + _sentences("office", 6),
    "risks.md": _sentences("risk", 5) + "\n\n" + TABLE + "\n\n" + _sentences("mitigation", 4),
}
COPIED = {"headcount.txt": "headcount.txt.txt", "risks.md": "risks.md.md"}  # .md: has a table
QUESTIONS = [
    {"id": "q1", "question": "revenue figure note revenue3", "relevant": ["revenue.txt"]},
    {"id": "q2", "question": "dividend note dividend4", "relevant": ["dividends.md"]},
    {"id": "q3", "question": "headcount office note office2", "relevant": ["headcount.txt"]},
    {"id": "q4", "question": "risk owner team7 level1", "relevant": ["risks.md"]},
]


@dataclass(frozen=True)
class Live:
    solution_id: uuid.UUID
    oracle_id: uuid.UUID
    store: UploadStore


@pytest.fixture
def live(owner_engine: Engine, admin_sessions: sessionmaker[Session], tmp_path: Path) -> Live:
    """A live oracle ``reports``: two uploads with originals, two files without, a golden set."""
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session), oracle_name="reports",
                             retrieval_config=dict(LIVE_CHUNKING))  # fmt: skip
        found = Live(oracle.solution_id, oracle.id, UploadStore(tmp_path / "uploads"))
    sid, oid = found.solution_id, found.oracle_id
    ingest_uploads(admin_sessions, found.store, solution_id=sid, oracle_id=oid,
                   embedder=HashingEmbedder(),
                   sources=[SourceFile(n, t.encode()) for n, t in UPLOADED.items()])  # fmt: skip
    ingest(admin_sessions, solution_id=sid, oracle_id=oid, embedder=HashingEmbedder(),
           sources=[SourceFile(n, t.encode()) for n, t in FROM_CLI.items()])  # fmt: skip
    with tenant_session(admin_sessions, solution_id=found.solution_id) as session:
        golden = create_golden_set(session, oracle_id=found.oracle_id, name="main")
        import_parsed(
            session, golden, parse_jsonl("".join(json.dumps(q) + "\n" for q in QUESTIONS))
        )
    return found


class State(NamedTuple):
    documents: tuple[tuple[Any, ...], ...]
    chunks: tuple[tuple[Any, ...], ...]
    config: dict[str, Any]


def state(sessions: sessionmaker[Session], live: Live) -> State:
    """What a sweep must not change: the live documents, their hashes and chunks."""
    with tenant_session(sessions, solution_id=live.solution_id) as session:
        documents = session.execute(
            select(Document.id, Document.filename, Document.content_hash, Document.chunk_count,
                   Document.status, Document.storage_path)
            .where(Document.oracle_id == live.oracle_id).order_by(Document.filename)
        ).all()  # fmt: skip
        chunks = session.execute(
            select(DocumentChunk.id, DocumentChunk.content)
            .where(DocumentChunk.oracle_id == live.oracle_id).order_by(DocumentChunk.id)
        ).all()  # fmt: skip
        config = session.get(Oracle, live.oracle_id).retrieval_config  # type: ignore[union-attr]
    return State(tuple(map(tuple, documents)), tuple(map(tuple, chunks)), dict(config))


def sweep(sessions: sessionmaker[Session], live: Live, embedder: HashingEmbedder,
          sizes: tuple[int | None, ...] = (None, 12, 40)) -> SweepResult:  # fmt: skip
    with tenant_session(sessions, solution_id=live.solution_id) as session:
        golden = load_golden(session, oracle_id=live.oracle_id, name="main")
    return run_sweep(sessions, golden, solution_id=live.solution_id, oracle_id=live.oracle_id,
                     embedder=embedder, grid=SweepGrid(modes=("lexical",), chunk_tokens=sizes),
                     copies=CopyOptions(store=live.store))  # fmt: skip


def chunk_texts(sessions: sessionmaker[Session], live: Live, oracle: str, name: str) -> list[str]:
    with tenant_session(sessions, solution_id=live.solution_id) as session:
        query = (
            select(DocumentChunk.content)
            .join(Document, Document.id == DocumentChunk.document_id)
            .join(Oracle, Oracle.id == Document.oracle_id)
            .where(Oracle.oracle_name == oracle, Document.filename == name)
            .order_by(DocumentChunk.chunk_index)
        )
        return list(session.scalars(query))


def test_overlap_is_found_at_word_boundaries_only() -> None:
    assert overlap_length("one two three four.", "three four. five six") == len("three four.")
    assert overlap_length("one two three", "ethree four") == 0  # not at a word start
    assert overlap_length("one two", "two") == 0  # the next chunk must add something
    assert overlap_length("alpha beta", "gamma delta") == 0


@pytest.mark.parametrize(("size", "overlap"), [(200, 40), (40, 8), (12, 2), (30, 0)])
def test_text_rebuilt_from_chunks_chunks_the_same_again(size: int, overlap: int) -> None:
    data = FROM_CLI["risks.md"] + "\n\n" + FROM_CLI["headcount.txt"]
    config, tokens = ChunkingConfig(size, overlap), WhitespaceTokenizer()
    chunks = chunk_blocks(parse_bytes(data.encode(), "a.md").blocks, tokens, config)
    rebuilt = text_from_chunks([(c.metadata["kind"], c.text) for c in chunks])
    again = chunk_blocks(parse_bytes(rebuilt.encode(), "a.md").blocks, tokens, config)
    assert [c.text for c in again] == [c.text for c in chunks]
    assert rebuilt.count("| risk | owner | level |") == 1  # a split table's header once


def test_a_chunk_size_sweep_scores_copies_and_never_writes_the_live_oracle(
    admin_sessions: sessionmaker[Session], live: Live
) -> None:
    before = state(admin_sessions, live)
    embedder = HashingEmbedder()
    result = sweep(admin_sessions, live, embedder)
    assert state(admin_sessions, live) == before
    by_size = {run.config["chunk_tokens"]: run for run in result.runs}
    assert set(by_size) == {40, 12}  # None: the oracle itself, at its own 40
    assert by_size[12].oracle_id != live.oracle_id
    for run in result.runs:
        assert run.query_count == 4  # every question scored, on the live judgements
        assert run.metrics["HitRate@10"].mean == pytest.approx(1.0)
    copy12, copy40 = sorted(result.copies, key=lambda c: c.chunk_tokens)
    assert (copy12.name, copy12.from_original, copy12.from_chunks) == ("reports~chunks12", 2, 2)
    live_chunks = sum(row[3] for row in before.documents)
    assert copy12.chunks > live_chunks and not copy12.failed
    assert 0 < copy12.embedded <= copy12.chunks
    # at the live size, a copy rebuilt from chunks (no original) has the live chunks again,
    # and their vectors all come from the tenant's embedding cache
    for name, copied in COPIED.items():
        texts = chunk_texts(admin_sessions, live, "reports", name)
        assert chunk_texts(admin_sessions, live, "reports~chunks40", copied) == texts
    assert (copy40.chunks, copy40.embedded) == (live_chunks, 0)
    metadata = get_run_metadata(admin_sessions, live, by_size[12].id)
    assert metadata["rechunk"]["copy"] == "reports~chunks12"
    assert metadata["golden_set"]["name"] == "main"
    with tenant_session(admin_sessions, solution_id=live.solution_id) as session:
        copies = list_scratch(session, live.solution_id)
        assert {o.oracle_name for o in copies} >= {"reports~chunks12", "reports~chunks40"}
        assert all(is_scratch(o) for o in copies)
        assert all(o.metadata_["evaluation"]["purpose"] == "rechunk" for o in copies
                   if "~chunks" in o.oracle_name)  # fmt: skip
        shown = {o.oracle_name for o in list_oracles(session, live.solution_id)}
        assert not any("~chunks" in name for name in shown)  # hidden from pickers


def get_run_metadata(sessions: sessionmaker[Session], live: Live, run_id: uuid.UUID) -> dict:  # type: ignore[type-arg]
    with tenant_session(sessions, solution_id=live.solution_id) as session:
        return dict(get_run(session, run_id).run.metadata)


def test_copies_are_reused_rebuilt_when_the_live_documents_change_and_cleaned(
    admin_sessions: sessionmaker[Session], live: Live
) -> None:
    sweep(admin_sessions, live, HashingEmbedder(), (12,))
    again = HashingEmbedder()
    [reused] = sweep(admin_sessions, live, again, (12,)).copies
    assert (reused.unchanged, reused.embedded) == (4, 0)  # nothing re-chunked or embedded
    texts = {t for t in again.embedded if not t.startswith("sccanary")}  # canary probes
    assert texts <= {str(q["question"]) for q in QUESTIONS}  # and the queries: no chunk
    changed = _sentences("turnover", 12)
    ingest(admin_sessions, solution_id=live.solution_id, oracle_id=live.oracle_id,
           sources=[SourceFile("headcount.txt", changed.encode())],
           embedder=HashingEmbedder())  # fmt: skip
    with tenant_session(admin_sessions, solution_id=live.solution_id) as session:
        session.delete(session.scalars(select(Document).filter_by(
            oracle_id=live.oracle_id, filename="dividends.md")).one())  # fmt: skip
    result = sweep(admin_sessions, live, HashingEmbedder(), (12,))
    [rebuilt] = result.copies
    assert rebuilt.unchanged == 2 and len(rebuilt.aliases) == 3
    assert "turnover" in " ".join(chunk_texts(admin_sessions, live, "reports~chunks12",
                                              "headcount.txt.txt"))  # fmt: skip
    assert chunk_texts(admin_sessions, live, "reports~chunks12", "dividends.md") == []
    stale = result.runs[0].query_count, get_run_metadata(admin_sessions, live, result.runs[0].id)
    assert stale[0] == 2  # q1 and q4: q2's document is gone, q3's changed
    assert sorted(stale[1]["golden_set"]["stale"]) == [
        "q2: dividends.md: document deleted",
        "q3: headcount.txt: document changed since it was judged",
    ]
    with tenant_session(admin_sessions, solution_id=live.solution_id) as session:
        removed = remove_scratch(session, live.solution_id)
    assert "reports~chunks12" in removed.oracles


def test_promoting_a_chunk_size_writes_settings_only_and_can_be_restored(
    admin_sessions: sessionmaker[Session], live: Live
) -> None:
    result = sweep(admin_sessions, live, HashingEmbedder(), (None, 12))
    assert result.baseline is not None
    [best] = [r for r in result.runs if r.config["chunk_tokens"] == 12]
    before = state(admin_sessions, live)
    with tenant_session(admin_sessions, solution_id=live.solution_id) as session:
        decision = promote_if_better(session, oracle_id=live.oracle_id,
                                     baseline=result.baseline, best=best, force=True)  # fmt: skip
    assert decision.promoted and decision.chunking == {"chunk_tokens": 12, "overlap_tokens": 2}
    after = state(admin_sessions, live)
    assert after.documents == before.documents and after.chunks == before.chunks  # not re-ingested
    config = after.config
    assert (config["chunk_tokens"], config["overlap_tokens"]) == (12, 2)
    assert config["mode"] == "lexical"
    with tenant_session(admin_sessions, solution_id=live.solution_id) as session:
        remove_scratch(session, live.solution_id)  # the promoted run goes with its copy...
        restored = restore_config(session, run_id=result.baseline.id)  # ...the baseline keeps it
    assert restored == LIVE_CHUNKING
    assert state(admin_sessions, live).config == LIVE_CHUNKING


@pytest.mark.parametrize("size", [0, 7, 5000])
def test_a_chunk_size_out_of_range_is_refused_before_anything_runs(
    admin_sessions: sessionmaker[Session], live: Live, size: int
) -> None:
    with pytest.raises(InvalidSettingError, match="chunk_tokens"):
        sweep(admin_sessions, live, HashingEmbedder(), (None, size))
    with tenant_session(admin_sessions, solution_id=live.solution_id) as session:
        assert list_scratch(session, live.solution_id) == []


def test_an_oracle_without_documents_has_nothing_to_rechunk(
    owner_engine: Engine, admin_sessions: sessionmaker[Session]
) -> None:
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session), oracle_name="empty")
        sid, oid = oracle.solution_id, oracle.id
    with pytest.raises(UserError, match="'empty' has no ingested documents"):
        copy_live_oracle(admin_sessions, solution_id=sid, oracle_id=oid,
                         chunking=ChunkingConfig(12, 2), embedder=HashingEmbedder())  # fmt: skip
    with tenant_session(admin_sessions, solution_id=sid) as session:
        assert list_scratch(session, sid) == []
