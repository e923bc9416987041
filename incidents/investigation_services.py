"""Running the automatic investigation: request, claim, gather facts, store.

Life of ``Incident.investigation_status``: ``idle`` (nothing yet, or a refresh
is requested and queued) -> ``running`` (claimed by one worker;
``investigated_at`` holds the claim time) -> ``done`` (``investigation`` holds
the Markdown, ``investigation_html`` its sanitised rendering, and
``investigated_at`` when it was made), with an ``Investigation`` timeline entry.

* ``request_investigation``: called by correlation in its transaction. A new
  incident's first run is queued at once (on commit); when alerts join, a
  ``done`` investigation goes back to ``idle`` and is queued to run no sooner
  than ``BEACON_INVESTIGATION_DEBOUNCE_SECONDS`` after the last run, so a
  storm refreshes it a few times, not once per alert. While one is ``idle``
  (queued) or ``running`` nothing more is queued; a run that finds the
  incident's alerts changed after it read its facts requests the next refresh
  itself.
* ``run_investigation``: claims with a conditional UPDATE (from ``idle``, or
  from ``running`` older than ``BEACON_INVESTIGATION_STALE_SECONDS``: the
  worker died), so two workers never run it twice; stores only if its claim
  still holds.
* ``due_investigations``: what the tick re-queues (lost messages, crashes).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from catalog.selectors import load_graph

from .investigation import (
    AlertFact,
    CheckFact,
    CheckMessage,
    DeploymentFact,
    InvestigationFacts,
    MaintenanceFact,
    PastIncidentFact,
    ServiceFact,
    build_markdown,
    summary_line,
)
from .maintenance import parse_rrule
from .markdown import render
from .models import (
    Incident,
    IncidentMonitor,
    IncidentService,
    InvestigationStatus,
    MaintenanceWindow,
    Source,
    State,
    TimelineEntry,
)

log = logging.getLogger(__name__)

DEPLOYMENT_LOOKBACK = timedelta(hours=2)
MAX_DEPLOYMENTS = 20
MAX_MONITORS = 10
MAX_MESSAGES = 5
MAX_ALERTS = 20
MAX_WINDOWS = 10
MAX_SIMILAR = 5
# How far after the start a check may first fail and still be "the first failing check".
CHECK_SLACK = timedelta(minutes=15)


def _queue(incident_id: int, countdown: float = 0) -> None:
    from .tasks import investigate

    def queue_investigation() -> None:
        if countdown > 0:
            investigate.apply_async((incident_id,), countdown=countdown)
        else:
            investigate.delay(incident_id)

    transaction.on_commit(queue_investigation)


def request_investigation(incident: Incident, *, now: datetime, first: bool = False) -> bool:
    """Queue a run (on commit) unless one is already queued or running; True if queued."""
    if first:
        _queue(incident.pk)
        return True
    debounce = timedelta(seconds=settings.BEACON_INVESTIGATION_DEBOUNCE_SECONDS)
    done = Incident.objects.filter(pk=incident.pk, investigation_status=InvestigationStatus.DONE)
    last = done.values_list("investigated_at", flat=True).first()
    if not done.update(investigation_status=InvestigationStatus.IDLE):
        return False
    wait = 0.0 if last is None else max(0.0, (last + debounce - now).total_seconds())
    _queue(incident.pk, wait)
    return True


def rerun(incident: Incident, *, now: datetime) -> bool:
    """An operator asks for a fresh run now (unless one is running)."""
    updated = (
        Incident.objects.filter(pk=incident.pk)
        .exclude(investigation_status=InvestigationStatus.RUNNING)
        .update(investigation_status=InvestigationStatus.IDLE)
    )
    if updated:
        _queue(incident.pk)
    return bool(updated)


def claim(incident_id: int, now: datetime) -> bool:
    """Take the run: idle, or running for longer than the stale limit."""
    stale = now - timedelta(seconds=settings.BEACON_INVESTIGATION_STALE_SECONDS)
    return bool(
        Incident.objects.filter(pk=incident_id)
        .filter(
            Q(investigation_status=InvestigationStatus.IDLE)
            | Q(investigation_status=InvestigationStatus.RUNNING, investigated_at__lt=stale)
        )
        .update(investigation_status=InvestigationStatus.RUNNING, investigated_at=now)
    )


def run_investigation(incident_id: int, *, now: datetime) -> bool:
    """Claim, gather, store; False when another worker has it (or it is gone)."""
    if not claim(incident_id, now):
        return False
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        return False
    alerts_before = _alert_count(incident_id)
    markdown_text, facts = investigate_markdown(incident, now=now)
    html = render(markdown_text)
    with transaction.atomic():
        stored = Incident.objects.filter(
            pk=incident_id, investigation_status=InvestigationStatus.RUNNING, investigated_at=now
        ).update(
            investigation_status=InvestigationStatus.DONE,
            investigation=markdown_text,
            investigation_html=html,
        )
        if not stored:
            return False  # reclaimed as stale meanwhile: that run stores its own result
        from .services import timeline

        timeline(
            incident,
            TimelineEntry.Type.INVESTIGATION,
            now,
            message=("Investigation updated: " + summary_line(facts))[:500],
            data={
                "deployments": len(facts.deployments),
                "checks": len(facts.checks),
                "alerts": len(facts.alerts),
                "maintenance": len(facts.maintenance),
                "similar": len(facts.similar),
            },
        )
        # Alerts that joined (or left) after the facts were read: refresh again.
        if _alert_count(incident_id) != alerts_before:
            request_investigation(incident, now=now)
    return True


def _alert_count(incident_id: int) -> int:
    from alerting.models import Alert

    return Alert.objects.filter(incident_id=incident_id).count()


def due_investigations(now: datetime, *, limit: int = 100) -> list[int]:
    """Incidents whose investigation should run but is not queued or running
    any more: stale ``running`` ones, and ``idle`` ones opened by alerts (or
    with a refresh requested) that waited longer than the debounce plus a minute."""
    stale = now - timedelta(seconds=settings.BEACON_INVESTIGATION_STALE_SECONDS)
    waited = now - timedelta(seconds=settings.BEACON_INVESTIGATION_DEBOUNCE_SECONDS + 60)
    never_ran = Q(
        investigated_at__isnull=True,
        source__in=[Source.ALERT, Source.INTEGRATION],
        created_at__lt=now - timedelta(seconds=60),
    ) & ~Q(state=State.RESOLVED)
    query = Q(investigation_status=InvestigationStatus.RUNNING, investigated_at__lt=stale) | Q(
        never_ran | Q(investigated_at__lt=waited),
        investigation_status=InvestigationStatus.IDLE,
        merged_into__isnull=True,
    )
    return list(Incident.objects.filter(query).order_by("pk").values_list("pk", flat=True)[:limit])


# --- gathering facts (bounded queries) ------------------------------------------------


def investigate_markdown(incident: Incident, *, now: datetime) -> tuple[str, InvestigationFacts]:
    facts = gather_facts(incident, now=now)
    return build_markdown(facts), facts


def gather_facts(incident: Incident, *, now: datetime) -> InvestigationFacts:
    from alerting.models import Alert, AlertStatus
    from catalog.models import Service
    from integrations.models import Deployment
    from monitors.models import Monitor

    graph = load_graph()
    start = incident.started_at
    end = incident.ended_at or now
    truncated: list[str] = []

    links = list(
        IncidentService.objects.filter(incident=incident)
        .select_related("service")
        .order_by("added_at", "pk")
    )
    affected = [link.service for link in links]
    affected_ids = {s.pk for s in affected}
    upstream_ids: set[int] = set()
    neighbour_ids: set[int] = set()
    for sid in affected_ids:
        upstream_ids |= set(graph.upstream(sid))
        neighbour_ids |= graph.neighbours(sid)
    slugs = dict(
        Service.objects.filter(pk__in=affected_ids | upstream_ids | neighbour_ids).values_list(
            "pk", "slug"
        )
    )
    services = [
        ServiceFact(
            slug=s.slug,
            name=s.name,
            depends_on=tuple(sorted(slugs.get(d, "?") for d in graph.depends_on.get(s.pk, ()))),
            is_primary=s.pk == incident.primary_service_id,
        )
        for s in affected
    ]

    # Deployments to the affected services and everything upstream of them.
    since = start - DEPLOYMENT_LOOKBACK
    deployments_qs = (
        Deployment.objects.filter(service_id__in=affected_ids | upstream_ids)
        .filter(
            Q(finished_at__gte=since, finished_at__lte=start)
            | Q(finished_at__isnull=True, started_at__gte=since, started_at__lte=start)
            | Q(
                finished_at__isnull=True,
                started_at__isnull=True,
                received_at__gte=since,
                received_at__lte=start,
            )
        )
        .select_related("service")
        .order_by("-received_at", "-pk")
    )
    rows = list(deployments_qs[: MAX_DEPLOYMENTS + 1])
    if len(rows) > MAX_DEPLOYMENTS:
        truncated.append(f"deployments (first {MAX_DEPLOYMENTS})")
    deployments = sorted(
        (
            DeploymentFact(
                service=d.service.name if d.service else d.service_name,
                version=d.version,
                environment=d.environment,
                result=d.get_result_display(),
                at=d.finished_at or d.started_at or d.received_at,
                source=d.get_source_display(),
                url=d.url,
            )
            for d in rows[:MAX_DEPLOYMENTS]
        ),
        key=lambda d: d.at,
        reverse=True,
    )

    # The first failing check of the incident's monitors (and the services' monitors).
    monitor_ids = list(
        IncidentMonitor.objects.filter(incident=incident)
        .order_by("pk")
        .values_list("monitor_id", flat=True)[:MAX_MONITORS]
    )
    if len(monitor_ids) < MAX_MONITORS and affected_ids:
        more = Monitor.objects.filter(service_id__in=affected_ids).exclude(pk__in=monitor_ids)
        monitor_ids += list(
            more.order_by("pk").values_list("pk", flat=True)[: MAX_MONITORS - len(monitor_ids)]
        )
    checks = [c for c in (_first_failure(pk, start) for pk in monitor_ids) if c is not None]
    checks.sort(key=lambda c: (c.first_failed_at, c.monitor_tag))

    # Other active alerts on the affected services and their neighbours.
    related_ids = affected_ids | neighbour_ids
    alerts: list[AlertFact] = []
    if related_ids:
        alert_rows = list(
            Alert.objects.filter(status=AlertStatus.TRIGGERED)
            .filter(Q(service_id__in=related_ids) | Q(monitor__service_id__in=related_ids))
            .exclude(incident=incident)
            .select_related("service", "monitor__service", "incident")
            .order_by("-triggered_at", "-pk")[: MAX_ALERTS + 1]
        )
        if len(alert_rows) > MAX_ALERTS:
            truncated.append(f"other alerts (first {MAX_ALERTS})")
        for a in alert_rows[:MAX_ALERTS]:
            svc = a.service or (a.monitor.service if a.monitor_id and a.monitor else None)
            alerts.append(
                AlertFact(
                    title=a.title or a.fingerprint or f"alert {a.pk}",
                    service=svc.name if svc else a.service_name,
                    source=a.get_source_display(),
                    severity=a.severity,
                    since=a.triggered_at,
                    incident_key=a.incident.key if a.incident_id and a.incident else None,
                )
            )

    maintenance = _maintenance(incident, start, end, affected_ids)

    # Similar past incidents: same service or same title, resolved, before this one.
    similar_q = Q(title__iexact=incident.title)
    if affected_ids:
        similar_q |= Q(service_links__service_id__in=affected_ids)
    past = list(
        Incident.objects.filter(similar_q, state=State.RESOLVED, started_at__lt=start)
        .exclude(pk=incident.pk)
        .exclude(merged_into=incident)
        .distinct()
        .order_by("-started_at", "-pk")[:MAX_SIMILAR]
    )
    shared: dict[int, list[str]] = {}
    for incident_id, slug in IncidentService.objects.filter(
        incident__in=[p.pk for p in past], service_id__in=affected_ids
    ).values_list("incident_id", "service__slug"):
        shared.setdefault(incident_id, []).append(slug)
    similar = []
    for p in past:
        reasons = []
        if p.pk in shared:
            reasons.append("same service " + ", ".join(sorted(shared[p.pk])))
        if p.title.strip().lower() == incident.title.strip().lower():
            reasons.append("same title")
        similar.append(
            PastIncidentFact(
                key=p.key,
                title=p.title,
                started_at=p.started_at,
                ended_at=p.ended_at,
                classification=p.get_resolution_classification_display()
                if p.resolution_classification
                else "",
                note=p.resolve_note,
                why="; ".join(reasons) or "similar",
            )
        )

    return InvestigationFacts(
        incident_key=incident.key,
        title=incident.title,
        started_at=start,
        generated_at=now,
        services=services,
        deployments=deployments,
        checks=checks,
        alerts=alerts,
        maintenance=maintenance,
        similar=similar,
        truncated=tuple(truncated),
    )


def _first_failure(monitor_id: int, start: datetime) -> CheckFact | None:
    """The first non-UP result of the failing streak around ``start``, with the
    streak's first few messages; None when the monitor was not failing then."""
    from monitors.models import CheckResult, Monitor, Status

    results = CheckResult.objects.filter(monitor_id=monitor_id)
    last_ok = (
        results.filter(status=Status.UP, checked_at__lte=start)
        .order_by("-checked_at", "-pk")
        .values_list("checked_at", flat=True)
        .first()
    )
    lower = last_ok if last_ok is not None else start - DEPLOYMENT_LOOKBACK
    failing = list(
        results.filter(checked_at__gt=lower, checked_at__lte=start + CHECK_SLACK)
        .exclude(status=Status.UP)
        .order_by("checked_at", "pk")
        .values_list("checked_at", "status", "message")[:50]
    )
    if not failing:
        return None
    monitor = Monitor.objects.filter(pk=monitor_id).only("name", "tag").first()
    if monitor is None:
        return None
    messages: list[CheckMessage] = []
    seen: set[tuple[str, str]] = set()
    for at, status, message in failing:
        if (status, message) in seen:
            continue
        seen.add((status, message))
        messages.append(CheckMessage(at=at, status=status, message=message))
        if len(messages) >= MAX_MESSAGES:
            break
    first_at, first_status, _ = failing[0]
    return CheckFact(
        monitor_name=monitor.name,
        monitor_tag=monitor.tag,
        first_failed_at=first_at,
        status=first_status,
        last_ok_at=last_ok,
        messages=tuple(messages),
    )


