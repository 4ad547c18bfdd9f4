"""get_next_message_sequence under contention: 20 writers, one conversation."""

import threading
import uuid

import psycopg
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.factories import make_conversation, make_oracle, make_solution

WRITERS = 20
INSERT = (
    "INSERT INTO messages (conversation_id, oracle_id, solution_id, role, content, sequence_number)"
    " VALUES (%(c)s, %(o)s, %(s)s, 'user', %(text)s, (SELECT get_next_message_sequence(%(c)s)))"
)


def test_twenty_concurrent_writers_get_gapless_unique_sequences(
    owner_engine: Engine, app_login_url: str
) -> None:
    with Session(owner_engine) as session, session.begin():
        conversation = make_conversation(session, make_oracle(session, make_solution(session)))
        ids = {"c": conversation.id, "o": conversation.oracle_id, "s": conversation.solution_id}
    connections = [psycopg.connect(app_login_url) for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(conn: psycopg.Connection, n: int) -> None:
        try:
            with conn.transaction():
                conn.execute(
                    "SELECT set_config('app.current_solution_id', %s, true)", (str(ids["s"]),)
                )
                start.wait(timeout=30)
                conn.execute(INSERT, ids | {"text": f"writer {n} {uuid.uuid4()}"})
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(c, n)) for n, c in enumerate(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for conn in connections:
        conn.close()

    assert errors == []
    with psycopg.connect(app_login_url) as conn:
        conn.execute("SELECT set_current_solution(%s)", (ids["s"],))
        sequences = [
            r[0]
            for r in conn.execute(
                "SELECT sequence_number FROM messages WHERE conversation_id = %s ORDER BY 1",
                (ids["c"],),
            )
        ]
        count = conn.execute("SELECT message_count FROM conversations WHERE id = %s", (ids["c"],))
        assert count.fetchone() == (WRITERS,)
    assert sequences == list(range(1, WRITERS + 1))
