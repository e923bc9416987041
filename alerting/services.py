"""Alerting services: evaluate rules on new results and run the automatic
incident lifecycle (open on trigger, resolve on recovery, reopen or follow up
after an operator resolved while the alert stayed triggered).

``evaluate_results`` runs inside the transaction that wrote the results
(``monitors.services.record_results``), where the monitors' state rows are
locked, so two workers evaluating one monitor are serialised and never raise
two alerts or open two incidents. Each rule reads only the last few results
of its monitor (an index range), so the cost per result does not grow with
history.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from incidents import services as incident_services
from incidents.maintenance import active_monitor_ids
from incidents.models import Impact, Incident, IncidentMonitor, Source, State, TimelineEntry
from monitors.models import CheckResult, Monitor
from notifications import outbox

from .evaluation import Decision, RuleSpec, Sample, failing, replay
from .models import Alert, AlertEvent, AlertRule, AlertStatus, RuleKind
from .tables import resolved_body, triggered_body

log = logging.getLogger(__name__)


def incident_title(monitor: Monitor, rule: AlertRule) -> str:
    """``{Monitor Name} {KIND}: {value}``, e.g. ``Payment API STATUS: DOWN``."""
    return f"{monitor.name} {rule.kind}: {rule.value}"


def impact_for(rule: AlertRule) -> str:
    """The value for STATUS rules; DOWN for LATENCY and UPTIME."""
    if rule.kind == RuleKind.STATUS and rule.value in (Impact.DOWN, Impact.DEGRADED):
        return rule.value
    return Impact.DOWN


def _triggered_body(rule: AlertRule, monitor: Monitor) -> str:
    return triggered_body(
        monitor_name=monitor.name,
        monitor_tag=monitor.tag,
        severity=rule.severity,
        kind=rule.kind,
        value=rule.value,
        failure=rule.failure_threshold,
    )


def spec(rule: AlertRule) -> RuleSpec:
    return RuleSpec(rule.kind, rule.value, rule.failure_threshold, rule.success_threshold)


def evaluate_results(rows: Sequence[CheckResult], *, now: datetime) -> None:
    """Evaluate every active rule of the monitors in ``rows`` on those new results."""
    new_per_monitor = Counter(r.monitor_id for r in rows)
    if not new_per_monitor:
        return
    pairs = list(
        AlertRule.monitors.through.objects.filter(
            monitor_id__in=list(new_per_monitor), alertrule__is_active=True
        ).select_related("alertrule", "monitor")
    )
    if not pairs:
        return
    in_maintenance = active_monitor_ids(sorted({p.monitor_id for p in pairs}), now)
    by_monitor: dict[int, list[Any]] = {}
    for pair in pairs:
        by_monitor.setdefault(pair.monitor_id, []).append(pair)
    for monitor_id, monitor_pairs in sorted(by_monitor.items()):
        new = new_per_monitor[monitor_id]
        window = max(spec(p.alertrule).window for p in monitor_pairs)
        history = list(
            CheckResult.objects.filter(monitor_id=monitor_id)
            .order_by("-checked_at", "-id")
            .values_list("status", "latency_ms", "checked_at")[: window + new]
        )[::-1]
        samples = [Sample(status, latency) for status, latency, _ in history]
        times = [at for _, _, at in history]
        for pair in sorted(monitor_pairs, key=lambda p: p.alertrule_id):
            _evaluate_rule(
                pair.alertrule,
                pair.monitor,
                samples,
                times,
                min(new, len(samples)),
                suppressed=monitor_id in in_maintenance,
                now=now,
            )


def _evaluate_rule(
    rule: AlertRule,
    monitor: Monitor,
    samples: list[Sample],
    times: list[datetime],
    new: int,
    *,
    suppressed: bool,
    now: datetime,
) -> None:
    alert = Alert.objects.select_for_update().filter(rule=rule, monitor=monitor).first()
    rule_spec = spec(rule)
    for index, decision in replay(rule_spec, samples, new, alert.status if alert else None):
        at = times[index]
        if decision is Decision.TRIGGER:
            alert = trigger(rule, monitor, alert, at=at, suppressed=suppressed)
        else:
            assert alert is not None
            resolve_alert(rule, monitor, alert, at=at)
    if alert is not None and alert.status == AlertStatus.TRIGGERED:
        _watch(rule, monitor, alert, samples, times, new, now=now)


def trigger(
    rule: AlertRule, monitor: Monitor, alert: Alert | None, *, at: datetime, suppressed: bool
) -> Alert:
    """Record TRIGGERED and, unless suppressed by maintenance, open the incident --
    or, when the monitor belongs to a service and a correlatable incident is
    open, join that one (``alerting.correlation_services``)."""
    from . import correlation_services

    if alert is None:
        alert = Alert(rule=rule, monitor=monitor)
    alert.status = AlertStatus.TRIGGERED
    alert.severity = rule.severity
    alert.title = incident_title(monitor, rule)[:300]
    alert.triggered_at = at
    alert.resolved_at = None
    alert.incident = None
    alert.suppressed_by_maintenance = suppressed
    alert.post_resolution_watch_since = None
    alert.acknowledged_at = None
    alert.acknowledged_by = None
    joined = False
    may_open = rule.create_incident and not suppressed
    if not suppressed and monitor.service_id is not None:
        alert.incident, may_open = correlation_services.rule_alert_incident(
            alert, monitor, at=at, may_open=may_open
        )
        joined = alert.incident is not None
    if may_open:
        incident = incident_services.create_incident(
            title=incident_title(monitor, rule),
            body=_triggered_body(rule, monitor),
            now=at,
            started_at=at,
            severity=rule.severity,
            source=Source.ALERT,
            monitors=[(monitor, impact_for(rule))],
        )
        alert.incident = incident
    alert.save()
    event = AlertEvent.objects.create(
        alert=alert,
        rule=rule,
        monitor=monitor,
        status=AlertStatus.TRIGGERED,
        at=at,
        incident=alert.incident,
        suppressed_by_maintenance=suppressed,
        message="suppressed by maintenance" if suppressed else "",
    )
    outbox.alert_event(event)
    if alert.incident is not None and joined:
        correlation_services.record_join(
            alert.incident, alert, at=at, now=at, monitor=monitor, impact=impact_for(rule)
        )
    elif alert.incident is not None:
        incident_services.timeline(
            alert.incident,
            TimelineEntry.Type.ALERT_TRIGGERED,
            at,
            message=f"{incident_title(monitor, rule)} triggered",
            data={"alert": alert.pk, "rule": rule.pk, "monitor": monitor.tag, "opened": True},
        )
        correlation_services.record_open(alert.incident, alert, at=at, now=at)
    return alert


def resolve_alert(rule: AlertRule, monitor: Monitor, alert: Alert, *, at: datetime) -> None:
    """Record RESOLVED; resolve the alert's open incident with the details table."""
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = at
    alert.post_resolution_watch_since = None
    alert.save()
    event = AlertEvent.objects.create(
        alert=alert,
        rule=rule,
        monitor=monitor,
        status=AlertStatus.RESOLVED,
        at=at,
        incident=alert.incident,
        suppressed_by_maintenance=alert.suppressed_by_maintenance,
    )
    outbox.alert_event(event)
    incident = alert.incident
    if incident is None:
        return
    # An incident that other (correlated) alerts keep active stays open.
    others_active = (
        Alert.objects.filter(incident=incident, status=AlertStatus.TRIGGERED)
        .exclude(pk=alert.pk)
        .exists()
    )
    if incident.state != State.RESOLVED and not others_active:
        minutes = round((at - alert.triggered_at).total_seconds() / 60)
        incident_services.post_update(
            incident,
            state=State.RESOLVED,
            body=resolved_body(
                minutes=minutes,
                monitor_name=monitor.name,
                monitor_tag=monitor.tag,
                severity=rule.severity,
                kind=rule.kind,
                value=rule.value,
                failure=rule.failure_threshold,
                success=rule.success_threshold,
            ),
            now=at,
        )
    IncidentMonitor.objects.filter(
        incident=incident, monitor=monitor, impact_removed_at__isnull=True
    ).update(impact_removed_at=at)
    incident_services.timeline(
        incident,
        TimelineEntry.Type.ALERT_RESOLVED,
        at,
        message=f"{incident_title(monitor, rule)} resolved",
        data={"alert": alert.pk, "rule": rule.pk, "monitor": monitor.tag},
    )


