"""People, tenant roles (viewer, editor, owner) and platform admins, enforced by PostgreSQL.

A tenant session may carry the signed-in person next to the tenant (transaction-local
``app.current_person_id``). With a person set, ``current_solution_id()`` is NULL unless that
person is active and a member of the tenant (or a platform admin), so every tenant policy
denies; a statement trigger on every tenant table refuses writes the person's role does not
allow, and refuses every write to a suspended tenant (with or without a person). Sessions
without a person keep their behaviour, except that suspended tenants are now read-only.

Membership lookups run in SECURITY DEFINER functions owned by ``supercore_auth``, a role
without login whose only policies read the three new tables: a policy on
``tenant_memberships`` that looked memberships up as the caller would recurse into itself.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Statement-level write guards: the level each table's writes need (see tenant_write_guard).
GUARDED = {
    "solutions": "manage",
    "tenant_memberships": "manage",
    "oracles": "edit",
    "documents": "edit",
    "document_chunks": "edit",
    "temporal_workflows": "edit",
    "embedding_cache": "edit",
    "eval_runs": "edit",
    "eval_results": "edit",
    "golden_sets": "edit",
    "golden_questions": "edit",
    "golden_judgements": "edit",
    "conversations": "chat",
    "messages": "chat",
}
DEFINERS = (
    "person_tenant_role(uuid)",
    "current_person_is_active()",
    "current_person_is_platform_admin()",
    "person_id_for_subject(text)",
    "person_id_for_email(text)",
    "solution_id_for_slug(text)",
    "tenant_memberships_audit()",
)
_PIN = "SET search_path = pg_catalog, public, pg_temp"
_SUPER = "(SELECT current_user_is_superuser())"
_TRUTH = (
    "session_user_name = session_user AND current_user_name = current_user AND occurred_at = now()"
)

ROLE = r"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'supercore_auth') THEN
        CREATE ROLE supercore_auth NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    -- A non-superuser migrator may hand a function only to a role it can become, and that
    -- role needs CREATE on the schema (as if it had created the function itself).
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT supercore_auth TO %I', current_user);
    END IF;
END $$;
GRANT USAGE, CREATE ON SCHEMA public TO supercore_auth;
"""

TABLES = r"""
CREATE TABLE people (
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    oidc_subject  text NOT NULL,
    email         text,
    display_name  text,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_people PRIMARY KEY (id),
    CONSTRAINT uq_people_oidc_subject UNIQUE (oidc_subject),
    CONSTRAINT ck_people_oidc_subject CHECK (length(btrim(oidc_subject)) BETWEEN 1 AND 255),
    CONSTRAINT ck_people_email CHECK (email IS NULL OR email ~ '^[^@[:space:]]+@[^@[:space:]]+$')
);
COMMENT ON TABLE people IS 'People who sign in (OIDC subject, email, display name); inactive people reach nothing.';
COMMENT ON INDEX pk_people IS 'One person by id: the transaction-local app.current_person_id.';
COMMENT ON INDEX uq_people_oidc_subject IS 'Sign-in: the identity provider''s subject to a person.';
CREATE UNIQUE INDEX uq_people_email ON people (lower(email)) WHERE email IS NOT NULL;
COMMENT ON INDEX uq_people_email IS 'One person per email, any case: supercore user grant/revoke by email.';
CREATE TRIGGER update_people_updated_at BEFORE UPDATE ON people
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE tenant_memberships (
    solution_id uuid NOT NULL,
    person_id   uuid NOT NULL,
    role        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_tenant_memberships PRIMARY KEY (solution_id, person_id),
    CONSTRAINT fk_tenant_memberships_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT fk_tenant_memberships_person FOREIGN KEY (person_id)
        REFERENCES people (id) ON DELETE CASCADE,
    CONSTRAINT ck_tenant_memberships_role CHECK (role IN ('viewer', 'editor', 'owner'))
);
COMMENT ON TABLE tenant_memberships IS 'Who may do what in a tenant: viewer (read, chat), editor (also documents, oracles, evaluations), owner (also members and settings).';
COMMENT ON INDEX pk_tenant_memberships IS 'A tenant''s members (Members page); the role check of person_tenant_role.';
CREATE INDEX idx_tenant_memberships_person ON tenant_memberships (person_id, solution_id) INCLUDE (role);
COMMENT ON INDEX idx_tenant_memberships_person IS 'A person''s tenants (the tenant picker, memberships_of); also serves the person foreign key.';
CREATE TRIGGER update_tenant_memberships_updated_at BEFORE UPDATE ON tenant_memberships
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE platform_admins (
    person_id  uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_platform_admins PRIMARY KEY (person_id),
    CONSTRAINT fk_platform_admins_person FOREIGN KEY (person_id)
        REFERENCES people (id) ON DELETE CASCADE
);
COMMENT ON TABLE platform_admins IS 'People who reach the all-tenant pages and superuser mode, and act as owner in every tenant.';
COMMENT ON INDEX pk_platform_admins IS 'Is this person a platform admin (one lookup per query, in the policies).';

ALTER TABLE audit_log ADD COLUMN person_id uuid;
CREATE INDEX idx_audit_log_person ON audit_log (person_id, occurred_at DESC)
    WHERE person_id IS NOT NULL;
COMMENT ON INDEX idx_audit_log_person IS 'What one person did (superuser mode, membership changes), newest first.';
"""

