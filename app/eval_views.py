"""The Evaluations page's tabs: latest run, trend, per-question drill-down, comparison.

Each function renders one tab from stored runs (``supercore_core.evaluation``); none
stops the page, so the other tabs keep working when one has nothing to show.
"""

from uuid import UUID

import streamlit as st
import workbench_ui as ui

from supercore_core.evaluation.report import (
    DocumentLabel,
    document_labels,
    headline,
    headline_figure,
    missed,
    previous_run,
    question_table,
    ranking_table,
    stale_notes,
    trend_figure,
)
from supercore_core.evaluation.runs import RunComparison, RunDetail, RunList, RunSummary
from supercore_core.evaluation.runs import compare_runs as _compare_runs
from supercore_core.evaluation.runs import get_run as _get_run
from supercore_core.evaluation.runs import list_runs as _list_runs

COMMAND = "supercore eval run --tenant {slug} --oracle {oracle} --set SET"


@st.cache_data(ttl=30, show_spinner=False)
def runs(solution_id: UUID, oracle_id: UUID, person: str) -> RunList:
    """The oracle's runs, newest first (cached per tenant and oracle)."""
    with ui.tenant(solution_id) as session:
        return _list_runs(session, oracle_id)


@st.cache_data(ttl=30, show_spinner=False)
def last_evaluated(solution_id: UUID, person: str) -> UUID | None:
    """The tenant's oracle with the newest run, offered first on the page."""
    with ui.tenant(solution_id) as session:
        newest = _list_runs(session, limit=1).runs
    return newest[0].oracle_id if newest else None


@st.cache_data(ttl=300, show_spinner=False)
def detail(solution_id: UUID, run_id: UUID, person: str) -> RunDetail:
    """One run with its per-question results."""
    with ui.tenant(solution_id) as session:
        return _get_run(session, run_id)


@st.cache_data(ttl=300, show_spinner=False)
def labels(
    solution_id: UUID, oracle_id: UUID, keys: tuple[str, ...], person: str
) -> dict[str, DocumentLabel]:
    """Document names and snippets for the keys a run retrieved or judged."""
    with ui.tenant(solution_id) as session:
        return dict(document_labels(session, oracle_id, keys))


@st.cache_data(ttl=30, show_spinner=False)
def comparison(solution_id: UUID, a: UUID, b: UUID, person: str) -> RunComparison:
    """Run b against run a, paired on questions."""
    with ui.tenant(solution_id) as session:
        return _compare_runs(session, a, b)


def run_label(run: RunSummary) -> str:
    """How a run is named in pickers."""
    kind = "" if run.kind in ("retrieval", "answer") else f" ({run.kind})"
    return f"{run.created_at:%Y-%m-%d %H:%M} · {run.dataset} · {run.mode or run.kind}{kind}"


def empty_state(slug: str, oracle: str) -> None:
    """What to do when the oracle has no runs yet."""
    st.info(
        "No evaluation runs for this oracle yet. Score it on one of its golden sets from the "
        "Golden sets tab, or from a terminal:"
    )
    st.code(COMMAND.format(slug=slug, oracle=oracle), language="bash")


def latest(listed: RunList) -> None:
    """The newest run: headline figures with their change, a chart with intervals."""
    run = listed.runs[0]
    before = previous_run(listed.runs, run)
    st.caption(f"{run_label(run)} · {run.query_count} questions · status {run.status}"
               + (f" · compared with the run of {before.created_at:%Y-%m-%d %H:%M}"
                  if before else ""))  # fmt: skip
    if run.canary_hits:
        st.error(f"{run.canary_hits} leakage canary hit(s): this run failed the isolation check.")
    for note in stale_notes(run):
        st.warning(note)
    figures = headline(run, before)
    for column, figure in zip(st.columns(max(len(figures), 1)), figures, strict=False):
        unchanged = figure.change is None or round(figure.change, 3) == 0
        delta = None if unchanged else f"{figure.change:+.3f}"
        column.metric(figure.label, f"{figure.value.mean:.3f}", delta,
                      help=f"95% interval {figure.value.low:.3f} to {figure.value.high:.3f}, "
                      f"n = {figure.value.n}")  # fmt: skip
    if figures:
        st.plotly_chart(headline_figure(run), use_container_width=True)


def trend(listed: RunList) -> None:
    """nDCG@10 (or another headline metric) over the oracle's runs."""
    metric = st.segmented_control(
        "Metric", ["nDCG@10", "R@100", "MRR@10", "HitRate@10"], default="nDCG@10",
        key="trend_metric",
    )  # fmt: skip
    # Sweep candidates are experiments, not the oracle's history (they stay in the table).
    history = [r for r in listed.runs if r.kind != "sweep"] or list(listed.runs)
    st.plotly_chart(trend_figure(history, metric or "nDCG@10"), use_container_width=True)
    with st.expander("Every run, every metric"):
        st.dataframe(listed.to_frame().drop(columns=["run_id"]), hide_index=True)


def questions(solution_id: UUID, oracle_id: UUID, listed: RunList) -> None:
    """Per question: its scores, what was retrieved at which rank, what was missed."""
    by_id = {r.id: r for r in listed.runs}
    chosen = st.selectbox("Run", list(by_id), format_func=lambda i: run_label(by_id[i]),
                          key="questions_run")  # fmt: skip
    with ui.shown_errors():
        found = detail(solution_id, chosen, ui.who().cache_key)
    table = question_table(found.results)
    st.dataframe(table, hide_index=True, use_container_width=True,
                 column_config={"nDCG@10": st.column_config.ProgressColumn(
                     "nDCG@10", min_value=0.0, max_value=1.0, format="%.2f")})  # fmt: skip
    results = {r.query_id: r for r in found.results}
    picked = st.selectbox("Question", list(results), key="questions_pick",
                          format_func=lambda k: f"{k}: {results[k].query[:90]}")  # fmt: skip
    if picked is None:
        return
    result = results[picked]
    keys = tuple(dict.fromkeys([*result.retrieved[:10], *result.relevant]))
    with ui.shown_errors():
        names = labels(solution_id, oracle_id, keys, ui.who().cache_key)
    st.markdown(f"**{result.query}**")
    st.dataframe(ranking_table(result, names), hide_index=True, use_container_width=True)
    lost = missed(result, names)
    if lost:
        st.warning("Relevant but not in the top 10: " + ", ".join(lost))
    if result.reference_answer:
        st.caption(f"Reference answer: {result.reference_answer}")


def compare(solution_id: UUID, listed: RunList) -> None:
    """Two runs side by side with the paired difference per metric."""
    if len(listed.runs) < 2:
        st.info("Record a second run to compare two side by side.")
        return
    by_id = {r.id: r for r in listed.runs}
    ids = list(by_id)
    left, right = st.columns(2)
    a = left.selectbox("Run A (before)", ids, index=1, key="compare_a",
                       format_func=lambda i: run_label(by_id[i]))  # fmt: skip
    b = right.selectbox("Run B (after)", ids, index=0, key="compare_b",
                        format_func=lambda i: run_label(by_id[i]))  # fmt: skip
    if a == b:
        st.warning("Pick two different runs to compare.")
        return
    with ui.shown_errors():
        result = comparison(solution_id, a, b, ui.who().cache_key)
    st.caption(
        f"B minus A over {result.paired_queries} shared questions, with paired bootstrap "
        "intervals; a change is significant when its interval excludes 0."
    )
    st.dataframe(result.to_frame(), hide_index=True, use_container_width=True)
