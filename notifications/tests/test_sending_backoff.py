"""The retry decision and HTTP classification (pure: no database, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifications.backoff import FAILED, RETRYING, SENT, decide, delay_seconds
from notifications.notifiers.base import classify_status, parse_retry_after

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def run(**kw):
    base = dict(
        ok=False,
        transient=True,
        retry_after=None,
        attempts=1,
        now=NOW,
        max_attempts=5,
        base=30.0,
        cap=3600.0,
    )
    return decide(**{**base, **kw})


def test_success_is_sent() -> None:
    assert run(ok=True, transient=False).status == SENT


def test_permanent_failure_stops_at_once() -> None:
    decision = run(transient=False, attempts=1)
    assert decision.status == FAILED and decision.next_attempt_at is None


def test_transient_failure_retries_with_exponential_backoff() -> None:
    waits = [(run(attempts=n).next_attempt_at - NOW).total_seconds() for n in (1, 2, 3, 4)]
    assert waits == [30, 60, 120, 240]


def test_the_last_allowed_attempt_fails() -> None:
    assert run(attempts=4, max_attempts=5).status == RETRYING
    assert run(attempts=5, max_attempts=5).status == FAILED


def test_backoff_is_capped() -> None:
    assert delay_seconds(30, base=30, cap=600) == 600
    assert delay_seconds(10_000, base=30, cap=600) == 600  # no overflow


def test_retry_after_is_honoured_when_longer_and_capped() -> None:
    assert (run(attempts=1, retry_after=120).next_attempt_at - NOW) == timedelta(seconds=120)
    assert (run(attempts=3, retry_after=5).next_attempt_at - NOW) == timedelta(seconds=120)
    assert (run(retry_after=10**9, cap=900).next_attempt_at - NOW) == timedelta(seconds=900)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (200, (True, False)),
        (204, (True, False)),
        (301, (False, False)),
        (400, (False, False)),
        (401, (False, False)),
        (404, (False, False)),
        (408, (False, True)),
        (410, (False, False)),
        (425, (False, True)),
        (429, (False, True)),
        (500, (False, True)),
        (502, (False, True)),
        (503, (False, True)),
    ],
)
def test_http_statuses_are_classified(code: int, expected: tuple[bool, bool]) -> None:
    assert classify_status(code) == expected


def test_retry_after_header_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after("Mon, 04 May 2026 12:02:00 GMT", NOW) == 120
    assert parse_retry_after("Mon, 04 May 2026 11:00:00 GMT", NOW) == 0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after("9" * 50, NOW) == 10**9
