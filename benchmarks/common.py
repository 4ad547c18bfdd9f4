"""Shared pieces: a throwaway server, synthetic data, timing and result files."""

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import Document, Settings, admin_session, make_engine, make_sessions
from supercore_core.catalog import create_oracle, create_solution
from supercore_core.config import PROJECT_ROOT
from supercore_core.db import embedded, migrate
from supercore_core.embedding import Embedder
from supercore_core.ingest.store import ChunkRow

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SCIFACT = PROJECT_ROOT.parent / "shared" / "datasets" / "scifact"
# Embedding thousands of texts takes minutes on a busy 2-core machine: vectors are kept
# (git-ignored) keyed by model and texts, so a re-run embeds nothing.
CACHE_DIR = PROJECT_ROOT / ".supercore" / "bench-cache"
EMBED_BATCH = 2_000  # texts per embed() call: keeps Python float lists small
DIMENSIONS = 384
VOCABULARY_SIZE = 2000
WORDS_PER_CHUNK = 60


@dataclass(frozen=True)
class Database:
    """A migrated throwaway database: its URL (the owner, a superuser) and sessions."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]


@dataclass(frozen=True)
class Tenant:
    """One tenant's ids in a benchmark database."""

    solution_id: uuid.UUID
    oracle_id: uuid.UUID


@contextmanager
def throwaway_database() -> Iterator[Database]:
    """Start an embedded server in a temp dir, migrate it; stop and delete it at the end."""
    # Short path: Unix socket paths are limited to ~107 bytes.
    root = Path(tempfile.mkdtemp(prefix="scbench-"))
    pgdata = root / "pgdata"
    engine: Engine | None = None
    try:
        url = embedded.start(pgdata, "bench")
        migrate.upgrade(url)
        engine = make_engine(Settings(database_url=url), url=url)
        yield Database(url=url, engine=engine, sessions=make_sessions(engine))
    finally:
        if engine is not None:
            engine.dispose()
        embedded.stop(pgdata)
        shutil.rmtree(root, ignore_errors=True)


def with_login(url: str, user: str) -> str:
    """The same server URL with another user (the embedded server trusts local logins)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def make_tenant(db: Database, slug: str) -> Tenant:
    """A tenant with one domain oracle, created through the library's catalog."""
    with admin_session(db.sessions, reason=f"benchmark: create tenant {slug!r}") as session:
        solution = create_solution(session, slug=slug, name=slug)
        oracle = create_oracle(session, solution_id=solution.id, oracle_name="bench")
        return Tenant(solution.id, oracle.id)


def add_document(session: Session, tenant: Tenant, name: str, chunk_count: int) -> uuid.UUID:
    """A completed document whose chunk_count retrieval will sum (chunks come later)."""
    document = Document(
        oracle_id=tenant.oracle_id,
        solution_id=tenant.solution_id,
        filename=name,
        file_type="txt",
        status="completed",
        chunk_count=chunk_count,
    )
    session.add(document)
    session.flush()
    return document.id


def chunk_rows(
    tenant: Tenant, document_id: uuid.UUID, contents: Sequence[str], vectors: np.ndarray
) -> Iterator[ChunkRow]:
    """Rows for ``copy_chunks``: chunk i has text ``contents[i]`` and vector ``vectors[i]``."""
    for i, (content, vector) in enumerate(zip(contents, vectors, strict=True)):
        yield ChunkRow(
            document_id=document_id,
            oracle_id=tenant.oracle_id,
            solution_id=tenant.solution_id,
            chunk_index=i,
            content=content,
            embedding=vector,
            embedding_model="synthetic",
            token_count=len(content.split()),
        )


def vocabulary(size: int = VOCABULARY_SIZE) -> list[str]:
    """Distinct pronounceable non-words (no stop words, stable under the English stemmer)."""
    consonants, vowels = "bdfgklmnprtvz", "aeiou"
    words = []
    for n in range(size):
        syllables = []
        for _ in range(3):
            n, c = divmod(n, len(consonants))
            n, v = divmod(n, len(vowels))
            syllables.append(consonants[c] + vowels[v])
        words.append("".join(syllables))
    return words


def texts(rng: np.random.Generator, count: int, words: int = WORDS_PER_CHUNK) -> list[str]:
    """``count`` texts of ``words`` words drawn uniformly from the vocabulary."""
    vocab = np.array(vocabulary())
    picks = rng.integers(0, len(vocab), size=(count, words))
    return [" ".join(row) for row in vocab[picks]]


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    """Uniformly random unit vectors (the worst case for an approximate index)."""
    vectors = rng.standard_normal((count, DIMENSIONS), dtype=np.float32)
    unit: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit


def embedding_like_vectors(
    rng: np.random.Generator, basis: np.ndarray, count: int, noise: float = 0.1
) -> np.ndarray:
    """Unit vectors near the subspace spanned by ``basis`` (low intrinsic dimension)."""
    weights = rng.standard_normal((count, basis.shape[0]), dtype=np.float32)
    vectors = weights @ basis
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors += noise * unit_vectors(rng, count)
    unit: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit


def cached_vectors(embedder: Embedder, texts: list[str], cache_dir: Path = CACHE_DIR) -> np.ndarray:
    """``embedder.embed(texts)`` as float32 rows, from ``cache_dir`` when embedded before."""
    key = hashlib.sha256("\0".join([embedder.model_name, *texts]).encode()).hexdigest()[:24]
    path = cache_dir / f"{key}.npy"
    if path.is_file():
        return np.asarray(np.load(path), np.float32)
    parts = [embedder.embed(texts[i : i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)]
    vectors = np.concatenate([np.asarray(p, np.float32) for p in parts])
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds taken by ``fn()`` and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95 and mean in milliseconds."""
    ms = np.asarray(seconds) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p95_ms": round(float(np.percentile(ms, 95)), 3),
        "mean_ms": round(float(ms.mean()), 3),
        "n": len(ms),
    }


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, rounded; NaN when the baseline is zero."""
    return round(numerator / denominator, 2) if denominator else float("nan")


def server_info(db: Database) -> dict[str, str]:
    """Server version and the settings that move these numbers."""
    names = ("server_version", "shared_buffers", "work_mem", "maintenance_work_mem", "jit")
    with db.engine.connect() as conn:
        info = {n: str(conn.execute(text(f"SHOW {n}")).scalar_one()) for n in names}
        info["pgvector"] = str(
            conn.execute(
                text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            ).scalar_one()
        )
    return info


def load_average() -> float:
    """The 1-minute load average (other work on the machine skews every figure)."""
    return round(os.getloadavg()[0], 2)


def machine_info() -> dict[str, Any]:
    """Cores, platform, date and the load when the benchmark started."""
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average_1m_at_end": load_average(),
    }


def write_result(name: str, payload: dict[str, Any], results_dir: Path = RESULTS_DIR) -> Path:
    """Write ``results/<name>.json`` with the machine info added; returns the path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}.json"
    body = {"benchmark": name, "machine": machine_info(), **payload}
    path.write_text(json.dumps(body, indent=2, default=str) + "\n")
    return path


def progress(message: str) -> None:
    """One progress line with a timestamp (flushed: `make bench` output is piped)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)
