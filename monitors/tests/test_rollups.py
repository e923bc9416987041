"""Rollups are incremented as results are written and always equal a fold of
the raw results, whatever the batching."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from monitors.models import CheckResult, DailyRollup, HourlyRollup, Status
from monitors.services import record_results

from .factories import make_monitor, result

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)


def _expected(rows: list[CheckResult], bucket) -> dict:
    agg: dict = defaultdict(lambda: {"UP": 0, "DEGRADED": 0, "DOWN": 0, "lat": []})
    for r in rows:
        entry = agg[(r.monitor_id, bucket(r.checked_at))]
        entry[r.status] += 1
        if r.latency_ms is not None:
            entry["lat"].append(r.latency_ms)
    return agg


def _assert_matches(rollup, entry) -> None:
    assert (rollup.up_count, rollup.degraded_count, rollup.down_count) == (
        entry["UP"],
        entry["DEGRADED"],
        entry["DOWN"],
    )
    assert rollup.latency_count == len(entry["lat"])
    if entry["lat"]:
        assert rollup.latency_min == pytest.approx(min(entry["lat"]))
        assert rollup.latency_max == pytest.approx(max(entry["lat"]))
        assert rollup.latency_sum == pytest.approx(sum(entry["lat"]))
    else:
        assert rollup.latency_min is None and rollup.latency_max is None


def test_rollups_equal_a_fold_of_raw_results_across_batches_days_and_hours() -> None:
    rng = random.Random(7)
    monitors = [make_monitor(tag=f"roll-{i}") for i in range(3)]
    pending = []
    for m in monitors:
        for i in range(240):  # 4 hours at one minute, across midnight
            at = T0 + timedelta(minutes=i, seconds=rng.randint(0, 5))
            status = rng.choice([Status.UP, Status.UP, Status.DEGRADED, Status.DOWN])
            latency = None if rng.random() < 0.1 else rng.uniform(1, 900)
            pending.append(result(m, at, status, latency, due_at=T0 + timedelta(minutes=i)))
    rng.shuffle(pending)
    while pending:  # uneven batches, out of order
        size = rng.randint(1, 90)
        batch, pending = pending[:size], pending[size:]
        record_results(batch, now=T0)
    rows = list(CheckResult.objects.all())
    assert len(rows) == 3 * 240
    daily = _expected(rows, lambda at: at.date())
    hourly = _expected(rows, lambda at: at.replace(minute=0, second=0, microsecond=0))
    assert DailyRollup.objects.count() == len(daily) == 3 * 2
    assert HourlyRollup.objects.count() == len(hourly) == 3 * 4
    for r in DailyRollup.objects.all():
        _assert_matches(r, daily[(r.monitor_id, r.day)])
    for r in HourlyRollup.objects.all():
        _assert_matches(r, hourly[(r.monitor_id, r.hour)])


def test_uptime_counts_degraded_as_available() -> None:
    m = make_monitor()
    statuses = [Status.UP] * 6 + [Status.DEGRADED] * 2 + [Status.DOWN] * 2
    record_results(
        [result(m, T0 + timedelta(minutes=i), s) for i, s in enumerate(statuses)], now=T0
    )
    day = DailyRollup.objects.get(monitor=m)
    assert day.total == 10
    assert day.uptime_percent == 80.0
    assert day.worst_status == Status.DOWN
    assert day.avg_latency_ms == 10.0


def test_a_replayed_slot_changes_neither_results_nor_rollups() -> None:
    m = make_monitor()
    batch = [result(m, T0 + timedelta(minutes=i)) for i in range(5)]
    assert len(record_results(batch, now=T0)) == 5
    assert record_results(batch, now=T0) == []
    assert CheckResult.objects.filter(monitor=m).count() == 5
    assert DailyRollup.objects.get(monitor=m).up_count == 5
