"""One document per file name per oracle, enforced by a unique index (issue 15).

Concurrent ingests of the same new file used to create one document each. Existing
duplicates are kept, not deleted: all but one per (oracle, file name) are renamed
``<name> (duplicate <id prefix>)`` so their chunks stay searchable and can be deleted by hand.
The one kept is the completed one processed last (else the newest). Downgrade drops the
index; renamed documents keep their new names.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UPGRADE = r"""
-- The owner is subject to RLS too (FORCE): lift it for this one cross-tenant rename.
ALTER TABLE documents NO FORCE ROW LEVEL SECURITY;
UPDATE documents d
SET filename = d.filename || ' (duplicate ' || left(d.id::text, 8) || ')'
FROM (
    SELECT id, row_number() OVER (
        PARTITION BY oracle_id, filename
        ORDER BY status = 'completed' DESC, processed_at DESC NULLS LAST, created_at DESC, id
    ) AS n
    FROM documents
) ranked
WHERE ranked.id = d.id AND ranked.n > 1;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;

CREATE UNIQUE INDEX uq_documents_oracle_filename ON documents (oracle_id, filename);
COMMENT ON INDEX uq_documents_oracle_filename IS
    'One document per file name per oracle: concurrent ingests of one file cannot duplicate it; '
    'ingestion looks documents up by (oracle_id, filename).';
"""

DOWNGRADE = r"""
DROP INDEX uq_documents_oracle_filename;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
