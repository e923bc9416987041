"""Maintenance window services: the only code that changes maintenance windows.

Each function runs in one transaction and renders the Markdown description
once (``incidents.markdown.render``) into ``description_html``. Input is
expected validated (``incidents.api.serializers.MaintenanceWindowSerializer``);
``monitors`` is a sequence of ``Monitor`` rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from notifications import outbox
from statuspage.audit import diff, record, snapshot

from .markdown import render
from .models import MaintenanceWindow

FIELDS = ("title", "description", "starts_at", "ends_at", "rrule", "is_global")


def create_window(data: dict[str, Any], *, now: datetime, actor: Any = None) -> MaintenanceWindow:
    """Create a window with its monitors."""
    with transaction.atomic():
        window = MaintenanceWindow(**{f: data[f] for f in FIELDS if f in data})
        window.description_html = render(window.description)
        window.save()
        window.monitors.set(data.get("monitors", []))
        record("created", window, now=now, actor=actor, changes=_state(window))
        outbox.maintenance_event(window, "maintenance.scheduled", now=now)
    return window


def update_window(
    window: MaintenanceWindow, data: dict[str, Any], *, now: datetime, actor: Any = None
) -> MaintenanceWindow:
    """Change the given fields; ``monitors`` (when given) replaces the list."""
    with transaction.atomic():
        window = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
        before = _state(window)
        for field in FIELDS:
            if field in data:
                setattr(window, field, data[field])
        if "description" in data:
            window.description_html = render(window.description)
        window.save()
        if "monitors" in data:
            window.monitors.set(data["monitors"])
        changes = diff(before, _state(window))
        if changes:
            record("updated", window, now=now, actor=actor, changes=changes)
    return window


def delete_window(window: MaintenanceWindow, *, now: datetime, actor: Any = None) -> None:
    """Delete a window (alerts it suppressed keep their log)."""
    with transaction.atomic():
        record("deleted", window, now=now, actor=actor, changes=_state(window))
        window.delete()


def _state(window: MaintenanceWindow) -> dict[str, Any]:
    state = snapshot(window, FIELDS)
    state["monitors"] = sorted(window.monitors.values_list("tag", flat=True))
    return state
