"""Messages: turns with sources, tokens, latency and cost (seed goose 007).

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE messages (
    id               uuid NOT NULL DEFAULT gen_random_uuid(),
    conversation_id  uuid NOT NULL,
    oracle_id        uuid NOT NULL,
    solution_id      uuid NOT NULL,
    role             text NOT NULL,
    content          text NOT NULL,
    sequence_number  integer NOT NULL,
    sources          jsonb NOT NULL DEFAULT '[]'::jsonb,
    input_tokens     integer,
    output_tokens    integer,
    total_tokens     integer,
    tokens_estimated boolean NOT NULL DEFAULT false,
    model_used       text,
    latency_ms       integer,
    cost_usd         numeric(14, 6),
    metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_messages PRIMARY KEY (id),
    CONSTRAINT fk_messages_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT fk_messages_oracle FOREIGN KEY (oracle_id, solution_id)
        REFERENCES oracles (id, solution_id) ON DELETE CASCADE,
    CONSTRAINT fk_messages_conversation FOREIGN KEY (conversation_id, oracle_id, solution_id)
        REFERENCES conversations (id, oracle_id, solution_id) ON DELETE CASCADE,
    CONSTRAINT uq_messages_conversation_sequence UNIQUE (conversation_id, sequence_number),
    CONSTRAINT ck_messages_role CHECK (role IN ('system', 'user', 'assistant', 'tool')),
    CONSTRAINT ck_messages_sequence_positive CHECK (sequence_number > 0),
    CONSTRAINT ck_messages_sources_array CHECK (jsonb_typeof(sources) = 'array'),
    CONSTRAINT ck_messages_tokens CHECK (
        COALESCE(input_tokens, 0) >= 0 AND COALESCE(output_tokens, 0) >= 0
        AND COALESCE(total_tokens, 0) >= 0),
    CONSTRAINT ck_messages_latency CHECK (latency_ms IS NULL OR latency_ms >= 0),
    CONSTRAINT ck_messages_cost CHECK (cost_usd IS NULL OR cost_usd >= 0),
    CONSTRAINT ck_messages_metadata_object CHECK (jsonb_typeof(metadata) = 'object')
);
COMMENT ON TABLE messages IS 'Conversation turns; cost_usd NULL means unpriced, never $0.';
COMMENT ON INDEX pk_messages IS 'Message by id.';
COMMENT ON INDEX uq_messages_conversation_sequence IS 'Transcript in order; next sequence number; gapless check.';

CREATE INDEX idx_messages_solution_created ON messages (solution_id, created_at);
COMMENT ON INDEX idx_messages_solution_created IS 'Usage per tenant per day: tokens, cost, messages.';
CREATE INDEX idx_messages_oracle_created ON messages (oracle_id, created_at);
COMMENT ON INDEX idx_messages_oracle_created IS 'Usage per oracle per day; repricing an oracle''s last N days.';
CREATE INDEX idx_messages_model_created ON messages (model_used, created_at) WHERE model_used IS NOT NULL;
COMMENT ON INDEX idx_messages_model_created IS 'Usage per model per day (pricing page).';
CREATE INDEX idx_messages_assistant ON messages (oracle_id, created_at)
    INCLUDE (latency_ms, total_tokens, cost_usd) WHERE role = 'assistant';
COMMENT ON INDEX idx_messages_assistant IS 'Latency percentiles and cost of answers per oracle (index-only).';
CREATE INDEX idx_messages_unpriced ON messages (solution_id, created_at)
    WHERE role = 'assistant' AND cost_usd IS NULL;
COMMENT ON INDEX idx_messages_unpriced IS 'Answers from unpriced models (report, reprice later).';
CREATE INDEX idx_messages_sources ON messages USING gin (sources jsonb_path_ops);
COMMENT ON INDEX idx_messages_sources IS 'Answers citing a chunk: sources @> ''[{"chunk_id": "..."}]''.';
CREATE INDEX idx_messages_content_fts ON messages USING gin (to_tsvector('english'::regconfig, content));
COMMENT ON INDEX idx_messages_content_fts IS 'Full-text search over transcripts.';
CREATE INDEX idx_messages_metadata ON messages USING gin (metadata jsonb_path_ops);
COMMENT ON INDEX idx_messages_metadata IS 'Messages by metadata (provider request ids, flags).';

CREATE TRIGGER trg_messages_updated_at BEFORE UPDATE ON messages
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- Keep the conversation's counters in step with its messages (same transaction, same RLS).
CREATE FUNCTION messages_update_conversation_counters() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations
    SET message_count   = message_count + 1,
        total_tokens    = total_tokens + COALESCE(NEW.total_tokens, 0),
        total_cost_usd  = total_cost_usd + COALESCE(NEW.cost_usd, 0),
        last_message_at = GREATEST(COALESCE(last_message_at, NEW.created_at), NEW.created_at)
    WHERE id = NEW.conversation_id;
    RETURN NULL;
END $$;
CREATE TRIGGER trg_messages_conversation_counters AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_update_conversation_counters();

-- Race-free: the conversation row is locked until the caller's transaction ends, so
-- concurrent writers take turns and each sees the previous writer's committed message.
CREATE FUNCTION get_next_message_sequence(p_conversation_id uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_solution_id uuid;
    v_next integer;
BEGIN
    IF p_conversation_id IS NULL THEN
        RAISE EXCEPTION 'get_next_message_sequence: conversation id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT solution_id INTO v_solution_id FROM conversations
    WHERE id = p_conversation_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'conversation % not found', p_conversation_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM assert_solution_access(v_solution_id);
    SELECT COALESCE(max(sequence_number), 0) + 1 INTO v_next
    FROM messages WHERE conversation_id = p_conversation_id;
    RETURN v_next;
END $$;
"""

DOWNGRADE = r"""
DROP FUNCTION get_next_message_sequence(uuid);
DROP TABLE messages;
DROP FUNCTION messages_update_conversation_counters();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
