"""Tenant-leakage canaries: a unique document planted in each tenant, probed from the others.

Every tenant that takes part in evaluations gets a canary document whose text carries a
token no other text contains, in the tenant's hidden canary space (a scratch oracle that
nobody chats with, see ``scratch``). An evaluation run then probes, for every other tenant with a
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
from supercore_core.evaluation.scratch import CANARY_FILENAME, canary_oracle
from supercore_core.ingest.pipeline import SourceFile, ingest
from supercore_core.models import Document, Oracle
from supercore_core.retrieval import RetrievalConfig, search

PROBE = RetrievalConfig(mode="hybrid", k=5, candidates=20)


def canary_token(solution_id: UUID) -> str:
    """The tenant's canary token: one word no real text contains."""
    return f"sccanary{solution_id.hex}"


def plant_canary(sessions: sessionmaker[Session], *, solution_id: UUID, embedder: Embedder) -> UUID:
    """Ingest the tenant's canary into its canary space (a no-op when already there).

    Returns:
        The id of the tenant's canary oracle.
    """
    token = canary_token(solution_id)
    body = f"Leakage canary {token}. If another tenant ever retrieves this, isolation failed."
    with tenant_session(sessions, solution_id=solution_id) as session:
        oracle_id = canary_oracle(session, solution_id).id
    ingest(
        sessions,
        solution_id=solution_id,
        oracle_id=oracle_id,
        sources=[SourceFile(CANARY_FILENAME, body.encode(), {"canary": True})],
        embedder=embedder,
    )
    return oracle_id


@dataclass(frozen=True)
class CanaryReport:
    """How many probes ran and which ones found a foreign canary (or a foreign oracle)."""

    probes: int
    leaks: tuple[str, ...]

    @property
    def hits(self) -> int:
        """Number of probes that leaked."""
        return len(self.leaks)


def canary_oracles(sessions: sessionmaker[Session]) -> dict[UUID, tuple[UUID, list[UUID]]]:
    """Per tenant with a planted canary: its canary oracle and all its oracles (superuser)."""
    planted = select(Document.solution_id, Document.oracle_id).where(
        Document.filename == CANARY_FILENAME, Document.status == "completed"
    )
    with admin_session(sessions, reason="list leakage canaries for an evaluation") as session:
        canaries: dict[UUID, UUID] = {t: o for t, o in session.execute(planted.distinct())}
        everything = select(Oracle.solution_id, Oracle.id).where(
            Oracle.solution_id.in_(list(canaries))
        )
        oracles: dict[UUID, list[UUID]] = {}
        for tenant, oracle in session.execute(everything.order_by(Oracle.id)):
            oracles.setdefault(tenant, []).append(oracle)
    return {tenant: (canary, oracles.get(tenant, [])) for tenant, canary in canaries.items()}


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
    """Probe every other tenant's canary against this tenant and this tenant's against them.

    For every other tenant with a canary: its canary oracle must be invisible from this
    tenant, this tenant's evaluated oracle must not return its token, and none of its
    oracles may return this tenant's token.
    """
    own = canary_token(solution_id)
    probes: list[tuple[str, UUID, UUID, str]] = []
    for other, (canary, oracles) in canary_oracles(sessions).items():
        if other == solution_id:
            continue
        theirs = canary_token(other)
        probes += [
            (f"tenant {solution_id} saw oracle {canary}", solution_id, canary, theirs),
            (f"oracle {oracle_id} returned {other}'s canary", solution_id, oracle_id, theirs),
        ]
        probes += [
            (f"tenant {other} retrieved {solution_id}'s canary in oracle {o}", other, o, own)
            for o in oracles
        ]
    leaks = tuple(
        label
        for label, viewer, target, token in probes
        if _probe(sessions, viewer, target, token, embedder)
    )
    return CanaryReport(len(probes), leaks)
