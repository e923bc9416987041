"""Manual merges: move one alert into an incident, or fold a whole incident
into another. Operator actions; each runs in one transaction and writes its
timeline entries on both incidents.

* ``merge_alert(incident, alert)``: the alert leaves its incident (if any)
  for ``incident``; counters, services and primary service are recomputed on
  both (an alert-sourced service link leaves the old incident when no alert
  of that service is left there); ``AlertMerged`` on both.
* ``merge_incident(source, into)``: ``source``'s alerts move to ``into``, its
  services and affected monitors are copied there, and ``source`` is resolved
  with classification ``Duplicate`` and ``merged_into`` set; ``MergedInto`` on
  ``source``, ``IncidentMerged`` on ``into``.

Refused (``IncidentError`` without a field, a 409 in the API): merging an
incident into itself, into a merged or resolved incident, an incident that is
already merged or resolved; moving an alert into the incident it is in.
Locks: the incidents in id order, then their alerts -- the order of
``incidents.services.resolve`` and of correlation's resolve path. A deadlock
the database still reports (with a writer taking another order) is retried.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import OperationalError, transaction

from . import links
from .investigation_services import request_investigation
from .models import (
    Classification,
    Incident,
    IncidentMonitor,
    IncidentService,
    State,
    TimelineEntry,
)
from .services import IncidentError, resolve, timeline

RETRIES = 3


def _lock(*incidents: Incident) -> dict[int, Incident]:
    ids = sorted({i.pk for i in incidents})
    rows = Incident.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
    return {i.pk: i for i in rows}


def _check_target(target: Incident) -> None:
    if target.merged_into_id is not None:
        raise IncidentError(None, f"{target.key} was merged into another incident.")
    if target.state == State.RESOLVED:
        raise IncidentError(None, f"{target.key} is resolved; reopen it first.")


def _retrying(func: Any, *args: Any, **kwargs: Any) -> Any:
    for attempt in range(RETRIES):
        try:
            return func(*args, **kwargs)
        except OperationalError:
            if attempt == RETRIES - 1 or transaction.get_connection().in_atomic_block:
                raise
    raise AssertionError("unreachable")


def merge_alert(incident: Incident, alert: Any, *, now: datetime, actor: Any = None) -> Incident:
    """Move ``alert`` (an ``alerting.Alert``) into ``incident``; returns the incident."""
    return _retrying(_merge_alert, incident, alert, now=now, actor=actor)


def _merge_alert(incident: Incident, alert: Any, *, now: datetime, actor: Any) -> Incident:
    from alerting.models import Alert

    with transaction.atomic():
        old_id = Alert.objects.filter(pk=alert.pk).values_list("incident_id", flat=True).first()
        if old_id == incident.pk:
            raise IncidentError("alert", "This alert is already in this incident.")
        locked = _lock(incident, *([Incident(pk=old_id)] if old_id else []))
        target = locked[incident.pk]
        _check_target(target)
        alert = (
            Alert.objects.select_for_update(of=("self",)).select_related("monitor").get(pk=alert.pk)
        )
        if alert.incident_id != old_id:
            raise IncidentError(None, "The alert moved meanwhile; try again.")
        old = locked.get(old_id) if old_id else None
        alert.incident = target
        alert.post_resolution_watch_since = None
        alert.save(update_fields=["incident", "post_resolution_watch_since", "updated_at"])
        service_id = alert.service_id or (alert.monitor.service_id if alert.monitor_id else None)
        if service_id is not None:
            links.link_service(target, service_id, IncidentService.Source.ALERT, now)
        if alert.monitor_id is not None and old is not None:
            _copy_monitors(old, target, [alert.monitor_id])
        target.last_correlated_at = max(now, target.last_correlated_at or now)
        target.save(update_fields=["last_correlated_at", "updated_at"])
        links.recount(target)
        label = alert.title or alert.fingerprint or f"alert {alert.pk}"
        timeline(
            target,
            TimelineEntry.Type.ALERT_MERGED,
            now,
            actor=actor,
            message=f"{label} moved here" + (f" from {old.key}" if old else ""),
            data={"alert": alert.pk, "from": old.pk if old else None},
        )
        if old is not None:
            _drop_orphan_service_links(old, service_id)
            links.recount(old)
            timeline(
                old,
                TimelineEntry.Type.ALERT_MERGED,
                now,
                actor=actor,
                message=f"{label} moved to {target.key}",
                data={"alert": alert.pk, "to": target.pk},
            )
        request_investigation(target, now=now)
    return target


def merge_incident(
    source: Incident, into: Incident, *, now: datetime, actor: Any = None
) -> Incident:
    """Fold ``source`` into ``into``; returns ``into``."""
    return _retrying(_merge_incident, source, into, now=now, actor=actor)


def _merge_incident(source: Incident, into: Incident, *, now: datetime, actor: Any) -> Incident:
    from alerting.models import Alert

    if source.pk == into.pk:
        raise IncidentError("into", "An incident cannot be merged into itself.")
    with transaction.atomic():
        locked = _lock(source, into)
        source, into = locked[source.pk], locked[into.pk]
        if source.merged_into_id is not None:
            raise IncidentError(None, f"{source.key} was already merged into another incident.")
        if source.state == State.RESOLVED:
            raise IncidentError(None, f"{source.key} is resolved; only open incidents merge.")
        _check_target(into)
        alert_ids = list(
            Alert.objects.select_for_update(of=("self",))
            .filter(incident=source)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Alert.objects.filter(pk__in=alert_ids).update(incident=into)
        for link in IncidentService.objects.filter(incident=source).order_by("added_at", "pk"):
            IncidentService.objects.get_or_create(
                incident=into,
                service_id=link.service_id,
                defaults={"source": link.source, "added_at": now},
            )
        _copy_monitors(
            source,
            into,
            list(
                IncidentMonitor.objects.filter(incident=source).values_list("monitor_id", flat=True)
            ),
        )
        latest = max(
            (t for t in (into.last_correlated_at, source.last_correlated_at) if t is not None),
            default=None,
        )
        into.last_correlated_at = latest
        into.save(update_fields=["last_correlated_at", "updated_at"])
        links.recount(into)
        resolve(
            source,
            note=f"Merged into {into.key}.",
            classification=Classification.DUPLICATE,
            now=now,
            actor=actor,
        )
        Incident.objects.filter(pk=source.pk).update(merged_into=into, correlated_alert_count=0)
        timeline(
            source,
            TimelineEntry.Type.MERGED_INTO,
            now,
            actor=actor,
            message=f"Merged into {into.key}",
            data={"into": into.pk, "alerts": alert_ids},
        )
        timeline(
            into,
            TimelineEntry.Type.INCIDENT_MERGED,
            now,
            actor=actor,
            message=f"{source.key} merged in ({len(alert_ids)} alert{_s(len(alert_ids))})",
            data={"from": source.pk, "alerts": alert_ids},
        )
        request_investigation(into, now=now)
    into.refresh_from_db()
    return into


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _copy_monitors(source: Incident, target: Incident, monitor_ids: list[int]) -> None:
    """Affected monitors of ``source`` also affect ``target`` (kept on ``source`` as history)."""
    for row in IncidentMonitor.objects.filter(incident=source, monitor_id__in=monitor_ids):
        IncidentMonitor.objects.get_or_create(
            incident=target,
            monitor_id=row.monitor_id,
            defaults={"impact": row.impact, "impact_removed_at": row.impact_removed_at},
        )


def _drop_orphan_service_links(incident: Incident, service_id: int | None) -> None:
    """An alert-sourced link stays only while an alert of that service is in the incident."""
    from django.db.models import Q

    from alerting.models import Alert

    if service_id is None:
        return
    still = Alert.objects.filter(incident=incident).filter(
        Q(service_id=service_id) | Q(monitor__service_id=service_id)
    )
    if not still.exists():
        IncidentService.objects.filter(
            incident=incident, service_id=service_id, source=IncidentService.Source.ALERT
        ).delete()
