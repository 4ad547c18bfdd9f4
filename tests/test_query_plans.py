"""Under RLS, as the application role, the seed's queries use their indexes."""

import uuid

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import tenant_session
from supercore_core.retrieval import _DENSE_EXACT
from tests.factories import make_document, make_oracle, make_solution

DOCUMENTS_PER_TENANT = 3000


@pytest.fixture(scope="module")
def busy_tenant(owner_engine: Engine) -> tuple[uuid.UUID, uuid.UUID]:
    """Four tenants with a few thousand documents each; returns one (solution, oracle)."""
    with Session(owner_engine) as session, session.begin():
        oracles = [make_oracle(session, make_solution(session)) for _ in range(4)]
        for oracle in oracles:
            session.execute(
                text(
                    "INSERT INTO documents (oracle_id, solution_id, filename, file_type, status,"
                    " error_message)"
                    " SELECT :o, :s, 'doc-' || n || '.txt', 'txt',"
                    " (ARRAY['pending','processing','completed','failed'])[1 + n % 4],"
                    " CASE WHEN n % 4 = 3 THEN 'parse error' END"
                    " FROM generate_series(1, :n) AS n"
                ),
                {"o": oracle.id, "s": oracle.solution_id, "n": DOCUMENTS_PER_TENANT},
            )
        ids = (oracles[0].solution_id, oracles[0].id)
    with owner_engine.connect() as conn:
        conn.execute(text("ANALYZE documents"))
        conn.commit()
    return ids


def _plan(
    sessions: sessionmaker[Session],
    solution_id: uuid.UUID,
    query: str,
    *settings: str,
    **params: object,
) -> str:
    with tenant_session(sessions, solution_id=solution_id) as session:
        for setting in settings:
            session.execute(text(f"SET LOCAL {setting}"))
        rows = session.execute(text(f"EXPLAIN (COSTS OFF) {query}"), params).scalars()
        return "\n".join(rows)


def test_seed_documents_query_uses_its_index_under_rls(
    app_sessions: sessionmaker[Session], busy_tenant: tuple[uuid.UUID, uuid.UUID]
) -> None:
    solution_id, oracle_id = busy_tenant
    plan = _plan(
        app_sessions,
        solution_id,
        "SELECT * FROM documents WHERE oracle_id = :o AND status = 'completed'",
        o=oracle_id,
    )
    assert "Index Scan on idx_documents_oracle_id" in plan, plan
    # The policy's functions run once per query as init plans, not once per row.
    assert "Filter: ((solution_id = (InitPlan 1).col1) OR (InitPlan 2).col1)" in plan, plan


def test_failed_documents_use_the_partial_index(
    app_sessions: sessionmaker[Session], busy_tenant: tuple[uuid.UUID, uuid.UUID]
) -> None:
    solution_id, _ = busy_tenant
    plan = _plan(
        app_sessions,
        solution_id,
        "SELECT filename, error_message FROM documents WHERE solution_id = :s"
        " AND status = 'failed' ORDER BY updated_at DESC LIMIT 20",
        s=solution_id,
    )
    assert "idx_documents_failed" in plan


@pytest.fixture(scope="module")
def big_oracle(owner_engine: Engine) -> tuple[uuid.UUID, uuid.UUID]:
    """A tenant with 20,000 short chunks next to another tenant's 20,000."""
    with Session(owner_engine) as session, session.begin():
        oracles = [make_oracle(session, make_solution(session)) for _ in range(2)]
        for oracle in oracles:
            document = make_document(session, oracle)
            session.execute(
                text(
                    "INSERT INTO document_chunks (document_id, oracle_id, solution_id, chunk_index,"
                    " content) SELECT :d, :o, :s, n, 'note ' || n || ' about '"
                    " || CASE WHEN n % 2000 = 0 THEN 'hedging' ELSE"
                    " (ARRAY['leases','tax','debt','revenue'])[1 + n % 4] END"
                    " FROM generate_series(1, 20000) AS n"
                ),
                {"d": document.id, "o": oracle.id, "s": oracle.solution_id},
            )
        ids = (oracles[0].solution_id, oracles[0].id)
    with owner_engine.connect() as conn:
        conn.execute(text("ANALYZE document_chunks"))
        superuser = conn.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar_one()
        conn.commit()
    if not superuser:
        pytest.skip("the migrating role is not a superuser, so revision 0011 changed nothing")
    return ids


def test_lexical_search_uses_the_gin_index_under_rls(
    app_sessions: sessionmaker[Session], big_oracle: tuple[uuid.UUID, uuid.UUID]
) -> None:
    solution_id, _ = big_oracle
    # Whatever the whole suite's chunks do to the statistics (a scan or an oracle-id index
    # may look cheaper), with scans priced out only the GIN index can answer the match, and
    # it can only do so under RLS if @@ is LEAKPROOF (revision 0011): else this plan is a scan.
    plan = _plan(
        app_sessions,
        solution_id,
        "SELECT id FROM document_chunks WHERE content_tsv @@ to_tsquery('english', 'hedging')",
        "enable_seqscan = off",
    )
    assert "idx_document_chunks_content_tsv" in plan, plan


def test_exact_dense_search_never_uses_hnsw(
    app_sessions: sessionmaker[Session], owner_engine: Engine
) -> None:
    """Even when the planner would like the HNSW index, the exact path returns all k hits."""
    with Session(owner_engine) as session, session.begin():
        small, big = (make_oracle(session, make_solution(session)) for _ in range(2))
        for oracle, rows in ((small, 30), (big, 3000)):
            document = make_document(session, oracle, chunk_count=rows)
            session.execute(
                text(
                    "INSERT INTO document_chunks (document_id, oracle_id, solution_id, chunk_index,"
                    " content, embedding) SELECT :d, :o, :s, gs.n, 'c' || gs.n, (SELECT"
                    " array_agg(random()::real + 0 * g.i + 0 * gs.n)"  # correlated: new per row
                    " FROM generate_series(1, 384) AS g(i))::vector"
                    " FROM generate_series(1, :rows) AS gs(n)"
                ),
                {"d": document.id, "o": oracle.id, "s": oracle.solution_id, "rows": rows},
            )
        ids = (small.solution_id, small.id)
    with owner_engine.connect() as conn:
        conn.execute(text("ANALYZE document_chunks"))
        conn.commit()
    query = _DENSE_EXACT.replace(":q", "CAST(:q AS vector)")
    with tenant_session(app_sessions, solution_id=ids[0]) as session:
        session.execute(text("SET LOCAL enable_sort = off"))  # tempt the planner to use HNSW
        params = {"o": ids[1], "q": str([0.5] * 384), "n": 10}
        plan = "\n".join(session.execute(text(f"EXPLAIN {query}"), params).scalars())
        hits = session.execute(text(query), params).all()
    assert "hnsw" not in plan, plan
    assert len(hits) == 10
