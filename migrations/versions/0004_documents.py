"""Documents: RAG sources per oracle, with ingestion status (seed goose 004).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE documents (
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    oracle_id       uuid NOT NULL,
    solution_id     uuid NOT NULL,
    filename        text NOT NULL,
    file_type       text NOT NULL,
    file_size_bytes bigint,
    storage_path    text,
    mime_type       text,
    title           text,
    content_hash    text,
    status          text NOT NULL DEFAULT 'pending',
    error_message   text,
    chunk_count     integer NOT NULL DEFAULT 0,
    metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
    processed_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_documents PRIMARY KEY (id),
    CONSTRAINT fk_documents_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    -- Composite key: a document can only belong to an oracle of its own tenant.
    CONSTRAINT fk_documents_oracle FOREIGN KEY (oracle_id, solution_id)
        REFERENCES oracles (id, solution_id) ON DELETE CASCADE,
    CONSTRAINT uq_documents_id_solution UNIQUE (id, solution_id),
    CONSTRAINT uq_documents_id_oracle_solution UNIQUE (id, oracle_id, solution_id),
    CONSTRAINT ck_documents_filename_not_blank CHECK (btrim(filename) <> ''),
    CONSTRAINT ck_documents_file_size CHECK (file_size_bytes IS NULL OR file_size_bytes >= 0),
    CONSTRAINT ck_documents_status
        CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    CONSTRAINT ck_documents_failed_has_reason
        CHECK (status <> 'failed' OR error_message IS NOT NULL),
    CONSTRAINT ck_documents_content_hash CHECK (content_hash IS NULL OR content_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT ck_documents_chunk_count CHECK (chunk_count >= 0),
    CONSTRAINT ck_documents_metadata_object CHECK (jsonb_typeof(metadata) = 'object')
);
COMMENT ON TABLE documents IS 'Source documents of an oracle; status tracks ingestion.';
COMMENT ON COLUMN documents.content_hash IS 'sha256 hex of the raw bytes: same file twice is a no-op.';
COMMENT ON INDEX pk_documents IS 'Document by id: chunk browser, delete, re-ingest.';
COMMENT ON INDEX uq_documents_id_solution IS 'Target of tenant-consistent composite foreign keys.';
COMMENT ON INDEX uq_documents_id_oracle_solution IS 'Target of the chunks'' composite foreign key.';

CREATE INDEX idx_documents_oracle_id ON documents (oracle_id, status);
COMMENT ON INDEX idx_documents_oracle_id IS 'Seed query: WHERE oracle_id = $1 AND status = ''completed''.';
-- Not unique: a failed upload, or a changed file equal to another document, may share a hash.
CREATE INDEX idx_documents_oracle_content_hash ON documents (solution_id, oracle_id, content_hash)
    WHERE content_hash IS NOT NULL;
COMMENT ON INDEX idx_documents_oracle_content_hash IS 'Idempotent ingestion: is this file already in the oracle?';
CREATE INDEX idx_documents_content_hash ON documents (solution_id, content_hash)
    WHERE content_hash IS NOT NULL;
COMMENT ON INDEX idx_documents_content_hash IS 'Same file in another oracle of the tenant (reuse embeddings).';
CREATE INDEX idx_documents_solution_created ON documents (solution_id, created_at DESC);
COMMENT ON INDEX idx_documents_solution_created IS 'Documents page: newest documents of a tenant.';
CREATE INDEX idx_documents_solution_status ON documents (solution_id, status);
COMMENT ON INDEX idx_documents_solution_status IS 'Status counts per tenant (overview, documents page).';
CREATE INDEX idx_documents_queue ON documents (created_at) WHERE status IN ('pending', 'processing');
COMMENT ON INDEX idx_documents_queue IS 'Ingestion work queue: oldest pending/processing first.';
CREATE INDEX idx_documents_failed ON documents (solution_id, updated_at DESC) WHERE status = 'failed';
COMMENT ON INDEX idx_documents_failed IS 'Failed documents with their reason (documents page).';
CREATE INDEX idx_documents_file_type ON documents (solution_id, file_type);
COMMENT ON INDEX idx_documents_file_type IS 'Documents per file type of a tenant (statistics).';
CREATE INDEX idx_documents_processed_at ON documents (oracle_id, processed_at DESC)
    WHERE processed_at IS NOT NULL;
COMMENT ON INDEX idx_documents_processed_at IS 'Recently processed documents of an oracle.';
CREATE INDEX idx_documents_filename_trgm ON documents USING gin (filename gin_trgm_ops);
COMMENT ON INDEX idx_documents_filename_trgm IS 'Filename search: filename ILIKE %term%.';
CREATE INDEX idx_documents_metadata ON documents USING gin (metadata jsonb_path_ops);
COMMENT ON INDEX idx_documents_metadata IS 'Documents by metadata: metadata @> ''{"source": "..."}''.';

CREATE TRIGGER trg_documents_updated_at BEFORE UPDATE ON documents
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE documents")
