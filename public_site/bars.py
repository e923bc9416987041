"""Day bars: the 90 (or 30) coloured days of a monitor, as pure functions.

Inputs are plain values already read from the database (daily rollup counts,
incident intervals, maintenance intervals); nothing here touches the ORM, so
every mix of states is unit-tested without a database (``tests/test_bars.py``).

Days are UTC days, because daily rollups are kept per UTC day.

A bar's level comes from ``status.day_level``: the worst of the checks' counts
and the impact incidents declared that day, with maintenance shown blue unless
something failed, and grey for a day with no data at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from .status import day_level, uptime_percent, worst_impact

DAY = timedelta(days=1)
#: Most occurrences of one recurring window looked at per range (an hourly
#: rule over 90 days is 2,160): a bound on work, not a limit anyone meets.
MAX_OCCURRENCES = 5000


class IncidentMark(NamedTuple):
    """An incident shown on a day: its public key, title and impact on the monitor."""

    key: str
    title: str
    impact: str


class DayBar(NamedTuple):
    """One day of one monitor."""

    day: date
    level: str  # up / degraded / down / maintenance / nodata
    up: int
    degraded: int
    down: int
    maintenance: bool
    incidents: tuple[IncidentMark, ...]

    @property
    def total(self) -> int:
        return self.up + self.degraded + self.down

    @property
    def uptime(self) -> float | None:
        return uptime_percent(self.up, self.degraded, self.down)


Counts = tuple[int, int, int]  # up, degraded, down
Interval = tuple[datetime, datetime]


def day_range(last: date, count: int) -> list[date]:
    """``count`` days ending with ``last`` (oldest first)."""
    first = last - timedelta(days=count - 1)
    return [first + timedelta(days=n) for n in range(count)]


def utc_day(moment: datetime) -> date:
    """The UTC date of an aware datetime."""
    return moment.astimezone(UTC).date()


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def days_touched(start: datetime, end: datetime, first: date, last: date) -> Iterator[date]:
    """The UTC days from ``first`` to ``last`` that ``[start, end)`` overlaps.

    An empty interval (``end <= start``) touches the day it sits on, so an
    incident opened and resolved in the same second still shows on its day.
    """
    a = utc_day(start)
    b = utc_day(end - timedelta(microseconds=1)) if end > start else a
    a, b = max(a, first), min(b, last)
    day = a
    while day <= b:
        yield day
        day += DAY


def occurrences(window: Any, start: datetime, end: datetime) -> list[Interval]:
    """The intervals of a maintenance window (``starts_at``, ``ends_at``,
    ``rrule``) that overlap ``[start, end)``. A rule that no longer parses
    yields only its first occurrence."""
    duration = window.ends_at - window.starts_at
    if not window.rrule:
        if window.starts_at < end and window.ends_at > start:
            return [(window.starts_at, window.ends_at)]
        return []
    from incidents.maintenance import parse_rrule

    try:
        rule = parse_rrule(window.rrule, window.starts_at)
        # Occurrences starting up to one duration before ``start`` still overlap it.
        found = rule.xafter(start - duration, inc=True)
        out: list[Interval] = []
        for begin in itertools.islice(found, MAX_OCCURRENCES):
            if begin >= end:
                break
            if begin + duration > start:
                out.append((begin, begin + duration))
        return out
    except (ValueError, TypeError, OverflowError, KeyError, IndexError, AttributeError):
        if window.starts_at < end and window.ends_at > start:
            return [(window.starts_at, window.ends_at)]
        return []


def interval_days(intervals: Iterable[Interval], first: date, last: date) -> set[date]:
    """Every UTC day from ``first`` to ``last`` touched by any of ``intervals``."""
    days: set[date] = set()
    for start, end in intervals:
        days.update(days_touched(start, end, first, last))
    return days


def build_days(
    days: Sequence[date],
    counts: dict[date, Counts],
    *,
    maintenance_days: set[date] | frozenset[date] = frozenset(),
    incidents: Sequence[tuple[datetime, datetime, IncidentMark]] = (),
) -> list[DayBar]:
    """One ``DayBar`` per day of ``days`` (consecutive, oldest first).

    ``counts`` maps a day to its (up, degraded, down) rollup counts; a missing
    day has none. ``incidents`` are (start, end, mark): the interval during
    which the incident weighed on this monitor.
    """
    if not days:
        return []
    first, last = days[0], days[-1]
    marks: dict[date, list[IncidentMark]] = {}
    for start, end, mark in incidents:
        for day in days_touched(start, end, first, last):
            marks.setdefault(day, []).append(mark)
    none = (0, 0, 0)
    bars = []
    append = bars.append
    # tuple.__new__ skips NamedTuple's Python-level __new__: a page builds
    # 9,000 of these, and this is a third of the cost of building them.
    make = tuple.__new__
    for day in days:
        up, degraded, down = counts.get(day, none)
        in_maintenance = day in maintenance_days
        day_marks = marks.get(day) if marks else None
        if day_marks:
            impact = worst_impact(m.impact for m in day_marks)
            level = day_level(
                up, degraded, down, maintenance=in_maintenance, incident_impact=impact
            )
            mark_tuple = tuple(dict.fromkeys(day_marks))  # once each, in order
        elif up and not degraded and not down and not in_maintenance:
            level, mark_tuple = "up", ()  # the common day, without a call
        else:
            level = day_level(up, degraded, down, maintenance=in_maintenance)
            mark_tuple = ()
        append(make(DayBar, (day, level, up, degraded, down, in_maintenance, mark_tuple)))
    return bars


def period_uptime(bars: Iterable[DayBar]) -> float | None:
    """Uptime % over the bars, each day weighted by its number of results."""
    up = degraded = down = 0
    for bar in bars:
        up += bar.up
        degraded += bar.degraded
        down += bar.down
    return uptime_percent(up, degraded, down)
