"""A vector index per large oracle: built, used, calibrated, measured, audited and dropped."""

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from supercore_core import tenant_session
from supercore_core.cli import app
from supercore_core.db.engine import make_sessions
from supercore_core.db.sessions import admin_session, sessions_for_person
from supercore_core.errors import RoleError
from supercore_core.ingest.pipeline import SourceFile, ingest
from supercore_core.ops.audit import list_audit
from supercore_core.ops.doctor import Limits
from supercore_core.ops.doctor.vectors import check_recall, check_vector_index
from supercore_core.people import add_person, grant
from supercore_core.retrieval import _DENSE_HNSW, hybrid_statement, search
from supercore_core.vector_index import ddl, plan
from supercore_core.vector_index.maintain import VectorIndexError, after_ingest, sync
from supercore_core.vector_index.recall import (
    TARGET_RECALL,
    exact_distances,
    pick_ef,
    production_recall,
    recall_at,
)
from tests.factories import make_document, make_oracle, make_solution
from tests.fakes import HashingEmbedder

LARGE, SMALL, THRESHOLD = 2000, 60, 1000
_FILL = text(
    "INSERT INTO document_chunks (document_id, oracle_id, solution_id, chunk_index, content,"
    " embedding) SELECT :d, :o, :s, gs.n, 'chunk ' || gs.n, (SELECT"
    " array_agg(random()::real - 0.5 + 0 * g.i + 0 * gs.n)"  # correlated: new per row
    " FROM generate_series(1, 384) AS g(i))::vector FROM generate_series(1, :rows) AS gs(n)"
)


@dataclass(frozen=True)
class Tenants:
    solution_id: uuid.UUID
    large: uuid.UUID
    small: uuid.UUID


class VectorEmbedder:
    """Answers every query with one fixed vector (a stored chunk's)."""

    def __init__(self, vector: list[float]) -> None:
        self.vector = vector
        self.model_name = "fixed"
        self.dimensions = len(vector)

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self.vector for _ in texts]


def _fill(session: Session, oracle: Any, rows: int) -> None:
    document = make_document(session, oracle, chunk_count=rows)
    params = {"d": document.id, "o": oracle.id, "s": oracle.solution_id, "rows": rows}
    session.execute(_FILL, params)


@pytest.fixture(scope="module")
def tenants(owner_engine: Engine) -> Tenants:
    """One tenant: a large oracle past its threshold and a small one, both synced."""
    with Session(owner_engine) as session, session.begin():
        solution = make_solution(session)
        config = {"exact_below_chunks": THRESHOLD}
        large = make_oracle(session, solution, retrieval_config=config)
        small = make_oracle(session, solution, retrieval_config=config)
        _fill(session, large, LARGE)
        _fill(session, small, SMALL)
        found = Tenants(solution.id, large.id, small.id)
    with owner_engine.connect() as conn:
        conn.execute(text("ANALYZE document_chunks"))
        conn.commit()
    return found


@pytest.fixture(scope="module")
def synced(owner_engine: Engine, tenants: Tenants) -> dict[uuid.UUID, Any]:
    changes = []
    for oracle_id in (tenants.large, tenants.small):
        changes += sync(owner_engine, reason="test", oracle_id=oracle_id)
    return {c.oracle_id: c for c in changes}


def _settings(owner_engine: Engine, oracle_id: uuid.UUID) -> dict[str, Any]:
    with owner_engine.connect() as conn:
        found: dict[str, Any] = conn.execute(
            text("SELECT retrieval_config FROM oracles WHERE id = :o"), {"o": oracle_id}
        ).scalar_one()
    return found


def test_only_the_large_oracle_gets_an_index_with_a_calibrated_ef_search(
    owner_engine: Engine, tenants: Tenants, synced: dict[uuid.UUID, Any]
) -> None:
    assert synced[tenants.large].action == "built"
    assert synced[tenants.small].action == "exact"
    with owner_engine.connect() as conn:
        indexes = ddl.oracle_indexes(conn)
        comment = conn.execute(
            text("SELECT obj_description(to_regclass(:i), 'pg_class')"),
            {"i": ddl.index_name(tenants.large)},
        ).scalar_one()
    assert indexes[tenants.large].valid and tenants.small not in indexes
    assert comment and str(tenants.large) in comment
    ef = _settings(owner_engine, tenants.large)["ef_search"]
    assert isinstance(ef, int) and 1 <= ef <= 1000
    assert "ef_search" not in _settings(owner_engine, tenants.small)


