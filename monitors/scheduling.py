"""Claiming due checks: the only place that hands out check slots.

A slot is claimed by moving ``MonitorState.next_check_at`` past it inside
one transaction. On PostgreSQL the due rows are locked with
``SELECT ... FOR UPDATE SKIP LOCKED`` so two dispatchers share the work; on
SQLite the whole transaction holds the write lock (IMMEDIATE mode). Either
way a slot is handed out once, however many beat processes tick.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction

from .models import MonitorState
from .transitions import next_due


def claim_due(
    now: datetime, limit: int, lookahead: timedelta = timedelta(0)
) -> list[tuple[int, datetime]]:
    """Claim up to ``limit`` checks due by ``now + lookahead``, oldest first.

    Returns (monitor_id, due_at) pairs. Claiming a little ahead (one beat
    tick) lets the worker start each check on its due time instead of up to
    a tick late; the worker waits for ``due_at`` before running it.
    """
    with transaction.atomic():
        qs = MonitorState.objects.filter(
            next_check_at__isnull=False,
            next_check_at__lte=now + lookahead,
            monitor__is_active=True,
        ).order_by("next_check_at")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(
            qs.values_list("monitor_id", "next_check_at", "monitor__interval_seconds")[:limit]
        )
        if not rows:
            return []
        updates = [
            MonitorState(monitor_id=monitor_id, next_check_at=next_due(due, interval, now))
            for monitor_id, due, interval in rows
        ]
        MonitorState.objects.bulk_update(updates, ["next_check_at"], batch_size=500)
    return [(monitor_id, due) for monitor_id, due, _ in rows]


def batches(items: list, size: int) -> list[list]:
    """Split ``items`` into lists of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]
