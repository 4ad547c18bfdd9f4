"""Evaluation results shaped for people: headline changes, trend with one run, drill-down."""

import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from supercore_core.evaluation.metrics import Aggregate
from supercore_core.evaluation.report import (
    DocumentLabel,
    headline,
    headline_figure,
    missed,
    previous_run,
    question_table,
    ranking_table,
    stale_notes,
    trend_figure,
)
from supercore_core.evaluation.runs import QueryResult, RunSummary

START = datetime(2026, 11, 30, 12, tzinfo=UTC)


def run(dataset: str, ndcg: float, hours: int, **metadata: object) -> RunSummary:
    metrics = {"nDCG@10": Aggregate(ndcg, ndcg - 0.1, ndcg + 0.05, 20, 0),
               "R@100": Aggregate(math.nan, math.nan, math.nan, 0, 20)}  # fmt: skip
    return RunSummary(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), dataset, "retrieval",
                      "completed", {"mode": "hybrid"}, metrics, 20, 0, 0, 0, None, {}, None,
                      START + timedelta(hours=hours), metadata)  # fmt: skip


def test_the_change_is_against_the_previous_run_of_the_same_set() -> None:
    runs = [run("golden:main@v3", 0.8, 3), run("scifact", 0.5, 2), run("golden:main@v2", 0.7, 1)]
    before = previous_run(runs, runs[0])
    assert before is runs[2]  # another version of the same set, not the newer benchmark
    [ndcg] = headline(runs[0], before)  # R@100 was not measured (NaN): left out
    assert (ndcg.metric, ndcg.change) == ("nDCG@10", pytest.approx(0.1))
    assert previous_run(runs, runs[2]) is None


def test_figures_have_human_titles_and_a_fixed_scale() -> None:
    latest = run("golden:main@v2", 0.75, 1)
    bars = headline_figure(latest)
    assert list(bars.data[0].x) == ["nDCG@10 (ranking quality)"]
    assert list(bars.layout.yaxis.range) == [0, 1.1]
    one = trend_figure([latest])
    assert len(one.data) == 1 and list(one.data[0].y) == [0.75]  # one run: a point
    assert one.data[0].error_y.arrayminus[0] == pytest.approx(0.1)
    assert one.layout.xaxis.title.text == "run started"


def test_stale_notes_list_stale_judgements_and_unscored_questions() -> None:
    info = {"golden_set": {"stale": ["q2: a.pdf: document deleted"], "unscored": ["q2"]}}
    assert stale_notes(run("golden:x@v1", 0.5, 0, **info)) == [
        "stale judgement, not scored: q2: a.pdf: document deleted",
        "1 question(s) had no valid relevant judgement: q2",
    ]
    assert stale_notes(run("scifact", 0.5, 0)) == []


def test_the_drill_down_names_documents_and_marks_judgements() -> None:
    result = QueryResult("q1", "Revenue?", ("d9", "d1", "d7"), {"d1": 2, "d9": 0, "d5": 1},
                         {"nDCG@10": 0.6})  # fmt: skip
    labels = {"d1": DocumentLabel("revenue.txt", "Revenue grew."),
              "d5": DocumentLabel("notes.pdf", "")}  # fmt: skip
    ranking = ranking_table(result, labels)
    assert list(ranking["document"]) == ["d9", "revenue.txt", "d7"]
    assert list(ranking["judged"]) == ["not relevant", "relevant", "—"]
    assert missed(result, labels) == ["notes.pdf"]
    table = question_table([result])
    assert table.loc[0, "first relevant at"] == 2 and table.loc[0, "relevant documents"] == 2
