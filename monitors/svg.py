"""Server-rendered inline SVG: latency sparklines, latency charts and day bars.

Everything is drawn from rollups (never raw results), coloured through CSS
classes (so the console's light/dark theme applies) and carries ``<title>``
tooltips, so it reads without JavaScript. Every piece of text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import HourlyRollup, Status
from .selectors import Day

HOUR = timedelta(hours=1)


def _fmt_ms(value: float) -> str:
    if value == 0:
        return "0 ms"
    if value >= 10_000:
        return f"{value / 1000:.0f} s"
    if value >= 1000:
        return f"{value / 1000:.1f} s"
    if value >= 10:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"


def _buckets(
    rollups: Iterable[HourlyRollup], start: datetime, hours: int
) -> list[HourlyRollup | None]:
    """Rollups placed in ``hours`` hourly slots from ``start`` (None for gaps)."""
    slots: list[HourlyRollup | None] = [None] * hours
    for row in rollups:
        index = math.floor((row.hour - start) / HOUR)
        if 0 <= index < hours:
            slots[index] = row
    return slots


def _runs(points: Sequence[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Consecutive non-gap points, so a gap breaks the line."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for point in points:
        if point is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(point)
    if current:
        runs.append(current)
    return runs


def _path(runs: list[list[tuple[float, float]]], css: str) -> list[str]:
    parts = []
    for run in runs:
        if len(run) == 1:
            x, y = run[0]
            parts.append(f'<circle class="{css}-dot" cx="{x:.1f}" cy="{y:.1f}" r="1.6"/>')
        else:
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(f'<polyline class="{css}" points="{coords}"/>')
    return parts


def nice_ceiling(value: float) -> float:
    """The smallest 1/2/2.5/5 x 10^n at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def sparkline(
    rollups: Sequence[HourlyRollup],
    *,
    start: datetime,
    hours: int = 24,
    width: int = 120,
    height: int = 24,
) -> SafeString:
    """A small line of hourly average latency over ``hours`` hours from ``start``."""
    slots = _buckets(rollups, start, hours)
    values = [s.avg_latency_ms for s in slots if s is not None and s.avg_latency_ms is not None]
    if not values:
        label = f"No latency data in the last {hours} h"
        body = (
            f'<line class="spark-empty" x1="1" y1="{height - 2}" x2="{width - 1}" '
            f'y2="{height - 2}"/>'
        )
    else:
        top = max(values)
        step = (width - 2) / max(hours - 1, 1)
        points: list[tuple[float, float] | None] = []
        for index, slot in enumerate(slots):
            avg = slot.avg_latency_ms if slot is not None else None
            if avg is None:
                points.append(None)
                continue
            y = (height - 2) - (avg / top) * (height - 4) if top else height - 2
            points.append((1 + index * step, y))
        label = (
            f"Latency, last {hours} h: min {_fmt_ms(min(values))}, "
            f"avg {_fmt_ms(sum(values) / len(values))}, max {_fmt_ms(top)}"
        )
        body = "".join(_path(_runs(points), "spark-line"))
    return mark_safe(  # noqa: S308 - only numbers and escaped text
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>{body}</svg>'
    )


