"""Usage of the selected tenant for its members (platform admins see it under Index and
usage too): tokens, cost and answers, read under RLS as the signed-in person."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import streamlit as st
import workbench_ui as ui

from supercore_core.usage import UsageReport, usage


@st.cache_data(ttl=30, show_spinner=False)
def tenant_usage(solution_id: UUID, days: int, person: str) -> UsageReport:
    with ui.tenant(solution_id) as session:
        return usage(session, since=datetime.now(UTC) - timedelta(days=days))


tenant = ui.current_tenant()
st.title("Usage")
days = st.select_slider("Window (days)", options=[7, 30, 90, 365], value=30)
with ui.shown_errors():
    report = tenant_usage(tenant.solution_id, days, ui.who().cache_key)
st.caption(f"Tenant {tenant.name}, last {days} days, answers only.")
a, b, c = st.columns(3)
a.metric("Tokens", f"{report.total_tokens:,}")
b.metric("Cost (USD)", f"{report.total_cost_usd:.4f}")
c.metric("Unpriced answers", report.unpriced_messages)
if not report.rows:
    st.info("No answers in this window: ask something on the Chat page.")
    st.stop()
st.dataframe(report.to_frame(), hide_index=True)
