"""Row-level security on all seven tables, and the roles' grants (seed goose 009).

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "oracles",
    "documents",
    "document_chunks",
    "conversations",
    "messages",
    "temporal_workflows",
)
ALL_TABLES = ("solutions", *TENANT_TABLES)
HELPERS = (
    "set_current_solution(uuid)",
    "clear_current_solution()",
    "current_solution_id()",
    "current_user_is_superuser()",
    "enable_superuser_mode()",
    "disable_superuser_mode()",
    "assert_solution_access(uuid)",
    "create_rag_global_oracle(uuid)",
    "get_or_create_conversation(uuid, uuid, text)",
    "get_next_message_sequence(uuid)",
    "create_workflow_tracking(text, text, jsonb, uuid, uuid, uuid)",
    "workflow_for_update(text)",
    "update_workflow_progress(text, text, integer, integer)",
    "complete_workflow(text, jsonb)",
    "fail_workflow(text, text)",
)

# (SELECT f()) makes each function an init-plan evaluated once per query, not per row.
_TENANT_CHECK = "{column} = (SELECT current_solution_id()) OR (SELECT current_user_is_superuser())"


def _policy(table: str, column: str) -> str:
    check = _TENANT_CHECK.format(column=column)
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {table} AS PERMISSIVE FOR ALL TO PUBLIC
    USING ({check}) WITH CHECK ({check});
"""


TRIGGER_FUNCTIONS = ("update_updated_at_column()", "messages_update_conversation_counters()")

# Hardening found by an attacker review: temp tables in pg_temp shadow public tables
# (for the helpers and for the next tenant on a pooled connection), and
# pg_stat_statements shows every tenant's statements to anyone.
HARDEN = """
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    -- Bulk loads stage rows in a temp table (COPY cannot write to an RLS table). Pooled
    -- connections run DISCARD TEMP on check-in, and the helpers pin their search_path.
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO supercore_app', current_database());
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') THEN
        REVOKE ALL ON pg_stat_statements, pg_stat_statements_info FROM PUBLIC;
        GRANT SELECT ON pg_stat_statements, pg_stat_statements_info TO pg_read_all_stats;
        GRANT pg_read_all_stats TO supercore_admin;
    END IF;
END $$;
"""
UNHARDEN = """
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM supercore_app', current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') THEN
        GRANT SELECT ON pg_stat_statements, pg_stat_statements_info TO PUBLIC;
    END IF;
END $$;
"""


def upgrade() -> None:
    op.execute(_policy("solutions", "id"))
    for table in TENANT_TABLES:
        op.execute(_policy(table, "solution_id"))
    op.execute("GRANT USAGE ON SCHEMA public TO supercore_app, supercore_admin")
    # A tenant may read its solution row and edit its descriptive columns; status, slug and
    # settings (plan, limits), creating and deleting tenants are admin work.
    op.execute(
        "GRANT SELECT, UPDATE (name, description, industry, metadata) ON solutions TO supercore_app"
    )
    op.execute(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(TENANT_TABLES)} TO supercore_app"
    )
    op.execute(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(ALL_TABLES)} TO supercore_admin"
    )
    op.execute(f"GRANT EXECUTE ON FUNCTION {', '.join(HELPERS)} TO supercore_app, supercore_admin")
    for function in (*HELPERS, *TRIGGER_FUNCTIONS):
        op.execute(f"ALTER FUNCTION {function} SET search_path = pg_catalog, public, pg_temp")
    op.execute(HARDEN)


def downgrade() -> None:
    op.execute(UNHARDEN)
    for function in (*HELPERS, *TRIGGER_FUNCTIONS):
        op.execute(f"ALTER FUNCTION {function} RESET search_path")
    op.execute(
        f"REVOKE EXECUTE ON FUNCTION {', '.join(HELPERS)} FROM supercore_app, supercore_admin"
    )
    op.execute(f"REVOKE ALL ON {', '.join(ALL_TABLES)} FROM supercore_app, supercore_admin")
    op.execute("REVOKE USAGE ON SCHEMA public FROM supercore_app, supercore_admin")
    for table in ALL_TABLES:
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
