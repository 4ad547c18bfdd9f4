"""Golden questions built from use: a chat answer's sources judged by the person who asked."""

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from supercore_core.golden.sets import Judgement, get_or_create_golden_set, save_question
from supercore_core.models import GoldenQuestion

RELEVANT, NOT_RELEVANT = 1, 0


@dataclass(frozen=True)
class JudgedSource:
    """One cited passage and whether the person found it relevant."""

    document_id: UUID
    relevant: bool
    page: int | None = None


def save_answer_as_golden(
    session: Session,
    *,
    oracle_id: UUID,
    set_name: str,
    question: str,
    answer: str,
    judged: Sequence[JudgedSource],
) -> GoldenQuestion:
    """Save ``question`` into the oracle's golden set ``set_name`` (created if new), with the
    answer as a draft reference and one judgement per cited document.

    A document cited by several passages is relevant when any of them is. Saving the same
    question into a set again replaces its judgements instead of adding a duplicate.

    Raises:
        UserError: An empty question or set name, or a document of another oracle.
    """
    golden = get_or_create_golden_set(session, oracle_id=oracle_id, name=set_name.strip())
    existing = session.scalars(
        select(GoldenQuestion.query_key).where(
            GoldenQuestion.set_id == golden.id, GoldenQuestion.question == question.strip()
        )
    ).first()
    return save_question(
        session, golden, question=question, judgements=_per_document(judged),
        query_key=existing, reference_answer=answer.strip() or None, reference_is_draft=True,
    )  # fmt: skip


def _per_document(judged: Sequence[JudgedSource]) -> list[Judgement]:
    best: dict[UUID, JudgedSource] = {}
    for source in judged:
        kept = best.get(source.document_id)
        if kept is None or (source.relevant and not kept.relevant):
            best[source.document_id] = source
    return [
        Judgement(s.document_id, RELEVANT if s.relevant else NOT_RELEVANT, page=s.page)
        for s in best.values()
    ]
