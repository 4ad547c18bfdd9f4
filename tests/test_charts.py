"""The dashboard's chart helpers (app/charts.py): the figure objects, little data and lots."""

import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "app"))
import charts

DAY = date(2026, 11, 30)


def days_frame(values: list[int], *, last: date = DAY) -> pd.DataFrame:
    days = [last - timedelta(days=len(values) - 1 - i) for i in range(len(values))]
    return pd.DataFrame({"day": days, "messages": values, "documents": values,
                         "total_tokens": [v * 100 for v in values]})  # fmt: skip


def test_one_day_is_a_visible_bar_on_a_day_axis_not_milliseconds() -> None:
    figure = charts.daily_bars(
        days_frame([5]), series={"messages": "Chat messages"}, title="t", y_title="Messages"
    )

    axis = figure.layout.xaxis
    assert axis.type == "date" and axis.tickformat == "%b %d"
    low, high = (pd.Timestamp(x) for x in axis.range)
    assert (low, high) == (
        pd.Timestamp(DAY) - pd.Timedelta(days=1),
        pd.Timestamp(DAY) + pd.Timedelta(days=1),
    )
    assert axis.dtick == charts.DAY_MS
    (bar,) = figure.data
    assert bar.width == pytest.approx(0.8 * charts.DAY_MS)  # not 0: plotly's default here
    assert list(bar.y) == [5]


def test_titles_are_human_not_column_names() -> None:
    figure = charts.daily_bars(
        days_frame([1, 2]), series={"documents": "Documents ingested", "messages": "Chat messages"},
        title="Documents and messages per day", y_title="Count",
    )  # fmt: skip

    assert [t.name for t in figure.data] == ["Documents ingested", "Chat messages"]
    assert figure.layout.xaxis.title.text == "Day (UTC)"
    assert figure.layout.yaxis.title.text == "Count"
    assert figure.layout.legend.title.text == ""  # not "variable"
    text = figure.to_json()
    assert "variable" not in text and "total_tokens" not in text


def test_grouped_series_sit_side_by_side_within_their_day() -> None:
    figure = charts.daily_bars(
        days_frame([3]), series={"documents": "D", "messages": "M"}, title="t", y_title="n"
    )

    first, second = figure.data
    assert first.width == second.width == pytest.approx(0.4 * charts.DAY_MS)
    assert second.offset == pytest.approx(first.offset + first.width)  # no overlap


def test_all_zero_costs_get_a_0_to_1_axis_and_a_note() -> None:
    frame = days_frame([0]).assign(cost_usd=0.0)

    figure = charts.daily_bars(
        frame, series={"cost_usd": "Cost (USD)"}, title="Cost", y_title="Cost (USD)",
        empty="no cost recorded",
    )  # fmt: skip

    assert tuple(figure.layout.yaxis.range) == (0, 1)
    assert [a.text for a in figure.layout.annotations] == ["no cost recorded"]


def test_real_costs_get_no_note() -> None:
    frame = days_frame([1]).assign(cost_usd=0.25)
    figure = charts.daily_bars(frame, series={"cost_usd": "Cost"}, title="t", y_title="USD")

    assert not figure.layout.annotations and figure.layout.yaxis.range is None


def test_a_year_of_data_gets_automatic_ticks() -> None:
    figure = charts.daily_bars(
        days_frame(list(range(1, 366))), series={"messages": "M"}, title="t", y_title="n"
    )

    assert figure.layout.xaxis.dtick is None  # plotly picks weeks or months
    low, high = (pd.Timestamp(x) for x in figure.layout.xaxis.range)
    assert high - low == pd.Timedelta(days=365)  # 364 days plus half a day each side


def test_leading_empty_days_are_trimmed_and_counted() -> None:
    frame = days_frame([0] * 29 + [7])

    shown = charts.active_days(frame, ["messages"])

    assert list(shown["day"]) == [DAY]
    assert charts.window_note(frame, ["messages"], 30) == (
        "Activity on 1 of the last 30 days; the charts start at the first of them (Nov 30)."
    )
    assert charts.active_days(days_frame([0, 0]), ["messages"]).empty
    assert charts.window_note(days_frame([0, 0]), ["messages"], 7) == (
        "No activity in the last 7 days."
    )


@pytest.mark.parametrize(
    ("size", "text"),
    [(512, "512 bytes"), (16_384, "16.0 kB"), (1_343_488, "1.3 MB"), (5 * 1024**3, "5.0 GB")],
)
def test_human_bytes(size: int, text: str) -> None:
    assert charts.human_bytes(size) == text


def test_sizes_are_scaled_to_a_readable_unit() -> None:
    frame = pd.DataFrame({"table": ["chunks", "audit_log"], "table_bytes": [2 * 1024**2, 8192],
                          "index_bytes": [1024**2, 8192], "toast_bytes": [0, 0]})  # fmt: skip

    figure = charts.size_bars(
        frame, label="table", title="Size on disk",
        parts={"table_bytes": "Table data", "index_bytes": "Indexes", "toast_bytes": "TOAST"},
    )  # fmt: skip

    assert figure.layout.title.text == "Size on disk (MB)"
    assert figure.layout.xaxis.title.text == "Size (MB)"
    table_data = next(t for t in figure.data if t.name == "Table data")
    assert list(table_data.x) == pytest.approx([2.0, 8192 / 1024**2])
    assert figure.layout.yaxis.autorange == "reversed"  # the biggest on top


def test_latency_names_its_percentiles_and_unit() -> None:
    frame = pd.DataFrame({"tenant": ["t"], "oracle": ["finance"], "model": ["m"], "messages": [3],
                          "p50_ms": [20.0], "p95_ms": [90.0], "max_ms": [95]})  # fmt: skip

    figure = charts.latency_bars(frame)

    assert [t.name for t in figure.data] == ["median (p50)", "95th percentile"]
    assert figure.layout.yaxis.title.text == "Latency (ms)"
    assert list(figure.data[0].x) == ["finance / m"]
