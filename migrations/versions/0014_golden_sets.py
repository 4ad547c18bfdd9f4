"""Golden sets: an oracle's own questions with graded relevance judgements on its documents.

Judgements point at documents, not chunks, so re-chunking keeps them valid; each keeps the
document's file name and content hash from when it was judged, so a deleted or changed
document is reported as stale instead of being silently dropped or scored.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_CHECK = "solution_id = (SELECT current_solution_id()) OR (SELECT current_user_is_superuser())"

UPGRADE = r"""
CREATE TABLE golden_sets (
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    solution_id  uuid NOT NULL,
    oracle_id    uuid NOT NULL,
    name         text NOT NULL,
    description  text,
    version      integer NOT NULL DEFAULT 1,
    metadata     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_golden_sets PRIMARY KEY (id),
    CONSTRAINT uq_golden_sets_id_solution UNIQUE (id, solution_id),
    CONSTRAINT uq_golden_sets_oracle_name UNIQUE (solution_id, oracle_id, name),
    CONSTRAINT fk_golden_sets_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT fk_golden_sets_oracle FOREIGN KEY (oracle_id, solution_id)
        REFERENCES oracles (id, solution_id) ON DELETE CASCADE,
    CONSTRAINT ck_golden_sets_name CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    CONSTRAINT ck_golden_sets_version CHECK (version >= 1)
);
COMMENT ON TABLE golden_sets IS 'A named set of questions of one oracle with relevance judgements; version goes up with every change so runs can be told apart.';
COMMENT ON INDEX pk_golden_sets IS 'One golden set by id.';
COMMENT ON INDEX uq_golden_sets_id_solution IS 'Target of the composite tenant foreign key from golden_questions.';
COMMENT ON INDEX uq_golden_sets_oracle_name IS 'A set by name within its oracle (golden_set_by_name, CLI --set); also serves the tenant foreign key.';
CREATE INDEX idx_golden_sets_oracle ON golden_sets (oracle_id, solution_id);
COMMENT ON INDEX idx_golden_sets_oracle IS 'Cascade deletes when an oracle is removed.';

CREATE TABLE golden_questions (
    id                  uuid NOT NULL DEFAULT gen_random_uuid(),
    solution_id         uuid NOT NULL,
    set_id              uuid NOT NULL,
    query_key           text NOT NULL,
    question            text NOT NULL,
    reference_answer    text,
    reference_is_draft  boolean NOT NULL DEFAULT false,
    metadata            jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_golden_questions PRIMARY KEY (id),
    CONSTRAINT uq_golden_questions_id_solution UNIQUE (id, solution_id),
    CONSTRAINT uq_golden_questions_set_key UNIQUE (set_id, query_key),
    CONSTRAINT fk_golden_questions_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT fk_golden_questions_set FOREIGN KEY (set_id, solution_id)
        REFERENCES golden_sets (id, solution_id) ON DELETE CASCADE,
    CONSTRAINT ck_golden_questions_key CHECK (length(btrim(query_key)) BETWEEN 1 AND 200),
    CONSTRAINT ck_golden_questions_question CHECK (length(btrim(question)) BETWEEN 1 AND 4000)
);
COMMENT ON TABLE golden_questions IS 'A question of a golden set, with its key (stable across import and export) and an optional reference answer (draft when taken from a chat answer).';
COMMENT ON INDEX pk_golden_questions IS 'One question by id.';
COMMENT ON INDEX uq_golden_questions_id_solution IS 'Target of the composite tenant foreign key from golden_judgements.';
COMMENT ON INDEX uq_golden_questions_set_key IS 'A set''s questions in key order (export, evaluation); also serves the set foreign key.';
CREATE INDEX idx_golden_questions_solution ON golden_questions (solution_id);
COMMENT ON INDEX idx_golden_questions_solution IS 'Cascade deletes when a tenant is removed.';

CREATE TABLE golden_judgements (
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    solution_id   uuid NOT NULL,
    question_id   uuid NOT NULL,
    document_id   uuid,
    filename      text NOT NULL,
    content_hash  text,
    grade         smallint NOT NULL,
    passage       text,
    page          integer,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_golden_judgements PRIMARY KEY (id),
    CONSTRAINT uq_golden_judgements_question_file UNIQUE (question_id, filename),
    CONSTRAINT fk_golden_judgements_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT fk_golden_judgements_question FOREIGN KEY (question_id, solution_id)
        REFERENCES golden_questions (id, solution_id) ON DELETE CASCADE,
    CONSTRAINT fk_golden_judgements_document FOREIGN KEY (document_id, solution_id)
        REFERENCES documents (id, solution_id) ON DELETE SET NULL (document_id),
    CONSTRAINT ck_golden_judgements_grade CHECK (grade BETWEEN 0 AND 3),
    CONSTRAINT ck_golden_judgements_page CHECK (page IS NULL OR page >= 1)
);
COMMENT ON TABLE golden_judgements IS 'Graded relevance of one document (optionally a passage or page) for a golden question; document_id becomes NULL when the document is deleted, content_hash tells a changed one: both are reported as stale.';
COMMENT ON INDEX pk_golden_judgements IS 'One judgement by id.';
COMMENT ON INDEX uq_golden_judgements_question_file IS 'One judgement per document and question; a question''s judgements (also serves the question foreign key).';
CREATE INDEX idx_golden_judgements_document ON golden_judgements (document_id, solution_id);
COMMENT ON INDEX idx_golden_judgements_document IS 'ON DELETE SET NULL when a judged document is deleted; which questions judge a document.';
CREATE INDEX idx_golden_judgements_solution ON golden_judgements (solution_id);
COMMENT ON INDEX idx_golden_judgements_solution IS 'Cascade deletes when a tenant is removed.';
"""

TABLES = ("golden_sets", "golden_questions", "golden_judgements")


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
    for table in TABLES:
        op.execute(_policy(table))


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE {table}")
