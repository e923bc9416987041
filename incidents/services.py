"""Incident services: the only code that changes incidents.

Every function takes an explicit ``now`` (and ``actor`` where a person acts),
runs in one transaction, and writes a ``TimelineEntry`` with the change. The
incident's state follows its latest update. Validation errors are raised as
``IncidentError`` with the field they concern, for forms and the API to show.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from monitors.models import Monitor
from statuspage.audit import record

from . import links
from .markdown import render
from .models import (
    SEVERITY_RANK,
    Classification,
    Impact,
    Incident,
    IncidentMonitor,
    IncidentService,
    IncidentUpdate,
    Severity,
    Source,
    State,
    TimelineEntry,
)

if TYPE_CHECKING:
    from accounts.models import User
    from notifications.models import Delivery, Notification, Trigger

MAX_BODY = 20000
MAX_NOTE = 5000
MAX_ESCALATION_TRIGGERS = 20
# Higher is more severe: an escalation may raise the severity, never lower it.


class IncidentError(ValueError):
    """A refused change; ``field`` names the input at fault (or ``None``)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _actor(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def timeline(
    incident: Incident,
    type_: str,
    now: datetime,
    *,
    actor: Any = None,
    message: str = "",
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Append one timeline entry (call inside the change's transaction); the
    entries subscribers hear about also write their notification (outbox)."""
    from notifications import outbox

    entry = TimelineEntry.objects.create(
        incident=incident,
        type=type_,
        message=message[:500],
        actor=_actor(actor),
        data=data or {},
        at=now,
    )
    outbox.incident_event(entry)
    return entry


def _add_update(
    incident: Incident, state: str, body: str, now: datetime, actor: Any = None
) -> IncidentUpdate:
    if not body.strip():
        raise IncidentError("body", "An update needs some text.")
    if len(body) > MAX_BODY:
        raise IncidentError("body", f"At most {MAX_BODY} characters.")
    if state not in State.values:
        raise IncidentError("state", f"Must be one of {', '.join(State.values)}.")
    return IncidentUpdate.objects.create(
        incident=incident,
        state=state,
        body=body,
        html=render(body),
        author=_actor(actor),
        created_at=now,
    )


def _set_monitors(
    incident: Incident, monitors: Iterable[tuple[Monitor, str]], now: datetime | None = None
) -> None:
    linked = False
    for monitor, impact in monitors:
        if impact not in Impact.values:
            raise IncidentError("monitors", f"Impact must be one of {', '.join(Impact.values)}.")
        IncidentMonitor.objects.update_or_create(
            incident=incident, monitor=monitor, defaults={"impact": impact}
        )
        # A monitor's service is a service the incident affects (kept when the
        # monitor is removed later: the link is history, like the timeline).
        if monitor.service_id is not None and now is not None:
            linked = (
                links.link_service(
                    incident, monitor.service_id, IncidentService.Source.MONITOR, now
                )
                or linked
            )
    if linked:
        links.recount(incident)


def create_incident(
    *,
    title: str,
    body: str,
    now: datetime,
    state: str = State.INVESTIGATING,
    severity: str = Severity.CRITICAL,
    source: str = Source.DASHBOARD,
    monitors: Sequence[tuple[Monitor, str]] = (),
    started_at: datetime | None = None,
    actor: Any = None,
    follow_up_of: Incident | None = None,
) -> Incident:
    """Open an incident with its first update and affected monitors."""
    title = title.strip()
    if not title:
        raise IncidentError("title", "A title is required.")
    if len(title) > 300:
        raise IncidentError("title", "At most 300 characters.")
    if severity not in Severity.values:
        raise IncidentError("severity", f"Must be one of {', '.join(Severity.values)}.")
    with transaction.atomic():
        incident = Incident.objects.create(
            title=title,
            state=state,
            source=source,
            severity=severity,
            started_at=started_at or now,
            ended_at=now if state == State.RESOLVED else None,
            follow_up_of=follow_up_of,
        )
        _set_monitors(incident, monitors, now)
        _add_update(incident, state, body, now, actor)
        timeline(
            incident,
            TimelineEntry.Type.FOLLOW_UP_CREATED if follow_up_of else TimelineEntry.Type.CREATED,
            now,
            actor=actor,
            message=(f"Follow-up of {follow_up_of.key}" if follow_up_of else f"Created ({source})"),
            data={"follow_up_of": follow_up_of.pk} if follow_up_of else {},
        )
    return incident


def post_update(
    incident: Incident, *, state: str, body: str, now: datetime, actor: Any = None
) -> IncidentUpdate:
    """Post an update; the incident takes its state (and ends when it is RESOLVED)."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        update = _add_update(incident, state, body, now, actor)
        previous = incident.state
        incident.state = state
        if state == State.RESOLVED and incident.ended_at is None:
            incident.ended_at = now
            incident.resolved_by = _actor(actor)
        elif state != State.RESOLVED and previous == State.RESOLVED:
            incident.ended_at = None
        incident.save()
        timeline(
            incident,
            TimelineEntry.Type.UPDATE_POSTED,
            now,
            actor=actor,
            message=f"{previous} -> {state}",
            data={"update": update.pk, "from": previous, "to": state},
        )
    return update


def edit_incident(
    incident: Incident, changes: dict[str, Any], *, now: datetime, actor: Any = None
) -> Incident:
    """Edit title, severity, start and end times, and affected monitors."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        changed = []
        if "title" in changes:
            title = str(changes["title"]).strip()
            if not title or len(title) > 300:
                raise IncidentError("title", "A title of 1 to 300 characters is required.")
            if title != incident.title:
                incident.title, changed = title, [*changed, "title"]
        if "severity" in changes:
            if changes["severity"] not in Severity.values:
                raise IncidentError("severity", f"Must be one of {', '.join(Severity.values)}.")
            if changes["severity"] != incident.severity:
                incident.severity, changed = changes["severity"], [*changed, "severity"]
        for field in ("started_at", "ended_at"):
            if field in changes and changes[field] != getattr(incident, field):
                setattr(incident, field, changes[field])
                changed.append(field)
        if incident.ended_at is not None and incident.ended_at < incident.started_at:
            raise IncidentError("ended_at", "The end must not be before the start.")
        incident.save()
        if "monitors" in changes:
            before = set(incident.affected.values_list("monitor_id", "impact"))
            wanted = {m.pk: (m, impact) for m, impact in changes["monitors"]}
            IncidentMonitor.objects.filter(incident=incident).exclude(
                monitor_id__in=wanted
            ).delete()
            _set_monitors(incident, wanted.values(), now)
            if set(incident.affected.values_list("monitor_id", "impact")) != before:
                changed.append("monitors")
        if changed:
            timeline(
                incident,
                TimelineEntry.Type.EDITED,
                now,
                actor=actor,
                message="changed: " + ", ".join(sorted(set(changed))),
            )
    return incident


def acknowledge(
    incident: Incident, *, now: datetime, actor: Any = None, note: str = ""
) -> Incident:
    """Record who acknowledged the incident and when (again: the note is updated)."""
    if len(note) > MAX_NOTE:
        raise IncidentError("note", f"At most {MAX_NOTE} characters.")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        incident.acknowledged_at = now
        incident.acknowledged_by = _actor(actor)
        incident.acknowledge_note = note
        incident.save()
        timeline(incident, TimelineEntry.Type.ACKNOWLEDGED, now, actor=actor, message=note)
    return incident


def resolve(
    incident: Incident,
    *,
    note: str,
    classification: str,
    now: datetime,
    actor: Any = None,
) -> Incident:
    """Resolve by an operator: needs a note and a classification.

    Alerts of the incident that are still triggered stay triggered and enter
    post-resolution watch; their count is kept on the incident.
    """
    from alerting.models import Alert, AlertStatus

    if not note.strip():
        raise IncidentError("note", "A resolution note is required.")
    if len(note) > MAX_NOTE:
        raise IncidentError("note", f"At most {MAX_NOTE} characters.")
    if classification not in Classification.values:
        raise IncidentError("classification", f"Must be one of {', '.join(Classification.values)}.")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.state == State.RESOLVED:
            raise IncidentError(None, "This incident is already resolved.")
        active = list(
            Alert.objects.select_for_update().filter(
                incident=incident, status=AlertStatus.TRIGGERED
            )
        )
        for alert in active:
            alert.post_resolution_watch_since = now
            alert.save(update_fields=["post_resolution_watch_since", "updated_at"])
        _add_update(incident, State.RESOLVED, note, now, actor)
        incident.state = State.RESOLVED
        incident.ended_at = now
        incident.resolved_by = _actor(actor)
        incident.resolve_note = note
        incident.resolution_classification = classification
        incident.active_alert_count_at_resolution = len(active)
        incident.save()
        timeline(
            incident,
            TimelineEntry.Type.RESOLVED,
            now,
            actor=actor,
            message=f"{classification}: {note}",
            data={"active_alerts": len(active), "classification": classification},
        )
    return incident


def reopen(incident: Incident, *, reason: str, now: datetime, actor: Any = None) -> Incident:
    """Bring a resolved incident back to INVESTIGATING, counting the reopen."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.state != State.RESOLVED:
            raise IncidentError(None, "Only a resolved incident can be reopened.")
        _add_update(incident, State.INVESTIGATING, f"Reopened: {reason}", now, actor)
        incident.state = State.INVESTIGATING
        incident.ended_at = None
        incident.reopen_count += 1
        incident.last_reopened_at = now
        incident.reopen_reason = reason[:300]
        incident.save()
        timeline(incident, TimelineEntry.Type.REOPENED, now, actor=actor, message=reason)
    return incident


def delete_incident(incident: Incident, *, now: datetime, actor: Any = None) -> None:
    """Delete an incident with its updates and timeline (alerts keep their log).
    The audit log keeps who deleted which incident, since its timeline goes."""
    with transaction.atomic():
        record(
            "deleted",
            incident,
            now=now,
            actor=actor,
            label=f"{incident.key} {incident.title}",
            changes={
                "key": incident.key,
                "title": incident.title,
                "state": incident.state,
                "started_at": str(incident.started_at),
            },
        )
        incident.delete()


# --- assign and escalate -----------------------------------------------------------------


def assignee_problem(user: Any) -> str | None:
    """Why ``user`` cannot own an incident, or None (pure): owners are active
    users with at least the operator role, since they must be able to run the
    lifecycle they are given."""
    from accounts.roles import OPERATOR, has_role

    name = getattr(user, "username", "")
    if not getattr(user, "is_active", False):
        return f"{name} is not an active user." if name else "Not an active user."
    if not has_role(user, OPERATOR):
        return f"{name} is a viewer; only operators and admins can be assigned."
    return None


def _who(user: Any) -> str:
    return user.get_username() if user is not None else "nobody"


def assign(
    incident: Incident, *, assignee: User | None, now: datetime, actor: Any = None
) -> Incident:
    """Make ``assignee`` (a user, or None to unassign) the owner of the incident.

    The assignee must be an active operator or admin (else ``IncidentError``
    on ``assignee``). Open and resolved incidents can be assigned: after the
    resolution someone still owns the follow-up (review, classification, a
    reopen), and a reopen keeps the owner. A merged incident is refused (409):
    its work continues on the incident it was merged into. Assigning the
    current owner again changes nothing and writes no timeline entry;
    otherwise ``Assigned`` is written with ``data`` ``{"assignee": id | None,
    "previous": id | None}``.
    """
    from django.contrib.auth import get_user_model

    with transaction.atomic():
        if assignee is not None:
            # Re-read the user: a role or activity change made meanwhile counts.
            fresh = get_user_model().objects.filter(pk=getattr(assignee, "pk", None)).first()
            if fresh is None:
                raise IncidentError("assignee", "No such user.")
            problem = assignee_problem(fresh)
            if problem:
                raise IncidentError("assignee", problem)
            assignee = fresh
        # No select_related: PostgreSQL cannot lock the nullable side of an outer join.
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.merged_into_id is not None:
            raise IncidentError(
                None, "This incident was merged into another; assign that incident instead."
            )
        previous = incident.assignee
        new_id = assignee.pk if assignee is not None else None
        if incident.assignee_id == new_id:
            return incident
        incident.assignee = assignee
        incident.assigned_at = now if assignee is not None else None
        incident.save()
        if assignee is None:
            message = f"unassigned (was {_who(previous)})"
        elif previous is None:
            message = f"assigned to {_who(assignee)}"
        else:
            message = f"assigned to {_who(assignee)} (was {_who(previous)})"
        timeline(
            incident,
            TimelineEntry.Type.ASSIGNED,
            now,
            actor=actor,
            message=message,
            data={"assignee": new_id, "previous": previous.pk if previous else None},
        )
    return incident


def raised_severity(current: str, requested: str | None) -> tuple[str, str] | None:
    """``(old, new)`` when ``requested`` raises the severity, None when it is
    absent or the same (pure); ``IncidentError`` on ``severity`` when it is
    unknown or lower: an escalation never calms an incident down."""
    if requested is None or requested == "":
        return None
    if requested not in SEVERITY_RANK:
        raise IncidentError("severity", f"Must be one of {', '.join(Severity.values)}.")
    if requested == current:
        return None
    if SEVERITY_RANK[requested] < SEVERITY_RANK.get(current, 0):
        raise IncidentError(
            "severity",
            f"An escalation cannot lower the severity ({current} to {requested}); "
            "edit the incident to lower it.",
        )
    return current, requested


@dataclass(frozen=True)
class Escalation:
    """What ``escalate`` wrote: the timeline entry, its notification and one
    delivery per chosen trigger (pending; sent after commit)."""

    incident: Incident
    entry: TimelineEntry
    notification: Notification
    deliveries: list[Delivery] = field(default_factory=list)


def _escalation_triggers(triggers: Sequence[Trigger]) -> list[int]:
    from notifications.models import Trigger

    ids = [getattr(t, "pk", None) for t in triggers]
    if not ids:
        raise IncidentError("triggers", "Choose at least one trigger to notify.")
    if len(ids) > MAX_ESCALATION_TRIGGERS:
        raise IncidentError("triggers", f"At most {MAX_ESCALATION_TRIGGERS} triggers.")
    if len(set(ids)) != len(ids):
        raise IncidentError("triggers", "A trigger is listed more than once.")
    found = {t.pk: t for t in Trigger.objects.filter(pk__in=[i for i in ids if i is not None])}
    for pk in ids:
        row = found.get(pk) if pk is not None else None
        if row is None:
            raise IncidentError("triggers", "A chosen trigger does not exist (any more).")
        if not row.is_active:
            raise IncidentError("triggers", f"The trigger {row.name} is inactive.")
    return list(ids)  # type: ignore[arg-type]


def escalate(
    incident: Incident,
    *,
    triggers: Sequence[Trigger],
    note: str,
    now: datetime,
    actor: Any = None,
    severity: str | None = None,
) -> Escalation:
    """Ask for more eyes: notify the chosen triggers with what someone new needs.

    Needs at least one active trigger (none twice) and a note of at most
    ``MAX_NOTE`` characters; ``severity`` may raise the incident's severity,
    never lower it. Only open, unmerged incidents are escalated (409
    otherwise: a resolved incident needs a reopen first). Writes an
    ``Escalated`` entry (message = the note's first 500 characters, ``data``
    ``{"triggers": [ids], "severity": [old, new] | None}``) and, through the
    outbox, an ``incident.escalated`` notification planned in the same
    transaction with exactly one delivery per chosen trigger; subscribers are
    never told (an escalation is internal). Sending is queued after commit.
    """
    from notifications import outbox

    if not isinstance(note, str) or not note.strip():
        raise IncidentError("note", "Say why you escalate: the note goes to everyone notified.")
    if len(note) > MAX_NOTE:
        raise IncidentError("note", f"At most {MAX_NOTE} characters.")
    trigger_ids = _escalation_triggers(triggers)
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.merged_into_id is not None:
            raise IncidentError(
                None, "This incident was merged into another; escalate that incident instead."
            )
        if incident.state == State.RESOLVED:
            raise IncidentError(None, "This incident is resolved; reopen it before escalating.")
        change = raised_severity(incident.severity, severity)
        if change is not None:
            incident.severity = change[1]
            incident.save()
        entry = timeline(
            incident,
            TimelineEntry.Type.ESCALATED,
            now,
            actor=actor,
            message=note,
            data={"triggers": trigger_ids, "severity": list(change) if change else None},
        )
        notification = outbox.escalation_event(entry, note=note)
        deliveries = list(notification.deliveries.order_by("trigger_id", "pk"))
    return Escalation(incident, entry, notification, deliveries)
