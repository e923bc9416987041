"""Services of the monitors app: the only code that changes monitors and their state.

Each function takes an explicit ``now``, runs in a transaction and writes a
``MonitorEvent`` row with the change it makes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from .models import (
    CheckResult,
    Kind,
    Monitor,
    MonitorEvent,
    MonitorState,
    ResultSource,
    Status,
    new_push_token,
)
from .rollups import add_results
from .transitions import StateCounters, apply_result

MESSAGE_LIMIT = 500

EDITABLE_FIELDS = (
    "name",
    "tag",
    "description",
    "kind",
    "config",
    "interval_seconds",
    "timeout_seconds",
    "is_active",
    "is_public",
    "service",
)


@dataclass(frozen=True)
class NewResult:
    """A result to record: which monitor, which slot, when it ran and what it found."""

    monitor_id: int
    due_at: datetime
    checked_at: datetime
    status: str
    latency_ms: float | None = None
    message: str = ""
    source: str = ResultSource.SCHEDULED


def _event(monitor: Monitor, type_: str, now: datetime, actor: Any = None, **extra: Any) -> None:
    MonitorEvent.objects.create(
        monitor=monitor,
        monitor_tag=monitor.tag,
        type=type_,
        actor=actor if getattr(actor, "pk", None) else None,
        at=now,
        **extra,
    )


def create_monitor(data: dict[str, Any], *, now: datetime, actor: Any = None) -> Monitor:
    """Create a monitor from validated ``data``; its first check is due at once."""
    with transaction.atomic():
        fields = {key: data[key] for key in EDITABLE_FIELDS if key in data}
        monitor = Monitor(**fields)
        if monitor.kind == Kind.HEARTBEAT:
            monitor.push_token = new_push_token()
        monitor.save()
        MonitorState.objects.create(
            monitor=monitor, next_check_at=now if monitor.is_active else None
        )
        _event(monitor, MonitorEvent.Type.CREATED, now, actor)
    return monitor


def update_monitor(
    monitor: Monitor, data: dict[str, Any], *, now: datetime, actor: Any = None
) -> Monitor:
    """Apply validated ``data``. A changed interval or kind, or a resume, reschedules."""
    with transaction.atomic():
        monitor = Monitor.objects.select_for_update().get(pk=monitor.pk)
        before = {key: getattr(monitor, key) for key in EDITABLE_FIELDS}
        for key in EDITABLE_FIELDS:
            if key in data:
                setattr(monitor, key, data[key])
        if monitor.kind == Kind.HEARTBEAT and not monitor.push_token:
            monitor.push_token = new_push_token()
        monitor.save()
        changed = sorted(k for k in EDITABLE_FIELDS if getattr(monitor, k) != before[k])
        reschedule = {"interval_seconds", "kind", "is_active", "config"} & set(changed)
        if reschedule:
            MonitorState.objects.filter(monitor=monitor).update(
                next_check_at=now if monitor.is_active else None
            )
        if changed:
            type_ = MonitorEvent.Type.UPDATED
            if changed == ["is_active"]:
                type_ = MonitorEvent.Type.RESUMED if monitor.is_active else MonitorEvent.Type.PAUSED
            _event(monitor, type_, now, actor, message=("changed: " + ", ".join(changed))[:500])
    return monitor


def set_active(monitor: Monitor, active: bool, *, now: datetime, actor: Any = None) -> Monitor:
    """Pause (``active=False``) or resume a monitor."""
    return update_monitor(monitor, {"is_active": active}, now=now, actor=actor)


def delete_monitor(monitor: Monitor, *, now: datetime, actor: Any = None) -> None:
    """Delete a monitor with its results and rollups; the event log keeps its tag."""
    with transaction.atomic():
        _event(monitor, MonitorEvent.Type.DELETED, now, actor, message=monitor.name[:500])
        monitor.delete()


def record_results(results: Sequence[NewResult], *, now: datetime) -> list[CheckResult]:
    """Write results, move each monitor's state and update rollups, in one transaction.

    A scheduled result for a slot that already has one is a replay (a
    redelivered batch, a second worker) and is dropped, so a slot is recorded
    once. Results older than the state's last check still go into history and
    rollups but do not move "now". Returns the rows written.
    """
    if not results:
        return []
    ids = sorted({r.monitor_id for r in results})
    with transaction.atomic():
        # Locking the state rows in id order serialises writers per monitor
        # (PostgreSQL) without deadlocks; on SQLite the transaction holds the lock.
        states = {
            s.monitor_id: s
            for s in MonitorState.objects.select_for_update()
            .filter(monitor_id__in=ids)
            .order_by("monitor_id")
        }
        rows: list[CheckResult] = []
        flips: list[MonitorEvent] = []
        touched: dict[int, MonitorState] = {}
        tags = dict(Monitor.objects.filter(id__in=ids).values_list("id", "tag"))
        # Slots already recorded: with the state rows locked, no other writer can
        # add one for these monitors until we commit, so this check is race-free.
        scheduled_dues = {r.due_at for r in results if r.source == ResultSource.SCHEDULED}
        seen: set[tuple[int, datetime]] = set()
        if scheduled_dues:
            seen = set(
                CheckResult.objects.filter(
                    monitor_id__in=ids,
                    source=ResultSource.SCHEDULED,
                    due_at__in=scheduled_dues,
                ).values_list("monitor_id", "due_at")
            )
        for r in sorted(results, key=lambda r: (r.monitor_id, r.checked_at)):
            state = states.get(r.monitor_id)
            if state is None:
                continue  # monitor deleted while its check ran
            if r.source == ResultSource.SCHEDULED:
                if (r.monitor_id, r.due_at) in seen:
                    continue
                seen.add((r.monitor_id, r.due_at))
                if state.last_due_at is None or r.due_at > state.last_due_at:
                    state.last_due_at = r.due_at
            if state.last_checked_at is not None and r.checked_at < state.last_checked_at:
                # An older result arriving late still counts for history, not for "now".
                rows.append(_row(r, r.monitor_id))
                touched[r.monitor_id] = state
                continue
            before = StateCounters(
                state.status,
                state.since,
                state.consecutive_count,
                state.consecutive_failures,
                state.consecutive_successes,
            )
            after = apply_result(before, r.status, r.checked_at)
            if before.status != after.status:
                flips.append(
                    MonitorEvent(
                        monitor_id=r.monitor_id,
                        monitor_tag=tags.get(r.monitor_id, ""),
                        type=MonitorEvent.Type.STATUS_CHANGED,
                        from_status=before.status or "",
                        to_status=after.status or "",
                        message=r.message[:MESSAGE_LIMIT],
                        at=r.checked_at,
                    )
                )
            state.status = after.status
            state.since = after.since
            state.consecutive_count = after.consecutive_count
            state.consecutive_failures = after.consecutive_failures
            state.consecutive_successes = after.consecutive_successes
            state.last_checked_at = r.checked_at
            state.last_latency_ms = r.latency_ms
            state.last_message = r.message[:MESSAGE_LIMIT]
            if r.source == ResultSource.PUSH:
                state.last_push_at = r.checked_at
            touched[r.monitor_id] = state
            rows.append(_row(r, r.monitor_id))
        CheckResult.objects.bulk_create(rows, batch_size=500)
        if touched:
            MonitorState.objects.bulk_update(
                list(touched.values()),
                [
                    "status",
                    "since",
                    "consecutive_count",
                    "consecutive_failures",
                    "consecutive_successes",
                    "last_checked_at",
                    "last_latency_ms",
                    "last_message",
                    "last_due_at",
                    "last_push_at",
                ],
                batch_size=500,
            )
        if flips:
            MonitorEvent.objects.bulk_create(flips, batch_size=500)
        add_results((row.monitor_id, row.checked_at, row.status, row.latency_ms) for row in rows)
        # Alert rules are evaluated in the same transaction, with the state rows
        # still locked: two workers can never raise one alert twice.
        from alerting.services import evaluate_results

        evaluate_results(rows, now=now)
    return rows


def _row(r: NewResult, monitor_id: int) -> CheckResult:
    lag = r.checked_at - r.due_at
    return CheckResult(
        monitor_id=monitor_id,
        source=r.source,
        status=r.status,
        due_at=r.due_at,
        checked_at=r.checked_at,
        latency_ms=None if r.latency_ms is None else round(r.latency_ms, 3),
        lag_ms=max(0, int(lag.total_seconds() * 1000)) if r.source == ResultSource.SCHEDULED else 0,
        message=r.message[:MESSAGE_LIMIT],
    )


def record_push(
    monitor: Monitor,
    *,
    status: str = Status.UP,
    message: str = "",
    latency_ms: float | None = None,
    now: datetime,
) -> CheckResult | None:
    """Record a heartbeat push as a result (source ``push``)."""
    rows = record_results(
        [
            NewResult(
                monitor_id=monitor.pk,
                due_at=now,
                checked_at=now,
                status=status,
                latency_ms=latency_ms,
                message=message or "push received",
                source=ResultSource.PUSH,
            )
        ],
        now=now,
    )
    return rows[0] if rows else None


def check_now(monitor: Monitor, *, now: datetime) -> CheckResult | None:
    """Run ``monitor``'s check immediately in this process and record the result
    (source ``manual``). Returns None when the kind had nothing to record
    (a heartbeat pushed recently, a group with no known member)."""
    from .engine import run_targets, targets_for

    targets, ctx = targets_for([monitor.pk], now=now, include_inactive=True)
    if not targets:
        return None
    outcomes = asyncio.run(run_targets(targets, ctx))
    new = [
        NewResult(
            monitor_id=target.monitor_id,
            due_at=started,
            checked_at=started,
            status=outcome.status,
            latency_ms=outcome.latency_ms,
            message=outcome.message,
            source=ResultSource.MANUAL,
        )
        for target, (started, outcome) in zip(targets, outcomes, strict=True)
        if outcome is not None
    ]
    rows = record_results(new, now=now)
    return rows[0] if rows else None


def prune_results(*, before: datetime, batch_size: int) -> int:
    """Delete raw results checked before ``before``, ``batch_size`` rows per
    transaction so a large backlog never holds a long lock. Returns the count."""
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                CheckResult.objects.filter(checked_at__lt=before)
                .order_by("id")
                .values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                return total
            deleted, _ = CheckResult.objects.filter(Q(id__in=ids)).delete()
            total += deleted
