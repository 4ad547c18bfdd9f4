"""The Evaluations page under AppTest: headline figures, stale judgements, drill-down,
comparison, and editing and running a golden set (RLS applies: see test_app_pages)."""

import uuid

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from supercore_core.evaluation.metrics import aggregate_all
from supercore_core.evaluation.runs import NewRun, QueryResult, store_run
from supercore_core.models import Document, Oracle
from tests.test_app_pages import Seeded, app_env, assert_rendered, open_page, page_text, seed

__all__ = ["app_env"]
PAGE = "pages/evaluations.py"


def oracle_of(owner_engine: Engine, target: Seeded) -> uuid.UUID:
    with Session(owner_engine) as session:
        return session.scalars(
            select(Oracle.id).where(Oracle.solution_id == target.solution_id)
        ).one()


def store_two_runs(owner_engine: Engine, target: Seeded) -> None:
    oracle_id = oracle_of(owner_engine, target)
    stale = {"golden_set": {"stale": ["q3: gone.pdf: document deleted"], "unscored": ["q3"]}}
    for scores, metadata in (([1.0, 0.5, 0.0], {}), ([1.0, 1.0, 0.5], stale)):
        results = [
            QueryResult(f"q{i}", f"question {i}", ("d1", "d2"), {"d2": 1},
                        {"nDCG@10": s, "HitRate@10": 1.0})
            for i, s in enumerate(scores)
        ]  # fmt: skip
        with Session(owner_engine) as session, session.begin():  # A, then B
            store_run(session, NewRun(
                target.solution_id, oracle_id, "golden:main@v2", {"mode": "hybrid"},
                aggregate_all([r.metrics for r in results]), results, metadata=metadata,
            ))  # fmt: skip


def frame_with(at: AppTest, column: str):  # type: ignore[no-untyped-def]
    return next(d.value for d in at.main.dataframe if column in d.value.columns)


def test_empty_state_says_how_to_score_the_oracle(app_env: None, owner_engine: Engine) -> None:
    target = seed(owner_engine, "empty")
    at = open_page(PAGE, target)
    assert_rendered(at)
    assert "No evaluation runs" in at.info[0].value
    assert f"--tenant {target.slug} --oracle {target.oracle_name} --set" in at.code[0].value
    assert any("no golden set yet" in i.value for i in at.info)


def test_latest_run_trend_questions_and_comparison(app_env: None, owner_engine: Engine) -> None:
    target = seed(owner_engine, "evals")
    store_two_runs(owner_engine, target)
    at = open_page(PAGE, target)
    assert_rendered(at)
    ndcg = next(m for m in at.metric if m.label.startswith("nDCG@10"))
    assert ndcg.value == "0.833" and ndcg.delta == "+0.333"  # vs the earlier run of the set
    warnings = [w.value for w in at.warning]
    assert "stale judgement, not scored: q3: gone.pdf: document deleted" in warnings
    questions = frame_with(at, "first relevant at")
    assert list(questions["first relevant at"]) == [2, 2, 2]
    ranking = frame_with(at, "judged")
    assert list(ranking["judged"]) == ["—", "relevant"]
    comparison = frame_with(at, "delta").set_index("metric")
    assert comparison.loc["nDCG@10", "delta"] == pytest.approx(1 / 3)  # B (newest) minus A
    assert "3 shared questions" in page_text(at)


def test_an_editor_builds_a_golden_set_and_runs_it(app_env: None, owner_engine: Engine) -> None:
    target = seed(owner_engine, "golden")
    at = open_page(PAGE, target)
    next(t for t in at.text_input if t.label == "Name").input("main")
    next(b for b in at.button if b.label == "Create").click().run()
    assert_rendered(at)
    assert [s.value for s in at.success] == ["golden set 'main' created"]

    next(t for t in at.text_area if t.label == "Question").input("How did revenue grow?")
    with Session(owner_engine) as session:
        document = session.scalars(
            select(Document.id).where(Document.solution_id == target.solution_id)
        ).one()
    next(m for m in at.multiselect if m.label == "Relevant documents").select(document)
    next(b for b in at.button if b.label == "Save question").click().run()
    assert_rendered(at)
    assert [s.value for s in at.success] == ["question q1 saved"]
    assert list(frame_with(at, "relevant")["question"]) == ["How did revenue grow?"]

    next(b for b in at.button if b.label == "Run an evaluation on this set").click().run()
    assert_rendered(at)
    assert [s.value for s in at.success] == ["run recorded: 1 questions, status completed"]
    assert any(m.label.startswith("Hit rate@10") and m.value == "1.000" for m in at.metric)


def test_saving_a_question_without_a_relevant_document_is_refused(
    app_env: None, owner_engine: Engine
) -> None:
    target = seed(owner_engine, "unjudged")
    at = open_page(PAGE, target)
    next(t for t in at.text_input if t.label == "Name").input("main")
    next(b for b in at.button if b.label == "Create").click().run()
    next(t for t in at.text_area if t.label == "Question").input("Anything?")
    next(b for b in at.button if b.label == "Save question").click().run()
    assert_rendered(at)
    assert [e.value for e in at.error] == [
        "pick at least one relevant document: an unjudged question cannot be scored"
    ]
