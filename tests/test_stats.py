"""Index, table and usage statistics; tenant/oracle admin; document listing and chunks."""

import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import admin_session, catalog, documents, stats, tenant_session
from supercore_core.errors import ConfigurationError, NotFoundError, UserError
from supercore_core.evaluation.scratch import scratch_marker
from supercore_core.ingest.pipeline import SourceFile
from supercore_core.models import Solution
from tests.factories import (
    make_chunk,
    make_conversation,
    make_document,
    make_message,
    make_oracle,
    make_solution,
)
from tests.fakes import HashingEmbedder


@dataclass(frozen=True)
class Ids:
    solution_id: uuid.UUID
    oracle_id: uuid.UUID
    document_id: uuid.UUID


def populated_tenant(owner_engine: Engine, *, chunks: int = 3, cost: str = "0.25") -> Ids:
    """A committed tenant: one oracle, one document with ``chunks`` chunks, two messages."""
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session))
        document = make_document(session, oracle, status="completed", chunk_count=chunks)
        for i in range(chunks):
            make_chunk(session, document, chunk_index=i)
        conversation = make_conversation(session, oracle)
        make_message(session, conversation, total_tokens=10)
        make_message(session, conversation, role="assistant", sequence_number=2,
                     total_tokens=90, cost_usd=Decimal(cost))  # fmt: skip
        return Ids(oracle.solution_id, oracle.id, document.id)


@pytest.fixture(scope="module")
def two_tenants(owner_engine: Engine) -> tuple[Ids, Ids]:
    return populated_tenant(owner_engine, chunks=3), populated_tenant(owner_engine, chunks=5)


def test_overview_admin_sees_every_tenant_with_its_counts(
    admin_sessions: sessionmaker[Session], two_tenants: tuple[Ids, Ids]
) -> None:
    a, b = two_tenants
    with admin_session(admin_sessions) as session:
        result = stats.overview(session)
    by_id = {r.solution_id: r for r in result.rows}
    assert by_id[a.solution_id].chunks == 3
    assert by_id[b.solution_id].chunks == 5
    row = by_id[a.solution_id]
    assert (row.oracles, row.documents, row.conversations, row.messages) == (1, 1, 1, 2)
    assert row.total_tokens == 100
    assert row.cost_usd == Decimal("0.25")
    assert result.total("chunks") >= 8
    assert list(result.to_frame().columns)[:3] == ["solution_id", "slug", "name"]


def test_overview_leaves_out_scratch_evaluation_oracles(
    owner_engine: Engine, admin_sessions: sessionmaker[Session], two_tenants: tuple[Ids, Ids]
) -> None:
    a, _ = two_tenants
    with Session(owner_engine) as session, session.begin():
        solution = session.get(Solution, a.solution_id)
        assert solution is not None
        scratch = make_oracle(session, solution, metadata_=scratch_marker("benchmark", "x"))
        make_chunk(session, make_document(session, scratch), content="benchmark text")
    with admin_session(admin_sessions) as session:
        row = next(r for r in stats.overview(session).rows if r.solution_id == a.solution_id)
    assert (row.oracles, row.documents, row.chunks) == (1, 1, 3)


def test_overview_in_a_tenant_session_counts_only_that_tenant(
    app_sessions: sessionmaker[Session], two_tenants: tuple[Ids, Ids]
) -> None:
    a, _ = two_tenants
    with tenant_session(app_sessions, solution_id=a.solution_id) as session:
        result = stats.overview(session)
        days = stats.trends(session, days=7)
    assert [r.solution_id for r in result.rows] == [a.solution_id]
    assert len(days.rows) == 7
    assert days.rows[-1].chunks == 3  # today's chunks are this tenant's only
    assert days.rows[-1].messages == 2


def test_trends_reject_a_bad_window(admin_sessions: sessionmaker[Session]) -> None:
    with admin_session(admin_sessions) as session, pytest.raises(ConfigurationError):
        stats.trends(session, days=0)


def test_table_sizes_and_index_usage(
    admin_sessions: sessionmaker[Session], two_tenants: tuple[Ids, Ids]
) -> None:
    with admin_session(admin_sessions) as session:
        sizes = stats.table_sizes(session)
        usage = stats.index_usage(session)
    tables = {r.table: r for r in sizes.rows}
    assert {"solutions", "document_chunks", "messages"} <= set(tables)
    assert tables["document_chunks"].total_bytes >= tables["document_chunks"].index_bytes > 0
    indexes = {r.index: r for r in usage.rows}
    hnsw = indexes["idx_document_chunks_embedding_hnsw"]
    assert hnsw.method == "hnsw"
    assert hnsw.purpose and "Dense search" in hnsw.purpose
    assert not indexes["pk_solutions"].unused  # constraints are never "unused"
    assert all(r.scans == 0 and not r.enforces_constraint for r in usage.unused)
    assert len(usage.to_frame()) == len(usage.rows)