def _watch(
    rule: AlertRule,
    monitor: Monitor,
    alert: Alert,
    samples: list[Sample],
    times: list[datetime],
    new: int,
    *,
    now: datetime,
) -> None:
    """Post-resolution watch of a rule alert: its new results are the evidence."""
    if alert.post_resolution_watch_since is None or alert.incident is None:
        return
    horizon = timedelta(minutes=settings.BEACON_REOPEN_HORIZON_MINUTES)
    since = alert.post_resolution_watch_since
    rule_spec = spec(rule)
    failing_at = None
    for i in range(len(samples) - new, len(samples)):
        at = times[i]
        if at <= since or at - since > horizon:
            continue
        if failing(rule_spec, samples[: i + 1]):
            failing_at = at
            break
    follow_up = post_resolution_watch(
        alert,
        failing_at=failing_at,
        now=now,
        reason=f"{incident_title(monitor, rule)} is still failing",
        follow_up_title=incident_title(monitor, rule),
        follow_up_body=_triggered_body(rule, monitor),
        severity=rule.severity,
        source=Source.ALERT,
        monitors=[(monitor, impact_for(rule))],
    )
    if follow_up is not None:
        from .correlation_services import record_open

        record_open(follow_up, alert, at=now, now=now)


def post_resolution_watch(
    alert: Alert,
    *,
    failing_at: datetime | None,
    now: datetime,
    reason: str,
    follow_up_title: str,
    follow_up_body: str,
    severity: str,
    source: str,
    monitors: Sequence[tuple[Monitor, str]] = (),
) -> Incident | None:
    """Post-resolution watch, for rule and external alerts alike: an alert still
    triggered after an operator resolved its incident reopens it when it is
    seen failing (``failing_at``) within the horizon, and opens a follow-up
    incident (returned) when it is still active after the horizon."""
    if alert.post_resolution_watch_since is None or alert.incident is None:
        return None
    incident = alert.incident
    incident.refresh_from_db()
    if incident.state != State.RESOLVED:
        alert.post_resolution_watch_since = None
        alert.save(update_fields=["post_resolution_watch_since", "updated_at"])
        return None
    horizon = timedelta(minutes=settings.BEACON_REOPEN_HORIZON_MINUTES)
    since = alert.post_resolution_watch_since
    if failing_at is not None and since < failing_at and failing_at - since <= horizon:
        incident_services.reopen(incident, reason=reason, now=failing_at)
        alert.post_resolution_watch_since = None
        alert.save(update_fields=["post_resolution_watch_since", "updated_at"])
        return None
    if now - since > horizon:
        follow_up = incident_services.create_incident(
            title=follow_up_title,
            body=(
                f"The alert is still active {settings.BEACON_REOPEN_HORIZON_MINUTES} minutes "
                f"after {incident.key} was resolved.\n\n" + follow_up_body
            ),
            now=now,
            started_at=now,
            severity=severity,
            source=source,
            monitors=monitors,
            follow_up_of=incident,
        )
        incident_services.timeline(
            incident,
            TimelineEntry.Type.FOLLOW_UP_CREATED,
            now,
            message=f"Follow-up {follow_up.key} opened",
            data={"follow_up": follow_up.pk},
        )
        alert.incident = follow_up
        alert.post_resolution_watch_since = None
        alert.save(update_fields=["incident", "post_resolution_watch_since", "updated_at"])
        return follow_up
    return None


def acknowledge_alert(alert: Alert, *, now: datetime, actor: Any = None) -> Alert:
    """Record who acknowledged an alert and when."""
    from django.db import transaction

    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        alert.acknowledged_at = now
        alert.acknowledged_by = actor if getattr(actor, "pk", None) else None
        alert.save(update_fields=["acknowledged_at", "acknowledged_by", "updated_at"])
    return alert
