"""Maintenance windows: which are active at a moment (pure, from their rows).

Recurring windows are iCal RRULEs (python-dateutil) anchored at
``starts_at``; each occurrence lasts ``ends_at - starts_at``.
"""

from __future__ import annotations

from datetime import datetime

from dateutil.rrule import rrulestr
from django.db.models import Q

from .models import MaintenanceWindow


def parse_rrule(rule: str, dtstart: datetime):
    """Parse an RRULE (with or without the ``RRULE:`` prefix); ValueError if invalid."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    return rrulestr(text, dtstart=dtstart)


def is_active(window: MaintenanceWindow, now: datetime) -> bool:
    """True when ``now`` falls inside the window or one of its occurrences."""
    duration = window.ends_at - window.starts_at
    if not window.rrule:
        return window.starts_at <= now < window.ends_at
    rule = parse_rrule(window.rrule, window.starts_at)
    last_start = rule.before(now, inc=True)
    return last_start is not None and now < last_start + duration


def active_monitor_ids(monitor_ids: list[int], now: datetime) -> set[int]:
    """Which of ``monitor_ids`` are under an active maintenance window at ``now``."""
    covered: set[int] = set()
    windows = (
        MaintenanceWindow.objects.filter(starts_at__lte=now)
        .filter(Q(rrule="", ends_at__gt=now) | ~Q(rrule=""))
        .prefetch_related("monitors")
    )
    for window in windows:
        if not is_active(window, now):
            continue
        if window.is_global:
            return set(monitor_ids)
        covered |= {m.pk for m in window.monitors.all()} & set(monitor_ids)
    return covered
