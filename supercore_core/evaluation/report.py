"""Evaluation results shaped for people: headline figures, charts with intervals, trends,
and a per-question drill-down that names documents instead of ids.

Pure functions over stored runs (plus one lookup of document names), shared by the
Evaluations page and the notebooks.
"""

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from supercore_core.evaluation.metrics import Aggregate
from supercore_core.evaluation.runs import QueryResult, RunSummary
from supercore_core.models import Document, DocumentChunk

HEADLINE = ("nDCG@10", "R@100", "MRR@10", "HitRate@10")
LABELS = {
    "nDCG@10": "nDCG@10 (ranking quality)",
    "R@100": "Recall@100",
    "MRR@10": "MRR@10 (first relevant hit)",
    "HitRate@10": "Hit rate@10",
}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SNIPPET_CHARS = 240


@dataclass(frozen=True)
class Headline:
    """One headline metric of a run, with its interval and the change from a previous run."""

    metric: str
    label: str
    value: Aggregate
    change: float | None  # vs the previous run on the same set; None when there is none


def headline(run: RunSummary, previous: RunSummary | None = None) -> list[Headline]:
    """The headline metrics the run measured (unmeasured ones left out), in a fixed order."""
    figures = []
    for metric in HEADLINE:
        value = run.metrics.get(metric)
        if value is None or math.isnan(value.mean):
            continue
        before = previous.metrics.get(metric) if previous else None
        change = None
        if before is not None and not (math.isnan(before.mean) or math.isnan(value.mean)):
            change = value.mean - before.mean
        figures.append(Headline(metric, LABELS[metric], value, change))
    return figures


def previous_run(runs: Sequence[RunSummary], run: RunSummary) -> RunSummary | None:
    """The newest earlier run on the same set (ignoring the set's version), if any."""
    family = _family(run.dataset)
    earlier = [r for r in runs if r.created_at < run.created_at and _family(r.dataset) == family]
    return max(earlier, key=lambda r: r.created_at) if earlier else None


def _family(dataset: str) -> str:
    return dataset.rsplit("@v", 1)[0] if dataset.startswith("golden:") else dataset


def stale_notes(run: RunSummary) -> list[str]:
    """Stale judgements and unscored questions the run recorded (golden sets only)."""
    info = run.metadata.get("golden_set") or {}
    notes = [f"stale judgement, not scored: {line}" for line in info.get("stale", [])]
    unscored = info.get("unscored", [])
    if unscored:
        notes.append(f"{len(unscored)} question(s) had no valid relevant judgement: "
                     f"{', '.join(unscored[:10])}")  # fmt: skip
    return notes


def headline_figure(run: RunSummary) -> Any:
    """A bar per headline metric with its 95% bootstrap interval, on a 0-1 axis."""
    import plotly.graph_objects as go  # type: ignore[import-untyped]

    figures = headline(run)
    figure = go.Figure(
        go.Bar(
            x=[f.label for f in figures],
            y=[f.value.mean for f in figures],
            error_y={"type": "data", "symmetric": False,
                     "array": [f.value.high - f.value.mean for f in figures],
                     "arrayminus": [f.value.mean - f.value.low for f in figures]},
            text=[f"{f.value.mean:.3f}" for f in figures],
            textposition="inside",
            insidetextanchor="middle",  # clear of the interval's whiskers
            hovertemplate="%{x}: %{y:.3f}<extra></extra>",
        )
    )  # fmt: skip
    figure.update_layout(
        title=f"{run.dataset} · {run.mode or run.kind} · {run.query_count} questions "
        "(bars: 95% bootstrap interval)",
        yaxis={"title": "score (0 to 1)", "range": [0, 1.1]},
        xaxis_title=None, height=380, margin={"t": 60, "b": 40},
    )  # fmt: skip
    return figure


