"""The heartbeat kind: push age against the thresholds, and config validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.exceptions import ValidationError

from monitors.checks import RunContext, StateSnapshot, validate_config
from monitors.models import Status
from monitors.tests.servers import run_check

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CREATED = NOW - timedelta(days=10)


def beat(
    last_push_ago: float | None,
    config: dict | None = None,
    created_at: datetime | None = CREATED,
):
    states = {}
    if last_push_ago is not None:
        states[7] = StateSnapshot(
            status=Status.UP, last_push_at=NOW - timedelta(seconds=last_push_ago)
        )
    ctx = RunContext(now=NOW, states=states)
    return run_check(
        "heartbeat", config or {}, monitor_id=7, ctx=ctx, created_at=created_at, interval=60
    )


@pytest.mark.parametrize("ago", [0, 1, 60, 120])
def test_fresh_push_records_nothing(ago: float) -> None:
    assert beat(ago) is None


def test_late_push_is_degraded_then_down() -> None:
    outcome = beat(121)
    assert (outcome.status, outcome.message, outcome.latency_ms) == (
        Status.DEGRADED,
        "no push for 121 s",
        None,
    )
    assert beat(300).status == Status.DEGRADED
    outcome = beat(301)
    assert (outcome.status, outcome.message) == (Status.DOWN, "no push for 301 s")


def test_custom_thresholds() -> None:
    config = {"degraded_after_seconds": 30, "down_after_seconds": 45}
    assert beat(30, config) is None
    assert beat(31, config).status == Status.DEGRADED
    assert beat(46, config).status == Status.DOWN


def test_never_pushed_counts_from_creation() -> None:
    assert beat(None, created_at=NOW - timedelta(seconds=100)) is None
    outcome = beat(None, created_at=NOW - timedelta(seconds=200))
    assert outcome.status == Status.DEGRADED
    assert outcome.message == "no push since the monitor was created 200 s ago"
    assert beat(None, created_at=CREATED).status == Status.DOWN
    assert beat(None, created_at=None) is None


def test_naive_datetimes_are_read_as_utc() -> None:
    ctx = RunContext(
        now=NOW.replace(tzinfo=None),
        states={7: StateSnapshot(last_push_at=NOW - timedelta(seconds=500))},
    )
    outcome = run_check("heartbeat", {}, monitor_id=7, ctx=ctx)
    assert outcome.status == Status.DOWN


def test_defaults() -> None:
    assert validate_config("heartbeat", {}) == {
        "degraded_after_seconds": 120,
        "down_after_seconds": 300,
    }
    assert validate_config("heartbeat", {"down_after_seconds": 121})["down_after_seconds"] == 121


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"degraded_after_seconds": 300}, "down_after_seconds"),
        ({"degraded_after_seconds": 400}, "down_after_seconds"),
        ({"degraded_after_seconds": 100, "down_after_seconds": 50}, "down_after_seconds"),
        ({"degraded_after_seconds": "120"}, "degraded_after_seconds"),
        ({"degraded_after_seconds": 9}, "degraded_after_seconds"),
        ({"degraded_after_seconds": -120}, "degraded_after_seconds"),
        ({"degraded_after_seconds": 10**1000}, "degraded_after_seconds"),
        ({"degraded_after_seconds": None}, "degraded_after_seconds"),
        ({"down_after_seconds": 2.5}, "down_after_seconds"),
        ({"down_after_seconds": True}, "down_after_seconds"),
        ({"down_after_seconds": [300]}, "down_after_seconds"),
        ({"push_token": "abc"}, "push_token"),
    ],
)
def test_invalid_configs_name_the_field(config: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_config("heartbeat", config)
    assert field in info.value.detail
