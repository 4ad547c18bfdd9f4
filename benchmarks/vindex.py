"""A vector index per large oracle: recall@10 against exact, p95 against an unfiltered HNSW
index of the same size, and the ceiling on partial indexes.

One throwaway server sized to the machine (as ``supercore db start`` sizes it). In one
``document_chunks`` table: ``tenants`` small tenants (the many-tenant background) and one
oracle per size in ``sizes``. Every sized oracle gets its own partial HNSW index through the
library's audited path (``vector_index.maintain.sync``, which also calibrates and stores its
``ef_search``), whatever its size, so the exact and the indexed path can be compared at each
size; production searches oracles under ``exact_below_chunks`` (20,000) exactly.

Per size, on ``queries`` held-out vectors of the same distribution, interleaved per query:
- the oracle's own index (the production statement ``retrieval._dense``, its stored
  ``ef_search``), in a tenant session under RLS;
- exact search (the production exact statement), in the same kind of session;
- the baseline: an unfiltered HNSW query over a table holding only that oracle's vectors
  (same m, ef_construction and ef_search), on a plain connection.
Recall@10 of the own index and of the unfiltered index is against exact.

The same for one real-embedding corpus when SciFact is present (read from
``../shared/datasets/scifact`` at run time, never copied): the sentences of its abstracts,
embedded with the default MiniLM embedder (cached in ``.supercore/bench-cache``), as oracles
of the first ``real_sizes`` sentences in the same table, searched with SciFact's own queries
(claims, a distribution other than the stored sentences').

The ceiling: planning time and locks held by the dense query (and an insert) as the number
of partial indexes on the table grows, on a second small server.
"""

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text

from benchmarks.common import (
    CACHE_DIR,
    Database,
    Tenant,
    add_document,
    cached_vectors,
    chunk_rows,
    embedding_like_vectors,
    latency_summary,
    load_average,
    make_tenant,
    progress,
    ratio,
    server_info,
    throwaway_database,
    unit_vectors,
    write_result,
)
from supercore_core import Settings, tenant_session
from supercore_core.embedding import minilm_embedder
from supercore_core.ingest.store import copy_chunks
from supercore_core.retrieval import _dense
from supercore_core.vector_index import ddl
from supercore_core.vector_index.maintain import sync
from supercore_core.vector_index.recall import K, recall_at

BASIS_DIMENSIONS = 48  # embedding-like vectors: low intrinsic dimension, as MiniLM's are
BATCH = 20_000
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")  # as the chunker splits sentences
MIN_WORDS = 3
_BASELINE_TABLE = "bench_unfiltered"
_BASELINE_QUERY = text(
    f"SELECT embedding <=> CAST(:q AS vector) FROM {_BASELINE_TABLE}"
    " ORDER BY embedding <=> CAST(:q AS vector) LIMIT :k"
)
_SET_EF = text("SELECT set_config('hnsw.ef_search', :ef, false)")
_SET_THRESHOLD = text(
    "UPDATE oracles SET retrieval_config = retrieval_config || '{\"exact_below_chunks\": 100}'"
    " WHERE id = :o"
)


def _load(db: Database, tenant: Tenant, vectors: np.ndarray, name: str) -> None:
    """COPY ``vectors`` as the tenant's chunks (short texts: only vectors are measured)."""
    for start in range(0, len(vectors), BATCH):
        part = vectors[start : start + BATCH]
        with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
            document_id = add_document(session, tenant, f"{name}-{start}", len(part))
            contents = [f"chunk {start + i}" for i in range(len(part))]
            copy_chunks(session, chunk_rows(tenant, document_id, contents, part))


def _background(db: Database, rng: np.random.Generator, basis: np.ndarray, tenants: int,
                rows: int) -> None:  # fmt: skip
    per_tenant = rows // tenants
    for n in range(tenants):
        tenant = make_tenant(db, f"small-{n:03d}")
        _load(db, tenant, embedding_like_vectors(rng, basis, per_tenant), "background")
    progress(f"vindex: background of {tenants} tenants x {per_tenant:,} chunks loaded")


_SHARED_INDEX = (  # revision 0005's shared graph, which revision 0017 dropped
    "CREATE INDEX idx_document_chunks_embedding_hnsw ON document_chunks"
    f" USING hnsw (embedding vector_cosine_ops) WITH ({ddl.HNSW_OPTIONS})"
)


def _copy_rate(db: Database, tenant: Tenant, vectors: np.ndarray, name: str) -> float:
    started = time.perf_counter()
    _load(db, tenant, vectors, name)
    return round(len(vectors) / (time.perf_counter() - started))


