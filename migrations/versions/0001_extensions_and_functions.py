"""Extensions, roles and tenant-context functions (seed goose 001).

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

DO $$
DECLARE ext text;
BEGIN
    FOREACH ext IN ARRAY ARRAY['uuid-ossp', 'pgcrypto', 'pg_stat_statements'] LOOP
        IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = ext) THEN
            EXECUTE format('CREATE EXTENSION IF NOT EXISTS %I', ext);
        END IF;
    END LOOP;
END $$;

-- Group roles (cluster-wide, created once). supercore_app: tenant work under RLS.
-- supercore_admin: cross-tenant administration through superuser mode. Neither bypasses RLS.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supercore_app') THEN
        CREATE ROLE supercore_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supercore_admin') THEN
        CREATE ROLE supercore_admin NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END $$;
GRANT supercore_app TO supercore_admin;

CREATE FUNCTION update_updated_at_column() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

-- Seed semantics: session-level context, for psql and admin tools. The Python core sets
-- the same setting transaction-locally instead (supercore_core.db.sessions).
CREATE FUNCTION set_current_solution(p_solution_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_solution_id IS NULL THEN
        RAISE EXCEPTION 'set_current_solution: solution id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'use clear_current_solution() to remove the context';
    END IF;
    PERFORM set_config('app.current_solution_id', p_solution_id::text, false);
END $$;

CREATE FUNCTION clear_current_solution() RETURNS void
LANGUAGE sql AS $$
    SELECT set_config('app.current_solution_id', '', false);
$$;

CREATE FUNCTION current_solution_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT NULLIF(current_setting('app.current_solution_id', true), '')::uuid;
$$;

-- Superuser mode depends on membership of supercore_admin, never on the setting alone:
-- anyone can SET app.superuser_mode, but it grants nothing without the membership.
CREATE FUNCTION current_user_is_superuser() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(current_setting('app.superuser_mode', true), 'off') = 'on'
       AND pg_has_role(current_user, 'supercore_admin', 'MEMBER');
$$;

CREATE FUNCTION enable_superuser_mode() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_has_role(current_user, 'supercore_admin', 'MEMBER') THEN
        RAISE EXCEPTION 'permission denied: % is not a member of supercore_admin', current_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('app.superuser_mode', 'on', false);
END $$;

CREATE FUNCTION disable_superuser_mode() RETURNS void
LANGUAGE sql AS $$
    SELECT set_config('app.superuser_mode', 'off', false);
$$;

-- Shared guard for the helper functions: the caller must be in p_solution_id's context,
-- in superuser mode, or a role that bypasses RLS anyway (superuser / BYPASSRLS).
CREATE FUNCTION assert_solution_access(p_solution_id uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_solution_id IS NULL THEN
        RAISE EXCEPTION 'solution id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_solution_id IS NOT DISTINCT FROM current_solution_id()
       OR current_user_is_superuser()
       OR EXISTS (SELECT 1 FROM pg_roles
                  WHERE rolname = current_user AND (rolsuper OR rolbypassrls)) THEN
        RETURN;
    END IF;
    RAISE EXCEPTION 'no access to solution %: the current solution is %',
        p_solution_id, COALESCE(current_solution_id()::text, 'not set')
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'call set_current_solution() with this solution first';
END $$;
"""

DOWNGRADE = r"""
DROP FUNCTION IF EXISTS assert_solution_access(uuid);
DROP FUNCTION IF EXISTS disable_superuser_mode();
DROP FUNCTION IF EXISTS enable_superuser_mode();
DROP FUNCTION IF EXISTS current_user_is_superuser();
DROP FUNCTION IF EXISTS current_solution_id();
DROP FUNCTION IF EXISTS clear_current_solution();
DROP FUNCTION IF EXISTS set_current_solution(uuid);
DROP FUNCTION IF EXISTS update_updated_at_column();
-- Roles are cluster-wide and may serve other databases: they are kept on downgrade.
DROP EXTENSION IF EXISTS pg_trgm;
DROP EXTENSION IF EXISTS vector;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
