"""Evaluations: per oracle, the latest run, the trend, each question, comparisons, golden sets."""

import eval_views as views
import golden_views
import streamlit as st
import workbench_ui as ui

tenant = ui.current_tenant()
st.title("Evaluations")
with ui.shown_errors():
    newest = views.last_evaluated(tenant.solution_id, ui.who().cache_key)
oracle = ui.oracle_picker(
    tenant.solution_id, key="eval_oracle", include_scratch=True, preferred=newest
)
ui.show_done()
with ui.shown_errors():
    listed = views.runs(tenant.solution_id, oracle.oracle_id, ui.who().cache_key)
latest, trend, questions, compare, golden = st.tabs(
    ["Latest run", "Trend", "Questions", "Compare runs", "Golden sets"]
)
with latest:
    if listed.runs:
        views.latest(listed)
    else:
        views.empty_state(tenant.slug, oracle.name)
with trend:
    if listed.runs:
        views.trend(listed)
with questions:
    if listed.runs:
        views.questions(tenant.solution_id, oracle.oracle_id, listed)
with compare:
    views.compare(tenant.solution_id, listed)
with golden:
    # Viewers read; the database refuses their writes whatever the page shows.
    golden_views.golden_sets(
        tenant.solution_id, oracle.oracle_id, can_edit=ui.can_edit(tenant.solution_id)
    )
