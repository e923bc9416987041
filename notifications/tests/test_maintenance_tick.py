"""The maintenance tick: which starts and ends a lookback holds (pure), and
``run`` writing each once, replays and overlapping ticks included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incidents.models import MaintenanceWindow
from monitors.tests.factories import make_monitor
from notifications import maintenance_tick
from notifications.maintenance_tick import occurrences, run
from notifications.models import Event, Notification

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
STARTED, ENDED = Event.MAINTENANCE_STARTED, Event.MAINTENANCE_ENDED


def found(starts, ends, rrule, since, now):
    return list(occurrences(starts, ends, rrule, since, now))


# --- Pure ---------------------------------------------------------------------------------


def test_a_one_off_window_starts_and_ends_once() -> None:
    starts, ends = T0, T0 + 30 * MIN
    assert found(starts, ends, "", T0 - 10 * MIN, T0 - MIN) == []
    assert found(starts, ends, "", T0 - 10 * MIN, T0) == [(STARTED, T0)]
    assert found(starts, ends, "", T0 - 5 * MIN, T0 + 5 * MIN) == [(STARTED, T0)]
    assert found(starts, ends, "", T0 + 5 * MIN, T0 + 15 * MIN) == []
    assert found(starts, ends, "", T0 + 25 * MIN, T0 + 35 * MIN) == [(ENDED, T0)]
    assert found(starts, ends, "", T0 + 31 * MIN, T0 + 41 * MIN) == []


def test_a_start_already_over_is_not_announced_only_its_end() -> None:
    # A short window that began and ended inside one (late) tick's lookback.
    assert found(T0, T0 + 2 * MIN, "", T0 - MIN, T0 + 5 * MIN) == [(ENDED, T0)]


def test_recurring_occurrences_each_start_and_end() -> None:
    rule = "FREQ=DAILY;COUNT=5"
    starts, ends = T0, T0 + 60 * MIN
    day = timedelta(days=1)
    assert found(starts, ends, rule, T0 + 2 * day - 5 * MIN, T0 + 2 * day + 5 * MIN) == [
        (STARTED, T0 + 2 * day)
    ]
    assert found(
        starts, ends, "RRULE:" + rule, T0 + 3 * day + 55 * MIN, T0 + 3 * day + 65 * MIN
    ) == [(ENDED, T0 + 3 * day)]
    # Past COUNT nothing happens any more.
    assert found(starts, ends, rule, T0 + 9 * day, T0 + 9 * day + 10 * MIN) == []
    # Back-to-back occurrences: one ends as the next starts.
    hourly = "FREQ=HOURLY;COUNT=3"
    assert sorted(found(starts, ends, hourly, T0 + 55 * MIN, T0 + 65 * MIN)) == [
        (ENDED, T0),
        (STARTED, T0 + 60 * MIN),
    ]


def test_a_broken_rule_raises_for_the_caller_to_skip() -> None:
    with pytest.raises(ValueError):
        found(T0, T0 + MIN, "FREQ=NEVERLY", T0, T0 + MIN)


# --- run ----------------------------------------------------------------------------------


def _window(title: str, starts: datetime, minutes: int, rrule: str = "", **extra):
    window = MaintenanceWindow.objects.create(
        title=title, starts_at=starts, ends_at=starts + minutes * MIN, rrule=rrule, **extra
    )
    return window


def _written() -> list[tuple[str, str, str]]:
    return sorted(
        (
            n.event,
            n.maintenance.title if n.maintenance else "",
            n.context["maintenance"]["starts_at"],
        )
        for n in Notification.objects.filter(event__in=[STARTED, ENDED]).select_related(
            "maintenance"
        )
    )


@pytest.mark.django_db
def test_run_announces_each_start_and_end_once_across_overlapping_ticks(settings) -> None:
    settings.BEACON_MAINTENANCE_LOOKBACK_MINUTES = 10
    db = make_monitor(tag="db", name="Database")
    one_off = _window("One-off", T0, 30)
    one_off.monitors.add(db)
    _window("Daily", T0 - timedelta(days=3), 20, "FREQ=DAILY", is_global=True)
    _window("Later", T0 + timedelta(hours=5), 30)

    ticks = [T0 + n * 30 * timedelta(seconds=1) for n in range(0, 90)]  # every 30 s for 45 min
    total = sum(run(now) for now in ticks)

    assert _written() == [
        (ENDED, "Daily", T0.isoformat()),
        (ENDED, "One-off", T0.isoformat()),
        (STARTED, "Daily", T0.isoformat()),
        (STARTED, "One-off", T0.isoformat()),
    ]
    assert total == 4
    started = Notification.objects.get(event=STARTED, maintenance=one_off)
    assert started.monitor_ids == [db.pk]
    assert started.key == f"maintenance.started:{one_off.pk}:{T0.isoformat()}"
    assert started.context["maintenance"]["title"] == "One-off"
    assert started.planned_at is None  # left for the planner
    # A replay of any tick writes nothing.
    assert sum(run(now) for now in ticks) == 0


@pytest.mark.django_db
def test_a_tick_late_by_less_than_the_lookback_loses_nothing(settings) -> None:
    settings.BEACON_MAINTENANCE_LOOKBACK_MINUTES = 10
    _window("Window", T0, 30)
    assert run(T0 - MIN) == 0
    assert run(T0 + 9 * MIN) == 1  # the start, 9 minutes late
    assert run(T0 + 39 * MIN) == 1  # the end, 9 minutes late
    assert [e for e, _, _ in _written()] == [ENDED, STARTED]


@pytest.mark.django_db
def test_a_window_that_cannot_be_evaluated_does_not_stop_the_others(settings, caplog) -> None:
    settings.BEACON_MAINTENANCE_LOOKBACK_MINUTES = 10
    _window("Broken", T0 - timedelta(days=1), 30, "FREQ=NEVERLY")
    _window("Fine", T0, 30)
    assert run(T0 + MIN) == 1
    assert [t for _, t, _ in _written()] == ["Fine"]
    assert "cannot evaluate" in caplog.text


@pytest.mark.django_db
def test_a_concurrent_tick_that_wrote_the_key_first_is_not_an_error(monkeypatch, settings) -> None:
    settings.BEACON_MAINTENANCE_LOOKBACK_MINUTES = 10
    window = _window("Race", T0, 30)
    key = f"{STARTED}:{window.pk}:{T0.isoformat()}"
    # The other beat committed its row after our existence check...
    Notification.objects.create(event=STARTED, key=key, maintenance=window, created_at=T0)

    def past_the_check(win, kind, *, now, occurrence=None):
        # ...so our insert meets the unique key (fault injection of that interleaving).
        key = f"{kind}:{win.pk}:{occurrence.isoformat()}"
        return Notification.objects.create(event=kind, key=key, maintenance=win, created_at=now)

    monkeypatch.setattr(maintenance_tick.outbox, "maintenance_event", past_the_check)
    assert run(T0 + MIN) == 0  # refused by the unique key; the tick went on
    assert Notification.objects.filter(key=key).count() == 1
