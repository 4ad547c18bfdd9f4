"""Column settings for the dashboard's tables: human titles and units (bytes, dollars, ms).

A page keeps the raw column names in its DataFrame (tests and downloads read them) and
passes ``columns(...)`` as ``column_config``: people read "Size" as "1.3MB", not 1343488.
"""

from typing import Any

import streamlit as st


def datetime_column(label: str) -> Any:
    """A date-time column to the minute."""
    return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm")


_CONFIG: dict[str, Any] = {
    "name": st.column_config.TextColumn("Tenant"),
    "slug": st.column_config.TextColumn("Slug"),
    "status": st.column_config.TextColumn("Status", width="small"),
    "created_at": datetime_column("Created"),
    "occurred_at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "oracles": st.column_config.NumberColumn("Oracles", format="localized"),
    "documents": st.column_config.NumberColumn("Documents", format="localized"),
    "failed_documents": st.column_config.NumberColumn("Failed documents", format="localized"),
    "chunks": st.column_config.NumberColumn("Chunks", format="localized"),
    "conversations": st.column_config.NumberColumn("Conversations", format="localized"),
    "messages": st.column_config.NumberColumn("Messages", format="localized"),
    "total_tokens": st.column_config.NumberColumn("Tokens", format="localized"),
    "input_tokens": st.column_config.NumberColumn("Input tokens", format="localized"),
    "output_tokens": st.column_config.NumberColumn("Output tokens", format="localized"),
    "cost_usd": st.column_config.NumberColumn("Cost (USD)", format="$%.4f"),
    "unpriced_messages": st.column_config.NumberColumn("Unpriced answers", format="localized"),
    "estimated_messages": st.column_config.NumberColumn("Estimated tokens", format="localized"),
    "total_bytes": st.column_config.NumberColumn("Total size", format="bytes"),
    "table_bytes": st.column_config.NumberColumn("Table data", format="bytes"),
    "index_bytes": st.column_config.NumberColumn("Indexes", format="bytes"),
    "toast_bytes": st.column_config.NumberColumn("TOAST", format="bytes"),
    "size_bytes": st.column_config.NumberColumn("Size", format="bytes"),
    "rows_estimate": st.column_config.NumberColumn("Rows (estimate)", format="localized"),
    "scans": st.column_config.NumberColumn("Scans", format="localized"),
    "tuples_read": st.column_config.NumberColumn("Tuples read", format="localized"),
    "tuples_fetched": st.column_config.NumberColumn("Tuples fetched", format="localized"),
    "total_ms": st.column_config.NumberColumn("Total time (ms)", format="%.1f"),
    "mean_ms": st.column_config.NumberColumn("Mean time (ms)", format="%.2f"),
    "cache_hit_ratio": st.column_config.ProgressColumn(
        "Cache hits", format="percent", min_value=0.0, max_value=1.0
    ),
    "session_user": st.column_config.TextColumn("Login"),
    "reason": st.column_config.TextColumn("Reason", width="large"),
    "tenant": st.column_config.TextColumn("Tenant"),
    "oracle": st.column_config.TextColumn("Oracle"),
    "model": st.column_config.TextColumn("Model"),
    "day": st.column_config.DateColumn("Day (UTC)", format="YYYY-MM-DD"),
    "purpose": st.column_config.TextColumn("Purpose", width="large"),
    "query": st.column_config.TextColumn("Query", width="large"),
    "calls": st.column_config.NumberColumn("Calls", format="localized"),
    "rows": st.column_config.NumberColumn("Rows", format="localized"),
    "table": st.column_config.TextColumn("Table"),
    "index": st.column_config.TextColumn("Index"),
    "method": st.column_config.TextColumn("Method", width="small"),
    "options": st.column_config.TextColumn("Options"),
    "definition": st.column_config.TextColumn("Definition", width="large"),
    "setting": st.column_config.TextColumn("Setting"),
    "value": st.column_config.TextColumn("Value"),
    "p50_ms": st.column_config.NumberColumn("Median (ms)", format="%d ms"),
    "p95_ms": st.column_config.NumberColumn("95th percentile (ms)", format="%d ms"),
}


def columns(*names: str, **overrides: Any) -> dict[str, Any]:
    """``column_config`` for ``names`` (their shared settings), plus ``overrides``."""
    return {n: _CONFIG[n] for n in names if n in _CONFIG} | overrides