def trend_figure(runs: Iterable[RunSummary], metric: str = "nDCG@10") -> Any:
    """``metric`` over time, one line per evaluation set, with interval bars (one run is a
    point, not an empty chart)."""
    import plotly.graph_objects as go

    figure = go.Figure()
    by_family: dict[str, list[RunSummary]] = {}
    for run in sorted(runs, key=lambda r: r.created_at):
        if metric in run.metrics and not math.isnan(run.metrics[metric].mean):
            by_family.setdefault(_family(run.dataset), []).append(run)
    for family, members in by_family.items():
        values = [r.metrics[metric] for r in members]
        figure.add_trace(
            go.Scatter(
                x=[r.created_at for r in members], y=[v.mean for v in values],
                mode="lines+markers", name=family,
                error_y={"type": "data", "symmetric": False,
                         "array": [v.high - v.mean for v in values],
                         "arrayminus": [v.mean - v.low for v in values]},
                text=[f"{r.mode} · {r.dataset}" for r in members],
                hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:.3f} (%{text})<extra></extra>",
            )
        )  # fmt: skip
    figure.update_layout(
        title=f"{LABELS.get(metric, metric)} per run (95% bootstrap interval)",
        yaxis={"title": metric, "range": [0, 1.05]},
        xaxis={"title": "run started", "tickformat": "%b %d, %H:%M"},
        legend_title_text="evaluation set", height=380,
    )  # fmt: skip
    return figure


@dataclass(frozen=True)
class DocumentLabel:
    """How to show a judged or retrieved document: its file name and a snippet of text."""

    filename: str
    snippet: str


def document_labels(
    session: Session, oracle_id: UUID, keys: Iterable[str]
) -> dict[str, DocumentLabel]:
    """Labels for document keys of a run: document ids (golden sets) or BEIR corpus ids."""
    wanted = set(keys)
    ids = [UUID(k) for k in wanted if _UUID.match(k)]
    names = {f"{k}.txt" for k in wanted if not _UUID.match(k)}
    query = select(Document.id, Document.filename).where(
        Document.oracle_id == oracle_id,
        Document.id.in_(ids) | Document.filename.in_(names),
    )
    rows = session.execute(query).all()
    first = _first_chunks(session, [doc_id for doc_id, _ in rows])
    labels = {}
    for doc_id, filename in rows:
        key = str(doc_id) if str(doc_id) in wanted else filename.removesuffix(".txt")
        labels[key] = DocumentLabel(filename, first.get(doc_id, "")[:SNIPPET_CHARS])
    return labels


def _first_chunks(session: Session, document_ids: Sequence[UUID]) -> dict[UUID, str]:
    query = select(DocumentChunk.document_id, DocumentChunk.content).where(
        DocumentChunk.document_id.in_(list(document_ids)), DocumentChunk.chunk_index == 0
    )
    return {doc_id: " ".join(content.split()) for doc_id, content in session.execute(query)}


def question_table(results: Sequence[QueryResult]) -> Any:
    """One row per question: the question, its headline scores and the first relevant rank."""
    import pandas as pd

    rows = []
    for r in results:
        ranks = [i for i, key in enumerate(r.retrieved, start=1) if r.relevant.get(key, 0) > 0]
        rows.append({"question": r.query, "nDCG@10": r.metrics.get("nDCG@10"),
                     "first relevant at": ranks[0] if ranks else None,
                     "relevant documents": sum(1 for g in r.relevant.values() if g > 0),
                     "query id": r.query_id})  # fmt: skip
    return pd.DataFrame(rows)


def ranking_table(result: QueryResult, labels: Mapping[str, DocumentLabel], depth: int = 10) -> Any:
    """What was retrieved for one question, rank by rank, with the judgement of each."""
    import pandas as pd

    rows = []
    for rank, key in enumerate(result.retrieved[:depth], start=1):
        label = labels.get(key)
        grade = result.relevant.get(key)
        rows.append({"rank": rank, "document": label.filename if label else key,
                     "judged": "relevant" if grade else ("not relevant" if grade == 0 else "—"),
                     "text": label.snippet if label else ""})  # fmt: skip
    return pd.DataFrame(rows)


def missed(result: QueryResult, labels: Mapping[str, DocumentLabel], depth: int = 10) -> list[str]:
    """Relevant documents not retrieved in the top ``depth``, by name."""
    top = set(result.retrieved[:depth])
    return [labels[k].filename if k in labels else k
            for k, grade in result.relevant.items() if grade > 0 and k not in top]  # fmt: skip
