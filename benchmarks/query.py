"""Query latency and recall at scale: dense (exact and HNSW), lexical, RLS on vs off.

Synthetic chunks: 100 small tenants holding 1% of ``scale`` each (the exact path) and one
large tenant holding ``large_share`` of ``scale`` (the HNSW path), in one database. Vectors
lie near a random 32-dimensional subspace, like real sentence embeddings (uniformly random
384-d vectors would be the worst case for any approximate index); texts are 60 words drawn
uniformly from a 2,000-word vocabulary; queries are three such words.
"""

import re
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.common import (
    DIMENSIONS,
    Database,
    Tenant,
    add_document,
    chunk_rows,
    embedding_like_vectors,
    latency_summary,
    load_average,
    make_tenant,
    progress,
    ratio,
    server_info,
    texts,
    throwaway_database,
    timed,
    vocabulary,
    with_login,
    write_result,
)
from benchmarks.ts_rank import _LEXICAL, lexical_terms
from supercore_core import Settings, make_engine, make_sessions, tenant_session
from supercore_core.ingest.store import copy_chunks, driver_connection
from supercore_core.retrieval import _DENSE_EXACT, _DENSE_HNSW, RetrievalConfig, search
from supercore_core.vector_index.ddl import oracle_literal
from supercore_core.vector_index.maintain import sync

SMALL_TENANTS = 100
CHUNKS_PER_DOCUMENT = 1000
SUBSPACE_DIMENSIONS = 32
K = 10
WARMUP = 20
BYPASS_LOGIN = "bench_bypass"
EXACT_ALWAYS = 10**12
EF_SEARCH_SWEEP = (40, 100, 200, 400)
# The library's own SQL, so RLS on and off run exactly what search() runs.
LIBRARY_SQL = {"dense_exact": _DENSE_EXACT, "dense_hnsw": _DENSE_HNSW, "lexical": _LEXICAL}
_OWN_INDEX_PREFIX = _DENSE_HNSW.split("{oracle}")[0]


def _library_sql(name: str, tenant: Tenant) -> str:
    """The statement search() runs; the own-index one names the oracle as a literal."""
    return LIBRARY_SQL[name].replace("{oracle}", oracle_literal(tenant.oracle_id))


@dataclass(frozen=True)
class Query:
    """One query: its words (lexical) and its vector (dense, via the lookup embedder)."""

    words: str
    vector: np.ndarray


class LookupEmbedder:
    """A fake embedder that returns the vector prepared for each query text."""

    model_name = "synthetic"
    dimensions = DIMENSIONS

    def __init__(self, queries: Sequence[Query]) -> None:
        self.vectors = {q.words: [float(x) for x in q.vector] for q in queries}

    def embed(self, texts_: Sequence[str]) -> list[list[float]]:
        """The prepared vector of each text."""
        return [self.vectors[t] for t in texts_]

    def count_tokens(self, text_: str) -> int:
        """Words, as a stand-in."""
        return len(text_.split())


# --- loading -------------------------------------------------------------------------------


def _load_tenant(
    db: Database, tenant: Tenant, chunks: int, rng: np.random.Generator, basis: np.ndarray
) -> None:
    for start in range(0, chunks, CHUNKS_PER_DOCUMENT):
        count = min(CHUNKS_PER_DOCUMENT, chunks - start)
        contents = texts(rng, count)
        vectors = embedding_like_vectors(rng, basis, count)
        with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
            document_id = add_document(session, tenant, f"doc-{start}.txt", count)
            copy_chunks(session, chunk_rows(tenant, document_id, contents, vectors))


