"""Scratch oracles: where benchmark corpora, re-chunked copies and canaries live.

Evaluation data never goes into an oracle that people chat with. A scratch oracle is an
ordinary oracle of the tenant whose ``metadata`` carries ``{"evaluation": {"scratch": true,
"purpose": ...}}``; the catalog hides it from stakeholder pickers, and ``remove_scratch``
deletes them all (documents, chunks and their runs cascade) in one call.
"""

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from supercore_core.catalog import SCRATCH_MARKER, create_oracle, find_oracle
from supercore_core.errors import UserError
from supercore_core.models import Document, Oracle

Purpose = Literal["benchmark", "rechunk", "canary"]
CANARY_ORACLE = "eval-canaries"
CANARY_FILENAME = "supercore-leakage-canary.txt"


def is_scratch(oracle: Oracle) -> bool:
    """True for an oracle that holds evaluation data only."""
    marker = (oracle.metadata_ or {}).get("evaluation")
    return isinstance(marker, dict) and marker.get("scratch") is True


def scratch_marker(purpose: Purpose, source: str) -> dict[str, Any]:
    """The ``metadata`` that marks an oracle as scratch evaluation data."""
    return {"evaluation": {**SCRATCH_MARKER["evaluation"], "purpose": purpose, "source": source}}


def default_scratch_name(dataset: str) -> str:
    """The scratch oracle a dataset loads into when none is named: ``eval-<dataset>``."""
    return f"eval-{dataset}"


def scratch_oracle(
    session: Session, *, solution_id: UUID, name: str, purpose: Purpose, source: str
) -> Oracle:
    """The tenant's scratch oracle ``name``, created (and marked) when missing.

    Raises:
        UserError: ``name`` is a live oracle, which evaluation data must never enter.
    """
    found = find_oracle(session, solution_id, name)
    if found is None:
        return create_oracle(
            session, solution_id=solution_id, oracle_name=name,
            metadata_=scratch_marker(purpose, source),
            description=f"Evaluation data ({purpose}: {source}); not for chat.",
        )  # fmt: skip
    require_scratch(found)
    return found


def require_scratch(oracle: Oracle) -> None:
    """Refuse to load evaluation data into a live oracle, saying what to do instead."""
    if not is_scratch(oracle):
        raise UserError(
            f"oracle {oracle.oracle_name!r} is a live oracle that people search and chat "
            "with: benchmark corpora load only into scratch evaluation oracles. Leave out "
            "--oracle to use the scratch oracle eval-<dataset>, or name a new one with "
            "--scratch NAME"
        )


def canary_oracle(session: Session, solution_id: UUID) -> Oracle:
    """The tenant's hidden canary space (a scratch oracle holding only its canary)."""
    return scratch_oracle(
        session, solution_id=solution_id, name=CANARY_ORACLE, purpose="canary",
        source="leakage canary",
    )  # fmt: skip


@dataclass(frozen=True)
class Removed:
    """What ``remove_scratch`` deleted: scratch oracle names and stray canary documents."""

    oracles: tuple[str, ...]
    stray_canaries: int


def list_scratch(session: Session, solution_id: UUID) -> list[Oracle]:
    """The tenant's scratch oracles, by name."""
    query = (
        select(Oracle)
        .where(Oracle.solution_id == solution_id, Oracle.metadata_.contains(SCRATCH_MARKER))
        .order_by(Oracle.oracle_name)
    )
    return list(session.scalars(query))


def remove_scratch(session: Session, solution_id: UUID) -> Removed:
    """Delete the tenant's scratch oracles, and canaries an older version left in live ones.

    Documents, chunks, workflows and evaluation runs of a scratch oracle go with it.
    """
    scratch = list_scratch(session, solution_id)
    for oracle in scratch:
        session.delete(oracle)
    stray = session.execute(
        delete(Document).where(
            Document.solution_id == solution_id, Document.filename == CANARY_FILENAME
        )
    )
    session.flush()
    return Removed(tuple(o.oracle_name for o in scratch), int(getattr(stray, "rowcount", 0)))
