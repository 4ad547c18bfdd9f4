"""Evaluations: the stored runs of the selected tenant, per oracle, compared side by side."""

from uuid import UUID

import streamlit as st
import workbench_ui as ui

from supercore_core.evaluation.runs import RunComparison, RunList, compare_runs, list_runs

COMMAND = "supercore eval run --dataset evals/datasets/<dataset> --tenant {slug} --oracle {oracle}"


@st.cache_data(ttl=30, show_spinner=False)
def runs(solution_id: UUID, oracle_id: UUID, person: str) -> RunList:
    with ui.tenant(solution_id) as session:
        return list_runs(session, oracle_id)


@st.cache_data(ttl=30, show_spinner=False)
def comparison(solution_id: UUID, a: UUID, b: UUID, person: str) -> RunComparison:
    with ui.tenant(solution_id) as session:
        return compare_runs(session, a, b)


tenant = ui.current_tenant()
st.title("Evaluations")
oracle = ui.oracle_picker(tenant.solution_id, key="eval_oracle")
with ui.shown_errors():
    listed = runs(tenant.solution_id, oracle.oracle_id, ui.who().cache_key)
if not listed.runs:
    st.info("No evaluation runs for this oracle yet. Run one from a terminal:")
    st.code(COMMAND.format(slug=tenant.slug, oracle=oracle.name), language="bash")
    st.stop()

st.dataframe(listed.to_frame().drop(columns=["run_id"]), hide_index=True)
labels = {
    r.id: f"{r.created_at:%Y-%m-%d %H:%M} · {r.dataset} · {r.mode or r.kind}" for r in listed.runs
}
if len(labels) < 2:
    st.caption("Record a second run to compare two side by side.")
    st.stop()
st.subheader("Compare two runs")
left, right = st.columns(2)
ids = list(labels)
a = left.selectbox("Run A", ids, index=1, format_func=labels.__getitem__)
b = right.selectbox("Run B", ids, index=0, format_func=labels.__getitem__)
if a == b:
    ui.fail("pick two different runs to compare")
with ui.shown_errors():
    result = comparison(tenant.solution_id, a, b, ui.who().cache_key)
st.caption(
    f"B minus A over {result.paired_queries} shared queries, with paired bootstrap intervals."
)
st.dataframe(result.to_frame(), hide_index=True)
