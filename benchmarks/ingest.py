"""Ingest throughput without embedding: binary COPY (``copy_chunks``) vs row-by-row ORM."""

from typing import Any

import numpy as np
from sqlalchemy import text

from benchmarks.common import (
    Database,
    Tenant,
    add_document,
    chunk_rows,
    load_average,
    make_tenant,
    progress,
    ratio,
    server_info,
    texts,
    throwaway_database,
    timed,
    unit_vectors,
    write_result,
)
from supercore_core import DocumentChunk, tenant_session
from supercore_core.ingest.store import copy_chunks

HNSW_INDEX = "idx_document_chunks_embedding_hnsw"


def _synthetic(rng: np.random.Generator, count: int) -> tuple[list[str], np.ndarray]:
    return texts(rng, count), unit_vectors(rng, count)


def _orm_rows(
    db: Database, tenant: Tenant, name: str, count: int, rng: np.random.Generator
) -> float:
    contents, vectors = _synthetic(rng, count)

    def load() -> None:
        with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
            document_id = add_document(session, tenant, name, count)
            for i in range(count):
                session.add(
                    DocumentChunk(
                        document_id=document_id,
                        oracle_id=tenant.oracle_id,
                        solution_id=tenant.solution_id,
                        chunk_index=i,
                        content=contents[i],
                        embedding=vectors[i],
                        embedding_model="synthetic",
                        token_count=len(contents[i].split()),
                    )
                )
                session.flush()

    seconds, _ = timed(load)
    return seconds


def _copy_rows(
    db: Database, tenant: Tenant, name: str, count: int, rng: np.random.Generator
) -> float:
    contents, vectors = _synthetic(rng, count)

    def load() -> int:
        with tenant_session(db.sessions, solution_id=tenant.solution_id) as session:
            document_id = add_document(session, tenant, name, count)
            rows = chunk_rows(tenant, document_id, contents, vectors)
            return copy_chunks(session, rows)

    seconds, loaded = timed(load)
    assert loaded == count
    return seconds


def _create_hnsw(db: Database) -> None:
    """The shared graph over every chunk, as revision 0005 made it (0017 dropped it: this is
    the 'before' of the per-oracle indexes)."""
    with db.engine.begin() as conn:
        conn.execute(text(
            f"CREATE INDEX {HNSW_INDEX} ON document_chunks"
            " USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
        ))  # fmt: skip


def _drop_hnsw(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP INDEX {HNSW_INDEX}"))


def run(copy_rows: int = 20_000, orm_rows: int = 2_000, seed: int = 1) -> dict[str, Any]:
    """Rows/s of copy_chunks vs ORM inserts, with a shared HNSW index live (as before
    revision 0017) and then without (as now: small oracles have no graph).

    The ORM baseline runs first in each pair, against the smaller index, so the ratio with
    HNSW is if anything flattering to the baseline.
    """
    load_at_start = load_average()
    rng = np.random.default_rng(seed)
    seconds: dict[str, float] = {}
    with throwaway_database() as db:
        tenant = make_tenant(db, "ingest")
        _create_hnsw(db)
        for hnsw in ("with_hnsw", "without_hnsw"):
            if hnsw == "without_hnsw":
                _drop_hnsw(db)
            progress(f"ingest ({hnsw}): ORM baseline, {orm_rows} rows, one flush each")
            seconds[f"orm_{hnsw}"] = _orm_rows(db, tenant, f"orm-{hnsw}", orm_rows, rng)
            progress(f"ingest ({hnsw}): copy_chunks, {copy_rows} rows")
            seconds[f"copy_{hnsw}"] = _copy_rows(db, tenant, f"copy-{hnsw}", copy_rows, rng)
        server = server_info(db)
    results: dict[str, Any] = {}
    for key, took in seconds.items():
        rows = orm_rows if key.startswith("orm") else copy_rows
        results[key] = {"rows": rows, "seconds": round(took, 2), "rows_per_s": round(rows / took)}
    for hnsw in ("with_hnsw", "without_hnsw"):
        results[f"ratio_copy_vs_orm_{hnsw}"] = ratio(
            results[f"copy_{hnsw}"]["rows_per_s"], results[f"orm_{hnsw}"]["rows_per_s"]
        )
    params = {
        "copy_rows": copy_rows,
        "orm_rows": orm_rows,
        "dimensions": 384,
        "seed": seed,
        "load_average_1m_at_start": load_at_start,
    }
    path = write_result("ingest", {"params": params, "server": server, "results": results})
    progress(f"ingest: wrote {path}")
    return results