def latency_chart(
    rollups: Sequence[HourlyRollup],
    *,
    start: datetime,
    hours: int,
    width: int = 720,
    height: int = 200,
) -> SafeString:
    """Hourly average latency with its min-max range, axis labels and hover titles."""
    left, right, top_pad, bottom = 52, 28, 8, 24
    plot_w = width - left - right
    plot_h = height - top_pad - bottom
    slots = _buckets(rollups, start, hours)
    maxima = [
        s.latency_max if s.latency_max is not None else s.avg_latency_ms
        for s in slots
        if s is not None and s.avg_latency_ms is not None
    ]
    ceiling = nice_ceiling(max([v for v in maxima if v is not None], default=0))
    step = plot_w / hours

    def y_of(value: float) -> float:
        return top_pad + plot_h - (value / ceiling) * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
        f'role="img" aria-label="Latency over the last {hours} hours">'
    ]
    # Y axis: grid lines with labels.
    for fraction in (0, 0.5, 1):
        value = ceiling * fraction
        y = y_of(value)
        parts.append(
            f'<line class="chart-grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" '
            f'y2="{y:.1f}"/>'
            f'<text class="chart-label" x="{left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{escape(_fmt_ms(value))}</text>'
        )
    # X axis: every 6 hours for a day, every day for longer ranges.
    every = 6 if hours <= 48 else 24
    for index in range(0, hours + 1):
        moment = start + index * HOUR
        if moment.hour % every:
            continue
        x = left + index * step
        text = moment.strftime("%H:%M") if every < 24 else moment.strftime("%a %d")
        parts.append(
            f'<line class="chart-tick" x1="{x:.1f}" y1="{top_pad + plot_h}" x2="{x:.1f}" '
            f'y2="{top_pad + plot_h + 4}"/>'
            f'<text class="chart-label" x="{x:.1f}" y="{height - 6}" '
            f'text-anchor="middle">{escape(text)}</text>'
        )
    points: list[tuple[float, float] | None] = []
    for index, slot in enumerate(slots):
        x = left + (index + 0.5) * step
        if slot is None or slot.avg_latency_ms is None:
            points.append(None)
            continue
        low = slot.latency_min if slot.latency_min is not None else slot.avg_latency_ms
        high = slot.latency_max if slot.latency_max is not None else slot.avg_latency_ms
        parts.append(
            f'<line class="chart-range" x1="{x:.1f}" y1="{y_of(low):.1f}" x2="{x:.1f}" '
            f'y2="{y_of(high):.1f}"/>'
        )
        points.append((x, y_of(slot.avg_latency_ms)))
    parts.extend(_path(_runs(points), "chart-line"))
    # Hover targets: one transparent column per hour with its numbers.
    for index, slot in enumerate(slots):
        moment = start + index * HOUR
        when = moment.strftime("%Y-%m-%d %H:00 UTC")
        if slot is None:
            title = f"{when}: no checks"
        else:
            counts = f"{slot.up_count} up, {slot.degraded_count} degraded, {slot.down_count} down"
            if slot.avg_latency_ms is None:
                title = f"{when}: no latency; {counts}"
            else:
                title = (
                    f"{when}: avg {_fmt_ms(slot.avg_latency_ms)} "
                    f"(min {_fmt_ms(slot.latency_min or 0)}, "
                    f"max {_fmt_ms(slot.latency_max or 0)}); {counts}"
                )
        parts.append(
            f'<rect class="chart-hover" x="{left + index * step:.1f}" y="{top_pad}" '
            f'width="{step:.2f}" height="{plot_h}"><title>{escape(title)}</title></rect>'
        )
    if not any(p is not None for p in points):
        parts.append(
            f'<text class="chart-label" x="{left + plot_w / 2:.0f}" y="{top_pad + plot_h / 2:.0f}"'
            f' text-anchor="middle">No latency data in this range</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - only numbers and escaped text


_BAR_CLASS = {
    Status.UP: "bar-up",
    Status.DEGRADED: "bar-degraded",
    Status.DOWN: "bar-down",
}


def day_bars(history: Sequence[Day], *, bar: int = 6, gap: int = 2, height: int = 30) -> SafeString:
    """One bar per day coloured by the day's worst status (grey: no data), each
    with a title giving the date, uptime and counts."""
    width = len(history) * (bar + gap) - gap if history else 0
    parts = [
        f'<svg class="bars" viewBox="0 0 {max(width, 1)} {height}" preserveAspectRatio="none" '
        f'role="img" aria-label="Daily status over the last {len(history)} days">'
    ]
    for index, day in enumerate(history):
        css = _BAR_CLASS.get(day.status, "bar-none") if day.status else "bar-none"
        date_text = day.day.isoformat()
        if day.rollup is None or not day.rollup.total:
            title = f"{date_text}: no data"
        else:
            r = day.rollup
            uptime = day.uptime_percent
            uptime_text = f"{uptime:.2f}% uptime" if uptime is not None else "no uptime"
            title = (
                f"{date_text}: {uptime_text} ({r.up_count} up, "
                f"{r.degraded_count} degraded, {r.down_count} down)"
            )
        parts.append(
            f'<rect class="{css}" x="{index * (bar + gap)}" y="0" width="{bar}" '
            f'height="{height}" rx="1"><title>{escape(title)}</title></rect>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - only numbers and escaped text
