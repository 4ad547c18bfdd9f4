"""Ask an oracle: retrieve, prompt, answer with citations, record the turn with tokens and cost.

Everything happens in the caller's tenant transaction. ``get_next_message_sequence`` locks
the conversation row until that transaction ends, so concurrent turns of one conversation
take turns and sequence numbers stay gapless.

A provider failure does not raise out of ``ask``: the user's message is kept, no assistant
message is written, and ``Answer.error`` carries the reason. Call
``answer.raise_for_error()`` after committing (like httpx's ``raise_for_status``).
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from supercore_core import followup
from supercore_core.budget import check_budget
from supercore_core.catalog import oracle_by_id, require_not_suspended
from supercore_core.config import Settings
from supercore_core.embedding import Embedder
from supercore_core.errors import LLMProviderError, UserError
from supercore_core.llm import (
    ChatModel,
    ChatTurn,
    Completion,
    OnToken,
    Passage,
    format_context,
    prompt_tokens,
)
from supercore_core.models import Message, Oracle
from supercore_core.pricing import cost_of
from supercore_core.questions import check_question, check_session_id
from supercore_core.retrieval import Hit, RetrievalConfig, search

DEFAULT_SYSTEM_PROMPT = (
    "You answer questions using only the numbered context passages. Cite the passages you "
    "use as [n]. If the context does not contain the answer, say that you do not know."
)
NOTHING_RELEVANT = (
    "I found nothing relevant to this question in this oracle's documents, so I cannot "
    "answer it from them."
)
HISTORY_TURNS = 6


@dataclass(frozen=True)
class Source:
    """A passage the answer was grounded on."""

    number: int
    chunk_id: UUID
    document_id: UUID
    document_title: str
    chunk_index: int
    score: float
    similarity: float | None
    content: str
    pages: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The form stored in ``messages.sources`` (content left out: the chunk holds it)."""
        return {
            "n": self.number,
            "chunk_id": str(self.chunk_id),
            "document_id": str(self.document_id),
            "document_title": self.document_title,
            "chunk_index": self.chunk_index,
            "pages": list(self.pages),
            "score": self.score,
            "similarity": self.similarity,
        }


@dataclass(frozen=True)
class Answer:
    """One answered (or failed) turn."""

    conversation_id: UUID
    question_message_id: UUID | None
    message_id: UUID | None
    text: str
    sources: tuple[Source, ...]
    input_tokens: int
    output_tokens: int
    tokens_estimated: bool
    model: str
    offline: bool
    latency_ms: int
    cost_usd: Decimal | None
    standalone_question: str
    error: LLMProviderError | None = field(default=None, compare=False)

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def raise_for_error(self) -> None:
        """Raise the provider error, if any (after the caller committed the user message)."""
        if self.error is not None:
            raise self.error


def ask(
    session: Session,
    *,
    oracle_id: UUID,
    session_id: str,
    question: str,
    chat_model: ChatModel,
    embedder: Embedder,
    settings: Settings,
    on_token: OnToken | None = None,
    user_id: str | None = None,
    retrieval: RetrievalConfig | None = None,
) -> Answer:
    """Answer ``question`` in the conversation ``session_id`` of the oracle, and record it.

    Raises:
        InvalidQuestionError: The question is over ``settings.max_question_chars`` or the
            question or session id holds control characters (nothing is recorded).
    """
    question = check_question(question, max_chars=settings.max_question_chars).strip()
    check_session_id(session_id)
    if not question:
        raise UserError("the question is empty: type something to ask")
    started = time.perf_counter()
    oracle = oracle_by_id(session, oracle_id)
    if oracle.status != "active":
        raise UserError(f"oracle {oracle.oracle_name!r} is {oracle.status}, not active")
    require_not_suspended(session, oracle.solution_id)
    conversation_id = _conversation(session, oracle, session_id, user_id, question)
    history = _history(session, conversation_id)
    cfg = retrieval or RetrievalConfig.for_oracle(oracle)
    find = _finder(session, oracle_id, embedder, cfg)
    standalone, rewrite = followup.standalone_question(
        chat_model, history, question, found=lambda q: bool(find(q)), unanswered=NOTHING_RELEVANT
    )
    relevant = find(standalone)
    sources = _sources(relevant)
    system = oracle.system_prompt or DEFAULT_SYSTEM_PROMPT
    # The offline answerer reads no history: it quotes for the standalone question.
    asked = standalone if chat_model.offline else question
    prompt = [*history, ChatTurn("user", context_message(relevant, asked))]
    if sources:
        check_budget(session, oracle, chat_model, settings, prompt_tokens(prompt, system))
    turn = _Turn(oracle, chat_model, conversation_id, standalone, started)
    turn.question_id = _store(session, turn, role="user", content=question)
    try:
        completion = _answer(chat_model, prompt, system, oracle.max_tokens, sources, on_token)
    except LLMProviderError as exc:
        return turn.answer(Completion("", 0, 0, False, chat_model.model), [], error=exc)
    return _record(session, turn, _plus(completion, rewrite), sources, settings, cfg)


@dataclass
class _Turn:
    oracle: Oracle
    chat_model: ChatModel
    conversation_id: UUID
    standalone: str
    started: float
    question_id: UUID | None = None

    def elapsed_ms(self) -> int:
        return round((time.perf_counter() - self.started) * 1000)

    def answer(
        self,
        completion: Completion,
        sources: list[Source],
        *,
        message_id: UUID | None = None,
        cost: Decimal | None = None,
        error: LLMProviderError | None = None,
    ) -> Answer:
        return Answer(
            conversation_id=self.conversation_id,
            question_message_id=self.question_id,
            message_id=message_id,
            text=completion.text,
            sources=tuple(sources),
            input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens,
            tokens_estimated=completion.estimated,
            model=completion.model,
            offline=self.chat_model.offline,
            latency_ms=self.elapsed_ms(),
            cost_usd=cost,
            standalone_question=self.standalone,
            error=error,
        )


