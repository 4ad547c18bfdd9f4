"""BM25 inside PostgreSQL: statistics kept exact by the chunk triggers, scores checked
against an independent implementation (bm25s), pruning that never changes the top n.

Writes go through the application login under RLS, in tenants of their own (committed).
"""

import threading
import uuid
from collections import Counter
from dataclasses import replace
from typing import Any

import bm25s
import numpy as np
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import admin_session, bm25, tenant_session
from supercore_core.bm25.pruning import TermStat, is_exact, plan
from supercore_core.errors import InvalidSettingError, RoleError
from supercore_core.ingest.store import ChunkRow, copy_chunks
from supercore_core.models import Solution
from supercore_core.oracle_settings import check_retrieval
from supercore_core.people import add_person, grant
from supercore_core.retrieval import RetrievalConfig
from tests.factories import make_document, make_oracle, make_solution, unique_slug

WORDS = [
    "revenue",
    "lease",
    "tax",
    "debt",
    "hedging",
    "margin",
    "audit",
    "ledger",
    "cash",
    "equity",
    "bond",
    "coupon",
    "yield",
    "dividend",
    "asset",
    "liability",
    "goodwill",
    "impairment",
    "inventory",
    "payroll",
    "pension",
    "swap",
    "option",
]


def _texts(seed: int, count: int, length: int = 30) -> list[str]:
    rng = np.random.default_rng(seed)
    # Zipf-like: a few words are common, most are rare, and some repeat within a chunk.
    weights = 1 / np.arange(1, len(WORDS) + 1)
    picks = rng.choice(len(WORDS), size=(count, length), p=weights / weights.sum())
    return [" ".join(WORDS[i] for i in row) for row in picks]


def _oracle(owner_engine: Engine, documents: int = 1) -> tuple[uuid.UUID, uuid.UUID, list[Any]]:
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session))
        docs = [make_document(session, oracle, filename=f"{i}.txt") for i in range(documents)]
        return oracle.solution_id, oracle.id, [d.id for d in docs]


def _insert(session: Session, ids: tuple[uuid.UUID, uuid.UUID, Any], texts: list[str]) -> None:
    document_id, oracle_id, solution_id = ids
    rows = (
        ChunkRow(document_id, oracle_id, solution_id, i, body, None, None, None, {})
        for i, body in enumerate(texts)
    )
    copy_chunks(session, rows)


def _stored(session: Session, oracle_id: uuid.UUID) -> tuple[Any, dict[str, int]]:
    totals = session.execute(
        text("SELECT chunk_count, total_length FROM bm25_oracle_stats WHERE oracle_id = :o"),
        {"o": oracle_id},
    ).one_or_none()
    df = session.execute(
        text("SELECT lexeme, df FROM bm25_term_stats WHERE oracle_id = :o"), {"o": oracle_id}
    ).all()
    return (None if totals is None else tuple(totals)), {lex: int(n) for lex, n in df}


def _recomputed(session: Session, oracle_id: uuid.UUID) -> tuple[Any, dict[str, int]]:
    """The statistics computed from scratch out of document_chunks."""
    rows = session.execute(
        text(
            "SELECT c.id, u.lexeme, cardinality(u.positions) FROM document_chunks c,"
            " unnest(c.content_tsv) u WHERE c.oracle_id = :o"
        ),
        {"o": oracle_id},
    ).all()
    chunks = session.execute(
        text("SELECT count(*) FROM document_chunks WHERE oracle_id = :o"), {"o": oracle_id}
    ).scalar_one()
    df = Counter(lexeme for _, lexeme, _ in rows)
    totals = (chunks, sum(tf for _, _, tf in rows)) if chunks else None
    return totals, dict(df)


