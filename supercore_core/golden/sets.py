"""Golden sets of an oracle: create, find, list, and edit questions and judgements.

Every change bumps the set's ``version`` so that two evaluation runs can be told apart.
Functions take the caller's tenant session and never commit.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from supercore_core.catalog import oracle_by_id
from supercore_core.errors import NotFoundError, UserError
from supercore_core.golden.parse import MAX_GRADE
from supercore_core.models import Document, GoldenJudgement, GoldenQuestion, GoldenSet


@dataclass(frozen=True)
class Judgement:
    """A judgement to store: a resolved document, its grade, optionally a passage or page."""

    document_id: UUID
    grade: int
    passage: str | None = None
    page: int | None = None


def create_golden_set(
    session: Session, *, oracle_id: UUID, name: str, description: str | None = None
) -> GoldenSet:
    """A new, empty golden set of the oracle (in the session's tenant)."""
    oracle = oracle_by_id(session, oracle_id)
    if not name.strip():
        raise UserError("a golden set needs a name")
    row = GoldenSet(solution_id=oracle.solution_id, oracle_id=oracle.id, name=name.strip(),
                    description=description)  # fmt: skip
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise UserError(
            f"cannot create golden set {name!r}: oracle {oracle.oracle_name!r} has one of that "
            "name already, or the name is over 200 characters"
        ) from exc
    return row


def _find(session: Session, oracle_id: UUID, name: str) -> GoldenSet | None:
    query = select(GoldenSet).where(GoldenSet.oracle_id == oracle_id, GoldenSet.name == name)
    return session.scalars(query).one_or_none()


def golden_set_by_name(session: Session, oracle_id: UUID, name: str) -> GoldenSet:
    """The oracle's golden set called ``name``."""
    found = _find(session, oracle_id, name)
    if found is None:
        known = ", ".join(s.name for s in list_golden_sets(session, oracle_id)) or "none yet"
        raise NotFoundError(f"oracle has no golden set named {name!r} (its sets: {known})")
    return found


def get_or_create_golden_set(session: Session, *, oracle_id: UUID, name: str) -> GoldenSet:
    """The oracle's golden set ``name``, created when missing."""
    return _find(session, oracle_id, name) or create_golden_set(
        session, oracle_id=oracle_id, name=name
    )


def list_golden_sets(session: Session, oracle_id: UUID) -> list[GoldenSet]:
    """The oracle's golden sets, by name."""
    query = select(GoldenSet).where(GoldenSet.oracle_id == oracle_id).order_by(GoldenSet.name)
    return list(session.scalars(query))


def touch(session: Session, golden: GoldenSet) -> None:
    """Record a change: the version goes up by one."""
    golden.version = (golden.version or 1) + 1
    golden.updated_at = datetime.now(UTC)
    session.flush()


def questions_of(session: Session, set_id: UUID) -> list[GoldenQuestion]:
    """The set's questions in key order."""
    query = (
        select(GoldenQuestion)
        .where(GoldenQuestion.set_id == set_id)
        .order_by(GoldenQuestion.query_key)
    )
    return list(session.scalars(query))


def judgements_of(session: Session, question_ids: Sequence[UUID]) -> list[GoldenJudgement]:
    """The judgements of these questions, by question and file name."""
    query = (
        select(GoldenJudgement)
        .where(GoldenJudgement.question_id.in_(list(question_ids)))
        .order_by(GoldenJudgement.question_id, GoldenJudgement.filename)
    )
    return list(session.scalars(query))


def next_query_key(session: Session, set_id: UUID) -> str:
    """A key for a new question: ``q<n>`` one past the number of questions."""
    taken = {q.query_key for q in questions_of(session, set_id)}
    n = len(taken) + 1
    while f"q{n}" in taken:
        n += 1
    return f"q{n}"


def save_question(
    session: Session,
    golden: GoldenSet,
    *,
    question: str,
    judgements: Sequence[Judgement],
    query_key: str | None = None,
    reference_answer: str | None = None,
    reference_is_draft: bool = False,
) -> GoldenQuestion:
    """Add a question (or replace the one with ``query_key``) with its judgements.

    Raises:
        UserError: An empty question, a grade out of range or a document of another oracle.
    """
    row = store_question(session, golden, question=question, judgements=judgements,
                         query_key=query_key, reference_answer=reference_answer,
                         reference_is_draft=reference_is_draft)  # fmt: skip
    touch(session, golden)
    return row


def store_question(
    session: Session,
    golden: GoldenSet,
    *,
    question: str,
    judgements: Sequence[Judgement],
    query_key: str | None = None,
    reference_answer: str | None = None,
    reference_is_draft: bool = False,
) -> GoldenQuestion:
    """``save_question`` without the version bump (for imports, which bump once)."""
    text = question.strip()
    if not text:
        raise UserError("a golden question must not be empty")
    checked = _checked(session, golden, judgements)  # before anything is written
    key = (query_key or "").strip() or next_query_key(session, golden.id)
    row = session.scalars(
        select(GoldenQuestion).where(
            GoldenQuestion.set_id == golden.id, GoldenQuestion.query_key == key
        )
    ).one_or_none()
    if row is None:
        row = GoldenQuestion(solution_id=golden.solution_id, set_id=golden.id, query_key=key,
                             question=text)  # fmt: skip
        session.add(row)
    row.question, row.reference_answer = text, reference_answer
    row.reference_is_draft, row.updated_at = reference_is_draft, datetime.now(UTC)
    session.flush()
    _replace_judgements(session, golden, row, checked)
    return row


def _checked(
    session: Session, golden: GoldenSet, judged: Sequence[Judgement]
) -> list[tuple[Judgement, Document]]:
    """Each judgement (the last one per document) with its document, or a UserError."""
    by_document: dict[UUID, Judgement] = {j.document_id: j for j in judged}
    for judgement in by_document.values():
        if not 0 <= judgement.grade <= MAX_GRADE:
            raise UserError(f"grade {judgement.grade} is out of range: use 0 to {MAX_GRADE}")
    return [(j, _document_of(session, golden, j.document_id)) for j in by_document.values()]


def _replace_judgements(
    session: Session,
    golden: GoldenSet,
    question: GoldenQuestion,
    checked: Sequence[tuple[Judgement, Document]],
) -> None:
    for old in judgements_of(session, [question.id]):
        session.delete(old)
    session.flush()
    for judgement, document in checked:
        session.add(
            GoldenJudgement(
                solution_id=golden.solution_id, question_id=question.id,
                document_id=document.id, filename=document.filename,
                content_hash=document.content_hash, grade=judgement.grade,
                passage=judgement.passage, page=judgement.page,
            )
        )  # fmt: skip
    session.flush()


def _document_of(session: Session, golden: GoldenSet, document_id: UUID) -> Document:
    document = session.get(Document, document_id)
    if document is None or document.oracle_id != golden.oracle_id:
        raise NotFoundError(f"document {document_id} is not in this golden set's oracle")
    return document


def remove_question(session: Session, golden: GoldenSet, query_key: str) -> None:
    """Delete a question and its judgements."""
    row = session.scalars(
        select(GoldenQuestion).where(
            GoldenQuestion.set_id == golden.id, GoldenQuestion.query_key == query_key
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"golden set {golden.name!r} has no question {query_key!r}")
    session.delete(row)
    touch(session, golden)


def delete_golden_set(session: Session, golden: GoldenSet) -> None:
    """Delete the set with its questions and judgements (runs made on it stay)."""
    session.delete(golden)
    session.flush()
