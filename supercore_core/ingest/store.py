"""Bulk load of chunks with binary COPY, and the per-tenant embedding cache.

COPY cannot write into a table with row-level security, so rows are copied into a
transaction-local temp table first and moved with one INSERT ... SELECT, which RLS checks.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import numpy as np
from pgvector.psycopg import register_vector
from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.orm import Session

_STAGE = (
    "CREATE TEMP TABLE chunk_stage (document_id uuid, oracle_id uuid, solution_id uuid,"
    " chunk_index integer, content text, embedding vector, embedding_model text,"
    " token_count integer, metadata jsonb) ON COMMIT DROP"
)
_COLUMNS = (
    "document_id, oracle_id, solution_id, chunk_index, content, embedding,"
    " embedding_model, token_count, metadata"
)
_TYPES = ["uuid", "uuid", "uuid", "int4", "text", "vector", "text", "int4", "jsonb"]


@dataclass(frozen=True)
class ChunkRow:
    """One chunk ready to load."""

    document_id: UUID
    oracle_id: UUID
    solution_id: UUID
    chunk_index: int
    content: str
    embedding: Sequence[float] | None
    embedding_model: str | None
    token_count: int | None
    metadata: dict[str, Any] = field(default_factory=dict)


def content_hash(text_: str) -> str:
    """sha256 hex of a chunk's text: the embedding cache key."""
    return hashlib.sha256(text_.encode()).hexdigest()


def driver_connection(session: Session) -> Any:
    """The session's psycopg connection, with pgvector's types registered once."""
    connection: Any = session.connection().connection.driver_connection
    if connection.adapters.types.get("vector") is None:
        register_vector(connection)
    return connection


def copy_chunks(session: Session, rows: Iterable[ChunkRow]) -> int:
    """Insert ``rows`` into document_chunks with binary COPY; returns the row count."""
    connection = driver_connection(session)
    count = 0
    with connection.cursor() as cursor:
        cursor.execute(_STAGE)
        with cursor.copy(f"COPY chunk_stage ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_TYPES)
            for row in rows:
                vector = None if row.embedding is None else np.asarray(row.embedding, np.float32)
                copy.write_row(
                    (
                        row.document_id,
                        row.oracle_id,
                        row.solution_id,
                        row.chunk_index,
                        row.content,
                        vector,
                        row.embedding_model,
                        row.token_count,
                        Jsonb(row.metadata),
                    )
                )
                count += 1
        cursor.execute(
            f"INSERT INTO document_chunks ({_COLUMNS}) SELECT {_COLUMNS} FROM chunk_stage"
        )
        cursor.execute("DROP TABLE chunk_stage")
    return count


def cached_embeddings(
    session: Session, *, solution_id: UUID, model: str, hashes: Sequence[str]
) -> dict[str, list[float]]:
    """Embeddings already computed for these content hashes (tenant-scoped)."""
    if not hashes:
        return {}
    driver_connection(session)
    rows = session.execute(
        text(
            "SELECT content_hash, embedding FROM embedding_cache"
            " WHERE solution_id = :s AND model = :m AND content_hash = ANY(:h)"
        ),
        {"s": solution_id, "m": model, "h": list(hashes)},
    )
    return {h: [float(x) for x in v.to_list()] for h, v in rows}


def remember_embeddings(
    session: Session, *, solution_id: UUID, model: str, vectors: Mapping[str, Sequence[float]]
) -> None:
    """Add new entries to the embedding cache (existing ones are kept)."""
    if not vectors:
        return
    driver_connection(session)
    session.execute(
        text(
            "INSERT INTO embedding_cache (solution_id, model, content_hash, embedding)"
            " SELECT :s, :m, h, v::vector"
            " FROM unnest(CAST(:h AS text[]), CAST(:v AS text[])) AS t(h, v)"
            " ON CONFLICT DO NOTHING"
        ),
        {
            "s": solution_id,
            "m": model,
            "h": list(vectors),
            "v": [str([float(x) for x in vec]) for vec in vectors.values()],
        },
    )
