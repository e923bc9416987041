"""Read-only operational views: problem candidates and the health of the queues.

* ``candidates(now, ...)``: loads the rows (bounded, within
  ``BEACON_PROBLEM_LOOKBACK_DAYS``) and hands them to the pure
  ``incidents.problems.problem_candidates``.
* ``jobs_summary(now)``: counts per kind of work -- checks (due and overdue
  monitors, the scheduler's last tick), correlation (firing alerts that should
  be in an incident but are not, investigations by status and stuck ones),
  deliveries (by status, the oldest waiting one).
* ``failed_jobs(now, kind, limit)``: the jobs that failed or are stuck, each
  with its last error, newest first.

Counts use indexed filters; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Min

from .models import Classification, Incident, IncidentService, InvestigationStatus
from .problems import (
    PersistRow,
    ProblemCandidate,
    ReopenRow,
    ResolutionRow,
    problem_candidates,
)

MAX_ROWS = 2000
DISPATCH_TICK = "dispatch_due_checks"  # monitors.tasks.DISPATCH_TICK


def _services_of(incident_ids: list[int]) -> dict[int, tuple[tuple[str, str], ...]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for incident_id, slug, name in (
        IncidentService.objects.filter(incident_id__in=incident_ids)
        .order_by("added_at", "pk")
        .values_list("incident_id", "service__slug", "service__name")
    ):
        found.setdefault(incident_id, []).append((slug, name))
    return {k: tuple(v) for k, v in found.items()}


def candidates(now: datetime) -> list[ProblemCandidate]:
    from alerting.models import Alert, AlertStatus

    since = now - timedelta(days=settings.BEACON_PROBLEM_LOOKBACK_DAYS)
    reopened = list(
        Incident.objects.filter(reopen_count__gt=0, last_reopened_at__gte=since)
        .order_by("-last_reopened_at", "-pk")
        .values_list("pk", "title", "reopen_count", "last_reopened_at")[:MAX_ROWS]
    )
    resolved = list(
        Incident.objects.filter(
            resolution_classification__in=[
                Classification.NO_IMPACT,
                Classification.FALSE_POSITIVE,
            ],
            ended_at__gte=since,
            merged_into__isnull=True,
        )
        .order_by("-ended_at", "-pk")
        .values_list("pk", "title", "resolution_classification", "ended_at")[:MAX_ROWS]
    )
    services = _services_of([r[0] for r in reopened] + [r[0] for r in resolved])
    persisting = (
        Alert.objects.filter(
            status=AlertStatus.TRIGGERED, post_resolution_watch_since__isnull=False
        )
        .select_related("service", "monitor__service")
        .order_by("-post_resolution_watch_since", "-pk")[:MAX_ROWS]
    )
    persists = []
    for alert in persisting:
        svc = alert.service or (alert.monitor.service if alert.monitor_id else None)
        assert alert.post_resolution_watch_since is not None
        persists.append(
            PersistRow(
                alert_id=alert.pk,
                title=alert.title or alert.fingerprint or f"alert {alert.pk}",
                service=(svc.slug, svc.name) if svc else None,
                since=alert.post_resolution_watch_since,
                incident_key=f"INC-{alert.incident_id:06d}" if alert.incident_id else None,
            )
        )
    return problem_candidates(
        [
            ReopenRow(f"INC-{pk:06d}", title, services.get(pk, ()), count, at)
            for pk, title, count, at in reopened
        ],
        persists,
        [
            ResolutionRow(f"INC-{pk:06d}", title, services.get(pk, ()), cls, at)
            for pk, title, cls, at in resolved
        ],
        min_repeats=settings.BEACON_PROBLEM_MIN_REPEATS,
    )


# --- queue health --------------------------------------------------------------------


def _pending_alerts(now: datetime) -> Any:
    from alerting.correlation_services import pending_alert_ids

    return pending_alert_ids(now, limit=MAX_ROWS)


def _stuck_investigations(now: datetime) -> Any:
    stale = now - timedelta(seconds=settings.BEACON_INVESTIGATION_STALE_SECONDS)
    return Incident.objects.filter(
        investigation_status=InvestigationStatus.RUNNING, investigated_at__lt=stale
    )


def _overdue_monitors(now: datetime) -> Any:
    from monitors.models import MonitorState

    late = now - timedelta(seconds=settings.BEACON_SCHEDULER_STALE_SECONDS)
    return MonitorState.objects.filter(
        monitor__is_active=True, next_check_at__isnull=False, next_check_at__lt=late
    )


def jobs_summary(now: datetime) -> dict[str, Any]:
    from monitors.models import MonitorState, SchedulerTick
    from notifications.models import Delivery, DeliveryStatus

    states = MonitorState.objects.filter(monitor__is_active=True)
    tick = SchedulerTick.objects.filter(name=DISPATCH_TICK).first()
    tick_age = (now - tick.last_at).total_seconds() if tick else None
    investigations = dict(
        Incident.objects.values_list("investigation_status").annotate(n=Count("pk"))
    )
    deliveries = dict(Delivery.objects.values_list("status").annotate(n=Count("pk")))
    oldest = Delivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]
    ).aggregate(at=Min("created_at"))["at"]
    return {
        "generated_at": now,
        "checks": {
            "active_monitors": states.count(),
            "due": states.filter(next_check_at__lte=now).count(),
            "overdue": _overdue_monitors(now).count(),
            "last_tick_at": tick.last_at if tick else None,
            "last_tick_age_seconds": round(tick_age, 1) if tick_age is not None else None,
            "scheduler_stale": tick_age is None
            or tick_age > settings.BEACON_SCHEDULER_STALE_SECONDS,
        },
        "correlation": {
            "uncorrelated_alerts": len(_pending_alerts(now)),
            "investigations": {s: investigations.get(s, 0) for s in InvestigationStatus.values},
            "stuck_investigations": _stuck_investigations(now).count(),
        },
        "deliveries": {
            **{s: deliveries.get(s, 0) for s in DeliveryStatus.values},
            "oldest_waiting_at": oldest,
        },
    }


@dataclass(frozen=True)
class FailedJob:
    kind: str  # delivery | check | correlation | investigation
    id: str
    status: str
    at: datetime
    attempts: int | None
    last_error: str
    subject: str


KINDS = ("delivery", "check", "correlation", "investigation")


def failed_jobs(now: datetime, *, kind: str | None = None, limit: int = 100) -> list[FailedJob]:
    from alerting.models import Alert
    from notifications.models import Delivery, DeliveryStatus

    jobs: list[FailedJob] = []
    if kind in (None, "delivery"):
        for d in Delivery.objects.filter(status=DeliveryStatus.FAILED).order_by(
            "-updated_at", "-pk"
        )[:limit]:
            jobs.append(
                FailedJob(
                    "delivery",
                    str(d.pk),
                    d.status,
                    d.updated_at,
                    d.attempts,
                    d.last_error or (f"HTTP {d.last_status_code}" if d.last_status_code else ""),
                    f"{d.channel} -> {d.target}",
                )
            )
    if kind in (None, "check"):
        for state in (
            _overdue_monitors(now).select_related("monitor").order_by("next_check_at")[:limit]
        ):
            assert state.next_check_at is not None
            late = round((now - state.next_check_at).total_seconds())
            jobs.append(
                FailedJob(
                    "check",
                    state.monitor.tag,
                    "overdue",
                    state.next_check_at,
                    None,
                    f"due {late} s ago and not run (is a worker consuming the checks queue?)",
                    state.monitor.name,
                )
            )
    if kind in (None, "correlation"):
        ids = _pending_alerts(now)[:limit]
        for alert in Alert.objects.filter(pk__in=ids).order_by("-triggered_at", "-pk"):
            jobs.append(
                FailedJob(
                    "correlation",
                    str(alert.pk),
                    "uncorrelated",
                    alert.triggered_at,
                    None,
                    "firing without an incident although its severity opens one",
                    alert.title or alert.fingerprint,
                )
            )
    if kind in (None, "investigation"):
        for incident in _stuck_investigations(now).order_by("investigated_at")[:limit]:
            assert incident.investigated_at is not None
            jobs.append(
                FailedJob(
                    "investigation",
                    incident.key,
                    "stuck",
                    incident.investigated_at,
                    None,
                    "running since "
                    f"{incident.investigated_at:%Y-%m-%d %H:%M:%S} UTC; the worker probably died",
                    incident.title,
                )
            )
    jobs.sort(key=lambda j: (j.at, j.kind, j.id), reverse=True)
    return jobs[:limit]