FUNCTIONS = rf"""
CREATE FUNCTION current_person_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE {_PIN} AS $$
    SELECT NULLIF(current_setting('app.current_person_id', true), '')::uuid;
$$;

-- SECURITY DEFINER (owner supercore_auth): they read the three tables past the callers'
-- policies, and answer only about the person in the caller's own setting.
CREATE FUNCTION current_person_is_active() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER {_PIN} AS $$
    SELECT EXISTS (SELECT 1 FROM people WHERE id = current_person_id() AND active);
$$;

CREATE FUNCTION current_person_is_platform_admin() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER {_PIN} AS $$
    SELECT EXISTS (SELECT 1 FROM platform_admins a JOIN people p ON p.id = a.person_id
                   WHERE a.person_id = current_person_id() AND p.active);
$$;

-- The current person's role in a tenant: NULL when inactive or not a member; platform
-- admins act as owner everywhere.
CREATE FUNCTION person_tenant_role(p_solution_id uuid) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER {_PIN} AS $$
    SELECT CASE
        WHEN NOT current_person_is_active() THEN NULL
        WHEN current_person_is_platform_admin() THEN 'owner'
        ELSE (SELECT role FROM tenant_memberships
              WHERE person_id = current_person_id() AND solution_id = p_solution_id)
    END;
$$;

-- Sign-in: the active person with this identity-provider subject, or NULL.
CREATE FUNCTION person_id_for_subject(p_subject text) RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER {_PIN} AS $$
    SELECT id FROM people WHERE oidc_subject = p_subject AND active;
$$;

-- An owner adds a registered person to their tenant by email (people rows of non-members
-- stay invisible to them).
CREATE FUNCTION person_id_for_email(p_email text) RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER {_PIN} AS $$
    SELECT id FROM people WHERE lower(email) = lower(btrim(p_email)) AND active;
$$;

-- A tenant's id by slug for admin logins (the CLI's --tenant) without superuser mode, so
-- routine look-ups stay out of the audit log; tenant-only logins may not call it.
CREATE FUNCTION solution_id_for_slug(p_slug text) RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER {_PIN} AS $$
    SELECT id FROM solutions WHERE slug = p_slug;
$$;

-- Superuser mode for a signed-in person needs a platform admin as well as the login's
-- membership of supercore_admin; without a person it is what it was.
CREATE OR REPLACE FUNCTION current_user_is_superuser() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE {_PIN} AS $$
    SELECT COALESCE(current_setting('app.superuser_mode', true), 'off') = 'on'
       AND pg_has_role(current_user, 'supercore_admin', 'MEMBER')
       AND (current_person_id() IS NULL OR current_person_is_platform_admin());
$$;

CREATE OR REPLACE FUNCTION current_solution_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE {_PIN} AS $$
    SELECT CASE WHEN current_person_id() IS NULL OR person_tenant_role(s.id) IS NOT NULL
                THEN s.id END
    FROM (SELECT NULLIF(current_setting('app.current_solution_id', true), '')::uuid AS id) s;
$$;

-- The role a tenant session acts with: a session without a person keeps the login's full
-- tenant rights (CLI, notebooks); NULL outside any tenant or for a non-member.
CREATE FUNCTION current_tenant_role() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE {_PIN} AS $$
    SELECT CASE
        WHEN s.id IS NULL THEN NULL
        WHEN current_person_id() IS NULL THEN 'owner'
        ELSE person_tenant_role(s.id)
    END
    FROM (SELECT NULLIF(current_setting('app.current_solution_id', true), '')::uuid AS id) s;
$$;

CREATE FUNCTION tenant_write_guard() RETURNS trigger
LANGUAGE plpgsql {_PIN} AS $$
DECLARE
    tenant uuid := NULLIF(current_setting('app.current_solution_id', true), '')::uuid;
    need text := CASE WHEN TG_OP = 'DELETE' AND TG_ARGV[0] = 'chat' THEN 'edit'
                      ELSE TG_ARGV[0] END;
    acting text;
BEGIN
    IF tenant IS NULL OR current_user_is_superuser() THEN
        RETURN NULL;  -- the row policies decide (they refuse everything without a tenant)
    END IF;
    acting := current_tenant_role();
    IF acting IS NULL THEN
        RAISE EXCEPTION 'permission denied: the signed-in person is not a member of tenant %', tenant
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'an owner of the tenant or a platform admin can grant access';
    END IF;
    IF (need = 'edit' AND acting = 'viewer') OR (need = 'manage' AND acting <> 'owner') THEN
        RAISE EXCEPTION 'permission denied: the % role may not change % in this tenant',
            acting, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege',
                  HINT = CASE need WHEN 'edit' THEN 'it takes the editor or owner role'
                                   ELSE 'it takes the owner role' END;
    END IF;
    IF EXISTS (SELECT 1 FROM solutions WHERE id = tenant AND status = 'suspended') THEN
        RAISE EXCEPTION 'tenant is suspended: it is read-only (no chat, no ingest, no edits)'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'a platform admin can make the tenant active again';
    END IF;
    RETURN NULL;
END $$;

-- Membership changes go to the audit log with the person behind them, written as
-- supercore_auth so that tenant logins keep no INSERT on audit_log. Rows removed by a
-- cascade (a tenant or person deleted) are not: that deletion is audited by itself.
CREATE FUNCTION tenant_memberships_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER {_PIN} AS $$
BEGIN
    IF (TG_OP = 'UPDATE' AND OLD.role = NEW.role) OR (TG_OP = 'DELETE' AND pg_trigger_depth() > 1) THEN
        RETURN NULL;
    END IF;
    INSERT INTO audit_log (action, reason, solution_id, person_id)
    VALUES (
        CASE TG_OP WHEN 'INSERT' THEN 'membership_granted'
                   WHEN 'UPDATE' THEN 'membership_changed' ELSE 'membership_revoked' END,
        CASE TG_OP WHEN 'INSERT' THEN format('person %s granted %s', NEW.person_id, NEW.role)
                   WHEN 'UPDATE' THEN format('person %s changed from %s to %s',
                                             NEW.person_id, OLD.role, NEW.role)
                   ELSE format('person %s revoked (was %s)', OLD.person_id, OLD.role) END,
        CASE WHEN TG_OP = 'DELETE' THEN OLD.solution_id ELSE NEW.solution_id END,
        current_person_id());
    RETURN NULL;
END $$;
CREATE TRIGGER tenant_memberships_audit AFTER INSERT OR UPDATE OR DELETE ON tenant_memberships
    FOR EACH ROW EXECUTE FUNCTION tenant_memberships_audit();
"""