def test_index_scans_are_counted(
    admin_sessions: sessionmaker[Session], owner_engine: Engine, two_tenants: tuple[Ids, Ids]
) -> None:
    def scans() -> int:
        with admin_session(admin_sessions) as session:
            return sum(r.scans for r in stats.index_usage(session).rows if r.table == "documents")

    before = scans()
    with owner_engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(
            text("SELECT * FROM documents WHERE id = :d"), {"d": two_tenants[0].document_id}
        )
    with owner_engine.connect() as conn:  # statistics reach the views once flushed
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
        conn.commit()
    for _ in range(20):
        if scans() > before:
            break
        time.sleep(0.1)
    assert scans() > before


def test_top_queries_from_pg_stat_statements(admin_sessions: sessionmaker[Session]) -> None:
    with admin_session(admin_sessions) as session:
        session.execute(text("SELECT count(*) FROM oracles WHERE oracle_name = 'top-query-probe'"))
        top = stats.top_queries(session, limit=500)
    assert top.available, top.reason
    assert any("oracle_name" in q.query and q.calls >= 1 for q in top.rows)
    assert all(q.total_ms >= 0 for q in top.rows)


def test_top_queries_without_the_extension_say_why(scratch_database: str) -> None:
    from supercore_core import Settings, make_engine

    engine = make_engine(Settings(database_url=scratch_database))
    try:
        with Session(engine) as session:
            top = stats.top_queries(session)
    finally:
        engine.dispose()
    assert not top.available
    assert top.reason == "pg_stat_statements is not installed"
    with Session(engine) as session, pytest.raises(ConfigurationError):
        stats.top_queries(session, limit=0)


def test_vector_settings(admin_sessions: sessionmaker[Session]) -> None:
    with admin_session(admin_sessions) as session:
        vector = stats.vector_settings(session)
    assert vector.extension_version is not None
    [hnsw] = [i for i in vector.indexes if i.index == "idx_document_chunks_embedding_hnsw"]
    assert hnsw.options == {"m": "16", "ef_construction": "64"}
    assert vector.settings["hnsw.ef_search"] == "40"
    assert "hnsw" in vector.to_frame()["method"].tolist()


# Tenant and oracle administration -------------------------------------------------------


def test_tenant_status_and_listing(
    admin_sessions: sessionmaker[Session], app_sessions: sessionmaker[Session]
) -> None:
    with admin_session(admin_sessions) as session:
        a = catalog.create_solution(session, slug=f"st-{uuid.uuid4().hex[:8]}", name="Alpha")
        b = catalog.create_solution(session, slug=f"st-{uuid.uuid4().hex[:8]}", name="Beta")
        catalog.set_solution_status(session, a.id, "suspended")
        with pytest.raises(UserError, match="unknown tenant status 'paused'"):
            catalog.set_solution_status(session, a.id, "paused")
        listed = {s.id: s.status for s in catalog.list_solutions(session)}
    assert listed[a.id] == "suspended"
    assert listed[b.id] == "active"
    with tenant_session(app_sessions, solution_id=a.id) as session:
        assert [s.id for s in catalog.list_solutions(session)] == [a.id]
        oracles = catalog.list_oracles(session, a.id)
    assert [o.oracle_type for o in oracles] == ["rag_global"]


def test_duplicate_slug_is_a_user_error(admin_sessions: sessionmaker[Session]) -> None:
    slug = f"dup-{uuid.uuid4().hex[:8]}"
    with admin_session(admin_sessions) as session:
        catalog.create_solution(session, slug=slug, name="One")
        with pytest.raises(UserError, match="slug is taken"):
            catalog.create_solution(session, slug=slug, name="Two")
        with pytest.raises(UserError, match="slug is malformed"):
            catalog.create_solution(session, slug="Not A Slug", name="Three")


@pytest.fixture
def tenant(owner_engine: Engine) -> Ids:
    with Session(owner_engine) as session, session.begin():
        solution = make_solution(session)
        oracle = make_oracle(session, solution)
        return Ids(solution.id, oracle.id, uuid.uuid4())


