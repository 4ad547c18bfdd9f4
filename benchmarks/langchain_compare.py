"""SuperCore ``search()`` against langchain-postgres ``PGVectorStore``: same server, same vectors.

Runs in the benchmark environment (``make bench-langchain``: ``.venv-bench`` with
langchain-postgres 0.0.19, which is not a project dependency). One throwaway embedded server
holds both: SciFact abstracts (every judged document, then the first others in corpus order
as distractors) chunked by the library's parser and chunker, embedded once with the default
MiniLM embedder and loaded into a SuperCore oracle with ``copy_chunks``; and the same chunks,
ids and vectors (read back from SuperCore) added to a ``PGVectorStore`` table with a tsvector
column and its GIN index. Both dense searches are exact at this size (SuperCore's B-tree
pre-filter path; langchain's table has no vector index). Query vectors are computed once and
handed to both through lookup embedders, so no figure includes embedding time.

Interleaved query by query (the order of the four cases rotates), each judged query runs on
each case twice: k = 10 (the latency headline) and k = 100 (the run that is scored: chunks
collapsed to documents, best chunk first, nDCG@10 and R@100 with ir_measures). A SuperCore
call is timed as an application makes it: ``tenant_session`` (transaction, role, tenant
context) around ``search()``; a langchain call is its synchronous API.

Also: statements, libpq round trips and time per statement of one SuperCore dense and one
hybrid ``search()``, so the round-trip reduction of issue 13 knows what to cut.
"""

import argparse
import importlib.metadata
import os
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ir_measures
import numpy as np
from ir_measures import R, nDCG
from langchain_core.embeddings import Embeddings
from sqlalchemy import Engine, event, text

from benchmarks.common import (
    SCIFACT,
    Database,
    Tenant,
    add_document,
    cached_vectors,
    latency_summary,
    load_average,
    make_tenant,
    progress,
    ratio,
    server_info,
    throwaway_database,
    timed,
    write_result,
)
from supercore_core import Settings, make_engine, make_sessions, tenant_session
from supercore_core.embedding import Embedder, minilm_embedder
from supercore_core.evaluation.beir import BeirDataset, load_dataset
from supercore_core.ingest.chunking import Chunk, ChunkingConfig, chunk_blocks
from supercore_core.ingest.parsers import parse_bytes
from supercore_core.ingest.sources import SourceFile
from supercore_core.ingest.store import ChunkRow, copy_chunks, driver_connection
from supercore_core.retrieval import Mode, search

LANGCHAIN_TABLE = "langchain_chunks"
TSV_COLUMN = "content_tsv"
K_LATENCY = 10
K_QUALITY = 100
CANDIDATES = 100  # per retriever in hybrid, both systems (SuperCore's default)
RRF_K = 60  # both systems
WARMUP = 20
BREAKDOWN_CALLS = 30
MEASURES = (nDCG @ 10, R @ 100)
MODES: tuple[Mode, ...] = ("dense", "hybrid")
SYSTEMS = ("supercore", "langchain")
TARGET = (
    "SuperCore dense and hybrid p50 (k=10) at most half of langchain-postgres's, "
    "at equal or better nDCG@10 and R@100"
)

# (query text, k) -> corpus ids of the hits, best first (one per chunk: may repeat).
SearchCall = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class StoredChunk:
    """One stored chunk: SuperCore's id, its corpus document, text and vector."""

    chunk_id: uuid.UUID
    doc_id: str
    content: str
    vector: np.ndarray


# --- corpus and query vectors ----------------------------------------------------------------


def select_sources(dataset: BeirDataset, documents: int) -> list[SourceFile]:
    """Every judged document, then the first others in corpus order, ``documents`` in all."""
    judged = {doc for docs in dataset.qrels.values() for doc in docs}
    chosen: list[SourceFile] = []
    distractors = max(documents - len(judged), 0)
    for source in dataset.corpus():
        doc_id = source.filename.removesuffix(".txt")
        if doc_id in judged:
            chosen.append(source)
        elif distractors > 0:
            chosen.append(source)
            distractors -= 1
    return chosen


class LookupEmbedder:
    """SuperCore's side: the query vectors computed beforehand (the Embedder protocol)."""

    def __init__(self, base: Embedder, vectors: dict[str, list[float]]) -> None:
        self.model_name = base.model_name
        self.dimensions = base.dimensions
        self._base = base
        self._vectors = vectors

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """The prepared vector of each query text."""
        return [self._vectors[t] for t in texts]

    def count_tokens(self, text_: str) -> int:
        """The model's token count."""
        return self._base.count_tokens(text_)


