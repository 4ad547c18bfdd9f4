"""Lexical search latency at scale: BM25 (search()) against the previous ts_rank query.

The same synthetic corpus as ``query`` (100 small tenants holding 1% of ``scale`` each and
one large tenant of ``large`` chunks, texts of 60 words drawn uniformly from a 2,000-word
vocabulary, queries of three such words), without vectors or an HNSW build: lexical search
reads neither. ``ts_rank_statement`` is the previous lexical ranking (its tsquery plus the
statement), ``bm25_statement`` its replacement (``bm25.rank``: statistics, candidates,
scores), ``bm25_search`` the whole ``search()`` call in lexical mode. They run interleaved,
query by query, in the same tenant transactions (RLS on), so load on the shared machine hits
them alike.
"""

import time
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.common import (
    Database,
    Tenant,
    add_document,
    latency_summary,
    load_average,
    make_tenant,
    progress,
    ratio,
    server_info,
    texts,
    throwaway_database,
    vocabulary,
    write_result,
)
from benchmarks.ts_rank import _LEXICAL, lexical_terms
from supercore_core import bm25, tenant_session
from supercore_core.ingest.store import ChunkRow, copy_chunks
from supercore_core.retrieval import RetrievalConfig, search

SMALL_TENANTS = 100
CHUNKS_PER_DOCUMENT = 1000
CANDIDATES = 100  # what search() asks each ranker for (RetrievalConfig.candidates)
WARMUP = 20


class NoEmbedder:
    """Lexical search never embeds."""

    model_name = "none"
    dimensions = 384

    def embed(self, texts_: Sequence[str]) -> list[list[float]]:
        raise AssertionError("lexical search embedded a query")

    def count_tokens(self, text_: str) -> int:
        return len(text_.split())


def _load_tenant(db: Database, tenant: Tenant, chunks: int, rng: np.random.Generator) -> None:
    for start in range(0, chunks, CHUNKS_PER_DOCUMENT):
        count = min(CHUNKS_PER_DOCUMENT, chunks - start)
        with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
            document_id = add_document(session, tenant, f"doc-{start}.txt", count)
            rows = (
                ChunkRow(
                    document_id,
                    tenant.oracle_id,
                    tenant.solution_id,
                    i,
                    body,
                    None,
                    None,
                    len(body.split()),
                )
                for i, body in enumerate(texts(rng, count))
            )
            copy_chunks(session, rows)


def _load(db: Database, scale: int, large: int, rng: np.random.Generator) -> Any:
    small = [make_tenant(db, f"small-{n:03d}") for n in range(SMALL_TENANTS)]
    big = make_tenant(db, "large")
    progress(f"lexical: loading {SMALL_TENANTS} x {scale // 100} + {large} chunks")
    start = time.perf_counter()
    for tenant in small:
        _load_tenant(db, tenant, scale // 100, rng)
    _load_tenant(db, big, large, rng)
    load_s = time.perf_counter() - start
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    rows = SMALL_TENANTS * (scale // 100) + large
    progress(f"lexical: loaded {rows} chunks in {load_s:.0f} s")
    return small, big, {"rows": rows, "load_s": round(load_s, 1), "rows_per_s": rows / load_s}


def _ts_rank(session: Session, oracle_id: UUID, words: str) -> int:
    terms = lexical_terms(session, words)
    params = {"o": oracle_id, "q": terms, "n": CANDIDATES}
    return len(session.execute(text(_LEXICAL), params).all())


def _bm25_statement(session: Session, oracle_id: UUID, words: str) -> int:
    return len(bm25.rank(session, oracle_id, words, CANDIDATES))


def _bm25(session: Session, oracle_id: UUID, words: str) -> int:
    config = RetrievalConfig(mode="lexical", k=10, candidates=CANDIDATES)
    found = search(session, oracle_id=oracle_id, query=words, embedder=NoEmbedder(),
                   config=config)  # fmt: skip
    return len(found.hits)


RANKERS: dict[str, Callable[[Session, UUID, str], int]] = {
    "ts_rank_statement": _ts_rank,
    "bm25_statement": _bm25_statement,
    "bm25_search": _bm25,
}


def _interleaved(db: Database, tenants: Sequence[Tenant], queries: list[str]) -> dict[str, Any]:
    seconds: dict[str, list[float]] = {name: [] for name in RANKERS}
    for n, words in enumerate([*queries[:WARMUP], *queries]):
        tenant = tenants[n % len(tenants)]
        names = list(RANKERS)
        # Rotate who goes first: a ranker run right after another reads its pages warm.
        for name in names[n % len(names) :] + names[: n % len(names)]:
            ranker = RANKERS[name]
            with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
                start = time.perf_counter()
                ranker(session, tenant.oracle_id, words)
                took = time.perf_counter() - start
            if n >= WARMUP:
                seconds[name].append(took)
    cases: dict[str, Any] = {name: latency_summary(s) for name, s in seconds.items()}
    for name in ("bm25_statement", "bm25_search"):
        cases[f"ratio_p95_{name}_vs_ts_rank"] = ratio(
            cases[name]["p95_ms"], cases["ts_rank_statement"]["p95_ms"]
        )
    return cases


def _queries(rng: np.random.Generator, count: int) -> list[str]:
    vocab = vocabulary()
    return [
        " ".join(vocab[i] for i in rng.choice(len(vocab), 3, replace=False)) for _ in range(count)
    ]


def run(
    scale: int = 1_000_000, large: int = 200_000, queries: int = 200, seed: int = 2
) -> dict[str, Any]:
    """Load, then time both rankers on the large tenant and on the small ones."""
    load_at_start = load_average()
    rng = np.random.default_rng(seed)
    with throwaway_database() as db:
        small, big, load = _load(db, scale, large, rng)
        query_set = _queries(rng, queries)
        results: dict[str, Any] = {"load": load}
        progress("lexical: large tenant")
        results["large_tenant"] = _interleaved(db, [big], query_set)
        progress(f"lexical: large tenant {results['large_tenant']}")
        progress("lexical: small tenants")
        results["small_tenants"] = _interleaved(db, small, query_set)
        progress(f"lexical: small tenants {results['small_tenants']}")
        server = server_info(db)
    params = {"scale": scale, "large": large, "queries": queries, "seed": seed,
              "load_average_1m_at_start": load_at_start}  # fmt: skip
    path = write_result(f"lexical_{scale + large}", {"params": params, "server": server,
                                                     "results": results})  # fmt: skip
    progress(f"lexical: wrote {path}")
    return results


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    run(args.scale, args.large, args.queries)
