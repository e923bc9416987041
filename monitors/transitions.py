"""Pure decisions of the check engine: how a result moves a monitor's state,
and when its next check is due. No database, no clock: callers pass ``now``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from .models import STATUS_SEVERITY, Status


@dataclass(frozen=True)
class StateCounters:
    """The part of a monitor's state a new result moves."""

    status: str | None
    since: datetime | None
    consecutive_count: int = 0
    consecutive_failures: int = 0
    consecutive_successes: int = 0


def apply_result(state: StateCounters, status: str, at: datetime) -> StateCounters:
    """State after one result with ``status`` at time ``at``.

    ``consecutive_count`` counts results equal to the current status;
    failures count consecutive non-UP results, successes consecutive UP ones.
    ``since`` moves only when the status changes.
    """
    changed = state.status != status
    is_up = status == Status.UP
    return StateCounters(
        status=status,
        since=at if changed or state.since is None else state.since,
        consecutive_count=1 if changed else state.consecutive_count + 1,
        consecutive_failures=0 if is_up else state.consecutive_failures + 1,
        consecutive_successes=state.consecutive_successes + 1 if is_up else 0,
    )


def next_due(due_at: datetime, interval_seconds: int, now: datetime) -> datetime:
    """The slot after ``due_at``, skipping slots already in the past.

    Keeping the phase (due + k * interval) spreads monitors evenly over time
    instead of bunching every late monitor at "now + interval".
    """
    interval = timedelta(seconds=interval_seconds)
    nxt = due_at + interval
    if nxt > now:
        return nxt
    missed = math.floor((now - due_at) / interval) + 1
    return due_at + interval * missed


def worst_status(statuses: list[str]) -> str | None:
    """The most severe status of ``statuses`` (DOWN > DEGRADED > UP), None if empty."""
    known = [s for s in statuses if s in STATUS_SEVERITY]
    if not known:
        return None
    return max(known, key=lambda s: STATUS_SEVERITY[s])