def _length_errors(session: Session) -> tuple[int, int]:
    """Chunks whose stored length is missing or wrong, and lengths of chunks that are gone."""
    wrong = session.execute(
        text(
            "SELECT count(*) FROM document_chunks c LEFT JOIN bm25_chunk_lengths l"
            " ON l.chunk_id = c.id WHERE l.length IS DISTINCT FROM bm25_length(c.content_tsv)"
        )
    ).scalar_one()
    orphans = session.execute(
        text(
            "SELECT count(*) FROM bm25_chunk_lengths l"
            " WHERE NOT EXISTS (SELECT 1 FROM document_chunks c WHERE c.id = l.chunk_id)"
        )
    ).scalar_one()
    return int(wrong), int(orphans)


def _recomputed_as_owner(owner_engine: Engine, oracle_id: uuid.UUID) -> tuple[Any, dict[str, int]]:
    with Session(owner_engine) as session:
        return _recomputed(session, oracle_id)


def test_statistics_follow_inserts_deletes_updates_and_reingest(
    app_sessions: sessionmaker[Session], owner_engine: Engine
) -> None:
    solution_id, oracle_id, (first, second) = _oracle(owner_engine, documents=2)
    with tenant_session(app_sessions, solution_id=solution_id) as s:
        _insert(s, (first, oracle_id, solution_id), [*_texts(1, 40), "zanzibarite revenue"])
        _insert(s, (second, oracle_id, solution_id), _texts(2, 25))
        assert _stored(s, oracle_id) == _recomputed(s, oracle_id)
        assert _stored(s, oracle_id)[1]["zanzibarit"] == 1
        s.execute(  # the pipeline's re-ingest: delete the document's chunks, copy new ones
            text("DELETE FROM document_chunks WHERE document_id = :d"), {"d": first}
        )
        _insert(s, (first, oracle_id, solution_id), _texts(3, 10))
        s.execute(
            text("UPDATE document_chunks SET content = 'quixotic yield' WHERE chunk_index = 0")
        )
        s.execute(text("UPDATE document_chunks SET metadata = '{\"page\": 2}'"))
        stored = _stored(s, oracle_id)
        assert stored == _recomputed(s, oracle_id)
        assert _length_errors(s) == (0, 0)
    assert "zanzibarit" not in stored[1]  # df 0 rows are removed
    assert stored[1]["quixot"] == 2 and stored[0][0] == 35
    with tenant_session(app_sessions, solution_id=solution_id) as s:
        s.execute(text("DELETE FROM documents WHERE id = :d"), {"d": second})  # cascades
        assert _stored(s, oracle_id) == _recomputed(s, oracle_id)
        s.execute(text("DELETE FROM documents WHERE id = :d"), {"d": first})
        assert _stored(s, oracle_id) == (None, {})
        assert _length_errors(s) == (0, 0)


def test_deleting_the_oracle_removes_its_statistics(
    app_sessions: sessionmaker[Session], owner_engine: Engine
) -> None:
    solution_id, oracle_id, (document_id,) = _oracle(owner_engine)
    with tenant_session(app_sessions, solution_id=solution_id) as s:
        _insert(s, (document_id, oracle_id, solution_id), _texts(4, 20))
    with tenant_session(app_sessions, solution_id=solution_id) as s:
        s.execute(text("DELETE FROM oracles WHERE id = :o"), {"o": oracle_id})
        assert _stored(s, oracle_id) == (None, {})


def test_concurrent_ingesters_into_one_oracle_keep_statistics_exact(
    app_sessions: sessionmaker[Session], owner_engine: Engine
) -> None:
    solution_id, oracle_id, documents = _oracle(owner_engine, documents=6)
    with tenant_session(app_sessions, solution_id=solution_id) as s:
        _insert(s, (documents[0], oracle_id, solution_id), _texts(5, 30))
    start = threading.Barrier(len(documents))
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            start.wait()
            with tenant_session(app_sessions, solution_id=solution_id) as s:
                if i == 0:  # one writer re-ingests while the others add documents
                    s.execute(
                        text("DELETE FROM document_chunks WHERE document_id = :d"),
                        {"d": documents[0]},
                    )
                _insert(s, (documents[i], oracle_id, solution_id), _texts(10 + i, 40))
                s.execute(text("SELECT pg_sleep(0.05)"))  # hold the locks while others wait
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(documents))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with tenant_session(app_sessions, solution_id=solution_id) as s:
        stored = _stored(s, oracle_id)
        assert stored == _recomputed(s, oracle_id)
        assert _length_errors(s) == (0, 0)
    assert stored[0][0] == 40 * len(documents)