_OWNER = f"({_SUPER} OR (solution_id = (SELECT current_solution_id()) AND (SELECT current_tenant_role()) = 'owner'))"
_APP = "supercore_app, supercore_admin"

POLICIES = rf"""
ALTER TABLE people ENABLE ROW LEVEL SECURITY;
ALTER TABLE people FORCE ROW LEVEL SECURITY;
ALTER TABLE tenant_memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_memberships FORCE ROW LEVEL SECURITY;
ALTER TABLE platform_admins ENABLE ROW LEVEL SECURITY;
ALTER TABLE platform_admins FORCE ROW LEVEL SECURITY;

-- supercore_auth (the definer functions) reads all three; nobody else may become it.
CREATE POLICY auth_lookup ON people FOR SELECT TO supercore_auth USING (true);
CREATE POLICY auth_lookup ON tenant_memberships FOR SELECT TO supercore_auth USING (true);
CREATE POLICY auth_lookup ON platform_admins FOR SELECT TO supercore_auth USING (true);
CREATE POLICY auth_lookup ON solutions FOR SELECT TO supercore_auth USING (true);
GRANT SELECT ON people, tenant_memberships, platform_admins TO supercore_auth;
GRANT SELECT (id, slug) ON solutions TO supercore_auth;

-- People and platform admins are managed in superuser mode; a person reads their own row,
-- and an owner the people of their tenant (the Members page).
CREATE POLICY tenant_isolation ON people FOR ALL TO {_APP} USING ({_SUPER}) WITH CHECK ({_SUPER});
CREATE POLICY own_row ON people FOR SELECT TO {_APP} USING (id = (SELECT current_person_id()));
CREATE POLICY tenant_members ON people FOR SELECT TO {_APP}
    USING (id IN (SELECT person_id FROM tenant_memberships));
CREATE POLICY tenant_isolation ON platform_admins FOR ALL TO {_APP}
    USING ({_SUPER}) WITH CHECK ({_SUPER});
CREATE POLICY own_row ON platform_admins FOR SELECT TO {_APP}
    USING (person_id = (SELECT current_person_id()));

-- Owners manage their tenant's members; an active person reads their own memberships.
CREATE POLICY tenant_isolation ON tenant_memberships FOR ALL TO {_APP}
    USING {_OWNER} WITH CHECK {_OWNER};
CREATE POLICY own_rows ON tenant_memberships FOR SELECT TO {_APP}
    USING (person_id = (SELECT current_person_id()) AND (SELECT current_person_is_active()));

GRANT SELECT ON people, platform_admins TO supercore_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_memberships TO supercore_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON people, tenant_memberships, platform_admins
    TO supercore_admin;

-- The tenant picker: a person reads the tenants they belong to (all of them for a
-- platform admin) without superuser mode.
CREATE POLICY person_directory ON solutions FOR SELECT TO {_APP}
    USING ((SELECT current_person_is_platform_admin())
           OR id IN (SELECT solution_id FROM tenant_memberships
                     WHERE person_id = (SELECT current_person_id())));

-- Superuser-mode entries name the person behind them; membership changes are written by
-- the tenant_memberships_audit trigger (as supercore_auth) in any session.
DROP POLICY audit_insert ON audit_log;
CREATE POLICY audit_insert ON audit_log AS PERMISSIVE FOR INSERT TO PUBLIC
    WITH CHECK ({_SUPER} AND person_id IS NOT DISTINCT FROM (SELECT current_person_id())
                AND {_TRUTH});
CREATE POLICY audit_membership_insert ON audit_log FOR INSERT TO supercore_auth
    WITH CHECK (action IN ('membership_granted', 'membership_changed', 'membership_revoked')
                AND person_id IS NOT DISTINCT FROM (SELECT current_person_id())
                AND {_TRUTH});
GRANT INSERT ON audit_log TO supercore_auth;
"""

