"""Which oracles get a graph of their own: sizes, thresholds, hysteresis and the ceiling.

An oracle is searched exactly until it holds ``exact_below_chunks`` embedded chunks (an
oracle setting; the default is the measured crossover, see ``benchmarks/README.md``), then
gets its own partial HNSW index. The index is dropped once the oracle falls under half of
its threshold (not at the threshold itself, so an oracle hovering there is not rebuilt
over and over), or when the oracle is deleted.

The ceiling: every partial index on ``document_chunks`` is considered (predicate proof)
when any query on the table is planned, and locked while it runs, so planning time and
lock-table use grow with their number: measured (``make bench``, ``vindex``), a dense
search plans in 0.073 ms with no partial index, 0.311 ms with 100 and 1.332 ms with 500,
and holds 13 + N locks. ``MAX_ORACLE_INDEXES`` (200: ~0.6 ms of planning, 213 locks a
search, ~30 concurrent searches per 6,400 lock-table slots at the default
max_locks_per_transaction 64 x max_connections 100) is where that starts to matter; past it
no further index is built (those oracles stay exact, correct but slower), and
``supercore doctor`` warns from ``WARN_SHARE`` of it on. The next step beyond is LIST
partitioning of ``document_chunks`` by ``solution_id`` (see ``benchmarks/README.md``).
"""

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from supercore_core.errors import InvalidSettingError
from supercore_core.oracle_settings import RetrievalSettings, check_stored_retrieval
from supercore_core.vector_index.ddl import OracleIndex

MAX_ORACLE_INDEXES = 200
WARN_SHARE = 0.8
DEFAULT_THRESHOLD: int = RetrievalSettings.model_fields["exact_below_chunks"].default

Step = Literal["build", "drop", "kept", "exact", "refuse"]

_SIZES = text(
    "SELECT o.id, o.solution_id, o.retrieval_config,"
    " (SELECT count(*) FROM document_chunks c WHERE c.oracle_id = o.id"
    "  AND c.embedding IS NOT NULL) FROM oracles o"
    " WHERE CAST(:o AS uuid) IS NULL OR o.id = CAST(:o AS uuid) ORDER BY o.id"
)


@dataclass(frozen=True)
class OracleSize:
    """An oracle's embedded chunks and the size at which it gets its own index."""

    oracle_id: UUID
    solution_id: UUID
    chunks: int
    threshold: int


def _threshold(settings: dict[str, object]) -> int:
    try:
        stored = check_stored_retrieval(settings)
    except InvalidSettingError:
        return DEFAULT_THRESHOLD  # search refuses such an oracle anyway, with the fix
    return int(stored.get("exact_below_chunks", DEFAULT_THRESHOLD))


def oracle_sizes(session: Session, oracle_id: UUID | None = None) -> list[OracleSize]:
    """Every oracle's size (or ``oracle_id``'s), as far as the session's RLS lets it see."""
    rows = session.execute(_SIZES, {"o": None if oracle_id is None else str(oracle_id)})
    return [OracleSize(o, s, int(n), _threshold(cfg)) for o, s, cfg, n in rows]


def decide(size: OracleSize, index: OracleIndex | None, existing: int) -> Step:
    """What to do for one oracle given its index (if any) and how many indexes exist."""
    ready = index is not None and index.valid
    if ready and size.chunks < size.threshold / 2:
        return "drop"
    if ready:
        return "kept"
    if size.chunks < size.threshold or size.chunks == 0:
        return "drop" if index is not None else "exact"  # an invalid leftover goes
    if index is None and existing >= MAX_ORACLE_INDEXES:
        return "refuse"
    return "build"


def orphans(
    indexes: dict[UUID, OracleIndex], sizes: list[OracleSize], only: UUID | None
) -> list[UUID]:
    """Indexes whose oracle no longer exists (among ``only`` when given)."""
    known = {s.oracle_id for s in sizes}
    return [o for o in indexes if o not in known and (only is None or o == only)]


def ceiling_message() -> str:
    """Why an oracle past its threshold got no index."""
    return (
        f"{MAX_ORACLE_INDEXES} per-oracle vector indexes exist (the measured ceiling, see "
        "benchmarks/README.md): this oracle stays on exact search; LIST-partition "
        "document_chunks by solution_id to go further"
    )