class LookupEmbeddings(Embeddings):
    """langchain's side: the same query vectors (async without an executor hop)."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self._vectors = vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Not used: the chunks are added with their SuperCore vectors."""
        raise NotImplementedError("chunks are added with add_embeddings")

    def embed_query(self, text: str) -> list[float]:
        """The prepared vector of the query text."""
        return self._vectors[text]

    async def aembed_query(self, text: str) -> list[float]:
        """The prepared vector, without langchain's default thread-pool round trip."""
        return self._vectors[text]


def chunk_sources(sources: list[SourceFile], embedder: Embedder) -> list[tuple[str, list[Chunk]]]:
    """Each source's chunks as ingestion makes them (the library's parser and chunker)."""
    chunked = []
    for source in sources:
        blocks = parse_bytes(source.data, source.filename).blocks
        chunked.append((source.filename, chunk_blocks(blocks, embedder, ChunkingConfig())))
    return chunked


def load_supercore(db: Database, sources: list[SourceFile], embedder: Embedder) -> Tenant:
    """Chunk, embed (one batched call) and load ``sources`` into a fresh tenant's oracle:
    a completed document per source, its chunks by ``copy_chunks`` as the pipeline stores
    them (the pipeline itself commits a transaction per document: minutes for this corpus)."""
    tenant = make_tenant(db, "scifact")
    chunked = chunk_sources(sources, embedder)
    vectors = iter(
        cached_vectors(embedder, [c.text for _, chunks in chunked for c in chunks]).tolist()
    )
    with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
        for filename, chunks in chunked:
            document_id = add_document(session, tenant, filename, len(chunks))
            rows = [
                ChunkRow(document_id, tenant.oracle_id, tenant.solution_id, c.index, c.text,
                         next(vectors), embedder.model_name, c.token_count, c.metadata)
                for c in chunks
            ]  # fmt: skip
            copy_chunks(session, rows)
    return tenant


def stored_chunks(db: Database, tenant: Tenant) -> list[StoredChunk]:
    """The oracle's chunks as SuperCore stored them (the vectors langchain gets)."""
    with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
        driver_connection(session)
        rows = session.execute(
            text(
                "SELECT c.id, d.filename, c.content, c.embedding FROM document_chunks c"
                " JOIN documents d ON d.id = c.document_id WHERE c.oracle_id = :o"
                " ORDER BY d.filename, c.chunk_index"
            ),
            {"o": tenant.oracle_id},
        ).all()
    return [StoredChunk(cid, name.removesuffix(".txt"), body, vec) for cid, name, body, vec in rows]


# --- langchain-postgres ---------------------------------------------------------------------


def _hybrid_config(tsv_column: str = TSV_COLUMN) -> Any:
    """A fresh RRF config per call: ``similarity_search`` writes the first query it sees
    into ``fts_query`` of the config it uses, and a shared config would keep it."""
    from langchain_postgres.v2.hybrid_search_config import (
        HybridSearchConfig,
        reciprocal_rank_fusion,
    )

    return HybridSearchConfig(
        tsv_column=tsv_column,
        fusion_function=reciprocal_rank_fusion,
        fusion_function_parameters={"rrf_k": RRF_K},
        primary_top_k=CANDIDATES,
        secondary_top_k=CANDIDATES,
    )


def asyncpg_url(url: str) -> str:
    """The libpq URL of the embedded server in SQLAlchemy's asyncpg form."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a libpq URL: {url}")
    return f"postgresql+asyncpg://{rest}"


@contextmanager
def langchain_stores(
    db: Database, chunks: list[StoredChunk], vectors: dict[str, list[float]]
) -> Iterator[tuple[Any, Any]]:
    """A PGVectorStore table holding ``chunks`` (same ids and vectors); a dense store and a
    hybrid (RRF) store over it. The table is owned by the server's superuser, no RLS."""
    from langchain_postgres import PGEngine, PGVectorStore

    engine = PGEngine.from_connection_string(asyncpg_url(db.url))
    try:
        engine.init_vectorstore_table(
            LANGCHAIN_TABLE, chunks[0].vector.shape[0], hybrid_search_config=_hybrid_config()
        )
        embeddings = LookupEmbeddings(vectors)
        hybrid = PGVectorStore.create_sync(
            engine, embeddings, LANGCHAIN_TABLE, hybrid_search_config=_hybrid_config()
        )
        hybrid.add_embeddings(
            [c.content for c in chunks],
            [[float(x) for x in c.vector] for c in chunks],
            metadatas=[{"doc": c.doc_id} for c in chunks],
            ids=[str(c.chunk_id) for c in chunks],
        )
        hybrid.apply_hybrid_search_index()  # GIN on the tsvector column
        dense = PGVectorStore.create_sync(engine, embeddings, LANGCHAIN_TABLE)
        yield dense, hybrid
    finally:
        engine._run_as_sync(engine.close())


