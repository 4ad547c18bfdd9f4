"""Temporal workflows: job tracking with progress, and its helper functions (seed goose 008).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE temporal_workflows (
    id               uuid NOT NULL DEFAULT gen_random_uuid(),
    workflow_id      text NOT NULL,
    run_id           text,
    workflow_type    text NOT NULL,
    solution_id      uuid NOT NULL,
    oracle_id        uuid,
    document_id      uuid,
    status           text NOT NULL DEFAULT 'running',
    input_data       jsonb NOT NULL DEFAULT '{}'::jsonb,
    output_data      jsonb,
    error_message    text,
    current_step     text,
    steps_completed  integer NOT NULL DEFAULT 0,
    total_steps      integer,
    progress_percent numeric(5, 2) NOT NULL DEFAULT 0,
    started_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_temporal_workflows PRIMARY KEY (id),
    -- Unique per tenant: a global key would let one tenant probe for, or squat on, another
    -- tenant's (often guessable) workflow ids.
    CONSTRAINT uq_temporal_workflows_solution_workflow UNIQUE (solution_id, workflow_id),
    CONSTRAINT fk_temporal_workflows_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT fk_temporal_workflows_oracle FOREIGN KEY (oracle_id, solution_id)
        REFERENCES oracles (id, solution_id) ON DELETE CASCADE,
    -- A deleted document keeps its workflow history; only the link is cleared.
    CONSTRAINT fk_temporal_workflows_document FOREIGN KEY (document_id, solution_id)
        REFERENCES documents (id, solution_id) ON DELETE SET NULL (document_id),
    CONSTRAINT ck_temporal_workflows_workflow_id_not_blank CHECK (btrim(workflow_id) <> ''),
    CONSTRAINT ck_temporal_workflows_status CHECK (
        status IN ('pending', 'running', 'completed', 'failed', 'cancelled', 'timed_out')),
    CONSTRAINT ck_temporal_workflows_steps CHECK (
        steps_completed >= 0 AND (total_steps IS NULL
            OR (total_steps > 0 AND steps_completed <= total_steps))),
    CONSTRAINT ck_temporal_workflows_progress CHECK (progress_percent BETWEEN 0 AND 100),
    CONSTRAINT ck_temporal_workflows_finished CHECK (
        (status IN ('completed', 'failed', 'cancelled', 'timed_out')) = (completed_at IS NOT NULL)),
    CONSTRAINT ck_temporal_workflows_failed_has_reason CHECK (
        status <> 'failed' OR error_message IS NOT NULL)
);
COMMENT ON TABLE temporal_workflows IS 'Long-running jobs (ingestion, evaluations) and their progress.';
COMMENT ON INDEX pk_temporal_workflows IS 'Workflow by id.';
COMMENT ON INDEX uq_temporal_workflows_solution_workflow IS 'One workflow id per tenant; create_workflow_tracking conflicts.';
CREATE INDEX idx_temporal_workflows_workflow_id ON temporal_workflows (workflow_id);
COMMENT ON INDEX idx_temporal_workflows_workflow_id IS 'update_workflow_progress / complete_workflow by workflow id under RLS.';

CREATE INDEX idx_temporal_workflows_solution_status ON temporal_workflows (solution_id, status);
COMMENT ON INDEX idx_temporal_workflows_solution_status IS 'Workflows of a tenant by status.';
CREATE INDEX idx_temporal_workflows_active ON temporal_workflows (started_at)
    WHERE status IN ('pending', 'running');
COMMENT ON INDEX idx_temporal_workflows_active IS 'Running and stuck workflows, oldest first (doctor, progress bars).';
CREATE INDEX idx_temporal_workflows_document ON temporal_workflows (document_id, created_at DESC)
    WHERE document_id IS NOT NULL;
COMMENT ON INDEX idx_temporal_workflows_document IS 'Ingestion history and progress of one document.';
CREATE INDEX idx_temporal_workflows_oracle ON temporal_workflows (oracle_id, created_at DESC)
    WHERE oracle_id IS NOT NULL;
COMMENT ON INDEX idx_temporal_workflows_oracle IS 'Workflows of an oracle (ingest and eval runs).';
CREATE INDEX idx_temporal_workflows_type_status ON temporal_workflows (workflow_type, status);
COMMENT ON INDEX idx_temporal_workflows_type_status IS 'Workflows per type and status (admin overview).';
CREATE INDEX idx_temporal_workflows_failed ON temporal_workflows (solution_id, completed_at DESC)
    WHERE status = 'failed';
COMMENT ON INDEX idx_temporal_workflows_failed IS 'Recent failures of a tenant with their error.';
CREATE INDEX idx_temporal_workflows_created ON temporal_workflows (solution_id, created_at DESC);
COMMENT ON INDEX idx_temporal_workflows_created IS 'Workflow history of a tenant, newest first.';
CREATE INDEX idx_temporal_workflows_run_id ON temporal_workflows (run_id) WHERE run_id IS NOT NULL;
COMMENT ON INDEX idx_temporal_workflows_run_id IS 'Workflow by Temporal run id.';
CREATE INDEX idx_temporal_workflows_input ON temporal_workflows USING gin (input_data jsonb_path_ops);
COMMENT ON INDEX idx_temporal_workflows_input IS 'Workflows by input: input_data @> ''{"document_id": "..."}''.';

CREATE TRIGGER trg_temporal_workflows_updated_at BEFORE UPDATE ON temporal_workflows
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE FUNCTION create_workflow_tracking(
    p_workflow_id text, p_workflow_type text, p_input_data jsonb, p_solution_id uuid,
    p_oracle_id uuid DEFAULT NULL, p_document_id uuid DEFAULT NULL
) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM assert_solution_access(p_solution_id);
    IF p_workflow_id IS NULL OR p_workflow_type IS NULL THEN
        RAISE EXCEPTION 'create_workflow_tracking: workflow id and type are required'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    INSERT INTO temporal_workflows (
        workflow_id, workflow_type, input_data, solution_id, oracle_id, document_id, status)
    VALUES (p_workflow_id, p_workflow_type, COALESCE(p_input_data, '{}'::jsonb),
            p_solution_id, p_oracle_id, p_document_id, 'running')
    RETURNING id INTO v_id;
    RETURN v_id;
END $$;

-- Locks the caller's own running workflow (RLS filters other tenants' rows out).
CREATE FUNCTION workflow_for_update(p_workflow_id text) RETURNS temporal_workflows
LANGUAGE plpgsql AS $$
DECLARE
    v_row temporal_workflows;
BEGIN
    BEGIN
        SELECT * INTO STRICT v_row FROM temporal_workflows
        WHERE workflow_id = p_workflow_id FOR UPDATE;
    EXCEPTION
        WHEN no_data_found THEN
            RAISE EXCEPTION 'workflow % not found', p_workflow_id USING ERRCODE = 'no_data_found';
        WHEN too_many_rows THEN
            RAISE EXCEPTION 'workflow id % exists in several solutions', p_workflow_id
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'set the solution context with set_current_solution() first';
    END;
    PERFORM assert_solution_access(v_row.solution_id);
    IF v_row.status NOT IN ('pending', 'running') THEN
        RAISE EXCEPTION 'workflow % is already %', p_workflow_id, v_row.status
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v_row;
END $$;

CREATE FUNCTION update_workflow_progress(
    p_workflow_id text, p_current_step text, p_steps_completed integer, p_total_steps integer
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := (workflow_for_update(p_workflow_id)).id;
BEGIN
    IF p_total_steps IS NULL OR p_total_steps <= 0 OR p_steps_completed IS NULL
       OR p_steps_completed < 0 OR p_steps_completed > p_total_steps THEN
        RAISE EXCEPTION 'invalid progress %/% for workflow %',
            p_steps_completed, p_total_steps, p_workflow_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE temporal_workflows
    SET current_step = p_current_step,
        steps_completed = p_steps_completed,
        total_steps = p_total_steps,
        progress_percent = round(100.0 * p_steps_completed / p_total_steps, 2),
        status = 'running'
    WHERE id = v_id;
END $$;

CREATE FUNCTION complete_workflow(p_workflow_id text, p_output_data jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := (workflow_for_update(p_workflow_id)).id;
BEGIN
    UPDATE temporal_workflows
    SET status = 'completed',
        output_data = COALESCE(p_output_data, '{}'::jsonb),
        steps_completed = COALESCE(total_steps, steps_completed),
        progress_percent = 100,
        current_step = 'completed',
        completed_at = now()
    WHERE id = v_id;
END $$;

CREATE FUNCTION fail_workflow(p_workflow_id text, p_error_message text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := (workflow_for_update(p_workflow_id)).id;
BEGIN
    IF p_error_message IS NULL OR btrim(p_error_message) = '' THEN
        RAISE EXCEPTION 'fail_workflow: an error message is required'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE temporal_workflows
    SET status = 'failed', error_message = p_error_message, completed_at = now()
    WHERE id = v_id;
END $$;
"""

DOWNGRADE = r"""
DROP FUNCTION fail_workflow(text, text);
DROP FUNCTION complete_workflow(text, jsonb);
DROP FUNCTION update_workflow_progress(text, text, integer, integer);
DROP FUNCTION workflow_for_update(text);
DROP FUNCTION create_workflow_tracking(text, text, jsonb, uuid, uuid, uuid);
DROP TABLE temporal_workflows;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
