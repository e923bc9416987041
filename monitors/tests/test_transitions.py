"""The engine's pure decisions: state moves, next slot, worst status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from monitors.models import Status
from monitors.transitions import StateCounters, apply_result, next_due, worst_status

T0 = datetime(2026, 1, 1, tzinfo=UTC)
statuses = st.sampled_from([Status.UP, Status.DEGRADED, Status.DOWN])


def test_first_result_sets_status_and_since() -> None:
    after = apply_result(StateCounters(None, None), Status.DOWN, T0)
    assert after == StateCounters(Status.DOWN, T0, 1, 1, 0)


def test_same_status_keeps_since_and_counts_up() -> None:
    s = apply_result(StateCounters(None, None), Status.UP, T0)
    s = apply_result(s, Status.UP, T0 + timedelta(seconds=60))
    assert s.since == T0
    assert (s.consecutive_count, s.consecutive_successes, s.consecutive_failures) == (2, 2, 0)


def test_degraded_then_down_counts_as_consecutive_failures() -> None:
    s = apply_result(StateCounters(None, None), Status.DEGRADED, T0)
    s = apply_result(s, Status.DOWN, T0 + timedelta(seconds=60))
    assert s.status == Status.DOWN
    assert s.since == T0 + timedelta(seconds=60)
    assert (s.consecutive_count, s.consecutive_failures, s.consecutive_successes) == (1, 2, 0)


@given(st.lists(statuses, min_size=1, max_size=60))
def test_counters_match_the_tail_of_the_sequence(seq: list[str]) -> None:
    state = StateCounters(None, None)
    for i, status in enumerate(seq):
        state = apply_result(state, status, T0 + timedelta(seconds=i))
    tail_same = len(seq) - next(
        (i + 1 for i in range(len(seq) - 1, -1, -1) if seq[i] != seq[-1]), 0
    )
    tail_up = 0
    tail_fail = 0
    for status in reversed(seq):
        if status != Status.UP:
            break
        tail_up += 1
    for status in reversed(seq):
        if status == Status.UP:
            break
        tail_fail += 1
    assert state.status == seq[-1]
    assert state.consecutive_count == tail_same
    assert state.consecutive_successes == tail_up
    assert state.consecutive_failures == tail_fail
    assert state.since == T0 + timedelta(seconds=len(seq) - tail_same)


def test_next_due_keeps_the_phase_when_on_time() -> None:
    assert next_due(T0, 60, T0 + timedelta(seconds=3)) == T0 + timedelta(seconds=60)


def test_next_due_skips_missed_slots() -> None:
    now = T0 + timedelta(seconds=185)
    assert next_due(T0, 60, now) == T0 + timedelta(seconds=240)


@given(st.integers(10, 86400), st.integers(0, 10**7))
def test_next_due_is_in_the_future_and_on_the_grid(interval: int, late: int) -> None:
    now = T0 + timedelta(seconds=late)
    nxt = next_due(T0, interval, now)
    assert nxt > now
    assert nxt - timedelta(seconds=interval) <= now or nxt == T0 + timedelta(seconds=interval)
    assert (nxt - T0).total_seconds() % interval == 0


def test_worst_status() -> None:
    assert worst_status([Status.UP, Status.DOWN, Status.DEGRADED]) == Status.DOWN
    assert worst_status([Status.UP, Status.DEGRADED]) == Status.DEGRADED
    assert worst_status([Status.UP]) == Status.UP
    assert worst_status([]) is None