def _ingest_comparison(db: Database, rng: np.random.Generator, basis: np.ndarray,
                       rows: int) -> dict[str, Any]:  # fmt: skip
    """Rows/s of COPY into a small oracle: no shared index (now), with the shared HNSW
    index over the whole many-tenant table (before 0017, the baseline), then none again."""
    tenant = make_tenant(db, "small-ingest")
    found: dict[str, Any] = {}
    found["no_shared_index_rows_per_s"] = _copy_rate(
        db, tenant, embedding_like_vectors(rng, basis, rows), "ingest-a"
    )
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(text(_SHARED_INDEX))
    found["shared_index_build_s"] = round(time.perf_counter() - started, 1)
    progress(f"vindex: shared HNSW index built in {found['shared_index_build_s']} s")
    found["shared_index_rows_per_s"] = _copy_rate(
        db, tenant, embedding_like_vectors(rng, basis, rows), "ingest-b"
    )
    with db.engine.begin() as conn:
        conn.execute(text("DROP INDEX idx_document_chunks_embedding_hnsw"))
    found["no_shared_index_again_rows_per_s"] = _copy_rate(
        db, tenant, embedding_like_vectors(rng, basis, rows), "ingest-c"
    )
    found["rows"] = rows
    found["ratio_rows_per_s_no_shared_vs_shared"] = ratio(
        found["no_shared_index_rows_per_s"], found["shared_index_rows_per_s"]
    )
    progress(f"vindex: ingest {found}")
    return found


def _baseline_index(db: Database, oracle_id: uuid.UUID) -> float:
    """The unfiltered table: this oracle's vectors alone, with a plain HNSW index."""
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {_BASELINE_TABLE}"))
        conn.execute(text(
            f"CREATE TABLE {_BASELINE_TABLE} AS SELECT embedding FROM document_chunks"
            " WHERE oracle_id = :o"
        ), {"o": oracle_id})  # fmt: skip
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(text(
            f"CREATE INDEX ON {_BASELINE_TABLE} USING hnsw (embedding vector_cosine_ops)"
            f" WITH ({ddl.HNSW_OPTIONS})"
        ))  # fmt: skip
        conn.execute(text(f"ANALYZE {_BASELINE_TABLE}"))
    return time.perf_counter() - started


def _measure(db: Database, tenant: Tenant, ef: int, queries: np.ndarray) -> dict[str, Any]:
    """Interleaved per query: own index, exact, unfiltered baseline; recall vs exact."""
    took: dict[str, list[float]] = {"own_index": [], "exact": [], "unfiltered": []}
    recall: dict[str, list[float]] = {"own_index": [], "unfiltered": []}
    with db.engine.connect() as baseline:
        baseline.execute(_SET_EF, {"ef": str(max(ef, K))})
        for vector in queries:
            as_text = str(vector.tolist())
            found: dict[str, list[float]] = {}
            for path in ("own_index", "exact"):
                with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
                    started = time.perf_counter()
                    rows = _dense(session, tenant.oracle_id, vector, K, path == "exact", ef)
                    took[path].append(time.perf_counter() - started)
                found[path] = [1 - float(row[5]) for row in rows]
            started = time.perf_counter()
            distances = baseline.execute(_BASELINE_QUERY, {"q": as_text, "k": K}).scalars()
            found["unfiltered"] = [float(d) for d in distances]
            took["unfiltered"].append(time.perf_counter() - started)
            for path in recall:
                recall[path].append(recall_at(found["exact"], found[path]))
    latency = {path: latency_summary(seconds) for path, seconds in took.items()}
    return {
        "recall_at_10": {p: round(float(np.mean(r)), 4) for p, r in recall.items()},
        "min_recall_at_10_own_index": round(float(np.min(recall["own_index"])), 4),
        "latency": latency,
        "ratio_p95_own_index_vs_unfiltered": ratio(
            latency["own_index"]["p95_ms"], latency["unfiltered"]["p95_ms"]
        ),
        "ratio_p95_exact_vs_own_index": ratio(
            latency["exact"]["p95_ms"], latency["own_index"]["p95_ms"]
        ),
    }


