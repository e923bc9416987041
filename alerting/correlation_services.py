"""Correlation services: fold stored alerts into incidents, under a lock.

``process_alerts(alert_ids, now)`` is called (from a task queued after the
alerts were committed by the integrations) for external alerts; the rule path
(``alerting.services.trigger``) calls ``rule_alert_incident`` /
``record_join`` / ``record_open`` for monitor-rule alerts whose monitor
belongs to a service. Per alert, in one transaction:

1. lock the alert row, then the ``Service`` rows of its service and the
   services one hop away, in id order (``FOR NO KEY UPDATE`` on PostgreSQL, so
   inserting rows that reference a service is not blocked; SQLite serialises
   writers anyway). Alerts without a service take a PostgreSQL advisory lock
   on their title instead. Two workers correlating related alerts therefore
   run one after the other, and the second sees the incident the first opened;
2. re-read the candidate incidents (open, not merged, within the window) and
   run the pure ``alerting.correlation.decide``;
3. Join: link the alert, the service, bump ``last_correlated_at``, recount
   (``incidents.links.recount``), write an ``AlertCorrelated`` timeline entry,
   request a (debounced) investigation refresh. Open: ``incidents.services.
   create_incident`` (source INTEGRATION, started at the alert's start), link,
   queue the investigation. Store: nothing more.

A RESOLVED alert updates its incident: an ``AlertResolved`` entry, and when no
alert of the incident is still triggered (and an operator did not resolve it
already), an automatic RESOLVED update with the table of what recovered. A
triggered alert whose incident an operator resolved follows the same
post-resolution watch as rule alerts (``alerting.services.post_resolution_watch``).

Lock order: a firing alert (not in an incident yet) -> services -> the
incident it joins; a resolved alert of an incident: the incident -> the alert
(the order of ``incidents.services.resolve`` and of ``incidents.merging``).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from catalog.graph import Graph
from catalog.models import Service
from catalog.selectors import load_graph
from incidents import links
from incidents import services as incident_services
from incidents.investigation_services import request_investigation
from incidents.maintenance import active_monitor_ids
from incidents.models import (
    SEVERITY_RANK,
    Incident,
    IncidentMonitor,
    IncidentService,
    InvestigationStatus,
    MaintenanceWindow,
    Severity,
    Source,
    State,
    TimelineEntry,
)

from .correlation import (
    AlertFacts,
    AlertLine,
    Candidate,
    Decision,
    Join,
    Open,
    decide,
    opened_body,
    reaches,
    recovered_body,
    title_key,
)
from .models import Alert, AlertSource, AlertStatus

log = logging.getLogger(__name__)

# An arbitrary namespace for the advisory locks of service-less alerts.
_ADVISORY_NAMESPACE = 0x4245  # "BE"


def window() -> timedelta:
    return timedelta(minutes=settings.BEACON_CORRELATION_WINDOW_MINUTES)


def alert_time(alert: Alert) -> datetime:
    """The alert's moment for the window: when Beacon last received it firing
    (a vendor's start time can be hours old when it re-sends a group)."""
    if alert.source != AlertSource.RULE and alert.last_seen_at is not None:
        return max(alert.last_seen_at, alert.triggered_at)
    return alert.triggered_at


def facts(alert: Alert, service_id: int | None = None) -> AlertFacts:
    return AlertFacts(
        id=alert.pk or 0,
        service_id=service_id if service_id is not None else alert.service_id,
        severity=alert.severity,
        title=alert.title,
        at=alert_time(alert),
        source=alert.source,
        fingerprint=alert.fingerprint,
    )


# --- entry points ----------------------------------------------------------------


def process_alerts(alert_ids: Sequence[int], now: datetime) -> None:
    """Correlate or update each alert (in id order), one transaction per alert.

    Safe to call twice for the same alerts: an alert already in an incident
    is not correlated again, a resolve already recorded is not recorded again.
    """
    graph: Graph | None = None
    quiet: bool | None = None  # no maintenance window anywhere near: skip the checks
    for alert_id in sorted(set(alert_ids)):
        try:
            with transaction.atomic():
                alert = _locked_alert(alert_id)
                if alert is None or alert.source == AlertSource.RULE:
                    continue  # gone, or a rule alert (the rule path correlates those)
                if graph is None:
                    graph = load_graph()
                if quiet is None:
                    quiet = not _maintenance_near(now)
                _process(alert, now, graph, quiet=quiet)
        except Exception:
            # One poison alert must not stop the others: it stays uncorrelated
            # and the correlation tick retries it later.
            log.exception("correlating alert %s failed", alert_id)


def _locked_alert(alert_id: int) -> Alert | None:
    """The alert, locked. A resolved alert of an incident locks its incident
    first: the order of ``incidents.services.resolve`` and of the merges
    (incident, then its alerts), so none of them can deadlock with this."""
    rows = Alert.objects.select_for_update(of=("self",)).select_related("integration", "service")
    peek = Alert.objects.filter(pk=alert_id).values_list("status", "incident_id").first()
    if peek is None:
        return None
    status, incident_id = peek
    if status == AlertStatus.RESOLVED and incident_id is not None:
        lock_incident(incident_id)
        alert = rows.filter(pk=alert_id).first()
        if alert is not None and alert.incident_id != incident_id:
            return _locked_alert(alert_id)  # moved meanwhile (a merge): start again
        return alert
    return rows.filter(pk=alert_id).first()


def lock_incident(incident_id: int) -> Incident:
    """Lock an incident row for a change. ``FOR NO KEY UPDATE`` on PostgreSQL:
    rows referencing the incident (timeline, alerts) can still be inserted
    meanwhile, which is all other writers need."""
    return Incident.objects.select_for_update(no_key=True).get(pk=incident_id)


def _process(alert: Alert, now: datetime, graph: Graph, *, quiet: bool = False) -> None:
    if alert.status == AlertStatus.RESOLVED:
        if alert.incident_id is not None:
            _resolved(alert, now)
        return
    incident = alert.incident
    if incident is not None:
        if incident.state != State.RESOLVED:
            return
        if alert.post_resolution_watch_since is not None:
            _watch(alert, now)
            return
        if incident.ended_at is not None and alert.triggered_at >= incident.ended_at:
            alert.incident = None  # fired again after its incident ended: a new trigger
        else:
            return
    _correlate_external(alert, now, graph, quiet=quiet)


def _correlate_external(alert: Alert, now: datetime, graph: Graph, *, quiet: bool) -> None:
    at = alert_time(alert)
    suppressed = alert.suppressed_by_maintenance or (
        not (quiet and at >= now - MAINTENANCE_NEAR)
        and _service_in_maintenance(alert.service_id, at)
    )
    if suppressed:
        if not alert.suppressed_by_maintenance:
            alert.suppressed_by_maintenance = True
            alert.save(update_fields=["suppressed_by_maintenance", "incident", "updated_at"])
        return
    lock_related(alert.service_id, alert.title, graph)
    min_severity = alert.integration.min_severity if alert.integration_id else None
    candidates = load_candidates(alert.service_id, alert.title, at, graph)
    decision = decide(facts(alert), candidates, graph, window=window(), min_severity=min_severity)
    incident = _joinable(decision)
    if incident is not None:
        alert.incident = incident
        alert.save(update_fields=["incident", "updated_at"])
        known = {c.incident_id: c.service_ids for c in candidates}.get(incident.pk)
        record_join(incident, alert, at=at, now=now, graph=graph, linked=known)
    elif isinstance(decision, Open) or (
        isinstance(decision, Join) and reaches(alert.severity, min_severity)
    ):
        incident = _open_external(alert, now)
        alert.incident = incident
        alert.save(update_fields=["incident", "updated_at"])
        record_open(incident, alert, at=at, now=now, graph=graph)
    else:
        alert.save(update_fields=["incident", "updated_at"])


def rule_alert_incident(
    alert: Alert, monitor: Any, *, at: datetime, may_open: bool
) -> tuple[Incident | None, bool]:
    """For a rule alert about to trigger on a monitor with a service:
    ``(incident, False)`` when it joins that open incident, ``(None, True)``
    when the caller should open one, ``(None, False)`` when it only stores the
    alert. Takes the correlation locks (held until the caller commits)."""
    graph = load_graph()
    service_id = monitor.service_id
    lock_related(service_id, alert.title, graph)
    decision = decide(
        AlertFacts(
            id=alert.pk or 0,
            service_id=service_id,
            severity=alert.severity,
            title=alert.title,
            at=at,
            source=AlertSource.RULE,
        ),
        load_candidates(service_id, alert.title, at, graph),
        graph,
        window=window(),
        min_severity=None,
        may_open=may_open,
    )
    incident = _joinable(decision)
    if incident is not None:
        return incident, False
    return None, isinstance(decision, Open) or (isinstance(decision, Join) and may_open)


def _joinable(decision: Decision) -> Incident | None:
    """The incident a Join decision names, locked -- or, if an operator merged
    or resolved it between the decision's read and the lock, the open incident
    it was merged into; None when there is none (the alert opens one then)."""
    if not isinstance(decision, Join):
        return None
    incident = lock_incident(decision.incident_id)
    for _ in range(10):
        if incident.merged_into_id is None:
            break
        incident = lock_incident(incident.merged_into_id)
    if incident.state == State.RESOLVED or incident.merged_into_id is not None:
        return None
    return incident


# --- locking and candidates ----------------------------------------------------------


def lock_related(service_id: int | None, title: str, graph: Graph) -> None:
    """Take the correlation lock of an alert (see the module docstring)."""
    if service_id is not None:
        ids = sorted({service_id, *graph.neighbours(service_id)})
        list(
            Service.objects.select_for_update(no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    elif connection.vendor == "postgresql":
        key = zlib.crc32(title_key(title).encode("utf-8")) - 2**31
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_ADVISORY_NAMESPACE, key])
    # SQLite: every write transaction holds the database's one write lock.


def load_candidates(
    service_id: int | None, title: str, at: datetime, graph: Graph
) -> list[Candidate]:
    """Open, unmerged incidents within the window that could match (bounded queries)."""
    span = window()
    open_in_window = (
        Incident.objects.exclude(state=State.RESOLVED)
        .filter(merged_into__isnull=True)
        .filter(
            Q(last_correlated_at__gte=at - span, last_correlated_at__lte=at + span)
            | Q(
                last_correlated_at__isnull=True,
                started_at__gte=at - span,
                started_at__lte=at + span,
            )
        )
    )
    if service_id is not None:
        related = {service_id, *graph.neighbours(service_id)}
        ids = set(
            IncidentService.objects.filter(
                service_id__in=related, incident__in=open_in_window
            ).values_list("incident_id", flat=True)[:200]
        )
    else:
        words = title.split()
        if not words:
            return []
        # The database narrows by the title's longest word; the pure function
        # compares whole titles (case and runs of spaces ignored).
        ids = set(
            Alert.objects.filter(incident__in=open_in_window, title__icontains=max(words, key=len))
            .values_list("incident_id", flat=True)
            .distinct()[:200]
        )
    if not ids:
        return []
    services: dict[int, set[int]] = {i: set() for i in ids}
    for incident_id, sid in IncidentService.objects.filter(incident_id__in=ids).values_list(
        "incident_id", "service_id"
    ):
        services[incident_id].add(sid)
    titles: dict[int, set[str]] = {i: set() for i in ids}
    if service_id is None:
        rows = Alert.objects.filter(
            incident_id__in=ids, title__icontains=max(title.split(), key=len)
        ).values_list("incident_id", "title")
        for incident_id, alert_title in rows[:2000]:
            titles[incident_id].add(title_key(alert_title))
    return [
        Candidate(
            incident_id=row.pk,
            service_ids=frozenset(services[row.pk]),
            started_at=row.started_at,
            last_correlated_at=row.last_correlated_at,
            titles=frozenset(titles[row.pk]),
        )
        for row in Incident.objects.filter(pk__in=ids).only(
            "pk", "started_at", "last_correlated_at"
        )
    ]


MAINTENANCE_NEAR = timedelta(days=1)


def _maintenance_near(now: datetime) -> bool:
    """Whether any maintenance window could be active for an alert of the last
    day (one query per batch instead of two per alert in a storm)."""
    return (
        MaintenanceWindow.objects.filter(starts_at__lte=now)
        .filter(Q(rrule="", ends_at__gt=now - MAINTENANCE_NEAR) | ~Q(rrule=""))
        .exists()
    )


def _service_in_maintenance(service_id: int | None, at: datetime) -> bool:
    """A global window is active, or every monitor of the alert's service is
    under maintenance: the alert is recorded but opens or joins nothing."""
    from monitors.models import Monitor

    monitor_ids = (
        list(Monitor.objects.filter(service_id=service_id).values_list("pk", flat=True)[:500])
        if service_id is not None
        else []
    )
    probe = monitor_ids or [0]  # a global window covers even "no monitor"
    covered = active_monitor_ids(probe, at)
    return bool(covered) and covered >= set(probe)


# --- recording ---------------------------------------------------------------------


def _line(alert: Alert) -> AlertLine:
    return AlertLine(
        title=alert.title or alert.fingerprint or f"alert {alert.pk}",
        service=alert.service.name if alert.service_id and alert.service else alert.service_name,
        source=alert.get_source_display(),
        severity=alert.severity,
        started_at=alert.triggered_at,
        ended_at=alert.resolved_at,
        link=alert.link,
    )


def _open_external(alert: Alert, now: datetime) -> Incident:
    line = _line(alert)
    title = (alert.title or f"{line.source} alert {alert.fingerprint}").strip()[:300]
    severity = alert.severity if alert.severity in Severity.values else Severity.WARNING
    return incident_services.create_incident(
        title=title or f"Alert {alert.pk}",
        body=opened_body(line, alert.description),
        now=now,
        started_at=min(alert.triggered_at, now),
        severity=severity,
        source=Source.INTEGRATION,
    )


def record_open(
    incident: Incident, alert: Alert, *, at: datetime, now: datetime, graph: Graph | None = None
) -> None:
    """After an alert opened ``incident``: link its service, mark it as the
    opener, queue the investigation."""
    service_id = _service_of(alert)
    if service_id is not None:
        source = (
            IncidentService.Source.MONITOR
            if alert.source == AlertSource.RULE
            else IncidentService.Source.ALERT
        )
        links.link_service(incident, service_id, source, now)
    if alert.source != AlertSource.RULE:
        incident_services.timeline(
            incident,
            TimelineEntry.Type.ALERT_TRIGGERED,
            now,
            message=f"{alert.title or alert.fingerprint} triggered"[:500],
            data={"alert": alert.pk, "opened": True, "source": alert.source},
        )
    incident.last_correlated_at = at
    incident.save(update_fields=["last_correlated_at", "updated_at"])
    links.recount(incident, graph=graph)
    request_investigation(incident, now=now, first=True)


def record_join(
    incident: Incident,
    alert: Alert,
    *,
    at: datetime,
    now: datetime,
    graph: Graph | None = None,
    monitor: Any = None,
    impact: str | None = None,
    linked: frozenset[int] | None = None,
) -> None:
    """After ``alert`` joined ``incident`` (locked by the caller): services,
    counters, severity, timeline, investigation refresh.

    The hot path of a storm, so it writes the counters in one UPDATE: the
    count grows by one (the alert was in no incident), and the primary service
    is recomputed only when a service was added. ``linked``: the services the
    caller already knows are linked (the candidate's), to skip looking."""
    service_id = _service_of(alert)
    service_slug = None
    added = False
    if service_id is not None:
        service_slug = _slug(alert, service_id)
        if linked is None or service_id not in linked:
            source = (
                IncidentService.Source.MONITOR
                if alert.source == AlertSource.RULE
                else IncidentService.Source.ALERT
            )
            added = links.link_service(incident, service_id, source, now)
    if monitor is not None and impact is not None:
        IncidentMonitor.objects.update_or_create(
            incident=incident,
            monitor=monitor,
            defaults={"impact": impact, "impact_removed_at": None},
        )
    changes: dict[str, Any] = {
        "last_correlated_at": max(at, incident.last_correlated_at or at),
        "correlated_alert_count": F("correlated_alert_count") + 1,
        "updated_at": now,
    }
    raised = _more_severe(alert.severity, incident.severity)
    previous = incident.severity
    if raised:
        changes["severity"] = alert.severity
    if added:
        changes["primary_service_id"] = links.compute_primary(incident, graph=graph)
    Incident.objects.filter(pk=incident.pk).update(**changes)
    for name in ("last_correlated_at", "severity", "primary_service_id"):
        if name in changes:
            setattr(incident, name, changes[name])
    incident_services.timeline(
        incident,
        TimelineEntry.Type.ALERT_CORRELATED,
        now,
        message=(
            f"{alert.title or alert.fingerprint} correlated"
            + (f" ({service_slug})" if service_slug else "")
        )[:500],
        data={"alert": alert.pk, "source": alert.source, "service": service_slug},
    )
    if raised:
        incident_services.timeline(
            incident,
            TimelineEntry.Type.EDITED,
            now,
            message=f"severity {previous} -> {alert.severity} (alert {alert.pk})",
            data={"severity": [previous, alert.severity], "alert": alert.pk},
        )
    if incident.investigation_status == InvestigationStatus.DONE:
        request_investigation(incident, now=now)  # idle / running: a run is coming anyway


def _slug(alert: Alert, service_id: int) -> str | None:
    """The service's slug without a query when the alert carries the row."""
    if alert.service_id == service_id and "service" in alert._state.fields_cache:
        return alert.service.slug if alert.service else None
    return Service.objects.filter(pk=service_id).values_list("slug", flat=True).first()


def _service_of(alert: Alert) -> int | None:
    if alert.source == AlertSource.RULE and alert.monitor_id is not None:
        return alert.monitor.service_id
    return alert.service_id


def _more_severe(candidate: str, current: str) -> bool:
    return (
        candidate in SEVERITY_RANK
        and current in SEVERITY_RANK
        and SEVERITY_RANK[candidate] > SEVERITY_RANK[current]
    )


def _resolved(alert: Alert, now: datetime) -> None:
    """An external alert of an incident resolved (recorded once per resolve)."""
    incident = lock_incident(alert.incident_id)
    at = alert.resolved_at or now
    already = incident.timeline.filter(
        type=TimelineEntry.Type.ALERT_RESOLVED, at=at, data__alert=alert.pk
    ).exists()
    if already:
        return
    if alert.post_resolution_watch_since is not None:
        alert.post_resolution_watch_since = None
        alert.save(update_fields=["post_resolution_watch_since", "updated_at"])
    others_active = (
        Alert.objects.filter(incident=incident, status=AlertStatus.TRIGGERED)
        .exclude(pk=alert.pk)
        .exists()
    )
    if incident.state != State.RESOLVED and not others_active:
        members = list(
            Alert.objects.filter(incident=incident)
            .select_related("service")
            .order_by("triggered_at", "pk")[:51]
        )
        incident_services.post_update(
            incident,
            state=State.RESOLVED,
            body=recovered_body([_line(a) for a in members], at, incident.started_at),
            now=at,
        )
    incident_services.timeline(
        incident,
        TimelineEntry.Type.ALERT_RESOLVED,
        at,
        message=f"{alert.title or alert.fingerprint} resolved"[:500],
        data={"alert": alert.pk, "source": alert.source},
    )


def _watch(alert: Alert, now: datetime) -> None:
    """Post-resolution watch of an external alert: its last receipt is the
    evidence that it is still failing."""
    from .services import post_resolution_watch

    incident = alert.incident
    assert incident is not None
    since = alert.post_resolution_watch_since
    seen = alert.last_seen_at
    failing_at = seen if seen is not None and since is not None and seen > since else None
    follow_up = post_resolution_watch(
        alert,
        failing_at=failing_at,
        now=now,
        reason=f"{alert.title or alert.fingerprint} is still firing",
        follow_up_title=(alert.title or incident.title)[:300],
        follow_up_body=opened_body(_line(alert), alert.description),
        severity=alert.severity if alert.severity in Severity.values else incident.severity,
        source=Source.INTEGRATION,
    )
    if follow_up is not None:
        record_open(follow_up, alert, at=now, now=now)


# --- the tick's sweep ----------------------------------------------------------------


def pending_alert_ids(now: datetime, *, limit: int = 500) -> list[int]:
    """Firing external alerts that should be in an incident but are not, for
    longer than the retry delay: their severity reaches their integration's
    threshold and no maintenance suppressed them."""
    older = now - timedelta(seconds=settings.BEACON_CORRELATION_RETRY_SECONDS)
    thresholds = {
        "critical": ["CRITICAL"],
        "warning": ["CRITICAL", "WARNING"],
        "info": ["CRITICAL", "WARNING", "INFO", ""],
    }
    query = Q()
    for min_severity, severities in thresholds.items():
        query |= Q(integration__min_severity=min_severity, severity__in=severities)
    return list(
        Alert.objects.filter(
            query,
            status=AlertStatus.TRIGGERED,
            incident__isnull=True,
            suppressed_by_maintenance=False,
            triggered_at__lte=older,
        )
        .exclude(source=AlertSource.RULE)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def watched_alert_ids(now: datetime, *, limit: int = 500) -> list[int]:
    """Firing external alerts in post-resolution watch that have something to
    decide: received again since their incident was resolved (a repeat the
    ingestion does not hand over: it may reopen the incident), or past the
    horizon (a follow-up, even if the source stays silent)."""
    horizon = timedelta(minutes=settings.BEACON_REOPEN_HORIZON_MINUTES)
    return list(
        Alert.objects.filter(
            Q(post_resolution_watch_since__lt=now - horizon)
            | Q(last_seen_at__gt=F("post_resolution_watch_since")),
            status=AlertStatus.TRIGGERED,
            post_resolution_watch_since__isnull=False,
        )
        .exclude(source=AlertSource.RULE)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def sweep(now: datetime) -> int:
    """The correlation tick: retry what a lost message left behind."""
    ids: Iterable[int] = [*pending_alert_ids(now), *watched_alert_ids(now)]
    ids = sorted(set(ids))
    if ids:
        process_alerts(ids, now)
    return len(ids)
