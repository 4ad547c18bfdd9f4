"""Document chunks: text, embedding and full-text vector for retrieval (seed goose 005).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE document_chunks (
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    document_id     uuid NOT NULL,
    oracle_id       uuid NOT NULL,
    solution_id     uuid NOT NULL,
    chunk_index     integer NOT NULL,
    content         text NOT NULL,
    content_tsv     tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED,
    embedding       vector(384),
    embedding_model text,
    token_count     integer,
    metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_document_chunks PRIMARY KEY (id),
    CONSTRAINT fk_document_chunks_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT fk_document_chunks_oracle FOREIGN KEY (oracle_id, solution_id)
        REFERENCES oracles (id, solution_id) ON DELETE CASCADE,
    -- Composite key: a chunk's oracle and tenant are those of its document.
    CONSTRAINT fk_document_chunks_document FOREIGN KEY (document_id, oracle_id, solution_id)
        REFERENCES documents (id, oracle_id, solution_id) ON DELETE CASCADE,
    CONSTRAINT uq_document_chunks_document_index UNIQUE (document_id, chunk_index),
    CONSTRAINT ck_document_chunks_index CHECK (chunk_index >= 0),
    CONSTRAINT ck_document_chunks_token_count CHECK (token_count IS NULL OR token_count >= 0),
    CONSTRAINT ck_document_chunks_metadata_object CHECK (jsonb_typeof(metadata) = 'object')
);
-- Keep the 1.5 kB vector inline (a row is ~2.8 kB, over the TOAST threshold): text and
-- tsvector get compressed or moved out instead, and distance scans read no TOAST pages.
ALTER TABLE document_chunks ALTER COLUMN embedding SET STORAGE PLAIN;
COMMENT ON TABLE document_chunks IS 'Retrieval units: content, embedding (nullable until embedded), tsvector.';
COMMENT ON INDEX pk_document_chunks IS 'Chunk by id: citations in messages.sources.';
COMMENT ON INDEX uq_document_chunks_document_index IS 'Chunks of a document in order (chunk browser, replace on re-ingest).';

CREATE INDEX idx_document_chunks_embedding_hnsw ON document_chunks
    USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
COMMENT ON INDEX idx_document_chunks_embedding_hnsw IS 'Dense search: ORDER BY embedding <=> $query LIMIT k (large oracles).';
CREATE INDEX idx_document_chunks_content_tsv ON document_chunks USING gin (content_tsv);
COMMENT ON INDEX idx_document_chunks_content_tsv IS 'Lexical search: content_tsv @@ websearch_to_tsquery(...).';
CREATE INDEX idx_document_chunks_content_trgm ON document_chunks USING gin (content gin_trgm_ops);
COMMENT ON INDEX idx_document_chunks_content_trgm IS 'Substring / fuzzy search in the chunk browser: content ILIKE %term%.';
CREATE INDEX idx_document_chunks_oracle ON document_chunks (oracle_id, solution_id);
COMMENT ON INDEX idx_document_chunks_oracle IS 'Exact search pre-filter for small oracles; chunk counts per oracle.';
CREATE INDEX idx_document_chunks_solution ON document_chunks (solution_id, created_at DESC);
COMMENT ON INDEX idx_document_chunks_solution IS 'Chunks of a tenant over time (index statistics, cascade deletes).';
CREATE INDEX idx_document_chunks_oracle_document ON document_chunks (oracle_id, document_id, chunk_index);
COMMENT ON INDEX idx_document_chunks_oracle_document IS 'Chunk browser of an oracle, grouped by document.';
CREATE INDEX idx_document_chunks_unembedded ON document_chunks (oracle_id, document_id)
    WHERE embedding IS NULL;
COMMENT ON INDEX idx_document_chunks_unembedded IS 'Embedding work queue: chunks still without a vector.';
CREATE INDEX idx_document_chunks_embedding_model ON document_chunks (oracle_id, embedding_model);
COMMENT ON INDEX idx_document_chunks_embedding_model IS 'Chunks embedded by an outdated model (re-embed).';
CREATE INDEX idx_document_chunks_metadata ON document_chunks USING gin (metadata jsonb_path_ops);
COMMENT ON INDEX idx_document_chunks_metadata IS 'Chunks by metadata, e.g. metadata @> ''{"page": 3}''.';

CREATE TRIGGER trg_document_chunks_updated_at BEFORE UPDATE ON document_chunks
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE document_chunks")
