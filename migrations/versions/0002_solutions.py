"""Solutions: the tenants (seed goose 002).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE solutions (
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    slug        text NOT NULL,
    name        text NOT NULL,
    description text,
    industry    text,
    status      text NOT NULL DEFAULT 'active',
    settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
    metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_solutions PRIMARY KEY (id),
    CONSTRAINT uq_solutions_slug UNIQUE (slug),
    CONSTRAINT ck_solutions_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    CONSTRAINT ck_solutions_name_not_blank CHECK (btrim(name) <> ''),
    CONSTRAINT ck_solutions_status CHECK (status IN ('active', 'inactive', 'suspended', 'archived')),
    CONSTRAINT ck_solutions_settings_object CHECK (jsonb_typeof(settings) = 'object'),
    CONSTRAINT ck_solutions_metadata_object CHECK (jsonb_typeof(metadata) = 'object')
);
COMMENT ON TABLE solutions IS 'Tenants. Every other table carries solution_id; RLS isolates them.';
COMMENT ON INDEX pk_solutions IS 'Tenant by id: RLS policies and every foreign key.';
COMMENT ON INDEX uq_solutions_slug IS 'Tenant by slug: supercore --tenant SLUG, dashboard picker.';

CREATE INDEX idx_solutions_status ON solutions (status, created_at DESC);
COMMENT ON INDEX idx_solutions_status IS 'List tenants by status, newest first (overview page).';
CREATE INDEX idx_solutions_active ON solutions (name) WHERE status = 'active';
COMMENT ON INDEX idx_solutions_active IS 'Active tenants sorted by name (tenant picker).';
CREATE INDEX idx_solutions_industry ON solutions (industry) WHERE industry IS NOT NULL;
COMMENT ON INDEX idx_solutions_industry IS 'Tenants per industry (overview breakdown).';
CREATE INDEX idx_solutions_created_at ON solutions (created_at DESC);
COMMENT ON INDEX idx_solutions_created_at IS 'Tenant sign-ups over time (overview trend).';
CREATE INDEX idx_solutions_name_trgm ON solutions USING gin (name gin_trgm_ops);
COMMENT ON INDEX idx_solutions_name_trgm IS 'Fuzzy tenant search: name ILIKE %term% / name % term.';
CREATE INDEX idx_solutions_settings ON solutions USING gin (settings jsonb_path_ops);
COMMENT ON INDEX idx_solutions_settings IS 'Tenants by setting: settings @> ''{"plan": "pro"}''.';
CREATE INDEX idx_solutions_metadata ON solutions USING gin (metadata jsonb_path_ops);
COMMENT ON INDEX idx_solutions_metadata IS 'Tenants by metadata tag: metadata @> ''{...}''.';

CREATE TRIGGER trg_solutions_updated_at BEFORE UPDATE ON solutions
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE solutions")
