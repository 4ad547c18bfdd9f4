"""The seed's SQL helper functions: behaviour and bad inputs, as the application role."""

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.factories import make_conversation, make_oracle, make_solution


@pytest.fixture(scope="module")
def tenant(owner_engine: Engine) -> dict[str, uuid.UUID]:
    with Session(owner_engine) as session, session.begin():
        solution = make_solution(session, name="Helper Corp")
        oracle = make_oracle(session, solution)
        conversation = make_conversation(session, oracle)
        return {"sid": solution.id, "oid": oracle.id, "cid": conversation.id}


@pytest.fixture
def conn(app_login_url: str, tenant: dict[str, uuid.UUID]) -> Iterator[psycopg.Connection]:
    """The application login in the tenant's context; everything is rolled back."""
    with psycopg.connect(app_login_url) as connection:
        connection.execute("SELECT set_current_solution(%s)", (tenant["sid"],))
        yield connection
        connection.rollback()


def one(conn: psycopg.Connection, query: str, *params: object) -> object:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def test_context_functions(conn: psycopg.Connection, tenant: dict[str, uuid.UUID]) -> None:
    assert one(conn, "SELECT current_solution_id()") == tenant["sid"]
    conn.execute("SELECT clear_current_solution()")
    assert one(conn, "SELECT current_solution_id()") is None
    assert one(conn, "SELECT current_user_is_superuser()") is False


def test_set_current_solution_rejects_null(conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.NullValueNotAllowed, match="must not be NULL"):
        conn.execute("SELECT set_current_solution(NULL)")


def test_set_current_solution_rejects_a_non_uuid(conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.InvalidTextRepresentation, match="uuid"):
        conn.execute("SELECT set_current_solution('acme-corp')")


def test_rag_global_oracle_is_created_once(
    conn: psycopg.Connection, tenant: dict[str, uuid.UUID]
) -> None:
    first = one(conn, "SELECT create_rag_global_oracle(%s)", tenant["sid"])
    again = one(conn, "SELECT create_rag_global_oracle(%s)", tenant["sid"])
    assert first == again
    row = conn.execute(
        "SELECT oracle_type, system_prompt FROM oracles WHERE id = %s", (first,)
    ).fetchone()
    assert row is not None and row[0] == "rag_global" and "Helper Corp" in row[1]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        ("SELECT create_rag_global_oracle(NULL)", "must not be NULL"),
        ("SELECT create_rag_global_oracle(gen_random_uuid())", "no access to solution"),
        ("SELECT get_or_create_conversation(NULL, current_solution_id(), 's')", "are required"),
        (
            "SELECT get_or_create_conversation(gen_random_uuid(), current_solution_id(), 's')",
            "not found",
        ),
        ("SELECT get_next_message_sequence(NULL)", "must not be NULL"),
        ("SELECT get_next_message_sequence(gen_random_uuid())", "not found"),
        ("SELECT create_workflow_tracking(NULL, 'T', '{}', current_solution_id())", "are required"),
        ("SELECT create_workflow_tracking('w', 'T', '{}', NULL)", "must not be NULL"),
        ("SELECT update_workflow_progress('no-such-workflow', 'x', 1, 2)", "not found"),
        ("SELECT complete_workflow('no-such-workflow', '{}')", "not found"),
        ("SELECT fail_workflow('no-such-workflow', 'why')", "not found"),
    ],
)
def test_bad_input_gives_a_clear_error(conn: psycopg.Connection, call: str, error: str) -> None:
    with pytest.raises(psycopg.Error, match=error):
        conn.execute(call)


def test_blank_session_id_is_refused(
    conn: psycopg.Connection, tenant: dict[str, uuid.UUID]
) -> None:
    with pytest.raises(psycopg.errors.NullValueNotAllowed, match="are required"):
        conn.execute(
            "SELECT get_or_create_conversation(%s, %s, '  ')", (tenant["oid"], tenant["sid"])
        )