def test_builds_are_audited_with_the_tenant(
    owner_engine: Engine, tenants: Tenants, synced: dict[uuid.UUID, Any]
) -> None:
    with owner_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT reason FROM audit_log WHERE action = 'vector_index_build'"
                 " AND solution_id = :s"),
            {"s": tenants.solution_id},
        ).scalars().all()  # fmt: skip
    assert len(rows) == 1
    assert ddl.index_name(tenants.large) in rows[0] and f"{LARGE:,} chunks" in rows[0]


def _dense_plan(sessions: sessionmaker[Session], tenants: Tenants, sql: str) -> str:
    with tenant_session(sessions, solution_id=tenants.solution_id) as session:
        session.execute(text("SET LOCAL hnsw.iterative_scan = off"))
        # Alternatives priced out, as in the GIN plan test: at 2,000 chunks an exact scan is
        # cheaper by cost (pgvector prices an HNSW scan's startup as its total), so what is
        # tested is that the statement *can* take the oracle's graph (its predicate is
        # provable); the benchmark shows it is taken at production sizes.
        for name in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            session.execute(text(f"SET LOCAL {name} = off"))
        params = {"q": str([0.01] * 384), "n": 100, "o": tenants.large}
        rows = session.execute(text(f"EXPLAIN (COSTS OFF) {sql}"), params).scalars()
        return "\n".join(rows)


def test_the_large_oracle_query_uses_its_own_index(
    app_sessions: sessionmaker[Session], tenants: Tenants, synced: dict[uuid.UUID, Any]
) -> None:
    """The plan test: fails if the production query stops using the oracle's graph."""
    sql = _DENSE_HNSW.format(oracle=ddl.oracle_literal(tenants.large))
    found = _dense_plan(app_sessions, tenants, sql.replace(":q", "CAST(:q AS vector)"))
    assert f"Index Scan using {ddl.index_name(tenants.large)}" in found, found


def test_the_large_oracles_hybrid_statement_uses_its_own_index(
    app_sessions: sessionmaker[Session], tenants: Tenants, synced: dict[uuid.UUID, Any]
) -> None:
    sql = hybrid_statement(tenants.large, exact=False, lexical=False, fusion="convex")
    params = {"pool": 100, "k": 10, "dense_weight": 1.0, "lexical_weight": 1.0, "rrf_k": 60,
              "dense_floor": -1.0, "lexical_floor": 0.0}  # fmt: skip
    for name, value in params.items():
        sql = sql.replace(f":{name}", repr(value))
    found = _dense_plan(app_sessions, tenants, sql.replace(":q", "CAST(:q AS vector)"))
    assert f"Index Scan using {ddl.index_name(tenants.large)}" in found, found


def test_a_generic_plan_could_not_use_it(
    app_sessions: sessionmaker[Session], tenants: Tenants, synced: dict[uuid.UUID, Any]
) -> None:
    """Why the oracle is a literal: with the id as a parameter, a generic plan cannot prove
    the partial index's predicate."""
    sql = _DENSE_HNSW.format(oracle="$1").replace(":q", "$2").replace(":n", "100")
    with tenant_session(app_sessions, solution_id=tenants.solution_id) as session:
        session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        session.execute(text(f"PREPARE dense(uuid, vector) AS {sql}"))
        vector = str([0.01] * 384)
        rows = session.execute(
            text(f"EXPLAIN (COSTS OFF) EXECUTE dense('{tenants.large}', '{vector}')")
        ).scalars()
        found = "\n".join(rows)
        session.execute(text("DEALLOCATE dense"))
    assert ddl.index_name(tenants.large) not in found, found


def _stored(owner_engine: Engine, oracle_id: uuid.UUID, n: int) -> list[list[float]]:
    with owner_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT embedding::text FROM document_chunks WHERE oracle_id = :o"
                 " ORDER BY chunk_index LIMIT :n"),
            {"o": oracle_id, "n": n},
        ).scalars()  # fmt: skip
        return [[float(x) for x in r.strip("[]").split(",")] for r in rows]


