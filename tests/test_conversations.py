"""Reading conversations back, as the app login (RLS: only the tenant's own)."""

from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import Settings, tenant_session
from supercore_core.chat import ask
from supercore_core.conversations import conversation_messages, list_conversations
from supercore_core.llm import OfflineAnswerer
from tests.factories import make_chunk, make_document, make_oracle, make_solution
from tests.fakes import HashingEmbedder


def _tenant(owner_engine: Engine) -> tuple[Any, Any]:
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session))
        document = make_document(session, oracle, status="completed", chunk_count=1)
        text = "The lighthouse keeper logs every passing ship."
        make_chunk(session, document, content=text, embedding=HashingEmbedder().vector(text))
        return oracle.solution_id, oracle.id


def test_conversations_and_messages_read_back(
    owner_engine: Engine, app_sessions: sessionmaker[Session], settings: Settings
) -> None:
    solution_id, oracle_id = _tenant(owner_engine)
    other_solution_id, other_oracle_id = _tenant(owner_engine)
    for session_id, question in [("a", "Who logs ships?"), ("b", "What does the keeper log?"),
                                 ("a", "Every ship?")]:  # fmt: skip
        with tenant_session(app_sessions, solution_id=solution_id) as session:
            ask(
                session, oracle_id=oracle_id, session_id=session_id, question=question,
                chat_model=OfflineAnswerer(), embedder=HashingEmbedder(), settings=settings,
            )  # fmt: skip

    with tenant_session(app_sessions, solution_id=solution_id) as session:
        conversations = list_conversations(session, oracle_id=oracle_id)
        messages = conversation_messages(session, oracle_id=oracle_id, session_id="a")
    with tenant_session(app_sessions, solution_id=other_solution_id) as session:
        foreign = list_conversations(session, oracle_id=oracle_id)
        foreign_messages = conversation_messages(session, oracle_id=oracle_id, session_id="a")

    assert [c.session_id for c in conversations] == ["a", "b"]  # most recent first
    assert conversations[0].message_count == 4 and conversations[0].title == "Who logs ships?"
    assert conversations[0].total_cost_usd == Decimal(0)
    assert [(m.sequence_number, m.role) for m in messages] == [
        (1, "user"), (2, "assistant"), (3, "user"), (4, "assistant")]  # fmt: skip
    assert messages[1].sources[0]["n"] == 1 and messages[1].tokens_estimated
    assert foreign == [] and foreign_messages == []  # another tenant sees nothing
    assert other_oracle_id != oracle_id


def test_an_unknown_session_has_no_messages(
    owner_engine: Engine, app_sessions: sessionmaker[Session]
) -> None:
    solution_id, oracle_id = _tenant(owner_engine)

    with tenant_session(app_sessions, solution_id=solution_id) as session:
        assert conversation_messages(session, oracle_id=oracle_id, session_id="nope") == []
        assert list_conversations(session, oracle_id=oracle_id) == []
