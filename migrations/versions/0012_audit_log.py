"""Append-only audit log of every use of superuser mode (who, when, what for).

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE audit_log (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at      timestamptz NOT NULL DEFAULT now(),
    session_user_name text NOT NULL DEFAULT session_user,
    current_user_name text NOT NULL DEFAULT current_user,
    action           text NOT NULL DEFAULT 'superuser_mode',
    reason           text NOT NULL,
    solution_id      uuid,
    application_name text DEFAULT current_setting('application_name', true),
    client_addr      inet DEFAULT inet_client_addr(),
    backend_pid      integer DEFAULT pg_backend_pid(),
    CONSTRAINT pk_audit_log PRIMARY KEY (id),
    CONSTRAINT ck_audit_log_reason CHECK (length(btrim(reason)) BETWEEN 1 AND 1000),
    CONSTRAINT ck_audit_log_action CHECK (action ~ '^[a-z_]{1,64}$')
);
COMMENT ON TABLE audit_log IS 'Append-only record of every use of superuser mode: who (session and current user), when, what for, optionally which tenant. No foreign key: entries outlive the tenants they mention.';
COMMENT ON INDEX pk_audit_log IS 'One entry by id; ids grow with time (identity).';
CREATE INDEX idx_audit_log_occurred ON audit_log (occurred_at DESC);
COMMENT ON INDEX idx_audit_log_occurred IS 'Newest entries first (dashboard overview, supercore audit).';
CREATE INDEX idx_audit_log_solution ON audit_log (solution_id, occurred_at DESC)
    WHERE solution_id IS NOT NULL;
COMMENT ON INDEX idx_audit_log_solution IS 'Entries about one tenant, newest first (a tenant reads its own).';

-- Append-only, even for the owner: UPDATE, DELETE and TRUNCATE are refused unless a
-- superuser (or the owner) opts in for one transaction with
-- SET LOCAL supercore.audit_maintenance = 'on' (retention pruning, by hand, on purpose).
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF COALESCE(current_setting('supercore.audit_maintenance', true), '') = 'on'
       AND EXISTS (SELECT 1 FROM pg_roles r JOIN pg_class c ON c.oid = TG_RELID
                   WHERE r.rolname = current_user
                     AND (r.rolsuper OR pg_has_role(current_user, c.relowner, 'USAGE'))) THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit entries are never changed or removed';
END $$;
ALTER FUNCTION audit_log_refuse_change() SET search_path = pg_catalog, public, pg_temp;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
-- A tenant reads the entries about itself; superuser mode reads all.
CREATE POLICY tenant_isolation ON audit_log AS PERMISSIVE FOR SELECT TO PUBLIC
    USING (solution_id = (SELECT current_solution_id()) OR (SELECT current_user_is_superuser()));
-- Only superuser mode writes, and only the truth about who and when.
CREATE POLICY audit_insert ON audit_log AS PERMISSIVE FOR INSERT TO PUBLIC
    WITH CHECK ((SELECT current_user_is_superuser())
                AND session_user_name = session_user
                AND current_user_name = current_user
                AND occurred_at = now());
GRANT SELECT ON audit_log TO supercore_app;
GRANT SELECT, INSERT ON audit_log TO supercore_admin;
"""

DOWNGRADE = r"""
DROP TABLE audit_log;
DROP FUNCTION audit_log_refuse_change();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
