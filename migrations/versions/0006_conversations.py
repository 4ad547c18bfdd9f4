"""Conversations: chat sessions per oracle, get_or_create_conversation (seed goose 006).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE conversations (
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    oracle_id       uuid NOT NULL,
    solution_id     uuid NOT NULL,
    session_id      text NOT NULL,
    user_id         text,
    title           text,
    status          text NOT NULL DEFAULT 'active',
    message_count   integer NOT NULL DEFAULT 0,
    total_tokens    bigint NOT NULL DEFAULT 0,
    total_cost_usd  numeric(14, 6) NOT NULL DEFAULT 0,
    last_message_at timestamptz,
    metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_conversations PRIMARY KEY (id),
    CONSTRAINT fk_conversations_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT fk_conversations_oracle FOREIGN KEY (oracle_id, solution_id)
        REFERENCES oracles (id, solution_id) ON DELETE CASCADE,
    CONSTRAINT uq_conversations_id_oracle_solution UNIQUE (id, oracle_id, solution_id),
    CONSTRAINT uq_conversations_session UNIQUE (solution_id, oracle_id, session_id),
    CONSTRAINT ck_conversations_session_not_blank CHECK (btrim(session_id) <> ''),
    CONSTRAINT ck_conversations_status CHECK (status IN ('active', 'archived', 'closed')),
    CONSTRAINT ck_conversations_counters
        CHECK (message_count >= 0 AND total_tokens >= 0 AND total_cost_usd >= 0),
    CONSTRAINT ck_conversations_metadata_object CHECK (jsonb_typeof(metadata) = 'object')
);
COMMENT ON TABLE conversations IS 'Chat sessions; counters are kept by the messages trigger.';
COMMENT ON INDEX pk_conversations IS 'Conversation by id: chat page, sequence locking.';
COMMENT ON INDEX uq_conversations_id_oracle_solution IS 'Target of the messages'' composite foreign key.';
COMMENT ON INDEX uq_conversations_session IS 'get_or_create_conversation(oracle, solution, session).';

CREATE INDEX idx_conversations_oracle_recent ON conversations (oracle_id, last_message_at DESC NULLS LAST);
COMMENT ON INDEX idx_conversations_oracle_recent IS 'Recent conversations of an oracle (chat page history).';
CREATE INDEX idx_conversations_solution_recent ON conversations (solution_id, last_message_at DESC NULLS LAST);
COMMENT ON INDEX idx_conversations_solution_recent IS 'Recent conversations of a tenant (usage page).';
CREATE INDEX idx_conversations_active ON conversations (solution_id, updated_at DESC) WHERE status = 'active';
COMMENT ON INDEX idx_conversations_active IS 'Open conversations of a tenant.';
CREATE INDEX idx_conversations_user ON conversations (solution_id, user_id) WHERE user_id IS NOT NULL;
COMMENT ON INDEX idx_conversations_user IS 'Conversations of one end user.';
CREATE INDEX idx_conversations_created_at ON conversations (solution_id, created_at);
COMMENT ON INDEX idx_conversations_created_at IS 'Conversations started per day (usage trend).';
CREATE INDEX idx_conversations_title_trgm ON conversations USING gin (title gin_trgm_ops)
    WHERE title IS NOT NULL;
COMMENT ON INDEX idx_conversations_title_trgm IS 'Search conversations by title.';
CREATE INDEX idx_conversations_metadata ON conversations USING gin (metadata jsonb_path_ops);
COMMENT ON INDEX idx_conversations_metadata IS 'Conversations by metadata tag (channel, client).';

CREATE TRIGGER trg_conversations_updated_at BEFORE UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- Race-free: concurrent callers with the same session meet in ON CONFLICT.
CREATE FUNCTION get_or_create_conversation(
    p_oracle_id uuid, p_solution_id uuid, p_session_id text
) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM assert_solution_access(p_solution_id);
    IF p_oracle_id IS NULL OR p_session_id IS NULL OR btrim(p_session_id) = '' THEN
        RAISE EXCEPTION 'get_or_create_conversation: oracle id and session id are required'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM 1 FROM oracles WHERE id = p_oracle_id AND solution_id = p_solution_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'oracle % not found in solution %', p_oracle_id, p_solution_id
            USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO conversations (oracle_id, solution_id, session_id)
    VALUES (p_oracle_id, p_solution_id, p_session_id)
    ON CONFLICT ON CONSTRAINT uq_conversations_session DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        SELECT id INTO v_id FROM conversations
        WHERE solution_id = p_solution_id AND oracle_id = p_oracle_id AND session_id = p_session_id;
    END IF;
    RETURN v_id;
END $$;
"""

DOWNGRADE = r"""
DROP FUNCTION get_or_create_conversation(uuid, uuid, text);
DROP TABLE conversations;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