def _own_indexes(db: Database) -> float:
    """Per-oracle indexes through the library (the large tenant is past exact_below_chunks:
    it gets its own graph, built and calibrated); then VACUUM ANALYZE."""
    seconds, _ = timed(lambda: sync(db.engine, reason="benchmark"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE documents, document_chunks"))
    return float(seconds)


def _load(
    db: Database, scale: int, large_share: float, rng: np.random.Generator, basis: np.ndarray
) -> tuple[list[Tenant], Tenant, dict[str, float]]:
    small = [make_tenant(db, f"small-{n:03d}") for n in range(SMALL_TENANTS)]
    large = make_tenant(db, "large")
    small_chunks, large_chunks = scale // 100, int(scale * large_share)
    progress(f"query: loading {SMALL_TENANTS} x {small_chunks} + {large_chunks} chunks")
    start = time.perf_counter()
    for tenant in small:
        _load_tenant(db, tenant, small_chunks, rng, basis)
    _load_tenant(db, large, large_chunks, rng, basis)
    load_s = time.perf_counter() - start
    rows = SMALL_TENANTS * small_chunks + large_chunks
    progress(f"query: loaded {rows} chunks in {load_s:.0f} s; building per-oracle indexes")
    build_s = _own_indexes(db)
    progress(f"query: the large oracle's own index built and calibrated in {build_s:.0f} s")
    timings = {"rows": rows, "load_s": round(load_s, 1), "hnsw_build_s": round(build_s, 1)}
    return small, large, timings


def _queries(rng: np.random.Generator, basis: np.ndarray, count: int) -> list[Query]:
    vocab = vocabulary()
    words: dict[str, None] = {}
    while len(words) < count:
        picks = rng.choice(len(vocab), size=3, replace=False)
        words[" ".join(vocab[i] for i in picks)] = None
    vectors = embedding_like_vectors(rng, basis, count)
    return [Query(w, v) for w, v in zip(words, vectors, strict=True)]


# --- search() latency and recall -------------------------------------------------------------


def _search_case(
    db: Database, tenants: Sequence[Tenant], queries: Sequence[Query], config: RetrievalConfig
) -> tuple[dict[str, Any], list[list[uuid.UUID]]]:
    """search() latency over the queries (tenants in turn); the hit ids of each query."""
    embedder = LookupEmbedder(queries)
    seconds, hit_ids, exact = [], [], 0
    warmup = len(queries[:WARMUP])
    for n, query in enumerate([*queries[:warmup], *queries]):
        tenant = tenants[n % len(tenants)]
        with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
            start = time.perf_counter()
            found = search(
                session, oracle_id=tenant.oracle_id, query=query.words, embedder=embedder,
                config=config,
            )  # fmt: skip
            took = time.perf_counter() - start
        if n >= warmup:
            seconds.append(took)
            hit_ids.append([h.chunk_id for h in found.hits])
            exact += found.exact
    summary = latency_summary(seconds)
    summary["path"] = "exact" if exact == len(queries) else f"hnsw ({exact} exact)"
    summary["mean_hits"] = round(float(np.mean([len(h) for h in hit_ids])), 1)
    return summary, hit_ids


def _recall(approximate: Sequence[list[uuid.UUID]], exact: Sequence[list[uuid.UUID]]) -> float:
    overlaps = [len(set(a) & set(e)) / len(e) for a, e in zip(approximate, exact, strict=True) if e]
    return round(float(np.mean(overlaps)), 4)


def _search_cases(
    db: Database, small: list[Tenant], large: Tenant, queries: list[Query]
) -> dict[str, Any]:
    dense = RetrievalConfig(mode="dense", k=K)
    lexical = RetrievalConfig(mode="lexical", k=K)
    forced_exact = RetrievalConfig(mode="dense", k=K, exact_below_chunks=EXACT_ALWAYS)
    cases: dict[str, Any] = {}
    progress("query: search() dense, small tenants (exact path)")
    cases["dense_small_tenant"], _ = _search_case(db, small, queries, dense)
    progress("query: search() dense, large tenant (HNSW path)")
    cases["dense_large_tenant_hnsw"], approx = _search_case(db, [large], queries, dense)
    progress("query: search() dense, large tenant forced exact (baseline and ground truth)")
    cases["dense_large_tenant_exact"], truth = _search_case(db, [large], queries, forced_exact)
    progress("query: search() lexical, small tenants and large tenant")
    cases["lexical_small_tenant"], _ = _search_case(db, small, queries, lexical)
    cases["lexical_large_tenant"], _ = _search_case(db, [large], queries, lexical)
    cases["recall_at_10_hnsw_vs_exact_large_tenant"] = _recall(approx, truth)
    cases["hnsw_ef_search_sweep_large_tenant"] = _ef_sweep(db, large, queries, truth)
    cases["ratio_p50_exact_vs_hnsw_large_tenant"] = ratio(
        cases["dense_large_tenant_exact"]["p50_ms"], cases["dense_large_tenant_hnsw"]["p50_ms"]
    )
    return cases


def _ef_sweep(
    db: Database, large: Tenant, queries: list[Query], truth: list[list[uuid.UUID]]
) -> list[dict[str, Any]]:
    """Recall@10 against exact search and latency of the HNSW path per ``ef_search``."""
    sweep = []
    for ef in EF_SEARCH_SWEEP:
        progress(f"query: search() dense, large tenant, HNSW ef_search={ef}")
        config = RetrievalConfig(mode="dense", k=K, ef_search=ef)
        summary, found = _search_case(db, [large], queries, config)
        sweep.append({"ef_search": ef, "recall_at_10": _recall(found, truth)} | summary)
    return sweep


# --- RLS on vs BYPASSRLS ---------------------------------------------------------------------


@contextmanager
def _bypass_sessions(db: Database) -> Iterator[sessionmaker[Session]]:
    """Sessions of a BYPASSRLS login with supercore_app's grants (no SET ROLE)."""
    with db.engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {BYPASS_LOGIN} LOGIN BYPASSRLS"))
        conn.execute(text(f"GRANT supercore_app TO {BYPASS_LOGIN}"))
    url = with_login(db.url, BYPASS_LOGIN)
    engine = make_engine(Settings(database_url=url), url=url)
    try:
        yield make_sessions(engine)
    finally:
        engine.dispose()


@contextmanager
def _transaction(
    sessions: sessionmaker[Session], tenant: Tenant | None, sql: str
) -> Iterator[Session]:
    """A tenant session (RLS on) or, with no tenant, a plain one (the bypass login)."""
    if tenant is None:
        with sessions() as session, session.begin():
            yield _prepared(session, sql)
    else:
        with tenant_session(sessions, solution_id=tenant.solution_id) as session:
            yield _prepared(session, sql)


def _prepared(session: Session, sql: str) -> Session:
    driver_connection(session)  # registers pgvector's types on the connection
    if sql.startswith(_OWN_INDEX_PREFIX):  # what retrieval._dense sets for the own index
        session.execute(text("SET LOCAL hnsw.ef_search = 100"))
        session.execute(text("SET LOCAL hnsw.iterative_scan = off"))
    return session


def _params(session: Session, sql: str, tenant: Tenant, query: Query) -> dict[str, Any]:
    """The statement's parameters; the lexical one takes the tsquery search() builds first."""
    q = lexical_terms(session, query.words) if sql == _LEXICAL else query.vector
    return {"o": tenant.oracle_id, "q": q, "n": 100}


def _sql_latencies(
    sessions: sessionmaker[Session],
    tenants: Sequence[Tenant],
    queries: Sequence[Query],
    sql: str,
    rls: bool,
) -> dict[str, Any]:
    """Latency of the statement alone (not the transaction set-up) over the queries."""
    seconds, rows = [], []
    warmup = len(queries[:WARMUP])
    for n, query in enumerate([*queries[:warmup], *queries]):
        tenant = tenants[n % len(tenants)]
        with _transaction(sessions, tenant if rls else None, sql) as session:
            params = _params(session, sql, tenant, query)  # not timed: the statement alone is
            start = time.perf_counter()
            found = session.execute(text(sql), params).all()
            took = time.perf_counter() - start
        if n >= warmup:
            seconds.append(took)
            rows.append(len(found))
    return {**latency_summary(seconds), "mean_rows": round(float(np.mean(rows)), 1)}


def _rls_cases(
    db: Database,
    bypass: sessionmaker[Session],
    small: list[Tenant],
    large: Tenant,
    queries: list[Query],
) -> dict[str, Any]:
    cases: dict[str, Any] = {}
    plan = (
        ("dense_exact_small_tenant", "dense_exact", small),
        ("dense_hnsw_large_tenant", "dense_hnsw", [large]),
        ("lexical_small_tenant", "lexical", small),
        ("lexical_large_tenant", "lexical", [large]),
    )
    for name, sql_name, tenants in plan:
        progress(f"query: RLS on vs BYPASSRLS, {name}")
        sql = _library_sql(sql_name, tenants[0])
        on = _sql_latencies(db.sessions, tenants, queries, sql, rls=True)
        off = _sql_latencies(bypass, tenants, queries, sql, rls=False)
        cases[name] = {
            "rls_on": on,
            "bypassrls": off,
            "ratio_p50_rls_on_vs_off": ratio(on["p50_ms"], off["p50_ms"]),
        }
    return cases


# --- plans -----------------------------------------------------------------------------------

_VECTOR_LITERAL = re.compile(r"'\[[-0-9.e,]+\]'::vector")
_INDEX_USED = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan) (?:using |on )?(\w+)")


def _explain(
    sessions: sessionmaker[Session], tenant: Tenant, query: Query, sql: str, rls: bool
) -> dict[str, Any]:
    with _transaction(sessions, tenant if rls else None, sql) as session:
        lines = list(
            session.execute(text(f"EXPLAIN {sql}"), _params(session, sql, tenant, query)).scalars()
        )
    lines = [_VECTOR_LITERAL.sub("'[...]'::vector", line) for line in lines]
    return {"indexes_used": sorted(set(_INDEX_USED.findall("\n".join(lines)))), "plan": lines}


def _plans(
    db: Database, bypass: sessionmaker[Session], small: list[Tenant], large: Tenant, query: Query
) -> dict[str, Any]:
    plans: dict[str, Any] = {}
    for name, sql_name, tenant in (
        ("dense_exact_small_tenant", "dense_exact", small[0]),
        ("dense_hnsw_large_tenant", "dense_hnsw", large),
        ("lexical_large_tenant", "lexical", large),
        ("lexical_small_tenant", "lexical", small[0]),
    ):
        sql = _library_sql(sql_name, tenant)
        plans[name] = {
            "rls_on": _explain(db.sessions, tenant, query, sql, rls=True),
            "bypassrls": _explain(bypass, tenant, query, sql, rls=False),
        }
    return plans


def _overhead(results: dict[str, Any]) -> dict[str, float]:
    """p50 of a whole search() call over p50 of its main statement alone (RLS on)."""
    pairs = {
        "dense_small_tenant": "dense_exact_small_tenant",
        "dense_large_tenant_hnsw": "dense_hnsw_large_tenant",
        "lexical_small_tenant": "lexical_small_tenant",
        "lexical_large_tenant": "lexical_large_tenant",
    }
    search_, statement = results["search"], results["rls_vs_bypassrls"]
    return {
        f"ratio_p50_{name}": ratio(search_[name]["p50_ms"], statement[sql]["rls_on"]["p50_ms"])
        for name, sql in pairs.items()
    }


def _bypass_sanity(bypass: sessionmaker[Session]) -> dict[str, Any]:
    """Proof the baseline really skips RLS: row security inactive, every tenant visible."""
    with bypass() as session:
        active, tenants = session.execute(
            text(
                "SELECT row_security_active('document_chunks'),"
                " (SELECT count(DISTINCT solution_id) FROM documents)"
            )
        ).one()
    return {"row_security_active": bool(active), "tenants_visible": int(tenants)}


def run(
    scale: int = 100_000, large_share: float = 0.2, queries: int = 200, seed: int = 2
) -> dict[str, Any]:
    """Load, index, then measure search() latency, recall and the cost of RLS."""
    load_at_start = load_average()
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((SUBSPACE_DIMENSIONS, DIMENSIONS), dtype=np.float32)
    with throwaway_database() as db:
        small, large, load = _load(db, scale, large_share, rng, basis)
        query_set = _queries(rng, basis, queries)
        results: dict[str, Any] = {"load": load}
        results["search"] = _search_cases(db, small, large, query_set)
        with _bypass_sessions(db) as bypass:
            results["rls_vs_bypassrls"] = _rls_cases(db, bypass, small, large, query_set)
            results["bypassrls_sanity"] = _bypass_sanity(bypass)
            results["plans"] = _plans(db, bypass, small, large, query_set[0])
        results["search_vs_statement"] = _overhead(results)
        server = server_info(db)
    params = {
        "scale": scale,
        "small_tenants": SMALL_TENANTS,
        "chunks_per_small_tenant": scale // 100,
        "chunks_large_tenant": int(scale * large_share),
        "queries": queries,
        "warmup_queries": WARMUP,
        "k": K,
        "retrieval_config": asdict(RetrievalConfig()),
        "vectors": f"unit vectors near a random {SUBSPACE_DIMENSIONS}-d subspace (noise 0.1)",
        "seed": seed,
        "load_average_1m_at_start": load_at_start,
    }
    path = write_result("query", {"params": params, "server": server, "results": results})
    progress(f"query: wrote {path}")
    return results
