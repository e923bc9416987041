"""Test helpers for building monitors and results through the real services."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.utils import timezone

from monitors import services
from monitors.models import Monitor
from monitors.services import NewResult

_seq = itertools.count(1)


def make_monitor(
    kind: str = "tcp",
    config: dict[str, Any] | None = None,
    *,
    tag: str | None = None,
    now: datetime | None = None,
    **fields: Any,
) -> Monitor:
    """Create a monitor through ``services.create_monitor`` (config is not validated)."""
    n = next(_seq)
    data: dict[str, Any] = {
        "name": fields.pop("name", f"Monitor {n}"),
        "tag": tag or f"mon-{n}",
        "kind": kind,
        "config": config if config is not None else {"host": "127.0.0.1", "port": 9},
        **fields,
    }
    return services.create_monitor(data, now=now or timezone.now())


def result(
    monitor: Monitor,
    at: datetime,
    status: str = "UP",
    latency_ms: float | None = 10.0,
    *,
    due_at: datetime | None = None,
    source: str = "scheduled",
    message: str = "",
) -> NewResult:
    """A NewResult for ``monitor`` checked at ``at`` (due at ``due_at`` or ``at``)."""
    return NewResult(
        monitor_id=monitor.pk,
        due_at=due_at or at,
        checked_at=at,
        status=status,
        latency_ms=latency_ms,
        message=message,
        source=source,
    )