def _maintenance(
    incident: Incident, start: datetime, end: datetime, service_ids: set[int]
) -> list[MaintenanceFact]:
    """Windows (or occurrences of recurring ones) overlapping [start, end] that
    are global or cover the incident's monitors or its services' monitors."""
    from monitors.models import Monitor

    monitor_ids = set(
        IncidentMonitor.objects.filter(incident=incident).values_list("monitor_id", flat=True)
    )
    if service_ids:
        monitor_ids |= set(
            Monitor.objects.filter(service_id__in=service_ids).values_list("pk", flat=True)[:500]
        )
    windows = (
        MaintenanceWindow.objects.filter(starts_at__lte=end)
        .filter(Q(rrule="", ends_at__gte=start) | ~Q(rrule=""))
        .filter(Q(is_global=True) | Q(monitors__in=monitor_ids))
        .distinct()
        .prefetch_related("monitors")
        .order_by("starts_at", "pk")
    )
    found: list[MaintenanceFact] = []
    for window in windows[:200]:
        span = _overlap(window, start, end)
        if span is None:
            continue
        if window.is_global:
            scope = "all monitors"
        else:
            tags = sorted(m.tag for m in window.monitors.all() if m.pk in monitor_ids)
            scope = "monitors " + ", ".join(tags[:10])
        found.append(
            MaintenanceFact(
                title=window.title,
                starts_at=span[0],
                ends_at=span[1],
                recurring=bool(window.rrule),
                scope=scope,
            )
        )
        if len(found) >= MAX_WINDOWS:
            break
    return found


def _overlap(
    window: MaintenanceWindow, start: datetime, end: datetime
) -> tuple[datetime, datetime] | None:
    """The window (or its first occurrence) overlapping [start, end], if any."""
    duration = window.ends_at - window.starts_at
    if not window.rrule:
        if window.starts_at <= end and window.ends_at >= start:
            return window.starts_at, window.ends_at
        return None
    try:
        rule = parse_rrule(window.rrule, window.starts_at)
        occurrence = rule.after(start - duration, inc=True)
    except (ValueError, TypeError, OverflowError):
        return None
    if occurrence is not None and occurrence <= end:
        return occurrence, occurrence + duration
    return None