def _langchain_calls(dense: Any, hybrid: Any, vectors: dict[str, list[float]]) -> dict[str, Any]:
    def dense_call(query: str, k: int) -> list[str]:
        found = dense.similarity_search_with_score_by_vector(vectors[query], k=k)
        return [d.metadata["doc"] for d, _ in found]

    def hybrid_call(query: str, k: int) -> list[str]:
        found = hybrid.similarity_search_with_score(
            query, k=k, hybrid_search_config=_hybrid_config()
        )
        return [d.metadata["doc"] for d, _ in found]

    return {"langchain_dense": dense_call, "langchain_hybrid": hybrid_call}


def _supercore_calls(db: Database, tenant: Tenant, embedder: Embedder) -> dict[str, SearchCall]:
    def call_for(mode: Mode) -> SearchCall:
        def call(query: str, k: int) -> list[str]:
            with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
                found = search(
                    session, oracle_id=tenant.oracle_id, query=query, embedder=embedder,
                    mode=mode, k=k, max_question_chars=None,
                )  # fmt: skip
            return [h.filename.removesuffix(".txt") for h in found.hits]

        return call

    return {f"supercore_{mode}": call_for(mode) for mode in MODES}


# --- measurement -----------------------------------------------------------------------------


def document_run(doc_ids: Sequence[str]) -> dict[str, float]:
    """Chunk hits (best first) to a document ranking: each document at its best chunk."""
    ranked = list(dict.fromkeys(doc_ids))
    return {doc: float(len(ranked) - i) for i, doc in enumerate(ranked)}


def measure(
    calls: dict[str, SearchCall], queries: dict[str, str]
) -> tuple[dict[str, dict[str, list[float]]], dict[str, dict[str, dict[str, float]]]]:
    """Seconds per case and k, and each case's scored run; cases interleaved per query."""
    names = list(calls)
    seconds: dict[str, dict[str, list[float]]] = {n: defaultdict(list) for n in names}
    runs: dict[str, dict[str, dict[str, float]]] = {n: {} for n in names}
    items = list(queries.items())
    for n, (qid, query) in enumerate([*items[:WARMUP], *items]):
        if n % 50 == 0:
            progress(f"langchain: query {n}/{len(items) + WARMUP} (the first {WARMUP} warm up)")
        shift = n % len(names)
        for name in names[shift:] + names[:shift]:
            for k in (K_LATENCY, K_QUALITY):
                took, docs = timed(lambda c=calls[name], q=query, k=k: c(q, k))
                if n >= WARMUP:
                    seconds[name][f"k{k}"].append(took)
                    if k == K_QUALITY:
                        runs[name][qid] = document_run(docs)
    return seconds, runs


def quality(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, Any]:
    """nDCG@10 and R@100 over the judged queries."""
    scores = ir_measures.calc_aggregate(MEASURES, qrels, run)
    return {str(m): round(float(v), 4) for m, v in scores.items()}


def verdict(latency: dict[str, Any], scores: dict[str, Any]) -> dict[str, Any]:
    """The issue 13 target per mode: p50 ratio <= 0.5 and no quality loss."""
    out: dict[str, Any] = {"target": TARGET}
    for mode in MODES:
        ours, theirs = f"supercore_{mode}", f"langchain_{mode}"
        p50 = ratio(latency[ours]["k10"]["p50_ms"], latency[theirs]["k10"]["p50_ms"])
        not_worse = all(scores[ours][m] >= scores[theirs][m] for m in scores[ours])
        out[mode] = {
            "ratio_p50_k10_supercore_vs_langchain": p50,
            "quality_equal_or_better": not_worse,
            "met": bool(p50 <= 0.5 and not_worse),
        }
    return out


