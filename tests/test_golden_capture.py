"""Golden questions from chat answers: judged sources saved into a set (core and Chat page);
a viewer gets no form and the database refuses their save."""

import uuid
from decimal import Decimal
from hashlib import sha256

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from supercore_core import admin_session, tenant_session
from supercore_core.db.sessions import sessions_for_person
from supercore_core.errors import RoleError, UserError
from supercore_core.golden import (
    JudgedSource,
    golden_set_by_name,
    questions_of,
    save_answer_as_golden,
)
from supercore_core.golden.sets import judgements_of
from supercore_core.models import Solution
from supercore_core.people import add_person, grant
from tests.factories import (
    make_conversation,
    make_document,
    make_message,
    make_oracle,
    make_solution,
    unique_slug,
)
from tests.test_app_pages import APP, TIMEOUT, app_env, assert_rendered

__all__ = ["app_env"]
QUESTION = "What did the turbine produce in May?"


def chatted(owner_engine: Engine) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    """A tenant whose oracle answered QUESTION citing two documents (one twice)."""
    with Session(owner_engine) as session, session.begin():
        solution = make_solution(session)
        make_oracle(session, solution, oracle_name="rag-global", oracle_type="rag_global")
        oracle = make_oracle(session, solution, oracle_name="reports")
        docs = [
            make_document(session, oracle, filename=n, content_hash=sha256(n.encode()).hexdigest())
            for n in ("turbine.pdf", "weather.txt")
        ]
        conversation = make_conversation(session, oracle, session_id=unique_slug("chat"))
        make_message(session, conversation, content=QUESTION)
        sources = [{"n": n, "chunk_id": str(uuid.uuid4()), "document_id": str(doc.id),
                    "document_title": doc.filename, "chunk_index": n, "pages": [n],
                    "score": 0.03, "similarity": 0.6} for n, doc in
                   ((1, docs[0]), (2, docs[1]), (3, docs[0]))]  # fmt: skip
        make_message(session, conversation, role="assistant", sequence_number=2,
                     content="It produced 4 MW [1].", sources=sources, total_tokens=10,
                     input_tokens=8, output_tokens=2, cost_usd=Decimal(0), model_used="m",
                     latency_ms=5)  # fmt: skip
        return solution.id, oracle.id, [d.id for d in docs]


def grades(sessions: sessionmaker[Session], solution_id: uuid.UUID, oracle_id: uuid.UUID,
           name: str) -> tuple[list[str], dict[uuid.UUID, int], str | None]:  # fmt: skip
    with tenant_session(sessions, solution_id=solution_id) as session:
        golden = golden_set_by_name(session, oracle_id, name)
        questions = questions_of(session, golden.id)
        judged = judgements_of(session, [q.id for q in questions])
        draft = questions[0].reference_answer if questions[0].reference_is_draft else None
        return [q.question for q in questions], {j.document_id: j.grade for j in judged}, draft


def test_an_answer_saved_twice_is_one_question_with_one_judgement_per_document(
    owner_engine: Engine, app_sessions: sessionmaker[Session]
) -> None:
    solution_id, oracle_id, (turbine, weather) = chatted(owner_engine)
    judged = [JudgedSource(turbine, False, 1), JudgedSource(weather, False, 2),
              JudgedSource(turbine, True, 3)]  # fmt: skip
    for answer in ("draft one", "It produced 4 MW [1]."):
        with tenant_session(app_sessions, solution_id=solution_id) as session:
            save_answer_as_golden(session, oracle_id=oracle_id, set_name=" from-chat ",
                                  question=QUESTION, answer=answer, judged=judged)  # fmt: skip

    questions, by_document, draft = grades(app_sessions, solution_id, oracle_id, "from-chat")
    assert questions == [QUESTION]
    assert by_document == {turbine: 1, weather: 0}  # relevant when any passage is
    assert draft == "It produced 4 MW [1]."


@pytest.mark.parametrize(("set_name", "message"), [("  ", "needs a name")])
def test_a_blank_set_name_is_refused(
    owner_engine: Engine, app_sessions: sessionmaker[Session], set_name: str, message: str
) -> None:
    solution_id, oracle_id, docs = chatted(owner_engine)
    with (
        pytest.raises(UserError, match=message),
        tenant_session(app_sessions, solution_id=solution_id) as session,
    ):
        save_answer_as_golden(session, oracle_id=oracle_id, set_name=set_name, question=QUESTION,
                              answer="a", judged=[JudgedSource(docs[0], True)])  # fmt: skip


def test_a_document_of_another_oracle_is_refused(
    owner_engine: Engine, app_sessions: sessionmaker[Session]
) -> None:
    solution_id, oracle_id, _ = chatted(owner_engine)
    with Session(owner_engine) as session, session.begin():
        other = make_oracle(session, session.get_one(Solution, solution_id), oracle_name="other")
        elsewhere = make_document(session, other, filename="elsewhere.txt").id
    with (
        pytest.raises(UserError),
        tenant_session(app_sessions, solution_id=solution_id) as session,
    ):
        save_answer_as_golden(session, oracle_id=oracle_id, set_name="s", question=QUESTION,
                              answer="a", judged=[JudgedSource(elsewhere, True)])  # fmt: skip


def test_a_viewer_cannot_save_even_through_the_library(
    owner_engine: Engine, admin_sessions: sessionmaker[Session]
) -> None:
    solution_id, oracle_id, docs = chatted(owner_engine)
    with admin_session(admin_sessions, reason="test: capture viewer") as session:
        subject = unique_slug("viewer")
        viewer = add_person(session, oidc_subject=subject, email=f"{subject}@x.test",
                            display_name="Viewer")  # fmt: skip
        grant(session, person_id=viewer.id, solution_id=solution_id, role="viewer")
    as_viewer = sessions_for_person(admin_sessions, viewer.id)
    with (
        pytest.raises(RoleError, match="viewer"),
        tenant_session(as_viewer, solution_id=solution_id) as session,
    ):
        save_answer_as_golden(session, oracle_id=oracle_id, set_name="s", question=QUESTION,
                              answer="a", judged=[JudgedSource(docs[0], True)])  # fmt: skip


def test_the_chat_page_saves_an_answer_into_a_golden_set(
    app_env: None, owner_engine: Engine, app_sessions: sessionmaker[Session]
) -> None:
    solution_id, oracle_id, (turbine, weather) = chatted(owner_engine)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["tenant_id"] = solution_id
    at.run()
    at.switch_page("pages/chat.py").run()
    next(b for b in at.button if b.label == QUESTION).click().run()
    assert_rendered(at)
    boxes = {c.label: c for c in at.checkbox}
    assert list(boxes) == ["[1] turbine.pdf · page 1", "[2] weather.txt · page 2",
                           "[3] turbine.pdf · page 3"]  # fmt: skip
    boxes["[2] weather.txt · page 2"].uncheck()
    next(b for b in at.button if b.label == "Save question").click().run()

    assert_rendered(at)
    assert any("saved to golden set from-chat as q1: 2 relevant of 3" in t.value
               for t in at.toast)  # fmt: skip
    _, by_document, draft = grades(app_sessions, solution_id, oracle_id, "from-chat")
    assert by_document == {turbine: 1, weather: 0}
    assert draft == "It produced 4 MW [1]."
