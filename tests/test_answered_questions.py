"""answered_questions: the tenant's answered questions, newest first, under RLS."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import tenant_session
from supercore_core.conversations import AskedQuestion, answered_questions
from supercore_core.models import Oracle
from tests.factories import make_conversation, make_message, make_oracle, make_solution


def conversation(session: Session, oracle: Oracle, turns: list[tuple[str, str]]) -> str:
    """A conversation with ``turns`` of (role, content), a minute apart; its session id."""
    row = make_conversation(session, oracle)
    start = datetime.now(UTC) - timedelta(hours=1)
    for n, (role, content) in enumerate(turns, start=1):
        make_message(session, row, role=role, content=content, sequence_number=n,
                     created_at=start + timedelta(minutes=n))  # fmt: skip
    return row.session_id


def test_answered_questions_newest_first_distinct_and_only_the_tenants(
    owner_engine: Engine, app_sessions: sessionmaker[Session]
) -> None:
    with Session(owner_engine) as session, session.begin():
        mine = make_solution(session)
        finance, legal = make_oracle(session, mine), make_oracle(session, mine)
        other = make_oracle(session, make_solution(session))
        first = conversation(session, finance, [
            ("user", "Revenue?"), ("assistant", "Up [1]."),
            ("user", "Costs?"), ("assistant", "Down [1]."),
            ("user", "Never answered?"),
        ])  # fmt: skip
        conversation(session, legal, [("user", "Revenue?"), ("assistant", "Legal view.")])
        conversation(session, other, [("user", "Foreign secret?"), ("assistant", "No.")])
        ids = mine.id, finance.id, legal.id

    with tenant_session(app_sessions, solution_id=ids[0]) as session:
        found = answered_questions(session, limit=10)

    asked = [(q.question, q.oracle_id) for q in found]
    assert ("Never answered?", ids[1]) not in asked  # the last question got no answer
    assert all("Foreign" not in q for q, _ in asked)  # another tenant's: invisible
    assert sorted(asked) == sorted([("Revenue?", ids[1]), ("Costs?", ids[1]),
                                    ("Revenue?", ids[2])])  # fmt: skip
    assert asked[0] == ("Costs?", ids[1])  # asked last (minute 3 of its conversation)
    costs = found[0]
    assert costs.session_id == first and costs.oracle_name
    assert len(answered_questions_limited(app_sessions, ids[0])) == 1


def answered_questions_limited(
    sessions: sessionmaker[Session], solution_id: uuid.UUID
) -> list[AskedQuestion]:
    with tenant_session(sessions, solution_id=solution_id) as session:
        return answered_questions(session, limit=1)