def _member(admin_sessions: sessionmaker[Session], solution_id: uuid.UUID, role: str) -> uuid.UUID:
    with admin_session(admin_sessions, reason="test: bm25 roles") as session:
        person = add_person(session, oidc_subject=unique_slug(role)).id
        grant(session, person_id=person, solution_id=solution_id, role=role)
    return person


_DIRECT_WRITES = [
    "UPDATE bm25_oracle_stats SET chunk_count = 1",
    "DELETE FROM bm25_chunk_lengths",
    "DELETE FROM bm25_term_stats",
    "INSERT INTO bm25_term_stats (oracle_id, lexeme, solution_id, df, max_tf)"
    " VALUES (:o, 'forged', :s, 1, 1)",
]


@pytest.mark.parametrize("statement", _DIRECT_WRITES)
def test_an_editors_ingest_keeps_statistics_exact_and_a_viewer_cannot_write_them(
    app_sessions: sessionmaker[Session],
    admin_sessions: sessionmaker[Session],
    owner_engine: Engine,
    statement: str,
) -> None:
    solution_id, oracle_id, (first, second) = _oracle(owner_engine, documents=2)
    editor = _member(admin_sessions, solution_id, "editor")
    viewer = _member(admin_sessions, solution_id, "viewer")
    with tenant_session(app_sessions, solution_id=solution_id, person_id=editor) as s:
        _insert(s, (first, oracle_id, solution_id), _texts(21, 30))
        _insert(s, (second, oracle_id, solution_id), _texts(22, 30))
        s.execute(text("DELETE FROM documents WHERE id = :d"), {"d": first})
    with tenant_session(app_sessions, solution_id=solution_id, person_id=viewer) as s:
        before = _stored(s, oracle_id)
    assert before[0][0] == 30 and before == _recomputed_as_owner(owner_engine, oracle_id)
    with (
        pytest.raises(RoleError, match="viewer role may not change bm25_"),
        tenant_session(app_sessions, solution_id=solution_id, person_id=viewer) as s,
    ):
        s.execute(text(statement), {"o": oracle_id, "s": solution_id})
    with tenant_session(app_sessions, solution_id=solution_id, person_id=viewer) as s:
        assert _stored(s, oracle_id) == before


def test_another_tenants_statistics_are_invisible(
    app_sessions: sessionmaker[Session], owner_engine: Engine
) -> None:
    solution_id, oracle_id, (document_id,) = _oracle(owner_engine)
    other_solution, _, _ = _oracle(owner_engine)
    with tenant_session(app_sessions, solution_id=solution_id) as s:
        _insert(s, (document_id, oracle_id, solution_id), _texts(6, 5))
    with tenant_session(app_sessions, solution_id=other_solution) as s:
        assert _stored(s, oracle_id) == (None, {})
        assert bm25.rank(s, oracle_id, "revenue", 10) == []