def test_search_takes_the_own_index_and_agrees_with_exact(
    owner_engine: Engine,
    app_sessions: sessionmaker[Session],
    tenants: Tenants,
    synced: dict[uuid.UUID, Any],
) -> None:
    recalls = []
    for vector in _stored(owner_engine, tenants.large, 5):
        embedder: Any = VectorEmbedder(vector)
        with tenant_session(app_sessions, solution_id=tenants.solution_id) as session:
            fast = search(session, oracle_id=tenants.large, query="q", embedder=embedder,
                          mode="dense", k=10)  # fmt: skip
            truth = exact_distances(session, tenants.large, np.asarray(vector, np.float32))
        assert not fast.exact and fast.hits[0].score == pytest.approx(1.0, abs=1e-5)
        recalls.append(recall_at(truth, [1 - h.score for h in fast.hits]))
    assert sum(recalls) / len(recalls) >= TARGET_RECALL


def test_the_small_oracle_stays_exact(
    owner_engine: Engine,
    app_sessions: sessionmaker[Session],
    tenants: Tenants,
    synced: dict[uuid.UUID, Any],
) -> None:
    embedder: Any = VectorEmbedder(_stored(owner_engine, tenants.small, 1)[0])
    with tenant_session(app_sessions, solution_id=tenants.solution_id) as session:
        found = search(session, oracle_id=tenants.small, query="q", embedder=embedder,
                       mode="dense", k=10)  # fmt: skip
    assert found.exact and len(found.hits) == 10


def test_production_recall_per_oracle(
    admin_sessions: sessionmaker[Session], tenants: Tenants, synced: dict[uuid.UUID, Any]
) -> None:
    with admin_session(admin_sessions, reason="test recall") as session:
        large = production_recall(session, tenants.large, samples=10)
        small = production_recall(session, tenants.small, samples=10)
    assert (large.path, small.path) == ("own index", "exact")
    assert large.recall >= TARGET_RECALL and not large.flagged
    assert small.recall == 1.0 and small.samples == 10


def test_the_application_role_has_no_ddl_rights(
    app_engine: Engine, app_sessions: sessionmaker[Session], tenants: Tenants
) -> None:
    with pytest.raises(VectorIndexError, match="does not own document_chunks"):
        sync(app_engine, reason="test", oracle_id=tenants.large)
    with (
        pytest.raises(DBAPIError, match="must be owner"),
        tenant_session(app_sessions, solution_id=tenants.solution_id) as session,
    ):
        session.execute(text(ddl.create_statement(tenants.small).replace(" CONCURRENTLY", "")))


def test_shrinking_below_half_the_threshold_drops_the_index(owner_engine: Engine) -> None:
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(
            session, make_solution(session), retrieval_config={"exact_below_chunks": 200}
        )
        _fill(session, oracle, 300)
        oracle_id, solution_id = oracle.id, oracle.solution_id
    assert [c.action for c in sync(owner_engine, reason="t", oracle_id=oracle_id)] == ["built"]
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM document_chunks WHERE oracle_id = :o AND chunk_index > 150"),
                     {"o": oracle_id})  # fmt: skip
    assert [c.action for c in sync(owner_engine, reason="t", oracle_id=oracle_id)] == ["kept"]
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM document_chunks WHERE oracle_id = :o AND chunk_index > 90"),
                     {"o": oracle_id})  # fmt: skip
    assert [c.action for c in sync(owner_engine, reason="t", oracle_id=oracle_id)] == ["dropped"]
    with owner_engine.connect() as conn:
        assert oracle_id not in ddl.oracle_indexes(conn)
        dropped = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'vector_index_drop'"
                 " AND solution_id = :s"), {"s": solution_id}
        ).scalar_one()  # fmt: skip
    assert dropped == 1


def test_a_deleted_oracle_loses_its_index(owner_engine: Engine) -> None:
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(
            session, make_solution(session), retrieval_config={"exact_below_chunks": 100}
        )
        _fill(session, oracle, 150)
        oracle_id = oracle.id
    sync(owner_engine, reason="t", oracle_id=oracle_id)
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM oracles WHERE id = :o"), {"o": oracle_id})
    changes = sync(owner_engine, reason="t", oracle_id=oracle_id)
    assert [(c.oracle_id, c.action) for c in changes] == [(oracle_id, "dropped")]


