"""Overview: every tenant at a glance (admin), with daily trends."""

import plotly.express as px
import streamlit as st
import workbench_ui as ui

from supercore_core import stats
from supercore_core.ops.audit import AuditLog, list_audit


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

columns = st.columns(7)
figures = [
    ("Tenants", len(overview.rows)),
    ("Oracles", overview.total("oracles")),
    ("Documents", overview.total("documents")),
    ("Chunks", overview.total("chunks")),
    ("Messages", overview.total("messages")),
    ("Tokens", overview.total("total_tokens")),
    ("Cost (USD)", f"{overview.total('cost_usd'):.4f}"),
]
for column, (label, value) in zip(columns, figures, strict=True):
    column.metric(label, f"{value:,}" if isinstance(value, int) else value)

if not overview.rows:
    st.info("No tenants yet. Load the demo data with `supercore demo load`, or create a tenant.")
    st.stop()

st.subheader("Tenants")
frame = overview.to_frame().drop(columns=["solution_id"])
frame["cost_usd"] = frame["cost_usd"].astype(float)
st.dataframe(frame, hide_index=True)
if overview.total("unpriced_messages"):
    st.caption(
        f"{overview.total('unpriced_messages')} answers have no price (model not in the price "
        "list): their cost is unknown, not zero."
    )

st.subheader(f"Last {days} days")
daily = trends.to_frame()
daily["cost_usd"] = daily["cost_usd"].astype(float)
left, right = st.columns(2)
left.plotly_chart(
    px.bar(
        daily,
        x="day",
        y=["documents", "messages"],
        barmode="group",
        title="Documents and messages per day",
    ),
)
right.plotly_chart(
    px.line(daily, x="day", y="total_tokens", markers=True, title="Tokens per day"),
)

st.subheader("Superuser mode, latest uses (audit log)")
st.dataframe(
    audit.to_frame()[["occurred_at", "session_user", "reason", "solution_id"]], hide_index=True
)
