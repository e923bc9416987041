"""The outbox: state-changing services call these inside their transaction.

Each function decides *whether* an event notifies anyone (a pure mapping
from the event row), writes one ``Notification`` row with a snapshot of the
template variables, and queues planning for after commit. Planning and
sending live in ``notifications.planning`` / ``notifications.sending``; a
lost queue message is harmless because the planner tick finds unplanned rows
in the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction

from .models import Event, Notification

if TYPE_CHECKING:
    from alerting.models import AlertEvent
    from incidents.models import MaintenanceWindow, TimelineEntry


def _queue_planning(notification: Notification) -> None:
    from .tasks import plan_notification

    transaction.on_commit(lambda: plan_notification.delay(notification.pk))


def incident_event_for(entry_type: str, data: dict) -> str | None:
    """Which subscriber event a timeline entry is, if any (pure).

    ``FollowUpCreated`` is written twice: on the new incident (``data`` has
    ``follow_up_of``; that is a creation) and on the old one (``follow_up``;
    not an event of its own).
    """
    if entry_type == "Created":
        return Event.INCIDENT_CREATED
    if entry_type == "FollowUpCreated":
        return Event.INCIDENT_CREATED if "follow_up_of" in data else None
    if entry_type == "UpdatePosted":
        if data.get("to") == "RESOLVED" and data.get("from") != "RESOLVED":
            return Event.INCIDENT_RESOLVED
        if data.get("from") == "RESOLVED" and data.get("to") != "RESOLVED":
            return Event.INCIDENT_REOPENED
        return Event.INCIDENT_UPDATED
    if entry_type == "Resolved":
        return Event.INCIDENT_RESOLVED
    if entry_type == "Reopened":
        return Event.INCIDENT_REOPENED
    return None


def alert_event(event: AlertEvent) -> Notification | None:
    """An alert TRIGGERED / RESOLVED: notify the rule's active triggers.

    Nothing is written when maintenance suppressed the alert or the rule has
    no active trigger.
    """
    from .variables import alert_variables

    if event.suppressed_by_maintenance or event.rule_id is None:
        return None  # suppressed, or an external alert (integrations have no triggers)
    if not event.rule.triggers.filter(is_active=True).exists():
        return None
    kind = Event.ALERT_TRIGGERED if event.status == "TRIGGERED" else Event.ALERT_RESOLVED
    notification = Notification.objects.create(
        event=kind,
        alert_event=event,
        incident=event.incident,
        monitor_ids=[event.monitor_id] if event.monitor_id else [],
        context=alert_variables(event),
        created_at=event.at,
    )
    _queue_planning(notification)
    return notification


def incident_event(entry: TimelineEntry) -> Notification | None:
    """An incident timeline entry that subscribers hear about (see ``incident_event_for``;
    ``Escalated`` is not one: ``escalation_event`` notifies the chosen triggers)."""
    from .incident_variables import incident_variables

    kind = incident_event_for(entry.type, entry.data or {})
    if kind is None:
        return None
    incident = entry.incident
    update = incident.updates.order_by("-created_at", "-id").first()
    notification = Notification.objects.create(
        event=kind,
        incident=incident,
        update=update,
        monitor_ids=sorted(incident.affected.values_list("monitor_id", flat=True)),
        context=incident_variables(incident, update, kind),
        created_at=entry.at,
    )
    _queue_planning(notification)
    return notification


def escalation_key(entry: TimelineEntry) -> str:
    """The notification key of an escalation: one notification per ``Escalated`` entry."""
    return f"{Event.INCIDENT_ESCALATED}:{entry.pk}"


def escalation_event(entry: TimelineEntry, *, note: str) -> Notification:
    """An ``Escalated`` entry (called by ``incidents.services.escalate`` in its
    transaction): notify exactly the triggers it names (``data["triggers"]``),
    never the subscribers (an escalation is internal). ``note`` is the whole
    note (the entry's message keeps its first 500 characters).

    The notification is planned at once, inside the escalation's transaction,
    so the escalation and its deliveries commit (or fail) together and the
    caller can show them; the queued ``plan_notification`` then finds it
    planned and only sends.
    """
    from . import planning
    from .variables import escalation_variables

    incident = entry.incident
    notification = Notification.objects.create(
        event=Event.INCIDENT_ESCALATED,
        key=escalation_key(entry),
        incident=incident,
        update=incident.updates.order_by("-created_at", "-id").first(),
        monitor_ids=sorted(incident.affected.values_list("monitor_id", flat=True)),
        trigger_ids=list((entry.data or {}).get("triggers") or []),
        context=escalation_variables(entry, note=note),
        created_at=entry.at,
    )
    planning.plan(notification.pk, entry.at)
    notification.refresh_from_db()
    _queue_planning(notification)
    return notification


def maintenance_event(
    window: MaintenanceWindow, kind: str, *, now: datetime, occurrence: datetime | None = None
) -> Notification | None:
    """Maintenance scheduled (from the service) or started / ended (from the tick,
    once per occurrence: ``key`` makes a second call a no-op)."""
    from .incident_variables import maintenance_variables

    key = ""
    if occurrence is not None:
        key = f"{kind}:{window.pk}:{occurrence.isoformat()}"
        if Notification.objects.filter(key=key).exists():
            return None
    monitor_ids = [] if window.is_global else sorted(window.monitors.values_list("pk", flat=True))
    notification = Notification.objects.create(
        event=kind,
        key=key,
        maintenance=window,
        monitor_ids=monitor_ids,
        context=maintenance_variables(window, kind, occurrence),
        created_at=now,
    )
    _queue_planning(notification)
    return notification