def _reference_scores(session: Session, oracle_id: uuid.UUID, query: str) -> dict[Any, float]:
    """bm25s (Lucene variant) over the same lexemes: PostgreSQL's own to_tsvector output."""
    rows = session.execute(
        text(
            "SELECT c.id, array_agg(u.lexeme ORDER BY u.lexeme),"
            " array_agg(cardinality(u.positions) ORDER BY u.lexeme)"
            " FROM document_chunks c, unnest(c.content_tsv) u WHERE c.oracle_id = :o GROUP BY c.id"
        ),
        {"o": oracle_id},
    ).all()
    corpus = [
        [lex for lex, tf in zip(lexemes, tfs, strict=True) for _ in range(tf)]
        for _, lexemes, tfs in rows
    ]
    retriever = bm25s.BM25(method="lucene", k1=0.7, b=0.6)
    retriever.index(corpus, show_progress=False)
    terms = session.execute(
        text("SELECT array_agg(lexeme) FROM unnest(to_tsvector('english', :q))"), {"q": query}
    ).scalar_one()
    known = [t for t in terms if t in retriever.vocab_dict]
    scores = retriever.get_scores(known)
    return {row[0]: float(score) for row, score in zip(rows, scores, strict=True) if score > 0}


def test_scores_match_the_bm25s_reference(
    app_sessions: sessionmaker[Session], owner_engine: Engine
) -> None:
    solution_id, oracle_id, (document_id,) = _oracle(owner_engine)
    query = "Hedging the bond yields; cash dividends and impairments of goodwill!"
    with tenant_session(app_sessions, solution_id=solution_id) as s:
        _insert(s, (document_id, oracle_id, solution_id), _texts(7, 120))
        expected = _reference_scores(s, oracle_id, query)
        rows = bm25.rank(s, oracle_id, query, 1000, k1=0.7, b=0.6)
    got = {row[0]: float(row[5]) for row in rows}
    assert len(got) == len(expected) > 50
    for chunk_id, score in expected.items():
        assert got[chunk_id] == pytest.approx(score, rel=1e-5)
    scores = [float(row[5]) for row in rows]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("query", ["swap option pension", "revenue swap", "payroll tax"])
def test_pruned_ranking_equals_the_full_ranking(
    app_sessions: sessionmaker[Session], owner_engine: Engine, query: str
) -> None:
    solution_id, oracle_id, (document_id,) = _oracle(owner_engine)
    with tenant_session(app_sessions, solution_id=solution_id) as s:
        _insert(s, (document_id, oracle_id, solution_id), _texts(8, 400))
        full = bm25.rank(s, oracle_id, query, 10, budget=10**9)
        pruned = bm25.rank(s, oracle_id, query, 10, budget=1)
    assert len(full) == 10
    assert [(r[0], r[5]) for r in pruned] == [(r[0], r[5]) for r in full]


def test_another_oracles_vocabulary_never_shapes_the_ranking(
    app_sessions: sessionmaker[Session], owner_engine: Engine
) -> None:
    solution_id, oracle_id, (document_id,) = _oracle(owner_engine)
    with Session(owner_engine) as session, session.begin():
        other = make_document(session, make_oracle(session, session.get_one(Solution, solution_id)))
        other_ids = (other.id, other.oracle_id, other.solution_id)
    with tenant_session(app_sessions, solution_id=solution_id) as s:
        _insert(s, (document_id, oracle_id, solution_id), _texts(9, 50))
        before = bm25.rank(s, oracle_id, "hedging margin", 20)
        _insert(s, other_ids, ["hedging hedging margin"] * 200)
        after = bm25.rank(s, oracle_id, "hedging margin", 20)
    assert after == before


def test_a_question_of_16000_words_is_answered(
    app_sessions: sessionmaker[Session], owner_engine: Engine
) -> None:
    solution_id, oracle_id, (document_id,) = _oracle(owner_engine)
    question = " ".join(f"w{i}" for i in range(15_990)) + " hedging revenue"
    with tenant_session(app_sessions, solution_id=solution_id) as s:
        _insert(s, (document_id, oracle_id, solution_id), ["hedging costs", "w3 w4"])
        rows = bm25.rank(s, oracle_id, question, 5)
    assert [r[4] for r in rows] == ["w3 w4"]  # only the first 256 lexemes are query terms


