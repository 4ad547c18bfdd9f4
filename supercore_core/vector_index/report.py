"""Recall@10 per oracle as a standing metric (``supercore doctor``, the Index page).

Oracles searched exactly have recall 1 by construction and are not sampled; each oracle
with a graph of its own is sampled (queries off the graph made from stored chunks, the
production dense path against exact search). Runs in an admin session (the caller's, audited).
"""

from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from supercore_core.vector_index import ddl
from supercore_core.vector_index.recall import SAMPLES, TARGET_RECALL, production_recall

_ORACLES = text(
    "SELECT o.id, s.slug, o.oracle_name, (SELECT count(*) FROM document_chunks c"
    " WHERE c.oracle_id = o.id AND c.embedding IS NOT NULL)"
    " FROM oracles o JOIN solutions s ON s.id = o.solution_id ORDER BY s.slug, o.oracle_name"
)


@dataclass(frozen=True)
class RecallRow:
    """One oracle's dense-search recall."""

    tenant: str
    oracle: str
    oracle_id: UUID
    chunks: int
    path: str  # "exact" or "own index"
    index_bytes: int | None  # the own index's size on disk; None when exact
    ef_search: int | None
    recall_at_10: float
    samples: int  # 0: exact, recall 1 by construction

    @property
    def flagged(self) -> bool:
        """Under the standing target (0.98)."""
        return self.recall_at_10 < TARGET_RECALL


@dataclass(frozen=True)
class RecallReport:
    """Every oracle's row, tenants and oracles by name."""

    rows: list[RecallRow]

    @property
    def flagged(self) -> list[RecallRow]:
        """Oracles under the target."""
        return [r for r in self.rows if r.flagged]

    def to_frame(self) -> Any:
        """The rows as a pandas DataFrame, with a ``flagged`` column."""
        import pandas as pd

        return pd.DataFrame([asdict(r) | {"flagged": r.flagged} for r in self.rows])


def recall_report(session: Session, samples: int = SAMPLES) -> RecallReport:
    """Recall@10 of every oracle the session sees (an admin session sees them all)."""
    indexed = {o: i.size_bytes for o, i in ddl.oracle_indexes(session).items() if i.valid}
    rows = []
    for oracle_id, tenant, name, chunks in session.execute(_ORACLES):
        if oracle_id not in indexed:
            rows.append(RecallRow(tenant, name, oracle_id, int(chunks), "exact", None, None,
                                  1.0, 0))  # fmt: skip
            continue
        found = production_recall(session, oracle_id, samples)
        size = indexed[oracle_id] if found.path == "own index" else None
        rows.append(RecallRow(tenant, name, oracle_id, int(chunks), found.path, size,
                              found.ef_search, found.recall, found.samples))  # fmt: skip
    return RecallReport(rows)