def _size(chunks: int, threshold: int = 1000) -> plan.OracleSize:
    return plan.OracleSize(uuid.uuid4(), uuid.uuid4(), chunks, threshold)


def _index(size: plan.OracleSize, valid: bool = True) -> ddl.OracleIndex:
    return ddl.OracleIndex(size.oracle_id, ddl.index_name(size.oracle_id), valid, 0)


@pytest.mark.parametrize(
    ("chunks", "has_index", "valid", "existing", "step"),
    [
        (999, False, False, 0, "exact"),
        (1000, False, False, 0, "build"),
        (600, True, True, 1, "kept"),  # hysteresis: kept down to half the threshold
        (499, True, True, 1, "drop"),
        (5000, True, False, 1, "build"),  # an invalid leftover is rebuilt
        (10, True, False, 1, "drop"),
        (5000, False, False, plan.MAX_ORACLE_INDEXES, "refuse"),
        (0, False, False, 0, "exact"),
    ],
)
def test_decide(chunks: int, has_index: bool, valid: bool, existing: int, step: str) -> None:
    size = _size(chunks)
    index = _index(size, valid) if has_index else None
    assert plan.decide(size, index, existing) == step


def test_statements_only_ever_name_one_uuid() -> None:
    oracle_id = uuid.uuid4()
    assert ddl.index_name(oracle_id) == f"idx_chunks_hnsw_{oracle_id.hex}"
    assert f"WHERE oracle_id = '{oracle_id}'::uuid" in ddl.create_statement(oracle_id)
    with pytest.raises(ValueError, match="hexadecimal"):
        ddl.index_name("x'; DROP TABLE oracles; --")


def test_doctor_flags_an_oracle_under_the_recall_target(owner_engine: Engine) -> None:
    """k = candidates = ef_search = 1 returns one hit: recall@10 at most 0.1, flagged."""
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(
            session, make_solution(session), retrieval_config={"exact_below_chunks": 100}
        )
        _fill(session, oracle, 150)
        oracle_id = oracle.id
    sync(owner_engine, reason="t", oracle_id=oracle_id)
    starved = {"exact_below_chunks": 100, "k": 1, "candidates": 1, "ef_search": 1}
    with owner_engine.begin() as conn:
        conn.execute(
            text("UPDATE oracles SET retrieval_config = CAST(:c AS jsonb) WHERE id = :o"),
            {"c": json.dumps(starved), "o": oracle_id},
        )
    try:
        with owner_engine.connect() as conn:
            found = check_recall(conn, Limits(recall_samples=5))
    finally:  # the database is shared: leave no flagged oracle for other doctor tests
        with owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM oracles WHERE id = :o"), {"o": oracle_id})
        sync(owner_engine, reason="t", oracle_id=oracle_id)
    assert found.status == "warn"
    assert re.search(r"\(150 chunks, ef_search 1\): 0\.(0\d\d|100) UNDER 0\.98", found.detail)