OLD_AUDIT_INSERT = rf"""
DROP POLICY audit_insert ON audit_log;
CREATE POLICY audit_insert ON audit_log AS PERMISSIVE FOR INSERT TO PUBLIC
    WITH CHECK ({_SUPER} AND {_TRUTH});
"""

OLD_SUPERUSER = rf"""
CREATE OR REPLACE FUNCTION current_user_is_superuser() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE {_PIN} AS $$
    SELECT COALESCE(current_setting('app.superuser_mode', true), 'off') = 'on'
       AND pg_has_role(current_user, 'supercore_admin', 'MEMBER');
$$;
"""

OLD_CURRENT_SOLUTION = rf"""
CREATE OR REPLACE FUNCTION current_solution_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE {_PIN} AS $$
    SELECT NULLIF(current_setting('app.current_solution_id', true), '')::uuid;
$$;
"""


def upgrade() -> None:
    op.execute(ROLE)
    op.execute(TABLES)
    op.execute(FUNCTIONS)
    for function in DEFINERS:
        op.execute(f"ALTER FUNCTION {function} OWNER TO supercore_auth")
    for lookup in ("person_id_for_subject(text)", "person_id_for_email(text)"):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {lookup} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {lookup} TO {_APP}")
    op.execute("REVOKE EXECUTE ON FUNCTION solution_id_for_slug(text) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION solution_id_for_slug(text) TO supercore_admin")
    op.execute(POLICIES)
    for table, level in GUARDED.items():
        op.execute(
            f"CREATE TRIGGER tenant_write_guard BEFORE INSERT OR UPDATE OR DELETE ON {table}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION tenant_write_guard('{level}')"
        )


def downgrade() -> None:
    for table in GUARDED:
        op.execute(f"DROP TRIGGER tenant_write_guard ON {table}")
    op.execute("REVOKE INSERT ON audit_log FROM supercore_auth")
    op.execute("DROP POLICY audit_membership_insert ON audit_log")
    op.execute(OLD_AUDIT_INSERT)
    op.execute("DROP POLICY person_directory ON solutions")
    op.execute("DROP POLICY auth_lookup ON solutions")
    op.execute("REVOKE SELECT (id, slug) ON solutions FROM supercore_auth")
    op.execute(OLD_CURRENT_SOLUTION)
    op.execute(OLD_SUPERUSER)
    op.execute("DROP TABLE platform_admins, tenant_memberships, people")
    op.execute("ALTER TABLE audit_log DROP COLUMN person_id")
    op.execute(
        "DROP FUNCTION tenant_write_guard(), current_tenant_role(),"
        f" {', '.join(DEFINERS)}, current_person_id()"
    )
    op.execute("REVOKE USAGE, CREATE ON SCHEMA public FROM supercore_auth")
    # supercore_auth is cluster-wide like the other roles and is kept.