def _one_oracle(db: Database, name: str, vectors: np.ndarray,
                queries: np.ndarray) -> dict[str, Any]:  # fmt: skip
    """Load ``vectors`` as one oracle with its own index; measure it on ``queries``."""
    tenant = make_tenant(db, name)
    _load(db, tenant, vectors, "large")
    with db.engine.begin() as conn:
        conn.execute(_SET_THRESHOLD, {"o": tenant.oracle_id})
        conn.execute(text("ANALYZE document_chunks"))
    progress(f"vindex: {name}: {len(vectors):,} chunks loaded; building its own index")
    started = time.perf_counter()
    [change] = sync(db.engine, reason="benchmark", oracle_id=tenant.oracle_id)
    build_s = time.perf_counter() - started
    with db.engine.connect() as conn:
        ef = int(conn.execute(
            text("SELECT retrieval_config->>'ef_search' FROM oracles WHERE id = :o"),
            {"o": tenant.oracle_id},
        ).scalar_one())  # fmt: skip
        index_bytes = ddl.oracle_indexes(conn)[tenant.oracle_id].size_bytes
    baseline_s = _baseline_index(db, tenant.oracle_id)
    progress(f"vindex: {name}: {change.action} ({change.detail}); {len(queries)} queries")
    found = {
        "chunks": len(vectors),
        "ef_search_calibrated": ef,
        "calibration": change.detail,
        "own_index_build_and_calibrate_s": round(build_s, 1),
        "own_index_mb": round(index_bytes / 1e6, 1),
        "unfiltered_index_build_s": round(baseline_s, 1),
        **_measure(db, tenant, ef, queries),
    }
    progress(f"vindex: {name}: {json.dumps(found)}")  # in the log should the run not finish
    return found