def test_doctor_warns_near_the_index_ceiling(
    owner_engine: Engine, synced: dict[uuid.UUID, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with owner_engine.connect() as conn:
        assert check_vector_index(conn, Limits()).status == "ok"
        monkeypatch.setattr(plan, "MAX_ORACLE_INDEXES", 1)
        found = check_vector_index(conn, Limits())
    assert found.status == "warn"
    assert "LIST-partition document_chunks by solution_id" in found.detail
    assert "1.33 ms with 500" in found.detail and "13 + N locks" in found.detail


def _docs(n: int) -> list[SourceFile]:
    return [
        SourceFile(f"d{i}.txt", f"Document {i} about topic {i} and more.".encode())
        for i in range(n)
    ]


def test_ingestion_by_the_owner_login_builds_the_index(
    owner_engine: Engine, app_sessions: sessionmaker[Session]
) -> None:
    with Session(owner_engine) as session, session.begin():
        solution = make_solution(session)
        config = {"exact_below_chunks": 12}
        by_owner, by_app = (make_oracle(session, solution, retrieval_config=config) for _ in "ab")
        ids = (solution.id, by_owner.id, by_app.id)
    ingest(make_sessions(owner_engine), solution_id=ids[0], oracle_id=ids[1],
           sources=_docs(8), embedder=HashingEmbedder())  # fmt: skip
    with owner_engine.connect() as conn:
        assert ids[1] not in ddl.oracle_indexes(conn)  # 8 chunks: under the threshold
    ingest(make_sessions(owner_engine), solution_id=ids[0], oracle_id=ids[1],
           sources=_docs(16), embedder=HashingEmbedder())  # fmt: skip
    ingest(app_sessions, solution_id=ids[0], oracle_id=ids[2], sources=_docs(16),
           embedder=HashingEmbedder())  # fmt: skip
    with owner_engine.connect() as conn:
        indexes = ddl.oracle_indexes(conn)
    assert indexes[ids[1]].valid
    assert ids[2] not in indexes  # the application login may not build: reindex catches up


def test_cli_reindex_vectors(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    done = CliRunner().invoke(app, ["db", "reindex", "--vectors"])
    assert done.exit_code == 0, done.output
    assert "vector indexes: " in done.output and " kept" in done.output
    refused = CliRunner().invoke(app, ["db", "reindex", "--vectors", "documents"])
    assert refused.exit_code == 1 and "--vectors takes no table" in refused.output


def _people(owner_engine: Engine, solution_id: uuid.UUID) -> dict[str, uuid.UUID]:
    with admin_session(make_sessions(owner_engine), reason="test people") as session:
        found = {}
        for role in ("editor", "viewer"):
            subject = f"{role}-{uuid.uuid4().hex[:8]}"
            found[role] = add_person(session, oidc_subject=subject, email=f"{subject}@x.test").id
            grant(session, person_id=found[role], solution_id=solution_id, role=role)
    return found


def test_an_editors_ingest_builds_the_index_and_a_viewer_triggers_no_ddl(
    owner_engine: Engine,
) -> None:
    with Session(owner_engine) as session, session.begin():
        solution = make_solution(session)
        config = {"exact_below_chunks": 12}
        by_editor, by_viewer = (make_oracle(session, solution, retrieval_config=config)
                                for _ in "ab")  # fmt: skip
        _fill(session, by_viewer, 40)  # past its threshold, no index yet
        ids = (solution.id, by_editor.id, by_viewer.id)
    people = _people(owner_engine, ids[0])
    editor = sessions_for_person(make_sessions(owner_engine), people["editor"])
    ingest(editor, solution_id=ids[0], oracle_id=ids[1], sources=_docs(16),
           embedder=HashingEmbedder())  # fmt: skip
    viewer = sessions_for_person(make_sessions(owner_engine), people["viewer"])
    with pytest.raises(RoleError, match="viewer role may not change documents"):
        ingest(viewer, solution_id=ids[0], oracle_id=ids[2], sources=_docs(2),
               embedder=HashingEmbedder())  # fmt: skip
    assert after_ingest(viewer, ids[0], ids[2]) is None  # even called directly: no DDL
    with owner_engine.connect() as conn:
        indexes = ddl.oracle_indexes(conn)
    assert indexes[ids[1]].valid and ids[2] not in indexes
    with admin_session(make_sessions(owner_engine), reason="read audit") as session:
        entries = list_audit(session, solution_id=ids[0]).entries
    builds = [e for e in entries if e.action == "vector_index_build"]
    assert len(builds) == 1 and f"ingested by person {people['editor']}" in builds[0].reason


@pytest.mark.parametrize(
    ("seen", "chosen"),
    [
        ({40: 0.95, 64: 0.991, 100: 0.999}, 100),  # one step above the first to pass
        ({40: 0.995, 64: 0.999}, 64),
        ({40: 0.9, 64: 0.9, 100: 0.9, 160: 0.9, 250: 0.9, 400: 0.9, 640: 0.9, 1000: 0.99}, 1000),
        ({40: 0.5, 640: 0.995}, 1000),  # capped at the top of the ladder
        ({40: 0.5, 64: 0.6}, 1000),  # none passes (yet): the top
    ],
)
def test_calibration_keeps_a_step_above_the_first_ef_search_to_pass(
    seen: dict[int, float], chosen: int
) -> None:
    assert pick_ef(seen) == chosen
