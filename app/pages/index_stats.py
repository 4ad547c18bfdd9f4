"""Index and usage: table and index sizes, scans, unused indexes, top queries, vector index
settings (whole database, admin); the selected tenant's oracles with their search path,
calibrated ef_search and recall@10 against exact (as `supercore doctor` measures it);
tokens, cost and latency of the selected tenant."""

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from uuid import UUID

import charts
import pandas as pd
import streamlit as st
import table_columns as tables
import workbench_ui as ui

from supercore_core import stats
from supercore_core.retrieval import RetrievalConfig
from supercore_core.usage import LatencyRow, UsageReport, latency_percentiles, usage
from supercore_core.vector_index.recall import TARGET_RECALL
from supercore_core.vector_index.report import RecallReport, recall_report


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


@st.cache_data(ttl=300, show_spinner=False)
def tenant_recall(solution_id: UUID, person: str) -> RecallReport:
    """Recall@10 per oracle of the tenant, read under RLS (the doctor's measurement)."""
    with ui.tenant(solution_id) as session:
        return recall_report(session)


@st.cache_data(ttl=30, show_spinner=False)
def tenant_usage(solution_id: UUID, days: int, person: str) -> tuple[UsageReport, list[LatencyRow]]:
    since = datetime.now(UTC) - timedelta(days=days)
    with ui.tenant(solution_id) as session:
        return usage(session, since=since), latency_percentiles(session, since=since)


st.title("Index and usage")
database, vectors_tab, usage_tab = st.tabs(
    [
        "Database (all tenants)",
        "Vector search of the selected tenant",
        "Usage of the selected tenant",
    ]
)
LARGEST = 12
SIZE_PARTS = {"table_bytes": "Table data", "index_bytes": "Indexes", "toast_bytes": "TOAST"}

with database, ui.shown_errors():
    sizes, indexes, top, vector = database_stats(ui.settings().database_url, ui.who().cache_key)
    st.caption("Database-wide figures, read in superuser mode (recorded in the audit log).")
    frame = sizes.to_frame()
    index_frame = indexes.to_frame()
    unused = indexes.unused
    a, b, c, d = st.columns(4)
    a.metric("Size on disk", charts.human_bytes(int(frame["total_bytes"].sum())))
    b.metric("Tables", len(frame))
    c.metric("Indexes", len(index_frame))
    d.metric("Never-scanned indexes", len(unused))
    st.plotly_chart(charts.size_bars(
        frame.head(LARGEST), label="table", parts=SIZE_PARTS,
        title=f"Size on disk, {min(LARGEST, len(frame))} largest of {len(frame)} tables",
    ))  # fmt: skip
    with st.expander(f"All {len(frame)} tables: sizes and row estimates"):
        st.dataframe(frame, hide_index=True, column_config=tables.columns(*frame.columns))

    st.subheader("Indexes")
    since = indexes.stats_reset.strftime("%Y-%m-%d %H:%M") if indexes.stats_reset else "start"
    st.caption(f"Scans since the statistics were last reset ({since}), most used first.")
    st.dataframe(
        index_frame.sort_values("scans", ascending=False), hide_index=True,
        column_order=["index", "table", "scans", "size_bytes", "method", "purpose"],
        column_config=tables.columns("index", "table", "scans", "size_bytes", "method", "purpose"),
    )  # fmt: skip
    st.markdown(f"**Unused indexes:** {len(unused)} never scanned (constraint indexes excluded).")
    if unused:
        st.dataframe(
            [{"index": u.index, "table": u.table, "size_bytes": u.size_bytes,
              "purpose": u.purpose} for u in unused],
            hide_index=True,
            column_config=tables.columns("index", "table", "size_bytes", "purpose"),
        )  # fmt: skip

    st.subheader("Top queries (pg_stat_statements)")
    if top.available:
        queries = top.to_frame()
        st.dataframe(queries, hide_index=True, column_config=tables.columns(*queries.columns))
    else:
        st.warning(f"Top queries unavailable: {top.reason}")

    st.subheader("Vector indexes")
    st.markdown(f"pgvector **{vector.extension_version or 'not installed'}**")
    st.dataframe(vector.to_frame(), hide_index=True, column_config=tables.columns("size_bytes"))
    defaults = RetrievalConfig()
    search_settings = vector.settings | {
        "exact search below (chunks per oracle)": str(defaults.exact_below_chunks),
        "ef_search used by retrieval": str(defaults.ef_search),
    }
    st.dataframe(
        pd.DataFrame(list(search_settings.items()), columns=["setting", "value"]),
        hide_index=True,
        column_config=tables.columns("setting", "value"),
    )

