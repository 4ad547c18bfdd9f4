"""Index and usage: table and index sizes, scans, unused indexes, top queries, vector index
settings (whole database, admin); tokens, cost and latency of the selected tenant."""

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pandas as pd
import plotly.express as px
import streamlit as st
import workbench_ui as ui

from supercore_core import stats
from supercore_core.retrieval import RetrievalConfig
from supercore_core.usage import LatencyRow, UsageReport, latency_percentiles, usage


@st.cache_data(ttl=30, show_spinner=False)
def database_stats(database_url: str | None, person: str) -> tuple[
    stats.TableSizes, stats.IndexUsages, stats.TopQueries, stats.VectorSettings
]:  # fmt: skip
    with ui.admin("index statistics page") as session:
        return (
            stats.table_sizes(session),
            stats.index_usage(session),
            stats.top_queries(session, limit=15),
            stats.vector_settings(session),
        )


@st.cache_data(ttl=30, show_spinner=False)
def tenant_usage(solution_id: UUID, days: int, person: str) -> tuple[UsageReport, list[LatencyRow]]:
    since = datetime.now(UTC) - timedelta(days=days)
    with ui.tenant(solution_id) as session:
        return usage(session, since=since), latency_percentiles(session, since=since)


st.title("Index and usage")
database, usage_tab = st.tabs(["Database (all tenants)", "Usage of the selected tenant"])

with database, ui.shown_errors():
    sizes, indexes, top, vector = database_stats(ui.settings().database_url, ui.who().cache_key)
    st.caption("Database-wide figures, read in superuser mode (recorded in the audit log).")
    frame = sizes.to_frame()
    st.plotly_chart(
        px.bar(frame, x="table", y=["table_bytes", "index_bytes", "toast_bytes"],
               title="Table size on disk (bytes)"),
    )  # fmt: skip
    st.dataframe(frame, hide_index=True)

    st.subheader("Indexes")
    since = indexes.stats_reset.strftime("%Y-%m-%d %H:%M") if indexes.stats_reset else "start"
    st.caption(f"Scans since the statistics were last reset ({since}).")
    index_frame = indexes.to_frame()
    st.dataframe(index_frame.sort_values("scans", ascending=False), hide_index=True)
    unused = indexes.unused
    st.markdown(f"**Unused indexes:** {len(unused)} never scanned (constraint indexes excluded).")
    if unused:
        st.dataframe(
            [{"index": u.index, "table": u.table, "size_bytes": u.size_bytes,
              "serves": u.purpose} for u in unused],
            hide_index=True,
        )  # fmt: skip

    st.subheader("Top queries (pg_stat_statements)")
    if top.available:
        st.dataframe(top.to_frame(), hide_index=True)
    else:
        st.warning(f"Top queries unavailable: {top.reason}")

    st.subheader("Vector indexes")
    st.markdown(f"pgvector **{vector.extension_version or 'not installed'}**")
    st.dataframe(vector.to_frame(), hide_index=True)
    defaults = RetrievalConfig()
    st.json(
        vector.settings | {
            "exact search below (chunks per oracle)": defaults.exact_below_chunks,
            "ef_search used by retrieval": defaults.ef_search,
        }
    )  # fmt: skip

with usage_tab:
    tenant = ui.current_tenant()
    days = st.select_slider("Window (days)", options=[7, 30, 90, 365], value=30)
    with ui.shown_errors():
        report, latency = tenant_usage(tenant.solution_id, days, ui.who().cache_key)
    st.caption(f"Tenant {tenant.name}, last {days} days, answers only (read under RLS).")
    a, b, c = st.columns(3)
    a.metric("Tokens", f"{report.total_tokens:,}")
    b.metric("Cost (USD)", f"{report.total_cost_usd:.4f}")
    c.metric("Unpriced answers", report.unpriced_messages)
    if not report.rows:
        st.info("No answers in this window: ask something on the Chat page.")
        st.stop()
    frame = report.to_frame()
    frame["cost_usd"] = frame["cost_usd"].astype(float)
    frame["oracle / model"] = frame["oracle"] + " / " + frame["model"]
    left, right = st.columns(2)
    left.plotly_chart(px.bar(frame, x="day", y="total_tokens", color="oracle / model",
                             title="Tokens per day, oracle and model"))  # fmt: skip
    right.plotly_chart(px.bar(frame, x="day", y="cost_usd", color="oracle / model",
                              title="Cost (USD) per day, oracle and model"))  # fmt: skip
    latency_frame = pd.DataFrame([asdict(r) for r in latency])
    st.plotly_chart(
        px.bar(latency_frame, x="oracle", y=["p50_ms", "p95_ms"], barmode="group",
               hover_data=["model", "messages"], title="Answer latency per oracle (ms)"),
    )  # fmt: skip
    st.dataframe(frame.drop(columns=["oracle / model"]), hide_index=True)
