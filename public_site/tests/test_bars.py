"""Day bars (``public_site.bars``) and their HTML (``public_site.render``):
worst of the day, maintenance overlay, no-data days, incidents, recurring
windows, phones. Pure: no database."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from public_site import bars as b
from public_site import render

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
TODAY = NOW.date()
DAYS = b.day_range(TODAY, 90)


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@dataclass
class Window:
    starts_at: datetime
    ends_at: datetime
    rrule: str = ""


def test_day_range_is_ninety_consecutive_days_ending_today():
    assert len(DAYS) == 90
    assert DAYS[-1] == TODAY
    assert DAYS[0] == TODAY - timedelta(days=89)
    assert all(later - earlier == timedelta(days=1) for earlier, later in itertools.pairwise(DAYS))


def test_no_data_days_are_grey_and_without_uptime():
    bars = b.build_days(DAYS, {})
    assert {bar.level for bar in bars} == {"nodata"}
    assert all(bar.uptime is None for bar in bars)
    assert b.period_uptime(bars) is None


@pytest.mark.parametrize(
    ("counts", "level"),
    [
        ((1440, 0, 0), "up"),
        ((1439, 1, 0), "degraded"),
        ((1438, 1, 1), "down"),
        ((0, 0, 1), "down"),
        ((0, 5, 0), "degraded"),
    ],
)
def test_worst_status_of_the_day(counts: tuple[int, int, int], level: str):
    day = DAYS[40]
    bars = b.build_days(DAYS, {day: counts})
    assert bars[40].level == level
    assert bars[40].day == day
    assert (bars[40].up, bars[40].degraded, bars[40].down) == counts
    assert bars[39].level == bars[41].level == "nodata"


def test_maintenance_overlay():
    quiet, failing, empty = DAYS[10], DAYS[11], DAYS[12]
    bars = b.build_days(
        DAYS,
        {quiet: (100, 0, 0), failing: (90, 0, 10)},
        maintenance_days={quiet, failing, empty},
    )
    assert bars[10].level == "maintenance"  # all fine: blue
    assert bars[11].level == "down"  # a failure is never hidden by maintenance
    assert bars[12].level == "maintenance"  # no checks at all, but planned work: blue
    assert bars[10].maintenance and bars[11].maintenance and bars[12].maintenance
    assert not bars[13].maintenance


def test_incidents_colour_their_days_and_are_listed():
    start = at(DAYS[20], 22)
    end = at(DAYS[22], 1)
    mark = b.IncidentMark("INC-000007", "Database <slow>", "DEGRADED")
    bars = b.build_days(DAYS, {d: (100, 0, 0) for d in DAYS}, incidents=[(start, end, mark)])
    assert [bar.level for bar in bars[19:24]] == ["up", "degraded", "degraded", "degraded", "up"]
    assert bars[21].incidents == (mark,)
    assert bars[23].incidents == ()


def test_incident_impacts_take_the_worst_and_appear_once():
    day = DAYS[-1]
    down = b.IncidentMark("INC-000001", "Outage", "DOWN")
    slow = b.IncidentMark("INC-000002", "Slow", "DEGRADED")
    bars = b.build_days(
        DAYS,
        {day: (10, 0, 0)},
        incidents=[
            (at(day, 1), at(day, 2), slow),
            (at(day, 3), at(day, 4), down),
            (at(day, 5), at(day, 6), down),
        ],
    )
    assert bars[-1].level == "down"
    assert bars[-1].incidents == (slow, down)


def test_maintenance_incident_counts_as_maintenance():
    day = DAYS[-2]
    mark = b.IncidentMark("INC-000003", "Planned", "MAINTENANCE")
    bars = b.build_days(DAYS, {day: (10, 0, 0)}, incidents=[(at(day, 1), at(day, 2), mark)])
    assert bars[-2].level == "maintenance"


def test_days_touched_clips_and_handles_instant_intervals():
    first, last = DAYS[0], DAYS[-1]
    assert list(b.days_touched(at(DAYS[5]), at(DAYS[5]), first, last)) == [DAYS[5]]
    # Ends exactly at midnight: the next day is not touched.
    midnight = b.day_start(DAYS[7])
    assert list(b.days_touched(at(DAYS[6], 23), midnight, first, last)) == [DAYS[6]]
    # Before the range: nothing; across its start: clipped.
    assert (
        list(
            b.days_touched(
                at(first) - timedelta(days=9), at(first) - timedelta(days=8), first, last
            )
        )
        == []
    )
    assert list(b.days_touched(at(first) - timedelta(days=3), at(first, 1), first, last)) == [first]


def test_one_off_window_occurrences():
    w = Window(at(DAYS[50], 22), at(DAYS[51], 2))
    assert b.occurrences(w, b.day_start(DAYS[0]), NOW) == [(w.starts_at, w.ends_at)]
    assert b.occurrences(w, at(DAYS[52]), NOW) == []
    days = b.interval_days(b.occurrences(w, b.day_start(DAYS[0]), NOW), DAYS[0], TODAY)
    assert days == {DAYS[50], DAYS[51]}


def test_recurring_window_marks_each_occurrence():
    # Every Sunday 02:00-04:00 UTC since long before the range.
    first_sunday = datetime(2025, 1, 5, 2, tzinfo=UTC)
    w = Window(first_sunday, first_sunday + timedelta(hours=2), "FREQ=WEEKLY;BYDAY=SU")
    found = b.occurrences(w, b.day_start(DAYS[0]), NOW)
    assert len(found) in (12, 13)
    assert all(start.weekday() == 6 and start.hour == 2 for start, _ in found)
    days = b.interval_days(found, DAYS[0], TODAY)
    bars = b.build_days(DAYS, {d: (10, 0, 0) for d in DAYS}, maintenance_days=days)
    assert {bar.day.weekday() for bar in bars if bar.level == "maintenance"} == {6}


def test_recurring_window_started_before_the_range_still_overlaps():
    # A daily 23:00-03:00 window: the occurrence that started before the range counts.
    start = datetime(2026, 1, 1, 23, tzinfo=UTC)
    w = Window(start, start + timedelta(hours=4), "RRULE:FREQ=DAILY")
    window_start = at(DAYS[30], 1)
    found = b.occurrences(w, window_start, at(DAYS[30], 2))
    assert found == [(at(DAYS[29], 23), at(DAYS[30], 3))]


def test_broken_rule_falls_back_to_first_occurrence():
    w = Window(at(DAYS[3]), at(DAYS[3], 13), "FREQ=NEVER")
    assert b.occurrences(w, b.day_start(DAYS[0]), NOW) == [(w.starts_at, w.ends_at)]


def test_endless_rule_is_bounded():
    w = Window(at(DAYS[0]), at(DAYS[0]) + timedelta(seconds=30), "FREQ=SECONDLY")
    found = b.occurrences(w, b.day_start(DAYS[0]), NOW)
    assert len(found) == b.MAX_OCCURRENCES


def test_period_uptime_weights_days_by_results():
    bars = b.build_days(DAYS, {DAYS[0]: (99, 0, 1), DAYS[1]: (0, 0, 0), DAYS[2]: (1, 0, 0)})
    assert b.period_uptime(bars) == pytest.approx(100 * 100 / 101)


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "—"), (100.0, "100%"), (99.999, "99.99%"), (99.95, "99.95%"), (0.0, "0.00%")],
)
def test_format_uptime_never_rounds_up_to_100(value: float | None, text: str):
    assert render.format_uptime(value) == text


def test_bars_html_tooltips_summary_and_escaping():
    day = DAYS[-1]
    mark = b.IncidentMark("INC-000009", '<img src=x onerror="alert(1)">', "DOWN")
    bars = b.build_days(
        DAYS,
        {DAYS[-3]: (10, 0, 0), day: (5, 0, 5)},
        maintenance_days={DAYS[-2]},
        incidents=[(at(day, 1), at(day, 2), mark)],
    )
    html = render.bars_html(bars, uptime=b.period_uptime(bars))
    assert html.count('class="d ') == 90
    assert html.count('class="d nodata"') == 87
    assert f'title="{DAYS[-3].isoformat()} · 100% uptime"' in html
    assert f'title="{DAYS[-2].isoformat()} · Maintenance · no checks"' in html
    assert "INC-000009" in html
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert 'role="img"' in html
    assert "1 day with an outage" in html and "1 day under maintenance" in html
    assert "87 days without data" in html


def test_bar_links_lead_to_each_day():
    bars = b.build_days(DAYS[-3:], {})
    html = render.bar_links_html(bars, url_prefix="/monitors/api/days/")
    for day in DAYS[-3:]:
        assert f'href="/monitors/api/days/{day.isoformat()}"' in html
    assert html.count("<li>") == 3


def test_site_style_gives_readable_foregrounds_and_survives_bad_rows():
    class Site:
        color_up = "#16a34a"
        color_degraded = "#ffff00"
        color_down = "#000080"
        color_maintenance = "red;}body{display:none"  # written around the form

    style = render.site_style(Site())
    assert "--c-up:#16a34a;--c-up-fg:#000000" in style
    assert "--c-degraded-fg:#000000" in style and "--c-down-fg:#ffffff" in style
    assert "--c-maintenance:#2563eb;" in style and "display" not in style
    assert "--c-partial:#000080;--c-partial-fg:#ffffff" in style