with vectors_tab:
    tenant = ui.current_tenant()  # the same tenant for the usage tab
    with ui.shown_errors():
        recall = tenant_recall(tenant.solution_id, ui.who().cache_key)
    st.caption(
        f"Tenant {tenant.name}. Oracles under their exact_below_chunks threshold are searched "
        "exactly (recall 1 by construction); larger ones have an HNSW index of their own, "
        "whose recall@10 is measured on queries made from stored chunks (midpoints of pairs, "
        "off the graph), the production dense "
        f"path against exact search (as `supercore doctor` does). Under {TARGET_RECALL} is "
        "flagged: `supercore db reindex --vectors` rebuilds and recalibrates."
    )
    if not recall.rows:
        st.info("No oracles yet.")
    for row in recall.flagged:
        st.warning(f"Oracle {row.oracle}: recall@10 {row.recall_at_10:.3f}, under {TARGET_RECALL}.")
    recall_frame = recall.to_frame()
    if len(recall_frame):
        # exact oracles have no index, ef_search or sampled queries: a dash, not "None"
        exact = recall_frame["path"] == "exact"
        recall_frame["index_bytes"] = [
            "—" if pd.isna(v) else charts.human_bytes(int(v)) for v in recall_frame["index_bytes"]
        ]
        recall_frame["ef_search"] = [
            "—" if pd.isna(v) else str(int(v)) for v in recall_frame["ef_search"]
        ]
        recall_frame["samples"] = [
            "—" if e else str(n) for e, n in zip(exact, recall_frame["samples"], strict=True)
        ]
        shown = ["oracle", "chunks", "path", "index_bytes", "ef_search", "recall_at_10",
                 "samples", "flagged"]  # fmt: skip
        text = {
            "index_bytes": st.column_config.TextColumn("Own index size"),
            "ef_search": st.column_config.TextColumn("ef_search (calibrated)"),
            "samples": st.column_config.TextColumn("Sampled queries"),
        }
        st.dataframe(recall_frame, hide_index=True, column_order=shown,
                     column_config=tables.columns(*shown, **text))  # fmt: skip

with usage_tab:
    days = st.select_slider("Window (days)", options=[7, 30, 90, 365], value=30)
    with ui.shown_errors():
        report, latency = tenant_usage(tenant.solution_id, days, ui.who().cache_key)
    st.caption(f"Tenant {tenant.name}, last {days} days, answers only (read under RLS).")
    frame = report.to_frame()
    a, b, c, d = st.columns(4)
    a.metric("Answers", f"{int(frame['messages'].sum()) if len(frame) else 0:,}")
    b.metric("Tokens", f"{report.total_tokens:,}")
    c.metric("Cost (USD)", f"${report.total_cost_usd:,.4f}")
    d.metric("Unpriced answers", report.unpriced_messages)
    if not report.rows:
        st.info("No answers in this window: ask something on the Chat page.")
        st.stop()
    frame["cost_usd"] = frame["cost_usd"].astype(float)
    frame["oracle / model"] = frame["oracle"] + " / " + frame["model"]
    left, right = st.columns(2)
    left.plotly_chart(charts.daily_bars(
        frame, series={"total_tokens": "Tokens"}, title="Tokens per day", y_title="Tokens",
        color="oracle / model", legend_title="Oracle / model",
    ))  # fmt: skip
    right.plotly_chart(charts.daily_bars(
        frame, series={"cost_usd": "Cost (USD)"}, title="Cost per day", y_title="Cost (USD)",
        color="oracle / model", legend_title="Oracle / model",
        empty="no cost recorded<br>(offline answers are free)",
    ))  # fmt: skip
    st.plotly_chart(charts.latency_bars(pd.DataFrame([asdict(r) for r in latency])))
    with st.expander("Usage per day, oracle and model"):
        shown = [c for c in frame.columns if c not in ("tenant", "oracle / model")]
        st.dataframe(
            frame, hide_index=True, column_order=shown, column_config=tables.columns(*shown)
        )
