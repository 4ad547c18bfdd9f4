"""Keep a chunk's tsvector in its row; BM25 scoring moves into the search statement.

A chunk row holds its 384-float embedding (1,544 bytes, storage PLAIN) and its
``content_tsv`` (~800 bytes on SciFact). Past the 2 kB TOAST target the toaster moved the
tsvector out of line, so every lexical match and every BM25 score read it back through the
TOAST table: on 4,938 SciFact chunks a match over the oracle cost 10.4 ms, 3.1 ms with the
tsvector inline (``content`` moves out of line instead; only the final hits read it).
Storage MAIN still compresses, and still moves a tsvector out of line when nothing else
makes the row fit. Existing rows keep their layout until rewritten (re-ingest, or
``VACUUM FULL document_chunks``).

``bm25_score`` (revision 0018) goes: a call cost ~9 µs a candidate, and the search
statement now scores inline (``supercore_core.bm25.ranking``). Downgrade restores both.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_BM25_SCORE = r"""
CREATE FUNCTION bm25_score(tsv tsvector, dl float8, terms text[], idfs float8[], k1 float8,
                           b float8, avgdl float8) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT sum(t.idf * u.tf / (u.tf + k1 * (1 - b + b * dl / avgdl)))
    FROM (SELECT lexeme, COALESCE(cardinality(positions), 1) AS tf
          FROM unnest(ts_filter(setweight(tsv, 'A', terms), '{a}'))) u
    JOIN unnest(terms, idfs) AS t(lexeme, idf) ON t.lexeme = u.lexeme
$$;
COMMENT ON FUNCTION bm25_score(tsvector, float8, text[], float8[], float8, float8, float8) IS 'Lucene BM25 of a chunk''s tsvector of length dl for the query lexemes terms with their idfs (NULL when it holds none).';
"""


def upgrade() -> None:
    op.execute("ALTER TABLE document_chunks ALTER COLUMN content_tsv SET STORAGE MAIN")
    op.execute(
        "DROP FUNCTION bm25_score(tsvector, float8, text[], float8[], float8, float8, float8)"
    )


def downgrade() -> None:
    op.execute(_BM25_SCORE)
    op.execute("ALTER TABLE document_chunks ALTER COLUMN content_tsv SET STORAGE EXTENDED")
