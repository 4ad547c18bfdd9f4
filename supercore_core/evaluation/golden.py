"""An oracle's golden set as an evaluation set: its questions scored on the oracle as it is.

Only valid judgements are scored; stale ones (deleted or changed documents) and questions
left without a relevant judgement are listed in the run's metadata, with the set's
version and the content hash of every judged document, so runs can be compared honestly.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.catalog import oracle_by_id, oracle_by_name, solution_by_slug
from supercore_core.config import Settings
from supercore_core.db.sessions import admin_session, tenant_session
from supercore_core.embedding import Embedder, embedder_for
from supercore_core.errors import UserError
from supercore_core.golden.sets import golden_set_by_name, questions_of
from supercore_core.golden.stale import JudgementState, describe, judgement_states
from supercore_core.models import DocumentChunk
from supercore_core.retrieval import Hit

REFERENCE_CHARS = 20_000  # of a judged document's text, for the ragas reference contexts


@dataclass(frozen=True)
class GoldenEvalSet:
    """A golden set loaded for one run (implements ``sets.EvalSet``)."""

    name: str
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    answers: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)  # a copy's document id -> judged id

    def doc_key(self, hit: Hit) -> str:
        """Judgements point at documents: the key is the (judged) document's id."""
        key = str(hit.document_id)
        return self.aliases.get(key, key)

    def on_copy(self, aliases: Mapping[str, str]) -> "GoldenEvalSet":
        """This set scored on a copy of its oracle (a re-chunked scratch oracle), whose
        documents ``aliases`` maps to the judged ones; the judgements stay as they are."""
        return replace(self, aliases=dict(aliases))

    @property
    def judged_documents(self) -> list[str]:
        """Ids of the documents with a valid judgement (the ones a copy must hold)."""
        return list(self.info.get("documents", {}))

    def reference_answers(self) -> dict[str, str]:
        """Reference answers of the scored questions."""
        return dict(self.answers)

    def reference_texts(self) -> dict[str, str]:
        """The judged documents' text (passages where given), capped."""
        return dict(self.texts)

    def snapshot(self) -> Mapping[str, Any]:
        """The set's id, name and version, document hashes, stale and unscored questions."""
        return {"golden_set": self.info}


def _document_texts(session: Session, document_ids: set[UUID]) -> dict[str, str]:
    query = (
        select(DocumentChunk.document_id, DocumentChunk.content)
        .where(DocumentChunk.document_id.in_(list(document_ids)))
        .order_by(DocumentChunk.document_id, DocumentChunk.chunk_index)
    )
    texts: dict[str, str] = {}
    for document_id, content in session.execute(query):
        key = str(document_id)
        if len(texts.get(key, "")) < REFERENCE_CHARS:
            texts[key] = (texts.get(key, "") + "\n" + content).strip()[:REFERENCE_CHARS]
    return texts


def _qrels(valid: list[JudgementState]) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for state in valid:
        qrels.setdefault(state.query_key, {})[str(state.document_id)] = state.grade
    return {key: docs for key, docs in qrels.items() if any(g > 0 for g in docs.values())}


def load_golden(session: Session, *, oracle_id: UUID, name: str) -> GoldenEvalSet:
    """The oracle's golden set ``name``, ready to evaluate.

    Raises:
        NotFoundError: The oracle has no such set.
        UserError: No question has a valid relevant judgement (the message says why).
    """
    golden = golden_set_by_name(session, oracle_id, name)
    questions = questions_of(session, golden.id)
    states = judgement_states(session, golden.id)
    valid = [s for s in states if s.valid]
    stale = [s for s in states if not s.valid]
    qrels = _qrels(valid)
    if not qrels:
        why = f"; {len(stale)} judgement(s) are stale: " + "; ".join(describe(stale)[:5])
        raise UserError(f"golden set {name!r} has no question with a valid relevant judgement "
                        f"({len(questions)} questions){why if stale else ''}")  # fmt: skip
    scored = [q for q in questions if q.query_key in qrels]
    info = {
        "id": str(golden.id), "name": golden.name, "version": golden.version,
        "questions": len(questions), "scored": len(scored),
        "unscored": [q.query_key for q in questions if q.query_key not in qrels],
        "stale": describe(stale),
        "documents": {str(s.document_id): s.content_hash for s in valid},
    }  # fmt: skip
    passages = {str(s.document_id): s.passage for s in valid if s.passage}
    texts = {**_document_texts(session, {s.document_id for s in valid if s.document_id}),
             **passages}  # fmt: skip
    return GoldenEvalSet(
        name=f"golden:{golden.name}@v{golden.version}",
        queries={q.query_key: q.question for q in scored},
        qrels=qrels,
        answers={q.query_key: q.reference_answer for q in scored if q.reference_answer},
        texts=texts,
        info=info,
    )


@dataclass(frozen=True)
class GoldenTarget:
    """An oracle found by tenant slug and name, its golden set and its embedder."""

    solution_id: UUID
    oracle_id: UUID
    golden: GoldenEvalSet
    embedder: Embedder


def open_golden(
    sessions: sessionmaker[Session], settings: Settings, *, tenant: str, oracle: str, name: str
) -> GoldenTarget:
    """Look up ``tenant``'s oracle ``oracle`` and load its golden set ``name`` (notebooks, CLI).

    Raises:
        NotFoundError: No such tenant, oracle or golden set (the message says which).
    """
    with admin_session(sessions, reason=f"look up tenant {tenant!r} by slug") as session:
        solution_id = solution_by_slug(session, tenant).id
    with tenant_session(sessions, solution_id=solution_id) as session:
        oracle_id = oracle_by_name(session, solution_id, oracle).id
        golden = load_golden(session, oracle_id=oracle_id, name=name)
        embedder = embedder_for(oracle_by_id(session, oracle_id), settings)
    return GoldenTarget(solution_id, oracle_id, golden, embedder)