def test_update_oracle_and_its_status(app_sessions: sessionmaker[Session], tenant: Ids) -> None:
    with tenant_session(app_sessions, solution_id=tenant.solution_id) as session:
        catalog.update_oracle(
            session, tenant.oracle_id, system_prompt="Be brief.", llm_model="gpt-4o-mini",
            llm_provider="openai", temperature=Decimal("0.2"), max_tokens=512,
            retrieval_config={"mode": "lexical", "k": 5},
        )  # fmt: skip
        catalog.set_oracle_status(session, tenant.oracle_id, "inactive")
        rag = catalog.ensure_rag_global_oracle(session, tenant.solution_id)
        assert catalog.ensure_rag_global_oracle(session, tenant.solution_id).id == rag.id
    with tenant_session(app_sessions, solution_id=tenant.solution_id) as session:
        oracle = catalog.oracle_by_id(session, tenant.oracle_id)
        names = [o.oracle_name for o in catalog.list_oracles(session, tenant.solution_id)]
    assert (oracle.system_prompt, oracle.llm_model, oracle.max_tokens) == (
        "Be brief.", "gpt-4o-mini", 512,
    )  # fmt: skip
    assert oracle.retrieval_config == {"mode": "lexical", "k": 5}
    assert oracle.status == "inactive"
    assert names[0] == "rag-global"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"temperature": Decimal("3")}, "temperature is 3: use a finite number from 0 to 2"),
        ({"temperature": float("nan")}, "temperature is nan: use a finite number from 0 to 2"),
        ({"max_tokens": 0}, "max_tokens is 0: use a whole number from 1 to 200,000"),
        ({"llm_model": "  "}, "llm_model must not be blank"),
        ({"colour": "red"}, "unknown oracle setting 'colour'"),
        ({"retrieval_config": {"mode": "fuzzy"}}, "unknown retrieval mode 'fuzzy'"),
        ({"retrieval_config": {"k": "many"}}, "retrieval settings rejected"),
    ],
)
def test_bad_oracle_settings_change_nothing(
    app_sessions: sessionmaker[Session], tenant: Ids, changes: dict[str, object], message: str
) -> None:
    with tenant_session(app_sessions, solution_id=tenant.solution_id) as session:
        with pytest.raises(UserError, match=message):
            catalog.update_oracle(session, tenant.oracle_id, system_prompt="changed", **changes)
        oracle = catalog.oracle_by_id(session, tenant.oracle_id)
        assert oracle.system_prompt is None
        assert oracle.retrieval_config == {}
        with pytest.raises(UserError, match="unknown oracle status"):
            catalog.set_oracle_status(session, tenant.oracle_id, "deleted")


# Documents ------------------------------------------------------------------------------


def test_upload_list_browse_reingest_delete(
    app_sessions: sessionmaker[Session], tenant: Ids, tmp_path: Path
) -> None:
    store = documents.UploadStore(tmp_path)
    text_ = "\n\n".join(
        f"Paragraph {i} about revenue, fees and the cost of sales in the fiscal year." * 3
        for i in range(30)
    )
    outcomes = documents.ingest_uploads(
        app_sessions, store, solution_id=tenant.solution_id, oracle_id=tenant.oracle_id,
        sources=[SourceFile("notes.txt", text_.encode()), SourceFile("empty.txt", b"")],
        embedder=HashingEmbedder(),
    )  # fmt: skip
    assert [o.status for o in outcomes] == ["completed", "failed"]
    good = outcomes[0].document_id
    assert good is not None
    with tenant_session(app_sessions, solution_id=tenant.solution_id) as session:
        listed = documents.list_documents(session, tenant.oracle_id)
        page = documents.chunk_page(session, good, offset=0, limit=2)
    assert {r.filename: r.status for r in listed.rows} == {
        "notes.txt": "completed", "empty.txt": "failed",
    }  # fmt: skip
    failed = next(r for r in listed.rows if r.status == "failed")
    assert failed.error and "contains no text" in failed.error
    assert listed.count("completed") == 1
    assert all(r.has_original for r in listed.rows)
    assert page.total == outcomes[0].chunks
    assert [c.chunk_index for c in page.rows] == [0, 1]

    again = documents.reingest(app_sessions, store, solution_id=tenant.solution_id,
                               document_id=good, embedder=HashingEmbedder())  # fmt: skip
    assert (again.status, again.document_id) == ("completed", good)

    with tenant_session(app_sessions, solution_id=tenant.solution_id) as session:
        path = documents.delete_document(session, good)
    store.remove(path)
    assert path is not None and not (tmp_path / path).exists()
    with tenant_session(app_sessions, solution_id=tenant.solution_id) as session:
        assert [r.filename for r in documents.list_documents(session, tenant.oracle_id).rows] == [
            "empty.txt"
        ]
        with pytest.raises(NotFoundError):
            documents.chunk_page(session, good)


def test_another_tenants_document_is_not_found(
    app_sessions: sessionmaker[Session], owner_engine: Engine, tenant: Ids, tmp_path: Path
) -> None:
    other = populated_tenant(owner_engine)
    store = documents.UploadStore(tmp_path)
    with tenant_session(app_sessions, solution_id=tenant.solution_id) as session:
        assert documents.list_documents(session, other.oracle_id).rows == ()
        with pytest.raises(NotFoundError):
            documents.chunk_page(session, other.document_id)
        with pytest.raises(NotFoundError):
            documents.delete_document(session, other.document_id)
    with pytest.raises(NotFoundError, match="does not belong to this tenant"):
        store.load(tenant.solution_id, f"{other.solution_id}/x/y.txt")
    with pytest.raises(NotFoundError, match="no original is kept"):
        documents.reingest(app_sessions, store, solution_id=other.solution_id,
                           document_id=other.document_id, embedder=HashingEmbedder())  # fmt: skip
