"""The dashboard's charts: human titles and units, readable with one day of data or a year.

Every figure is built here from a DataFrame and returned (pages only place it), so tests can
check the figure objects. Plotly's defaults fail at both ends: one day of data zooms a date
axis to milliseconds, a column of zeros draws an empty chart on a -1..1 axis, and raw column
names (``variable``, ``value``, ``total_tokens``) become titles. The helpers here fix each.
"""

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

DAY_MS = 24 * 60 * 60 * 1000
BYTE_UNITS = ((1024**3, "GB"), (1024**2, "MB"), (1024, "kB"), (1, "bytes"))
HEIGHT = 380
# Above the plot, left-aligned: a legend on the right takes half of a narrow column.
LEGEND_ON_TOP = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "xanchor": "left"}


def active_days(frame: pd.DataFrame, columns: Sequence[str], *, day: str = "day") -> pd.DataFrame:
    """The rows from the first day with any activity on (a window of 30 days with activity
    on the last day only would draw one spike at the right edge of an empty axis)."""
    busy = frame[list(columns)].astype(float).abs().sum(axis=1) > 0
    if not busy.any():
        return frame.iloc[0:0]
    first = frame.loc[busy, day].min()
    return frame[frame[day] >= first].reset_index(drop=True)


def day_axis(figure: go.Figure, days: Sequence[Any]) -> go.Figure:
    """A date axis of whole days: padded each side (one day of data is a bar, not a range
    of milliseconds), daily ticks up to two weeks, labels like "Nov 30"."""
    if len(days) == 0:
        return figure
    values = [pd.Timestamp(d) for d in days]
    low, high = min(values), max(values)
    pad = pd.Timedelta(days=1) if high - low < pd.Timedelta(days=3) else pd.Timedelta(hours=12)
    figure.update_xaxes(
        type="date",
        range=[(low - pad).isoformat(), (high + pad).isoformat()],
        tickformat="%b %d",
        dtick=DAY_MS if (high - low) <= pd.Timedelta(days=14) else None,
        title_text="Day (UTC)",
    )
    return figure


def note_when_empty(figure: go.Figure, values: Any, message: str) -> go.Figure:
    """Zeros only: a 0..1 axis and a note in the plot, not an empty -1..1 chart."""
    if float(pd.Series(values, dtype=float).abs().sum()) == 0:
        figure.update_yaxes(range=[0, 1])
        figure.add_annotation(
            text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5
        )
    return figure


def _style(figure: go.Figure, *, y_title: str, legend_title: str = "") -> go.Figure:
    figure.update_layout(
        height=HEIGHT,
        legend={"title": {"text": legend_title, "side": "left"}, **LEGEND_ON_TOP},
        margin={"t": 90, "b": 40, "l": 10, "r": 10},
    )
    figure.update_yaxes(title_text=y_title, rangemode="tozero")
    return figure


def daily_bars(
    frame: pd.DataFrame,
    *,
    series: dict[str, str],
    title: str,
    y_title: str,
    color: str | None = None,
    legend_title: str = "",
    empty: str = "none in this window",
) -> go.Figure:
    """Bars per day. ``series`` maps columns to the names the legend shows; with one
    series and ``color`` the bars are split by that column (oracle / model, say)."""
    long = frame.rename(columns=series)
    names = list(series.values())
    figure = px.bar(
        long,
        x="day",
        y=names if len(names) > 1 else names[0],
        color=color,
        barmode="group" if len(names) > 1 else "stack",
        title=title,
        labels={"day": "Day (UTC)", "value": y_title, "variable": legend_title},
    )
    day_axis(figure, list(frame["day"]))
    _day_wide(figure, grouped=len(names) if len(names) > 1 else 1)
    _style(figure, y_title=y_title, legend_title=legend_title)
    return note_when_empty(figure, frame[list(series)].to_numpy().ravel(), empty)


def _day_wide(figure: go.Figure, *, grouped: int) -> None:
    """A bar on a date axis is as wide as the gap between x values, so one day of data draws
    nothing: give each day 80% of its width, side by side for ``grouped`` series."""
    width = 0.8 * DAY_MS / grouped
    for k, trace in enumerate(figure.data):
        slot = k % grouped if grouped > 1 else 0
        trace.update(width=width, offset=-0.4 * DAY_MS + slot * width)


def byte_unit(largest: float) -> tuple[int, str]:
    """The unit that shows ``largest`` bytes as a number between 1 and 1024."""
    return next((size, name) for size, name in BYTE_UNITS if largest >= size or size == 1)


def human_bytes(size: int) -> str:
    """``1343488`` as ``"1.3 MB"``."""
    divisor, unit = byte_unit(size)
    return f"{size} bytes" if divisor == 1 else f"{size / divisor:.1f} {unit}"


def size_bars(frame: pd.DataFrame, *, label: str, parts: dict[str, str], title: str) -> go.Figure:
    """Horizontal stacked bars of sizes in bytes, scaled to kB/MB/GB; the biggest on top."""
    largest = float(frame[list(parts)].sum(axis=1).max()) if len(frame) else 0.0
    divisor, unit = byte_unit(largest)
    scaled = frame[[label]].copy()
    for column, name in parts.items():
        scaled[name] = frame[column].astype(float) / divisor
    figure = px.bar(
        scaled,
        y=label,
        x=list(parts.values()),
        orientation="h",
        title=f"{title} ({unit})",
        labels={label: "", "value": f"Size ({unit})", "variable": ""},
    )
    figure.update_yaxes(autorange="reversed", title_text="")
    figure.update_xaxes(title_text=f"Size ({unit})")
    figure.update_layout(
        height=max(HEIGHT, 28 * len(frame) + 120),
        legend={"title_text": "", **LEGEND_ON_TOP},
        margin={"t": 90, "b": 40, "l": 10, "r": 10},
    )
    return figure


def latency_bars(frame: pd.DataFrame) -> go.Figure:
    """Median and 95th percentile answer latency per oracle (and model), in ms."""
    named = frame.assign(where=frame["oracle"] + " / " + frame["model"]).rename(
        columns={"p50_ms": "median (p50)", "p95_ms": "95th percentile"}
    )
    figure = px.bar(
        named,
        x="where",
        y=["median (p50)", "95th percentile"],
        barmode="group",
        hover_data=["messages"],
        title="Answer latency per oracle and model",
        labels={"where": "Oracle / model", "value": "Latency (ms)", "variable": ""},
    )
    return _style(figure, y_title="Latency (ms)")


def window_note(frame: pd.DataFrame, columns: Sequence[str], days: int) -> str:
    """A chart caption: on how many days of the window anything happened, and since when."""
    busy = frame[frame[list(columns)].astype(float).abs().sum(axis=1) > 0]
    if busy.empty:
        return f"No activity in the last {days} days."
    first = pd.Timestamp(busy["day"].min())
    return (
        f"Activity on {busy['day'].nunique()} of the last {days} days; "
        f"the charts start at the first of them ({first:%b} {first.day})."
    )
