"""Tenant-leakage canaries: a unique document planted in each tenant, probed from the others.

Every tenant that takes part in evaluations gets a canary document whose text carries a
token no other text contains. An evaluation run then probes, for every other tenant with a
canary: its oracle by id from the evaluated tenant's context (must be invisible), the
evaluated oracle for the other tenant's token, and the other tenant's oracle for this
tenant's token. Any hit that carries a foreign token is a leak; one leak fails the run.
"""

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.db.sessions import admin_session, tenant_session
from supercore_core.embedding import Embedder
from supercore_core.errors import NotFoundError
from supercore_core.ingest.pipeline import SourceFile, ingest
from supercore_core.models import Document
from supercore_core.retrieval import RetrievalConfig, search

CANARY_FILENAME = "supercore-leakage-canary.txt"
PROBE = RetrievalConfig(mode="hybrid", k=5, candidates=20)


def canary_token(solution_id: UUID) -> str:
    """The tenant's canary token: one word no real text contains."""
    return f"sccanary{solution_id.hex}"


def plant_canary(
    sessions: sessionmaker[Session], *, solution_id: UUID, oracle_id: UUID, embedder: Embedder
) -> None:
    """Ingest the tenant's canary document into the oracle (a no-op when already there)."""
    token = canary_token(solution_id)
    body = f"Leakage canary {token}. If another tenant ever retrieves this, isolation failed."
    ingest(
        sessions,
        solution_id=solution_id,
        oracle_id=oracle_id,
        sources=[SourceFile(CANARY_FILENAME, body.encode(), {"canary": True})],
        embedder=embedder,
    )


@dataclass(frozen=True)
class CanaryReport:
    """How many probes ran and which ones found a foreign canary (or a foreign oracle)."""

    probes: int
    leaks: tuple[str, ...]

    @property
    def hits(self) -> int:
        """Number of probes that leaked."""
        return len(self.leaks)


def canary_oracles(sessions: sessionmaker[Session]) -> list[tuple[UUID, UUID]]:
    """(tenant, oracle) of every planted canary, read in superuser mode."""
    query = select(Document.solution_id, Document.oracle_id).where(
        Document.filename == CANARY_FILENAME, Document.status == "completed"
    )
    with admin_session(sessions, reason="list leakage canaries for an evaluation") as session:
        return [(row[0], row[1]) for row in session.execute(query.distinct())]


def _probe(
    sessions: sessionmaker[Session],
    viewer: UUID,
    oracle_id: UUID,
    token: str,
    embedder: Embedder,
) -> bool:
    """True when searching ``oracle_id`` as tenant ``viewer`` finds ``token``."""
    with tenant_session(sessions, solution_id=viewer) as session:
        try:
            hits = search(session, oracle_id=oracle_id, query=token, embedder=embedder,
                          config=PROBE).hits  # fmt: skip
        except NotFoundError:
            return False
    return any(token in hit.content for hit in hits)


def check_canaries(
    sessions: sessionmaker[Session], *, solution_id: UUID, oracle_id: UUID, embedder: Embedder
) -> CanaryReport:
    """Probe every other tenant's canary against this tenant and this tenant's against them."""
    own = canary_token(solution_id)
    probes: list[tuple[str, UUID, UUID, str]] = []
    for other, other_oracle in canary_oracles(sessions):
        if other == solution_id:
            continue
        theirs = canary_token(other)
        probes += [
            (f"tenant {solution_id} saw oracle {other_oracle}", solution_id, other_oracle, theirs),
            (f"oracle {oracle_id} returned {other}'s canary", solution_id, oracle_id, theirs),
            (f"tenant {other} retrieved {solution_id}'s canary", other, other_oracle, own),
        ]
    leaks = tuple(
        label
        for label, viewer, target, token in probes
        if _probe(sessions, viewer, target, token, embedder)
    )
    return CanaryReport(len(probes), leaks)