def test_get_or_create_conversation_is_idempotent(
    conn: psycopg.Connection, tenant: dict[str, uuid.UUID]
) -> None:
    call = "SELECT get_or_create_conversation(%s, %s, %s)"
    first = one(conn, call, tenant["oid"], tenant["sid"], "session-1")
    assert one(conn, call, tenant["oid"], tenant["sid"], "session-1") == first
    assert one(conn, call, tenant["oid"], tenant["sid"], "session-2") != first


def test_next_message_sequence_counts_up(
    conn: psycopg.Connection, tenant: dict[str, uuid.UUID]
) -> None:
    insert = (
        "INSERT INTO messages"
        " (conversation_id, oracle_id, solution_id, role, content, sequence_number)"
        " VALUES (%s, %s, %s, 'user', 'hi', get_next_message_sequence(%s))"
        " RETURNING sequence_number"
    )
    args = (tenant["cid"], tenant["oid"], tenant["sid"], tenant["cid"])
    assert [one(conn, insert, *args) for _ in range(3)] == [1, 2, 3]
    assert one(conn, "SELECT message_count FROM conversations WHERE id = %s", tenant["cid"]) == 3


def test_workflow_lifecycle(conn: psycopg.Connection, tenant: dict[str, uuid.UUID]) -> None:
    wid = f"wf-{uuid.uuid4().hex}"
    conn.execute(
        "SELECT create_workflow_tracking(%s, 'Ingest', '{\"n\": 1}', %s, %s)",
        (wid, tenant["sid"], tenant["oid"]),
    )
    conn.execute("SELECT update_workflow_progress(%s, 'embed', 3, 4)", (wid,))
    row = conn.execute(
        "SELECT status, current_step, progress_percent FROM temporal_workflows"
        " WHERE workflow_id = %s",
        (wid,),
    ).fetchone()
    assert row is not None and (row[0], row[1], float(row[2])) == ("running", "embed", 75.0)
    conn.execute("SELECT complete_workflow(%s, '{\"chunks\": 4}')", (wid,))
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="already completed"):
        conn.execute("SELECT fail_workflow(%s, 'late')", (wid,))


@pytest.mark.parametrize(("done", "total"), [(5, 4), (-1, 4), (1, 0), (1, None)])
def test_workflow_progress_must_be_sane(
    conn: psycopg.Connection, tenant: dict[str, uuid.UUID], done: int, total: int | None
) -> None:
    wid = f"wf-{uuid.uuid4().hex}"
    conn.execute("SELECT create_workflow_tracking(%s, 'Ingest', '{}', %s)", (wid, tenant["sid"]))
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="invalid progress"):
        conn.execute("SELECT update_workflow_progress(%s, 'x', %s, %s)", (wid, done, total))


def test_fail_workflow_records_the_reason(
    conn: psycopg.Connection, tenant: dict[str, uuid.UUID]
) -> None:
    wid = f"wf-{uuid.uuid4().hex}"
    conn.execute("SELECT create_workflow_tracking(%s, 'Ingest', '{}', %s)", (wid, tenant["sid"]))
    with pytest.raises(psycopg.errors.NullValueNotAllowed), conn.transaction():
        conn.execute("SELECT fail_workflow(%s, '')", (wid,))
    conn.execute("SELECT fail_workflow(%s, 'pdf is encrypted')", (wid,))
    row = conn.execute(
        "SELECT status, error_message, completed_at IS NOT NULL FROM temporal_workflows"
        " WHERE workflow_id = %s",
        (wid,),
    ).fetchone()
    assert row == ("failed", "pdf is encrypted", True)


def test_superuser_mode_needs_admin_membership(conn: psycopg.Connection) -> None:
    with pytest.raises(
        psycopg.errors.InsufficientPrivilege, match="not a member of supercore_admin"
    ):
        conn.execute("SELECT enable_superuser_mode()")
