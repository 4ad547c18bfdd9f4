"""The seed README's "Common Queries" run exactly as written (placeholder ids aside)."""

import re
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

SEED_SQL = Path(__file__).parent / "data" / "seed_common_queries.sql"


def _blocks() -> dict[str, list[str]]:
    blocks: dict[str, list[str]] = {}
    for part in SEED_SQL.read_text().split("-- @block ")[1:]:
        title, _, body = part.partition("\n")
        statements = [s.strip() for s in re.split(r";\s*\n", body) if s.strip()]
        blocks[title] = [s for s in statements if not s.startswith("--") or "\n" in s]
    return blocks


def _run(
    conn: psycopg.Connection,
    statements: list[str],
    ids: dict[str, str],
    learn: dict[int, tuple[str, ...]] | None = None,
) -> list[object]:
    """Run like psql, one statement at a time, filling in the ids learnt so far.

    ``learn`` maps a statement's position to the placeholders its result stands for.
    """
    results: list[object] = []
    for position, statement in enumerate(statements):
        for placeholder, value in ids.items():
            statement = statement.replace(f"'{placeholder}'", f"'{value}'")
        cursor = conn.execute(statement.encode())
        result = cursor.fetchone()[0] if cursor.description else None  # type: ignore[index]
        results.append(result)
        ids.update(dict.fromkeys((learn or {}).get(position, ()), str(result)))
    return results


def test_common_queries_run_as_written(database_url: str, app_login_url: str) -> None:
    blocks = _blocks()
    assert len(blocks) == 5
    ids: dict[str, str] = {}
    # Creating a tenant is administration: the migrating owner runs it, as in the seed.
    with psycopg.connect(database_url, autocommit=True) as owner:
        _, rag_oracle = _run(
            owner,
            blocks["Creating a Solution with RAG Global Oracle"],
            ids,
            learn={0: ("returned-solution-uuid", "solution-uuid")},
        )
    # Everything after set_current_solution() runs as the application role, under RLS.
    with psycopg.connect(app_login_url, autocommit=True) as app:
        _run(app, blocks["Creating an Oracle"], ids, learn={1: ("oracle-uuid",)})
        _run(app, blocks["Uploading a Document"], ids, learn={1: ("document-uuid",)})
        conversation = blocks["Creating Conversation and Messages"]
        _run(app, conversation, ids, learn={1: ("conversation-uuid",)})
        _run(app, blocks["Tracking Workflows"], ids)
        _assert_results(app, ids, rag_oracle)


def _assert_results(app: psycopg.Connection, ids: dict[str, str], rag_oracle: object) -> None:
    cur = app.cursor(row_factory=dict_row)
    messages = cur.execute(
        "SELECT role, sequence_number, total_tokens FROM messages WHERE conversation_id = %s"
        " ORDER BY sequence_number",
        (ids["conversation-uuid"],),
    ).fetchall()
    assert [(m["role"], m["sequence_number"]) for m in messages] == [("user", 1), ("assistant", 2)]
    conv = cur.execute(
        "SELECT message_count, total_tokens FROM conversations WHERE id = %s",
        (ids["conversation-uuid"],),
    ).fetchone()
    assert conv == {"message_count": 2, "total_tokens": 500}
    workflow = cur.execute(
        "SELECT status, progress_percent, output_data, document_id::text FROM temporal_workflows"
        " WHERE workflow_id = 'process-doc-001'"
    ).fetchone()
    assert workflow is not None
    assert (workflow["status"], float(workflow["progress_percent"])) == ("completed", 100.0)
    assert workflow["output_data"] == {"chunks_created": 42, "embeddings_generated": 42}
    assert workflow["document_id"] == ids["document-uuid"]
    oracles = cur.execute(
        "SELECT id::text, oracle_type FROM oracles ORDER BY oracle_type"
    ).fetchall()
    assert [(o["id"], o["oracle_type"]) for o in oracles] == [
        (ids["oracle-uuid"], "domain"),
        (str(rag_oracle), "rag_global"),
    ]
