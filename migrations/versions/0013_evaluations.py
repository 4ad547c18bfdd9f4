"""Evaluation runs and their per-query results, per tenant under RLS.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_CHECK = "solution_id = (SELECT current_solution_id()) OR (SELECT current_user_is_superuser())"

UPGRADE = r"""
CREATE TABLE eval_runs (
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    solution_id   uuid NOT NULL,
    oracle_id     uuid NOT NULL,
    dataset       text NOT NULL,
    kind          text NOT NULL DEFAULT 'retrieval',
    status        text NOT NULL DEFAULT 'completed',
    config        jsonb NOT NULL DEFAULT '{}'::jsonb,
    metrics       jsonb NOT NULL DEFAULT '{}'::jsonb,
    query_count   integer NOT NULL DEFAULT 0,
    canary_hits   integer NOT NULL DEFAULT 0,
    input_tokens  bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cost_usd      numeric(14, 6),
    timings       jsonb NOT NULL DEFAULT '{}'::jsonb,
    error_message text,
    metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
    started_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_eval_runs PRIMARY KEY (id),
    CONSTRAINT uq_eval_runs_id_solution UNIQUE (id, solution_id),
    CONSTRAINT fk_eval_runs_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT fk_eval_runs_oracle FOREIGN KEY (oracle_id, solution_id)
        REFERENCES oracles (id, solution_id) ON DELETE CASCADE,
    CONSTRAINT ck_eval_runs_kind CHECK (kind IN ('retrieval', 'answer', 'sweep', 'gate')),
    CONSTRAINT ck_eval_runs_status CHECK (status IN ('completed', 'failed')),
    CONSTRAINT ck_eval_runs_counts CHECK (query_count >= 0 AND canary_hits >= 0
        AND input_tokens >= 0 AND output_tokens >= 0),
    CONSTRAINT ck_eval_runs_cost CHECK (cost_usd IS NULL OR cost_usd >= 0)
);
COMMENT ON TABLE eval_runs IS 'Evaluation runs of an oracle: dataset, config snapshot, aggregate metrics with bootstrap CIs, canary hits, tokens, cost (NULL = unpriced), timings.';
COMMENT ON INDEX pk_eval_runs IS 'One run by id: get_run.';
COMMENT ON INDEX uq_eval_runs_id_solution IS 'Target of the composite tenant foreign key from eval_results.';
CREATE INDEX idx_eval_runs_oracle_created ON eval_runs (solution_id, oracle_id, created_at DESC);
COMMENT ON INDEX idx_eval_runs_oracle_created IS 'list_runs: a tenant''s runs of one oracle, newest first; also serves the oracle foreign key.';
CREATE INDEX idx_eval_runs_created ON eval_runs (created_at DESC);
COMMENT ON INDEX idx_eval_runs_created IS 'list_runs across tenants (admin dashboard), newest first.';

CREATE TABLE eval_results (
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    run_id            uuid NOT NULL,
    solution_id       uuid NOT NULL,
    query_id          text NOT NULL,
    query             text NOT NULL,
    retrieved         jsonb NOT NULL DEFAULT '[]'::jsonb,
    relevant          jsonb NOT NULL DEFAULT '{}'::jsonb,
    metrics           jsonb NOT NULL DEFAULT '{}'::jsonb,
    answer            text,
    reference_answer  text,
    input_tokens      integer,
    output_tokens     integer,
    cost_usd          numeric(14, 6),
    latency_ms        integer,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_eval_results PRIMARY KEY (id),
    CONSTRAINT uq_eval_results_run_query UNIQUE (run_id, query_id),
    CONSTRAINT fk_eval_results_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT fk_eval_results_run FOREIGN KEY (run_id, solution_id)
        REFERENCES eval_runs (id, solution_id) ON DELETE CASCADE,
    CONSTRAINT ck_eval_results_cost CHECK (cost_usd IS NULL OR cost_usd >= 0)
);
COMMENT ON TABLE eval_results IS 'Per-query results of an evaluation run: retrieved documents, judgements, metric values (null = unmeasured), answer, tokens, cost, latency.';
COMMENT ON INDEX pk_eval_results IS 'One result by id.';
COMMENT ON INDEX uq_eval_results_run_query IS 'A run''s results in query order (get_run, compare_runs); also serves the run foreign key.';
CREATE INDEX idx_eval_results_solution ON eval_results (solution_id);
COMMENT ON INDEX idx_eval_results_solution IS 'Cascade deletes when a tenant is removed.';
"""


def _policy(table: str) -> str:
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {table} AS PERMISSIVE FOR ALL TO PUBLIC
    USING ({_CHECK}) WITH CHECK ({_CHECK});
GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO supercore_app, supercore_admin;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    for table in ("eval_runs", "eval_results"):
        op.execute(_policy(table))


def downgrade() -> None:
    op.execute("DROP TABLE eval_results")
    op.execute("DROP TABLE eval_runs")
