"""Embedding cache per tenant, keyed by (model, content hash): re-runs re-embed nothing.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE embedding_cache (
    solution_id  uuid NOT NULL,
    model        text NOT NULL,
    content_hash text NOT NULL,
    embedding    vector NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_embedding_cache PRIMARY KEY (solution_id, model, content_hash),
    CONSTRAINT fk_embedding_cache_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT ck_embedding_cache_content_hash CHECK (content_hash ~ '^[0-9a-f]{64}$')
);
COMMENT ON TABLE embedding_cache IS 'Embeddings by (tenant, model, sha256 of chunk text), reused across oracles and re-runs.';
COMMENT ON INDEX pk_embedding_cache IS 'Cache lookup: WHERE solution_id = $1 AND model = $2 AND content_hash = ANY($3).';
CREATE INDEX idx_embedding_cache_created ON embedding_cache (solution_id, created_at);
COMMENT ON INDEX idx_embedding_cache_created IS 'Cache size over time and pruning of old entries per tenant.';

ALTER TABLE embedding_cache ENABLE ROW LEVEL SECURITY;
ALTER TABLE embedding_cache FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON embedding_cache AS PERMISSIVE FOR ALL TO PUBLIC
    USING (solution_id = (SELECT current_solution_id()) OR (SELECT current_user_is_superuser()))
    WITH CHECK (solution_id = (SELECT current_solution_id()) OR (SELECT current_user_is_superuser()));
GRANT SELECT, INSERT, DELETE ON embedding_cache TO supercore_app, supercore_admin;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE embedding_cache")
