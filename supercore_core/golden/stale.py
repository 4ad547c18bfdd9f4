"""Judgements checked against the documents as they are now: valid or stale, and why.

A judgement is stale when its document was deleted, re-ingested with other content (its
content hash changed) or is not ingested (failed, pending). Stale judgements are reported
and left out of scoring, never silently dropped or silently scored.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from supercore_core.models import Document, GoldenJudgement, GoldenQuestion


@dataclass(frozen=True)
class JudgementState:
    """One judgement with the state of its document."""

    query_key: str
    document_id: UUID | None
    filename: str
    grade: int
    passage: str | None
    page: int | None
    content_hash: str | None
    stale: str | None  # None: valid; otherwise why it cannot be scored

    @property
    def valid(self) -> bool:
        """True when the judgement can be scored."""
        return self.stale is None


def _why_stale(judged_hash: str | None, hash_now: str | None, status: str | None) -> str | None:
    if status is None:
        return "document deleted"
    if status != "completed":
        return f"document not ingested ({status})"
    if judged_hash is not None and hash_now != judged_hash:
        return "document changed since it was judged"
    return None


def judgement_states(session: Session, set_id: UUID) -> list[JudgementState]:
    """Every judgement of the set, by question key and file name, with its staleness."""
    query = (
        select(GoldenQuestion.query_key, GoldenJudgement, Document.content_hash, Document.status)
        .join(GoldenQuestion, GoldenQuestion.id == GoldenJudgement.question_id)
        .outerjoin(Document, Document.id == GoldenJudgement.document_id)
        .where(GoldenQuestion.set_id == set_id)
        .order_by(GoldenQuestion.query_key, GoldenJudgement.filename)
    )
    return [
        JudgementState(
            query_key=key, document_id=j.document_id, filename=j.filename, grade=j.grade,
            passage=j.passage, page=j.page, content_hash=j.content_hash,
            stale=_why_stale(j.content_hash, hash_now, status),
        )
        for key, j, hash_now, status in session.execute(query)
    ]  # fmt: skip


def stale_judgements(session: Session, set_id: UUID) -> list[JudgementState]:
    """The set's judgements that cannot be scored, with the reason."""
    return [s for s in judgement_states(session, set_id) if not s.valid]


def describe(stale: Sequence[JudgementState]) -> list[str]:
    """One line per stale judgement: ``q3: report.pdf: document deleted``."""
    return [f"{s.query_key}: {s.filename}: {s.stale}" for s in stale]


def by_question(states: Sequence[JudgementState]) -> dict[str, list[JudgementState]]:
    """The judgements grouped by question key (in their order)."""
    grouped: dict[str, list[JudgementState]] = {}
    for state in states:
        grouped.setdefault(state.query_key, []).append(state)
    return grouped