def test_plan_takes_the_rarest_terms_within_the_budget_and_pairs_the_rest() -> None:
    terms = [TermStat("c1", 900, 0.1, 2), TermStat("r", 3, 5.0, 1), TermStat("c2", 50, 2.0, 1)]
    chosen = plan(terms, k1=0.9, b=0.4, avgdl=10.0, budget=10)
    assert (chosen.rare, chosen.pairs, chosen.full) == (("r",), (("c2", "c1"),), False)
    assert chosen.bound == pytest.approx(2.0 * 1 / (1 + 0.9 * (0.6 + 0.4 * 1 / 10)))
    assert chosen.tsquery() == "'r' | ('c2' & 'c1')"
    assert plan(terms, k1=0.9, b=0.4, avgdl=10.0, budget=2).rare == ()  # none fits
    assert plan(terms, k1=0.9, b=0.4, avgdl=10.0, budget=10**6).full
    assert plan(terms[:1], k1=0.9, b=0.4, avgdl=10.0, budget=1).full  # one term: no pairs


def test_tsquery_operands_are_quoted() -> None:
    chosen = plan([TermStat("o'neil", 1, 1.0), TermStat("a\\b", 1, 1.0)], 0.9, 0.4, 5.0)
    assert chosen.tsquery() == "'o''neil' | 'a\\\\b'"


@pytest.mark.parametrize(
    ("scores", "n", "exact"),
    [([9.0, 8.0, 0.1], 3, False), ([9.0, 8.0, 2.5], 3, True), ([9.0, 8.0], 3, False)],
)
def test_top_n_is_exact_only_above_the_bound(scores: list[float], n: int, exact: bool) -> None:
    terms = [TermStat("a", 1, 3.0, 1), TermStat("b", 10, 2.5, 1), TermStat("c", 20, 9.0, 1)]
    chosen = plan(terms, k1=0.0, b=0.4, avgdl=5.0, budget=1)  # k1 = 0: a term adds its idf
    assert chosen.bound == 9.0 and not chosen.full
    assert is_exact(scores, n, replace(chosen, bound=2.0)) is exact


@pytest.mark.parametrize(("name", "value"), [("bm25_k1", -0.1), ("bm25_b", 1.5), ("bm25_b", True)])
def test_bm25_settings_are_validated(name: str, value: Any) -> None:
    with pytest.raises(InvalidSettingError, match=name):
        check_retrieval({name: value})
    with pytest.raises(InvalidSettingError, match=name):
        RetrievalConfig(**{name: value})


def test_bm25_defaults_are_those_of_the_beir_runs() -> None:
    assert (RetrievalConfig().bm25_k1, RetrievalConfig().bm25_b) == (0.9, 0.4)


def test_the_full_computation_runs_when_the_pruned_candidates_prove_nothing(
    app_sessions: sessionmaker[Session], owner_engine: Engine
) -> None:
    # Budget 1: "zeta" (df 1) alone is rare; "gamma" and "delta" only make candidates in
    # pairs, and six candidates cannot prove a top 10: the same statement scores every match.
    solution_id, oracle_id, (document_id,) = _oracle(owner_engine)
    texts = ["zeta gamma"] + [f"gamma filler{i}" for i in range(20)]
    texts += [f"delta filler{i}" for i in range(20)] + [f"gamma delta {i}" for i in range(5)]
    with tenant_session(app_sessions, solution_id=solution_id) as s:
        _insert(s, (document_id, oracle_id, solution_id), texts)
        pruned = bm25.rank(s, oracle_id, "zeta gamma delta", 10, budget=1)
        full = bm25.rank(s, oracle_id, "zeta gamma delta", 10, budget=10**9)
    assert len(pruned) == 10
    assert [(r[0], r[5]) for r in pruned] == [(r[0], r[5]) for r in full]
    assert pruned[0][4] == "zeta gamma"
