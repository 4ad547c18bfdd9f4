"""Overview: every tenant at a glance (admin), with daily trends."""

import charts
import streamlit as st
import table_columns as tables
import workbench_ui as ui

from supercore_core import stats
from supercore_core.ops.audit import AuditLog, list_audit

HEADLINE = ["name", "status", "documents", "messages", "total_tokens", "cost_usd"]
DETAILS = [
    *("name", "slug", "created_at", "oracles", "documents", "failed_documents", "chunks"),
    *("conversations", "messages", "total_tokens", "cost_usd", "unpriced_messages"),
]
ACTIVITY = ["documents", "messages", "total_tokens"]


@st.cache_data(ttl=30, show_spinner=False)
def load(
    database_url: str | None, days: int, person: str
) -> tuple[stats.Overview, stats.Trends, AuditLog]:
    with ui.admin("overview page") as session:
        return (
            stats.overview(session),
            stats.trends(session, days=days),
            list_audit(session, limit=20),
        )


ui.tenant_picker()
st.title("Overview")
st.caption("All tenants, read in superuser mode (recorded in the audit log).")
days = st.select_slider("Trend window (days)", options=[7, 14, 30, 90], value=30)
with ui.shown_errors():
    overview, trends, audit = load(ui.settings().database_url, days, ui.who().cache_key)

figures = [
    ("Tenants", f"{len(overview.rows):,}"),
    ("Documents", f"{overview.total('documents'):,}"),
    ("Messages", f"{overview.total('messages'):,}"),
    ("Tokens", f"{overview.total('total_tokens'):,}"),
    ("Cost (USD)", f"${overview.total('cost_usd'):,.4f}"),
]
for column, (label, value) in zip(st.columns(len(figures)), figures, strict=True):
    column.metric(label, value)

if not overview.rows:
    st.info("No tenants yet. Load the demo data with `supercore demo load`, or create a tenant.")
    st.stop()

st.subheader("Tenants")
frame = overview.to_frame().drop(columns=["solution_id"])
frame["cost_usd"] = frame["cost_usd"].astype(float)
st.dataframe(frame, hide_index=True, column_order=HEADLINE, column_config=tables.columns(*HEADLINE))
if overview.total("unpriced_messages"):
    st.caption(
        f"{overview.total('unpriced_messages')} answers have no price (model not in the price "
        "list): their cost is unknown, not zero."
    )
with st.expander("All counts per tenant (slug, oracles, chunks, failed documents ...)"):
    st.dataframe(
        frame, hide_index=True, column_order=DETAILS, column_config=tables.columns(*DETAILS)
    )

st.subheader(f"Last {days} days")
daily = trends.to_frame()
daily["cost_usd"] = daily["cost_usd"].astype(float)
shown = charts.active_days(daily, ACTIVITY)
st.caption(charts.window_note(daily, ACTIVITY, days))
if not shown.empty:
    left, right = st.columns(2)
    left.plotly_chart(charts.daily_bars(
        shown, series={"documents": "Documents ingested", "messages": "Chat messages"},
        title="Documents and messages per day", y_title="Count",
    ))  # fmt: skip
    right.plotly_chart(charts.daily_bars(
        shown, series={"total_tokens": "Tokens"}, title="Tokens per day", y_title="Tokens",
    ))  # fmt: skip

with st.expander("Superuser mode, latest uses (audit log)"):
    slugs = {r.solution_id: r.slug for r in overview.rows}
    log = audit.to_frame()[["occurred_at", "session_user", "reason", "solution_id"]]
    log["tenant"] = log["solution_id"].map(lambda sid: slugs.get(sid, "—"))
    st.dataframe(
        log, hide_index=True, column_order=["occurred_at", "reason", "tenant", "session_user"],
        column_config=tables.columns("occurred_at", "reason", "tenant", "session_user"),
    )  # fmt: skip
