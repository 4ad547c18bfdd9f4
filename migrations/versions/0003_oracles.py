"""Oracles: knowledge assistants per tenant, and create_rag_global_oracle (seed goose 003).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE oracles (
    id                   uuid NOT NULL DEFAULT gen_random_uuid(),
    solution_id          uuid NOT NULL,
    oracle_name          text NOT NULL,
    oracle_type          text NOT NULL DEFAULT 'domain',
    description          text,
    system_prompt        text,
    llm_provider         text NOT NULL DEFAULT 'anthropic',
    llm_model            text NOT NULL DEFAULT 'claude-3-5-sonnet-20241022',
    temperature          numeric(3, 2) NOT NULL DEFAULT 0.70,
    max_tokens           integer NOT NULL DEFAULT 4096,
    embedding_model      text NOT NULL DEFAULT 'all-MiniLM-L6-v2',
    embedding_dimensions integer NOT NULL DEFAULT 384,
    retrieval_config     jsonb NOT NULL DEFAULT '{}'::jsonb,
    status               text NOT NULL DEFAULT 'active',
    metadata             jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_oracles PRIMARY KEY (id),
    CONSTRAINT fk_oracles_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT uq_oracles_id_solution UNIQUE (id, solution_id),
    CONSTRAINT uq_oracles_solution_name UNIQUE (solution_id, oracle_name),
    CONSTRAINT ck_oracles_name_not_blank CHECK (btrim(oracle_name) <> ''),
    CONSTRAINT ck_oracles_type CHECK (oracle_type IN ('rag_global', 'domain', 'specialist')),
    CONSTRAINT ck_oracles_status CHECK (status IN ('active', 'inactive', 'archived')),
    CONSTRAINT ck_oracles_temperature CHECK (temperature BETWEEN 0 AND 2),
    CONSTRAINT ck_oracles_max_tokens CHECK (max_tokens > 0),
    CONSTRAINT ck_oracles_embedding_dimensions CHECK (embedding_dimensions > 0),
    CONSTRAINT ck_oracles_retrieval_config_object CHECK (jsonb_typeof(retrieval_config) = 'object'),
    CONSTRAINT ck_oracles_metadata_object CHECK (jsonb_typeof(metadata) = 'object')
);
COMMENT ON TABLE oracles IS 'Knowledge assistants of a tenant: prompt, model and retrieval settings.';
COMMENT ON INDEX pk_oracles IS 'Oracle by id: every retrieval and chat call.';
COMMENT ON INDEX uq_oracles_id_solution IS 'Target of tenant-consistent composite foreign keys.';
COMMENT ON INDEX uq_oracles_solution_name IS 'Oracle by name in a tenant: supercore --oracle NAME.';

CREATE UNIQUE INDEX idx_oracles_rag_global ON oracles (solution_id) WHERE oracle_type = 'rag_global';
COMMENT ON INDEX idx_oracles_rag_global IS 'At most one RAG global oracle per tenant; finds it.';
CREATE INDEX idx_oracles_solution_status ON oracles (solution_id, status);
COMMENT ON INDEX idx_oracles_solution_status IS 'Active oracles of a tenant (sidebar, CLI).';
CREATE INDEX idx_oracles_solution_type ON oracles (solution_id, oracle_type);
COMMENT ON INDEX idx_oracles_solution_type IS 'Oracles of a tenant by type (domain vs global).';
CREATE INDEX idx_oracles_llm ON oracles (llm_provider, llm_model);
COMMENT ON INDEX idx_oracles_llm IS 'Oracles per provider/model: pricing and what-if repricing.';
CREATE INDEX idx_oracles_embedding_model ON oracles (embedding_model);
COMMENT ON INDEX idx_oracles_embedding_model IS 'Oracles to re-embed when a model changes.';
CREATE INDEX idx_oracles_created_at ON oracles (solution_id, created_at DESC);
COMMENT ON INDEX idx_oracles_created_at IS 'Newest oracles of a tenant (tenants page).';
CREATE INDEX idx_oracles_name_trgm ON oracles USING gin (oracle_name gin_trgm_ops);
COMMENT ON INDEX idx_oracles_name_trgm IS 'Fuzzy oracle search by name.';
CREATE INDEX idx_oracles_retrieval_config ON oracles USING gin (retrieval_config jsonb_path_ops);
COMMENT ON INDEX idx_oracles_retrieval_config IS 'Oracles by retrieval setting: retrieval_config @> ''{"mode": "hybrid"}''.';
CREATE INDEX idx_oracles_metadata ON oracles USING gin (metadata jsonb_path_ops);
COMMENT ON INDEX idx_oracles_metadata IS 'Oracles by metadata tag.';

CREATE TRIGGER trg_oracles_updated_at BEFORE UPDATE ON oracles
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- SECURITY INVOKER: RLS applies to what it reads and writes; the guard gives a clear error.
CREATE FUNCTION create_rag_global_oracle(p_solution_id uuid) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_oracle_id uuid;
    v_name text;
BEGIN
    PERFORM assert_solution_access(p_solution_id);
    SELECT name INTO v_name FROM solutions WHERE id = p_solution_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'solution % not found', p_solution_id USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO oracles (solution_id, oracle_name, oracle_type, description, system_prompt)
    VALUES (p_solution_id, 'rag-global', 'rag_global',
            'Answers from all documents of ' || v_name,
            'You are the knowledge assistant of ' || v_name
            || '. Answer only from the provided context and cite your sources.')
    ON CONFLICT (solution_id) WHERE oracle_type = 'rag_global' DO NOTHING
    RETURNING id INTO v_oracle_id;
    IF v_oracle_id IS NULL THEN
        SELECT id INTO v_oracle_id FROM oracles
        WHERE solution_id = p_solution_id AND oracle_type = 'rag_global';
    END IF;
    RETURN v_oracle_id;
END $$;
"""

DOWNGRADE = r"""
DROP FUNCTION create_rag_global_oracle(uuid);
DROP TABLE oracles;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
