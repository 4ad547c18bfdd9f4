"""BM25 corpus statistics per oracle, kept exact by triggers on document_chunks.

Per oracle: the number of chunks and their total length (the sum of term frequencies), and
the document frequency of every lexeme (rows with df 0 are removed); per chunk, its length
(``bm25_chunk_lengths``: the ranking reads it rather than summing positions per candidate,
and ``bm25_score`` scores a candidate). Statement-level AFTER
triggers with transition tables update them in the transaction that inserts, deletes or
re-ingests chunks (INSERT ... SELECT from a COPY stage, bulk and cascade deletes alike).
Concurrent ingesters into one oracle serialise on its row of bm25_oracle_stats, locked
first (in oracle order), then touch lexeme rows in sorted order: no lost update, no
deadlock. Deletes only update and remove rows, so an oracle or tenant deleted by cascade
never gets a statistics row back.

Writes by people (revision 0016): the three tables carry the same statement-level
``tenant_write_guard('edit')`` as ``document_chunks``, and the triggers run as the caller
(not SECURITY DEFINER: the doctor admits definers for the membership look-ups only). So the
statistics refuse exactly what a chunk write refuses: an editor's or owner's ingest, delete
and re-ingest update them, a cascade from an oracle or tenant its deleter may remove clears
them, and a viewer (or a suspended tenant) can write neither chunks nor statistics, whether
directly or through the triggers.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_CHECK = "solution_id = (SELECT current_solution_id()) OR (SELECT current_user_is_superuser())"

TABLES_SQL = r"""
CREATE TABLE bm25_oracle_stats (
    oracle_id     uuid NOT NULL,
    solution_id   uuid NOT NULL,
    chunk_count   bigint NOT NULL,
    total_length  bigint NOT NULL,
    CONSTRAINT pk_bm25_oracle_stats PRIMARY KEY (oracle_id),
    CONSTRAINT fk_bm25_oracle_stats_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT fk_bm25_oracle_stats_oracle FOREIGN KEY (oracle_id, solution_id)
        REFERENCES oracles (id, solution_id) ON DELETE CASCADE,
    CONSTRAINT ck_bm25_oracle_stats_counts CHECK (chunk_count >= 0 AND total_length >= 0)
);
COMMENT ON TABLE bm25_oracle_stats IS 'BM25 statistics of an oracle: number of chunks (N) and total length (sum of term frequencies; avgdl = total_length / N). Maintained by triggers on document_chunks.';
COMMENT ON INDEX pk_bm25_oracle_stats IS 'An oracle''s N and avgdl at query time; the lock that serialises concurrent statistics updates of one oracle.';
CREATE INDEX idx_bm25_oracle_stats_oracle ON bm25_oracle_stats (oracle_id, solution_id);
COMMENT ON INDEX idx_bm25_oracle_stats_oracle IS 'Cascade deletes when an oracle is removed.';
CREATE INDEX idx_bm25_oracle_stats_solution ON bm25_oracle_stats (solution_id);
COMMENT ON INDEX idx_bm25_oracle_stats_solution IS 'Cascade deletes when a tenant is removed.';

CREATE TABLE bm25_term_stats (
    oracle_id    uuid NOT NULL,
    lexeme       text NOT NULL,
    solution_id  uuid NOT NULL,
    df           bigint NOT NULL,
    max_tf       integer NOT NULL,
    CONSTRAINT pk_bm25_term_stats PRIMARY KEY (oracle_id, lexeme),
    CONSTRAINT fk_bm25_term_stats_solution FOREIGN KEY (solution_id)
        REFERENCES solutions (id) ON DELETE CASCADE,
    CONSTRAINT fk_bm25_term_stats_oracle FOREIGN KEY (oracle_id, solution_id)
        REFERENCES oracles (id, solution_id) ON DELETE CASCADE,
    CONSTRAINT ck_bm25_term_stats_df CHECK (df > 0 AND max_tf > 0)
);
COMMENT ON TABLE bm25_term_stats IS 'BM25 document frequency: the number of an oracle''s chunks whose tsvector holds the lexeme (rows with df 0 are removed), and an upper bound of its term frequency in any of them (max_tf, never lowered by deletes; it bounds a term''s score for pruning). Maintained by triggers on document_chunks.';
COMMENT ON INDEX pk_bm25_term_stats IS 'Document frequency of the query lexemes in one oracle (idf at query time; trigger upserts).';
CREATE INDEX idx_bm25_term_stats_oracle ON bm25_term_stats (oracle_id, solution_id);
COMMENT ON INDEX idx_bm25_term_stats_oracle IS 'Cascade deletes when an oracle is removed.';
CREATE INDEX idx_bm25_term_stats_solution ON bm25_term_stats (solution_id);
COMMENT ON INDEX idx_bm25_term_stats_solution IS 'Cascade deletes when a tenant is removed.';