def scifact_texts(folder: Path, passages: int, queries: int) -> tuple[list[str], list[str]]:
    """The first ``passages`` sentences of SciFact's abstracts (corpus order, at least
    ``MIN_WORDS`` words) and its first ``queries`` queries."""
    sentences: list[str] = []
    with (folder / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            body = json.loads(line)["text"].strip()
            sentences += [s for s in _SENTENCE_END.split(body) if len(s.split()) >= MIN_WORDS]
            if len(sentences) >= passages:
                break
    with (folder / "queries.jsonl").open(encoding="utf-8") as lines:
        claims = [json.loads(line)["text"] for line in lines][:queries]
    return sentences[:passages], claims


def _real_vectors(folder: Path, passages: int, queries: int,
                  cache_dir: Path) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:  # fmt: skip
    """SciFact sentences and queries embedded with the default MiniLM (or from the cache)."""
    sentences, claims = scifact_texts(folder, passages, queries)
    embedder = minilm_embedder(Settings())
    started = time.perf_counter()
    vectors = cached_vectors(embedder, sentences, cache_dir)
    query_vectors = cached_vectors(embedder, claims, cache_dir)
    progress(f"vindex: {len(sentences):,} SciFact sentences and {len(claims)} queries embedded"
             f" or read from {cache_dir} in {time.perf_counter() - started:.0f} s")  # fmt: skip
    info = {"corpus": str(folder), "embedder": embedder.model_name, "unit": "sentence",
            "queries": len(claims)}  # fmt: skip
    return vectors, query_vectors, info


def _table_rows(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM document_chunks")).scalar_one())


def run_search(sizes: list[int], tenants: int, background: int, queries: int,
               ingest_rows: int = 5_000, seed: int = 1, real: Path | None = None,
               real_sizes: tuple[int, ...] = (), cache_dir: Path = CACHE_DIR,
               ) -> dict[str, Any]:  # fmt: skip
    """Recall and latency per oracle size inside a many-tenant table; synthetic vectors, then
    SciFact sentences when ``real`` holds SciFact."""
    rng = np.random.default_rng(seed)
    basis = unit_vectors(rng, BASIS_DIMENSIONS)
    found: dict[str, Any] = {}
    scifact = real if real is not None and (real / "corpus.jsonl").is_file() else None
    if scifact is not None and real_sizes:
        sentences, claims, found["real"] = _real_vectors(
            scifact, max(real_sizes), queries, cache_dir
        )
    else:
        progress(f"vindex: real-embedding corpus skipped: no SciFact at {real}")
        found["real"] = {"skipped": f"no SciFact corpus at {real}"}
    with throwaway_database() as db:
        _background(db, rng, basis, tenants, background)
        found["ingest"] = _ingest_comparison(db, rng, basis, ingest_rows)
        found["by_size"] = []
        for size in sizes:  # the oracle's vectors, then its queries (the seed's draw order)
            vectors = embedding_like_vectors(rng, basis, size)
            held_out = embedding_like_vectors(rng, basis, queries)
            found["by_size"].append(_one_oracle(db, f"large-{size}", vectors, held_out))
        if "skipped" not in found["real"]:
            found["real"]["by_size"] = [
                _one_oracle(db, f"scifact-{n}", sentences[:n], claims) for n in real_sizes
            ]
        found["table_rows"] = _table_rows(db)
        found["server"] = server_info(db)
    return found


_CEILING_QUERY = (
    "SELECT id FROM document_chunks WHERE oracle_id = {oracle}"
    " ORDER BY embedding <=> CAST(:q AS vector) LIMIT 10"
)
_INSERT = (
    "INSERT INTO document_chunks (document_id, oracle_id, solution_id, chunk_index, content,"
    " embedding) VALUES (:d, :o, :s, :i, 'x', CAST(:q AS vector))"
)
_LOCKS = text("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()")


def _planning_ms(db: Database, tenant: Tenant, statement: str, params: dict[str, Any],
                 repeats: int) -> tuple[float, int]:  # fmt: skip
    """Median planning time of ``statement`` (EXPLAIN's SUMMARY) and locks it leaves held."""
    times = []
    locks = 0
    for _ in range(repeats):
        with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
            plan = session.execute(text(f"EXPLAIN (SUMMARY) {statement}"), params).scalars()
            line = next(p for p in plan if p.startswith("Planning Time"))
            times.append(float(line.split()[2]))
            locks = int(session.execute(_LOCKS).scalar_one())
            session.rollback()
    return round(float(np.median(times)), 3), locks


def run_ceiling(steps: list[int], rows_per_oracle: int = 20, repeats: int = 30,
                copy_rows: int = 2_000, seed: int = 2) -> list[dict[str, Any]]:  # fmt: skip
    """Planning time and locks of one oracle's dense query and of a chunk insert, and COPY
    rows/s into an oracle without an index, as per-oracle partial indexes multiply."""
    rng = np.random.default_rng(seed)
    found = []
    with throwaway_database() as db:
        tenant = make_tenant(db, "ceiling")
        oracles: list[uuid.UUID] = []
        for n in range(max(steps)):
            with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
                oracle_id = session.execute(text(
                    "INSERT INTO oracles (solution_id, oracle_name) VALUES (:s, :n) RETURNING id"
                ), {"s": tenant.solution_id, "n": f"o{n}"}).scalar_one()  # fmt: skip
            oracles.append(oracle_id)
            one = Tenant(tenant.solution_id, oracle_id)
            _load(db, one, unit_vectors(rng, rows_per_oracle), "c")
        built = 0
        vector = str(unit_vectors(rng, 1)[0].tolist())
        with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
            document_id = add_document(session, tenant, "insert-target", 0)
        for step in [0, *steps]:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for oracle_id in oracles[built:step]:
                    conn.execute(text(ddl.create_statement(oracle_id).replace(" CONCURRENTLY", "")))
            built = max(built, step)
            query = _CEILING_QUERY.format(oracle=ddl.oracle_literal(oracles[0]))
            dense_ms, dense_locks = _planning_ms(db, tenant, query, {"q": vector}, repeats)
            params = {"d": document_id, "o": tenant.oracle_id, "s": tenant.solution_id,
                      "i": 0, "q": vector}  # fmt: skip
            insert_ms, insert_locks = _planning_ms(db, tenant, _INSERT, params, repeats)
            rate = _copy_rate(db, tenant, unit_vectors(rng, copy_rows), f"copy-{step}")
            found.append({"partial_indexes": step, "dense_planning_ms": dense_ms,
                          "dense_locks_held": dense_locks, "insert_planning_ms": insert_ms,
                          "insert_locks_held": insert_locks,
                          "copy_rows_per_s_other_oracle": rate})  # fmt: skip
            progress(f"vindex ceiling: {found[-1]}")
    return found


def run(sizes: list[int], tenants: int = 100, background: int = 300_000, queries: int = 100,
        ceiling_steps: list[int] | None = None, real: Path | None = None,
        real_sizes: tuple[int, ...] = (1_000, 10_000, 40_000)) -> dict[str, Any]:  # fmt: skip
    """Both parts; writes ``results/vindex.json``."""
    load_at_start = load_average()
    search = run_search(sizes, tenants, background, queries, real=real, real_sizes=real_sizes)
    ceiling = run_ceiling(ceiling_steps or [10, 100, 500])
    params = {"sizes": sizes, "tenants": tenants, "background_chunks": background,
              "queries": queries, "basis_dimensions": BASIS_DIMENSIONS,
              "real": str(real), "real_sizes": list(real_sizes),
              "load_average_1m_at_start": load_at_start}  # fmt: skip
    results = {**search, "ceiling": ceiling}
    path = write_result("vindex", {"params": params, "results": results})
    progress(f"vindex: wrote {path}")
    return results
