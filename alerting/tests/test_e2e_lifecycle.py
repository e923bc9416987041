"""End to end, the whole automatic lifecycle with two real workers and a real
beat against local HTTP targets switched down and up: several rules on one
monitor, one rule on several monitors, LATENCY and UPTIME incidents, manual
resolve then reopen, follow-up after the horizon, maintenance suppression,
and never a doubled alert or incident although two workers evaluate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from alerting.models import Alert, AlertEvent, AlertRule
from incidents import services as incident_services
from incidents.models import Incident, IncidentMonitor, MaintenanceWindow
from monitors.tests.factories import make_monitor
from monitors.tests.servers import Reply, Request, serve_http
from monitors.tests.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TABLE_HEAD = "| Setting               | Value"


def _rule(monitors, **fields) -> AlertRule:
    rule = AlertRule.objects.create(**fields)
    rule.monitors.set(monitors)
    return rule


def _incident(title: str) -> Incident | None:
    return Incident.objects.filter(title=title).order_by("-id").first()


def test_the_automatic_lifecycle_with_real_workers(start_celery, celery_env) -> None:
    down: set[str] = set()
    slow: set[str] = {"/slow"}

    def route(request: Request) -> Reply:
        if request.path in down:
            return Reply(503, "down")
        if request.path in slow:
            return Reply(200, "slow", delay=0.35)
        return Reply(200, "ok")

    with serve_http({p: route for p in ("/a", "/b", "/slow", "/d", "/e")}) as base:
        now = timezone.now()

        def http(name: str, tag: str, path: str):
            return make_monitor(
                "http",
                {"url": f"{base}{path}"},
                name=name,
                tag=tag,
                interval_seconds=10,
                timeout_seconds=5,
                now=now,
            )

        a = http("Payment API", "payment-api", "/a")
        b = http("Web Server", "web", "/b")
        c = http("Search", "search", "/slow")
        d = http("Reports", "reports", "/d")
        e = http("Billing", "billing", "/e")
        window = MaintenanceWindow.objects.create(
            title="Reports upgrade",
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=1),
        )
        window.monitors.add(d)
        status_rule = _rule(
            [a, b, d], kind="STATUS", value="DOWN", failure_threshold=2, success_threshold=2
        )
        uptime_rule = _rule(
            [a],
            kind="UPTIME",
            value="99.9",
            failure_threshold=2,
            success_threshold=2,
            severity="WARNING",
        )
        latency_rule = _rule(
            [c], kind="LATENCY", value="300", failure_threshold=2, success_threshold=2
        )
        sticky_rule = _rule(
            [e], kind="STATUS", value="DOWN", failure_threshold=1, success_threshold=30
        )

        env = {**celery_env, "BEACON_REOPEN_HORIZON_MINUTES": "1"}
        procs = [
            start_celery("worker", env=env),
            start_celery("worker", env=env),
            start_celery("beat", env=env),
        ]
        wait_for(lambda: all(m.results.exists() for m in (a, b, d, e)), procs)

        down.update({"/a", "/b", "/d", "/e"})
        expected = {
            "Payment API STATUS: DOWN",
            "Payment API UPTIME: 99.9",
            "Web Server STATUS: DOWN",
            "Search LATENCY: 300",
            "Billing STATUS: DOWN",
        }
        wait_for(
            lambda: (
                set(Incident.objects.values_list("title", flat=True)) >= expected
                and Alert.objects.filter(monitor=d, status="TRIGGERED").exists()
            ),
            procs,
            timeout=90,
        )

        # Maintenance: the alert is recorded, suppressed, and opens nothing.
        assert not Incident.objects.filter(title__startswith="Reports").exists()
        assert AlertEvent.objects.get(monitor=d).suppressed_by_maintenance

        # Exact title and table, severity, and the impact per rule kind.
        status_incident = _incident("Payment API STATUS: DOWN")
        first = status_incident.updates.get()
        assert first.body.startswith("Alert triggered\n\n" + TABLE_HEAD)
        assert "| **Monitor Tag**       | payment-api |" in first.body
        assert _incident("Payment API UPTIME: 99.9").severity == "WARNING"
        impacts = dict(IncidentMonitor.objects.values_list("incident__title", "impact"))
        assert impacts["Search LATENCY: 300"] == "DOWN"
        assert impacts["Payment API UPTIME: 99.9"] == "DOWN"

        # Manual resolve while /a is still down: the next failing check reopens it.
        incident_services.resolve(
            status_incident, note="Restarted", classification="Resolved", now=timezone.now()
        )
        # Billing recovers but its alert needs 30 UP checks: still active after the horizon.
        billing = _incident("Billing STATUS: DOWN")
        down.discard("/e")
        incident_services.resolve(
            billing, note="Fixed upstream", classification="Transferred", now=timezone.now()
        )
        wait_for(
            lambda: Incident.objects.filter(pk=status_incident.pk, reopen_count=1).exists(),
            procs,
            timeout=60,
        )
        status_incident.refresh_from_db()
        assert status_incident.state == "INVESTIGATING"
        wait_for(lambda: Incident.objects.filter(follow_up_of=billing).exists(), procs, timeout=150)
        follow_up = Incident.objects.get(follow_up_of=billing)
        assert follow_up.title == "Billing STATUS: DOWN"
        assert Alert.objects.get(rule=sticky_rule).incident == follow_up

        # Everything recovers: each open incident resolves with the details table.
        down.clear()
        slow.clear()
        recovering = ["Payment API STATUS: DOWN", "Web Server STATUS: DOWN", "Search LATENCY: 300"]
        wait_for(
            lambda: (
                Incident.objects.filter(title__in=recovering, state="RESOLVED").count()
                == len(recovering)
            ),
            procs,
            timeout=90,
        )
    for title in recovering:
        incident = _incident(title)
        last = incident.updates.order_by("-created_at", "-id").first()
        assert last.body.startswith("The alert has been resolved, Total duration: ")
        assert "#### Alert Details\n\n" + TABLE_HEAD in last.body
        assert incident.ended_at is not None
        assert IncidentMonitor.objects.get(incident=incident).impact_removed_at == incident.ended_at

    # Two workers evaluated: still one alert per (rule, monitor), and the log alternates.
    assert not Alert.objects.values("rule", "monitor").annotate(n=Count("id")).filter(n__gt=1)
    for alert in Alert.objects.all():
        statuses = list(alert.events.order_by("at", "id").values_list("status", flat=True))
        assert statuses == ["TRIGGERED", "RESOLVED"] * (len(statuses) // 2) + (
            ["TRIGGERED"] if len(statuses) % 2 else []
        )
    assert Incident.objects.filter(title="Payment API STATUS: DOWN").count() == 1
    assert status_rule.alerts.count() == 3 and latency_rule.alerts.count() == 1
    assert uptime_rule.alerts.count() == 1