def langchain_lexical_coverage(db: Database, queries: dict[str, str]) -> dict[str, float]:
    """How often langchain's lexical half (plainto_tsquery: every term must match) finds
    anything: the share of queries with a match and the mean number of matching chunks."""
    sql = text(
        f"SELECT count(*) FROM {LANGCHAIN_TABLE}"
        f" WHERE {TSV_COLUMN} @@ plainto_tsquery('pg_catalog.english', :q)"
    )
    with db.engine.connect() as conn:
        counts = [int(conn.execute(sql, {"q": q}).scalar_one()) for q in queries.values()]
    return {
        "share_of_queries_with_a_match": round(float(np.mean([c > 0 for c in counts])), 4),
        "mean_matching_chunks": round(float(np.mean(counts)), 2),
    }


# --- per-call breakdown of SuperCore search() ------------------------------------------------


def _label(statement: str) -> str:
    words = " ".join(statement.split())
    return words if len(words) <= 90 else words[:87] + "..."


@contextmanager
def _traced(engine: Engine, trace_path: Path) -> Iterator[dict[str, list[float]]]:
    """Statement times (before/after_cursor_execute) and a libpq trace of every message.

    The trace starts at the first checkout, after that call's pool pre-ping, and stays on
    through check-ins (so later pings and every reset are in it); it stops after one more
    checkout, whose pre-ping stands in for the first call's.
    """
    timings: dict[str, list[float]] = defaultdict(list)
    started: list[float] = []
    traced: list[Any] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        timings[_label(statement)].append(time.perf_counter() - started.pop())

    with trace_path.open("w") as trace:

        def on_checkout(dbapi_connection: Any, *_: Any) -> None:
            if not any(c is dbapi_connection for c in traced):
                dbapi_connection.pgconn.trace(trace.fileno())
                traced.append(dbapi_connection)

        listeners = (
            ("before_cursor_execute", before),
            ("after_cursor_execute", after),
            ("checkout", on_checkout),
        )
        for name, fn in listeners:
            event.listen(engine, name, fn)
        try:
            yield timings
        finally:
            for name, fn in listeners:
                event.remove(engine, name, fn)
            last = engine.raw_connection()
            for connection in traced:
                connection.pgconn.untrace()
            last.close()
    if len(traced) != 1:  # calls in turn reuse one pooled connection
        raise RuntimeError(f"expected one traced connection, got {len(traced)}")


def round_trips(trace: str) -> dict[str, Any]:
    """Client messages that wait for the server, from a libpq trace: each simple-protocol
    ``Query`` (counted by its text) and each extended-protocol ``Sync``."""
    queries: dict[str, int] = defaultdict(int)
    syncs = 0
    for line in trace.splitlines():
        fields = line.split("\t")
        if "F" not in fields[:2]:
            continue
        rest = fields[fields.index("F") + 2 :]
        if rest and rest[0] == "Query":
            queries[_label(" ".join(rest[1:]).strip().strip('"'))] += 1
        elif rest and rest[0] == "Sync":
            syncs += 1
    return {"simple_queries": dict(queries), "syncs": syncs}


def breakdown(db: Database, tenant: Tenant, embedder: Embedder, queries: list[str]) -> Any:
    """Statements, round trips and time per statement of SuperCore search(), per mode."""
    engine = make_engine(Settings(database_url=db.url), url=db.url)
    sessions = make_sessions(engine)
    out: dict[str, Any] = {}
    try:
        for mode in MODES:
            for query in queries[:5]:  # warm the connection (type look-ups) and caches
                with tenant_session(sessions, solution_id=tenant.solution_id) as session:
                    search(session, oracle_id=tenant.oracle_id, query=query, embedder=embedder,
                           mode=mode, k=K_LATENCY, max_question_chars=None)  # fmt: skip
            with tempfile.TemporaryDirectory() as tmp:
                trace_path = Path(tmp) / "libpq.trace"
                with _traced(engine, trace_path) as timings:
                    totals = []
                    for query in queries[:BREAKDOWN_CALLS]:
                        start = time.perf_counter()
                        with tenant_session(sessions, solution_id=tenant.solution_id) as s:
                            search(s, oracle_id=tenant.oracle_id, query=query, embedder=embedder,
                                   mode=mode, k=K_LATENCY, max_question_chars=None)  # fmt: skip
                        totals.append(time.perf_counter() - start)
                trips = round_trips(trace_path.read_text())
            out[mode] = _summarise(timings, trips, totals)
    finally:
        engine.dispose()
    return out