-- No foreign keys: a row per chunk, written and removed by the chunk triggers in the same
-- statement as the chunk (cascades included), so the per-row key checks would only slow
-- ingestion down.
CREATE TABLE bm25_chunk_lengths (
    chunk_id     uuid NOT NULL,
    solution_id  uuid NOT NULL,
    length       integer NOT NULL,
    CONSTRAINT pk_bm25_chunk_lengths PRIMARY KEY (chunk_id),
    CONSTRAINT ck_bm25_chunk_lengths_length CHECK (length >= 0)
);
COMMENT ON TABLE bm25_chunk_lengths IS 'BM25 document length of each chunk (bm25_length of its content_tsv), read at query time instead of summing the tsvector''s positions per candidate. Maintained by triggers on document_chunks.';
COMMENT ON INDEX pk_bm25_chunk_lengths IS 'A candidate chunk''s length at query time; the triggers'' deletes.';
"""

# A lexeme's term frequency is the number of its positions. to_tsvector keeps at most 256
# positions per lexeme and clamps position values at 16383, so a lexeme repeated more than
# 256 times in one chunk (or past word 16383) counts less; chunks are far shorter. A stripped
# tsvector has no positions: each lexeme counts once.
LENGTH_SQL = r"""
CREATE FUNCTION bm25_length(tsv tsvector) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT COALESCE(sum(COALESCE(cardinality(positions), 1)), 0)::bigint FROM unnest(tsv) $$;
COMMENT ON FUNCTION bm25_length(tsvector) IS 'BM25 document length: the sum of the term frequencies (positions) of a tsvector.';

-- content_tsv is to_tsvector's (every position weight D): weighting the query's lexemes A
-- and keeping the A ones leaves only their entries to join. A function call per chunk is
-- ~1.7x faster than the same expression as a correlated subquery in the ranking statement.
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

# {rows} is a transition table or a subquery over them (chunks added or removed).
_ADD = """
    INSERT INTO bm25_oracle_stats AS s (oracle_id, solution_id, chunk_count, total_length)
    SELECT oracle_id, solution_id, count(*), sum(bm25_length(content_tsv))
    FROM {rows} r GROUP BY oracle_id, solution_id ORDER BY oracle_id
    ON CONFLICT (oracle_id) DO UPDATE
        SET chunk_count = s.chunk_count + excluded.chunk_count,
            total_length = s.total_length + excluded.total_length;
    INSERT INTO bm25_term_stats AS s (oracle_id, lexeme, solution_id, df, max_tf)
    SELECT r.oracle_id, u.lexeme, r.solution_id, count(*),
           max(COALESCE(cardinality(u.positions), 1))
    FROM {rows} r CROSS JOIN LATERAL unnest(r.content_tsv) u
    GROUP BY r.oracle_id, u.lexeme, r.solution_id ORDER BY r.oracle_id, u.lexeme COLLATE "C"
    ON CONFLICT (oracle_id, lexeme) DO UPDATE
        SET df = s.df + excluded.df, max_tf = greatest(s.max_tf, excluded.max_tf);
    INSERT INTO bm25_chunk_lengths (chunk_id, solution_id, length)
    SELECT id, solution_id, bm25_length(content_tsv) FROM {rows} r;
"""
# Deletes never insert: under a cascade the oracle's statistics rows may already be gone.
_REMOVE = """
    PERFORM 1 FROM bm25_oracle_stats
    WHERE oracle_id IN (SELECT oracle_id FROM {rows} r) ORDER BY oracle_id FOR UPDATE;
    UPDATE bm25_oracle_stats s
    SET chunk_count = s.chunk_count - d.n, total_length = s.total_length - d.len
    FROM (SELECT oracle_id, count(*) AS n, sum(bm25_length(content_tsv)) AS len
          FROM {rows} r GROUP BY oracle_id) d
    WHERE s.oracle_id = d.oracle_id;
    DELETE FROM bm25_oracle_stats s
    WHERE s.oracle_id IN (SELECT oracle_id FROM {rows} r) AND s.chunk_count <= 0;
    WITH d AS MATERIALIZED (
        SELECT r.oracle_id, u.lexeme, count(*) AS n
        FROM {rows} r CROSS JOIN LATERAL unnest(r.content_tsv) u
        GROUP BY r.oracle_id, u.lexeme),
    gone AS (DELETE FROM bm25_term_stats s USING d
             WHERE s.oracle_id = d.oracle_id AND s.lexeme = d.lexeme AND s.df <= d.n)
    UPDATE bm25_term_stats s SET df = s.df - d.n FROM d
    WHERE s.oracle_id = d.oracle_id AND s.lexeme = d.lexeme AND s.df > d.n;
    DELETE FROM bm25_chunk_lengths l USING {rows} r WHERE l.chunk_id = r.id;
"""
# An UPDATE that changes a chunk's text or oracle counts as a removal plus an addition;
# one that leaves both alone (embedding, metadata) changes nothing.
_CHANGED = (
    "(SELECT {side}.* FROM bm25_old o JOIN bm25_new n ON n.id = o.id"
    " WHERE o.content_tsv IS DISTINCT FROM n.content_tsv OR o.oracle_id <> n.oracle_id)"
)
_BODIES = {
    "insert": _ADD.format(rows="bm25_new"),
    "delete": _REMOVE.format(rows="bm25_old"),
    "update": _REMOVE.format(rows=_CHANGED.format(side="o"))
    + _ADD.format(rows=_CHANGED.format(side="n")),
}
_REFERENCING = {
    "insert": "NEW TABLE AS bm25_new",
    "delete": "OLD TABLE AS bm25_old",
    "update": "OLD TABLE AS bm25_old NEW TABLE AS bm25_new",
}


