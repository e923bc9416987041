"""The server-rendered SVG of the console: sparklines, latency charts, day bars."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from monitors.models import DailyRollup, HourlyRollup
from monitors.selectors import Day
from monitors.svg import day_bars, latency_chart, nice_ceiling, sparkline

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def hourly(
    hour: int, avg: float, *, low: float | None = None, high: float | None = None
) -> HourlyRollup:
    return HourlyRollup(
        hour=START + timedelta(hours=hour),
        up_count=2,
        latency_count=2,
        latency_sum=avg * 2,
        latency_min=low if low is not None else avg,
        latency_max=high if high is not None else avg,
    )


def test_sparkline_without_data_says_so() -> None:
    svg = sparkline([], start=START)
    assert "<title>No latency data in the last 24 h</title>" in svg
    assert "spark-empty" in svg and "<polyline" not in svg


def test_sparkline_breaks_at_gaps_and_summarises() -> None:
    svg = sparkline([hourly(0, 10), hourly(1, 20), hourly(5, 40), hourly(30, 999)], start=START)
    assert svg.count("<polyline") == 1  # hours 0-1
    assert svg.count("<circle") == 1  # hour 5 alone
    assert "min 10 ms, avg 23 ms, max 40 ms" in svg  # hour 30 is outside the window


def test_latency_chart_has_axis_labels_and_hover_titles() -> None:
    rows = [hourly(h, 100 + h, low=50, high=180) for h in range(0, 24, 2)]
    svg = latency_chart(rows, start=START, hours=24)
    labels = re.findall(r'class="chart-label"[^>]*>([^<]+)</text>', svg)
    assert {"0 ms", "100 ms", "200 ms"} <= set(labels)
    assert {"00:00", "06:00", "12:00", "18:00"} <= set(labels)
    assert svg.count('class="chart-hover"') == 24
    assert "2026-03-01 02:00 UTC: avg 102 ms (min 50 ms, max 180 ms); 2 up" in svg
    assert "2026-03-01 01:00 UTC: no checks" in svg
    assert svg.count('class="chart-range"') == 12


def test_week_chart_labels_days() -> None:
    svg = latency_chart([], start=START, hours=168)
    assert "Sun 01" in svg and "Sat 07" in svg
    assert "No latency data in this range" in svg


def test_nice_ceiling() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 7, 120, 260, 900, 1001)] == [
        1,
        1,
        10,
        200,
        500,
        1000,
        2000,
    ]


def test_day_bars_colour_by_worst_status_with_titles() -> None:
    days = [
        Day(date(2026, 3, 1), None),
        Day(date(2026, 3, 2), DailyRollup(day=date(2026, 3, 2), up_count=1439, down_count=1)),
        Day(date(2026, 3, 3), DailyRollup(day=date(2026, 3, 3), up_count=10, degraded_count=2)),
        Day(date(2026, 3, 4), DailyRollup(day=date(2026, 3, 4), up_count=5)),
    ]
    svg = day_bars(days)
    assert re.findall(r'<rect class="([^"]+)"', svg) == [
        "bar-none",
        "bar-down",
        "bar-degraded",
        "bar-up",
    ]
    assert "<title>2026-03-01: no data</title>" in svg
    assert "2026-03-02: 99.93% uptime (1439 up, 0 degraded, 1 down)" in svg
    assert "2026-03-04: 100.00% uptime (5 up, 0 degraded, 0 down)" in svg