def _summarise(
    timings: dict[str, list[float]], trips: dict[str, Any], totals: list[float]
) -> dict[str, Any]:
    calls = len(totals)
    statements = [
        {
            "statement": label,
            "per_call": round(len(times) / calls, 2),
            "mean_ms": round(1000 * float(np.mean(times)), 3),
        }
        for label, times in timings.items()
    ]
    in_statements = sum(sum(t) for t in timings.values()) / calls
    mean_total = float(np.mean(totals))
    return {
        "calls": calls,
        "mean_ms_per_call": round(1000 * mean_total, 3),
        "statements_per_call": round(sum(len(t) for t in timings.values()) / calls, 2),
        "libpq_round_trips_per_call": round(
            (sum(trips["simple_queries"].values()) + trips["syncs"]) / calls, 2
        ),
        "libpq_syncs_per_call": round(trips["syncs"] / calls, 2),
        "libpq_simple_queries_per_call": {
            q: round(n / calls, 2) for q, n in trips["simple_queries"].items()
        },
        "ms_in_statements_per_call": round(1000 * in_statements, 3),
        "ms_outside_statements_per_call": round(1000 * (mean_total - in_statements), 3),
        "statements": statements,
    }


# --- run -------------------------------------------------------------------------------------


def _query_vectors(embedder: Embedder, queries: dict[str, str]) -> dict[str, list[float]]:
    texts = list(dict.fromkeys(queries.values()))
    return dict(zip(texts, cached_vectors(embedder, texts).tolist(), strict=True))


def run(documents: int = 2000, dataset_path: Path = SCIFACT) -> dict[str, Any]:
    """Load both stores on one throwaway server, measure, write the result file."""
    load_at_start = load_average()
    dataset = load_dataset(dataset_path)
    embedder = minilm_embedder(Settings())
    sources = select_sources(dataset, documents)
    progress(f"langchain: {len(dataset.queries)} queries; embedding them")
    vectors = _query_vectors(embedder, dataset.queries)
    with throwaway_database() as db:
        progress(f"langchain: ingesting {len(sources)} SciFact documents into SuperCore")
        load_s, tenant = timed(lambda: load_supercore(db, sources, embedder))
        chunks = stored_chunks(db, tenant)
        progress(f"langchain: {len(chunks)} chunks in {load_s:.0f} s; loading PGVectorStore")
        with langchain_stores(db, chunks, vectors) as (lc_dense, lc_hybrid):
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f"VACUUM ANALYZE document_chunks, documents, {LANGCHAIN_TABLE}"))
            lookup = LookupEmbedder(embedder, vectors)
            calls = _supercore_calls(db, tenant, lookup) | _langchain_calls(
                lc_dense, lc_hybrid, vectors
            )
            seconds, runs = measure(calls, dataset.queries)
            coverage = langchain_lexical_coverage(db, dataset.queries)
        progress("langchain: per-call breakdown of SuperCore search()")
        per_call = breakdown(db, tenant, lookup, list(dataset.queries.values()))
        server = server_info(db)
    latency = {n: {k: latency_summary(s) for k, s in ks.items()} for n, ks in seconds.items()}
    scores = {n: quality(dataset.qrels, r) for n, r in runs.items()}
    results = {
        "latency": latency,
        "quality": scores,
        "verdict": verdict(latency, scores),
        "langchain_lexical_coverage": coverage,
        "supercore_breakdown": per_call,
    }
    params = {
        "dataset": str(dataset_path.name),
        "documents": len(sources),
        "chunks": len(chunks),
        "judged_queries": len(dataset.queries),
        "warmup_queries": WARMUP,
        "k_latency": K_LATENCY,
        "k_quality": K_QUALITY,
        "candidates_per_retriever": CANDIDATES,
        "rrf_k": RRF_K,
        "embedder": embedder.model_name,
        "langchain_postgres": importlib.metadata.version("langchain-postgres"),
        "supercore_load_s": round(load_s, 1),
        "load_average_1m_at_start": load_at_start,
    }
    path = write_result("langchain_compare", {"params": params, "server": server, **results})
    progress(f"langchain: wrote {path}")
    return results


def main() -> None:
    """``python -m benchmarks.langchain_compare [--documents N]`` (in .venv-bench)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.langchain_compare")
    parser.add_argument("--documents", type=int, default=2000, help="SciFact documents to load")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not (SCIFACT / "corpus.jsonl").is_file():  # non-commercial: never copied into the project
        progress(f"langchain: skipped, SciFact not found at {SCIFACT}")
        return
    results = run(documents=args.documents)
    progress(f"langchain: verdict {results['verdict']}")


if __name__ == "__main__":
    main()