def _trigger(op_name: str) -> str:
    return f"""
CREATE FUNCTION bm25_chunks_{op_name}() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
{_BODIES[op_name]}
    RETURN NULL;
END $$;
COMMENT ON FUNCTION bm25_chunks_{op_name}() IS 'Keeps bm25_oracle_stats, bm25_term_stats and bm25_chunk_lengths exact after a chunk {op_name}.';
CREATE TRIGGER trg_document_chunks_bm25_{op_name} AFTER {op_name.upper()} ON document_chunks
    REFERENCING {_REFERENCING[op_name]}
    FOR EACH STATEMENT EXECUTE FUNCTION bm25_chunks_{op_name}();
"""


BACKFILL_SQL = """
INSERT INTO bm25_oracle_stats (oracle_id, solution_id, chunk_count, total_length)
SELECT oracle_id, solution_id, count(*), sum(bm25_length(content_tsv))
FROM document_chunks GROUP BY oracle_id, solution_id;
INSERT INTO bm25_term_stats (oracle_id, lexeme, solution_id, df, max_tf)
SELECT c.oracle_id, u.lexeme, c.solution_id, count(*), max(COALESCE(cardinality(u.positions), 1))
FROM document_chunks c CROSS JOIN LATERAL unnest(c.content_tsv) u
GROUP BY c.oracle_id, u.lexeme, c.solution_id;
INSERT INTO bm25_chunk_lengths (chunk_id, solution_id, length)
SELECT id, solution_id, bm25_length(content_tsv) FROM document_chunks;
"""

TABLES = ("bm25_oracle_stats", "bm25_term_stats", "bm25_chunk_lengths")
OPERATIONS = ("insert", "delete", "update")


def _policy(table: str) -> str:
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {table} AS PERMISSIVE FOR ALL TO PUBLIC
    USING ({_CHECK}) WITH CHECK ({_CHECK});
GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO supercore_app, supercore_admin;
CREATE TRIGGER tenant_write_guard BEFORE INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_write_guard('edit');
"""


def upgrade() -> None:
    op.execute(TABLES_SQL)
    op.execute(LENGTH_SQL)
    # The owner backfills before the triggers and policies exist; document_chunks forces
    # RLS even on its owner, so lift that for this one statement of the transaction.
    op.execute("ALTER TABLE document_chunks NO FORCE ROW LEVEL SECURITY")
    op.execute(BACKFILL_SQL)
    op.execute("ALTER TABLE document_chunks FORCE ROW LEVEL SECURITY")
    for table in TABLES:
        op.execute(_policy(table))
    for op_name in OPERATIONS:
        op.execute(_trigger(op_name))


def downgrade() -> None:
    for op_name in OPERATIONS:
        op.execute(f"DROP TRIGGER trg_document_chunks_bm25_{op_name} ON document_chunks")
        op.execute(f"DROP FUNCTION bm25_chunks_{op_name}()")
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE {table}")
    op.execute(
        "DROP FUNCTION bm25_score(tsvector, float8, text[], float8[], float8, float8, float8)"
    )
    op.execute("DROP FUNCTION bm25_length(tsvector)")