def _conversation(
    session: Session, oracle: Oracle, session_id: str, user_id: str | None, question: str
) -> UUID:
    """Get or create the conversation and lock it for this transaction."""
    conversation_id: UUID = session.execute(
        text("SELECT get_or_create_conversation(:o, :s, :sid)"),
        {"o": oracle.id, "s": oracle.solution_id, "sid": session_id},
    ).scalar_one()
    session.execute(
        text(
            "UPDATE conversations SET user_id = COALESCE(user_id, :u),"
            " title = COALESCE(title, left(:q, 80)) WHERE id = :c"
        ),
        {"c": conversation_id, "u": user_id, "q": question},
    )
    return conversation_id


def _history(session: Session, conversation_id: UUID) -> list[ChatTurn]:
    """The last turns of the conversation, oldest first (failed questions left out)."""
    rows = session.execute(
        select(Message.role, Message.content)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.sequence_number.desc())
        .limit(HISTORY_TURNS * 2)
    ).all()
    turns = [ChatTurn("user" if r == "user" else "assistant", c) for r, c in reversed(rows)]
    # Keep strict user/assistant alternation (a failed turn leaves a lone user message).
    kept: list[ChatTurn] = []
    for turn in turns:
        if kept and kept[-1].role == turn.role:
            kept.pop()
        kept.append(turn)
    while kept and kept[0].role != "user":
        kept.pop(0)
    return kept if not kept or kept[-1].role == "assistant" else kept[:-1]


def _finder(
    session: Session, oracle_id: UUID, embedder: Embedder, cfg: RetrievalConfig
) -> Callable[[str], list[Hit]]:
    """Search the oracle for a query and keep the relevant hits (each query searched once)."""
    found: dict[str, list[Hit]] = {}

    def find(query: str) -> list[Hit]:
        if query not in found:
            hits = search(session, oracle_id=oracle_id, query=query, embedder=embedder,
                          config=cfg, max_question_chars=None)  # fmt: skip
            found[query] = [
                h for h in hits.hits if h.similarity is None or h.similarity >= cfg.min_similarity
            ]
        return found[query]

    return find


def _sources(hits: list[Hit]) -> list[Source]:
    return [
        Source(
            n,
            h.chunk_id,
            h.document_id,
            h.filename,
            h.chunk_index,
            h.score,
            h.similarity,
            h.content,
            tuple(h.metadata.get("pages", ())),
        )
        for n, h in enumerate(hits, start=1)
    ]


def context_message(hits: Sequence[Hit], question: str) -> str:
    """The final user message every model sees: the hits as numbered passages, then the question."""
    passages = [
        Passage(n, f"{h.filename}, chunk {h.chunk_index}", h.content)
        for n, h in enumerate(hits, start=1)
    ]
    return format_context(passages, question)


def _answer(
    chat_model: ChatModel,
    prompt: list[ChatTurn],
    system: str,
    max_tokens: int,
    sources: list[Source],
    on_token: OnToken | None,
) -> Completion:
    if not sources:  # say so rather than let a model invent an answer
        if on_token:
            on_token(NOTHING_RELEVANT)
        return Completion(NOTHING_RELEVANT, 0, 0, chat_model.offline, chat_model.model)
    return chat_model.complete(prompt, system=system, max_tokens=max_tokens, on_token=on_token)


def _plus(completion: Completion, rewrite: Completion | None) -> Completion:
    """The answer's usage plus the rewrite call's, if there was one."""
    if rewrite is None:
        return completion
    return Completion(
        completion.text,
        completion.input_tokens + rewrite.input_tokens,
        completion.output_tokens + rewrite.output_tokens,
        completion.estimated or rewrite.estimated,
        completion.model,
    )


def _store(session: Session, turn: _Turn, *, role: str, content: str, **columns: Any) -> UUID:
    sequence = session.execute(
        text("SELECT get_next_message_sequence(:c)"), {"c": turn.conversation_id}
    ).scalar_one()
    message = Message(
        conversation_id=turn.conversation_id,
        oracle_id=turn.oracle.id,
        solution_id=turn.oracle.solution_id,
        role=role,
        content=content,
        sequence_number=sequence,
        **columns,
    )
    session.add(message)
    session.flush()
    return message.id


def _record(
    session: Session,
    turn: _Turn,
    completion: Completion,
    sources: list[Source],
    settings: Settings,
    cfg: RetrievalConfig,
) -> Answer:
    model = turn.chat_model
    cost = cost_of(
        model.provider,
        completion.model,
        completion.input_tokens,
        completion.output_tokens,
        settings=settings,
    )
    message_id = _store(
        session,
        turn,
        role="assistant",
        content=completion.text,
        sources=[s.to_json() for s in sources],
        input_tokens=completion.input_tokens,
        output_tokens=completion.output_tokens,
        total_tokens=completion.input_tokens + completion.output_tokens,
        tokens_estimated=completion.estimated,
        model_used=completion.model,
        latency_ms=turn.elapsed_ms(),
        cost_usd=cost,
        metadata_={
            "provider": model.provider,
            "offline": model.offline,
            "standalone_question": turn.standalone,
            "retrieval": {"mode": cfg.mode, "k": cfg.k},
        },
    )
    return turn.answer(completion, sources, message_id=message_id, cost=cost)
