"""A vector index per large oracle: the shared HNSW index on every chunk goes.

Small oracles are searched exactly (the B-tree pre-filter ``idx_document_chunks_oracle``);
an oracle past its ``exact_below_chunks`` threshold gets a partial HNSW index of its own
(``supercore_core.vector_index``, built CONCURRENTLY by the owning login, outside any
revision). Small oracles stop paying ~5 ms a row at ingest for the shared graph, and a
large oracle's search no longer filters a shared graph by tenant (recall 0.90 at
``ef_search`` 400 on 1.2 M rows).

Downgrade drops the per-oracle indexes (named ``idx_chunks_hnsw_<oracle hex>``) and
rebuilds the shared index as revision 0005 made it.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_DROP_ORACLE_INDEXES = r"""
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT c.relname FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
                WHERE i.indrelid = 'document_chunks'::regclass
                  AND c.relname ~ '^idx_chunks_hnsw_[0-9a-f]{32}$'
    LOOP
        EXECUTE format('DROP INDEX %I', name);
    END LOOP;
END $$;
"""

DOWNGRADE = r"""
CREATE INDEX idx_document_chunks_embedding_hnsw ON document_chunks
    USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
COMMENT ON INDEX idx_document_chunks_embedding_hnsw IS 'Dense search: ORDER BY embedding <=> $query LIMIT k (large oracles).';
"""


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS idx_document_chunks_embedding_hnsw")


def downgrade() -> None:
    op.execute(_DROP_ORACLE_INDEXES)
    op.execute(DOWNGRADE)
