"""Helpers for the trigger and delivery tests: triggers made through the real
service, alerts raised through the real result-recording path."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from alerting.models import AlertRule
from monitors.models import Monitor
from monitors.services import record_results
from monitors.tests.factories import make_monitor, result
from notifications import trigger_services
from notifications.models import Notification, Trigger

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
_seq = itertools.count(1)


def make_trigger(
    kind: str = "webhook",
    config: dict[str, Any] | None = None,
    *,
    name: str | None = None,
    templates: dict[str, str] | None = None,
    is_active: bool = True,
    now: datetime = T0,
) -> Trigger:
    data: dict[str, Any] = {
        "name": name or f"{kind} trigger {next(_seq)}",
        "kind": kind,
        "config": config if config is not None else {"url": "http://127.0.0.1:9/hook"},
        "is_active": is_active,
    }
    if templates is not None:
        data["templates"] = templates
    return trigger_services.create_trigger(data, now=now)


def make_rule(
    monitors: list[Monitor], triggers: list[Trigger], *, failure: int = 1, success: int = 1, **extra
) -> AlertRule:
    rule = AlertRule.objects.create(
        kind="STATUS", value="DOWN", failure_threshold=failure, success_threshold=success, **extra
    )
    rule.monitors.set(monitors)
    rule.triggers.set(triggers)
    return rule


def alerting_monitor(
    triggers: list[Trigger], *, name: str = "Payment API", tag: str | None = None, **rule_extra
) -> tuple[Monitor, AlertRule]:
    monitor = make_monitor(name=name, tag=tag or f"mon-h1-{next(_seq)}", now=T0)
    return monitor, make_rule([monitor], triggers, **rule_extra)


def record(monitor: Monitor, status: str, at: datetime) -> None:
    record_results([result(monitor, at, status)], now=at)


def trigger_alert(monitor: Monitor, at: datetime = T0) -> Notification:
    """Record a DOWN result (failure threshold 1): the alert triggers; its notification."""
    before = set(Notification.objects.values_list("id", flat=True))
    record(monitor, "DOWN", at)
    created = Notification.objects.exclude(id__in=before).filter(event="alert.triggered")
    return created.get()
