"""End to end: a real beat and worker check a local HTTP target that is switched
down and up; an alert rule opens the incident and resolves it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from alerting.models import AlertEvent, AlertRule
from incidents.models import Incident, IncidentMonitor
from monitors.tests.factories import make_monitor
from monitors.tests.servers import Reply, Request, serve_http
from monitors.tests.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_target_going_down_and_up_opens_and_resolves_an_incident(start_celery) -> None:
    target = {"up": True}

    def health(_request: Request) -> Reply:
        return Reply(200, "ok") if target["up"] else Reply(503, "maintenance")

    with serve_http({"/health": health}) as base:
        monitor = make_monitor(
            "http",
            {"url": f"{base}/health"},
            name="Checkout <API>",
            tag="checkout",
            interval_seconds=10,
            timeout_seconds=5,
            now=timezone.now(),
        )
        rule = AlertRule.objects.create(
            kind="STATUS", value="DOWN", failure_threshold=2, success_threshold=2
        )
        rule.monitors.add(monitor)
        procs = [start_celery("worker"), start_celery("beat")]
        wait_for(lambda: monitor.results.filter(status="UP").exists(), procs)
        assert not Incident.objects.exists()

        target["up"] = False
        wait_for(lambda: Incident.objects.exists(), procs, timeout=60)
        incident = Incident.objects.get()
        assert incident.title == "Checkout <API> STATUS: DOWN"
        assert incident.state == "INVESTIGATING" and incident.source == "ALERT"
        first = incident.updates.get()
        assert "| **Monitor Name**      | Checkout \\<API\\> |" in first.body
        assert "<API>" not in first.html  # the name is escaped, never markup
        assert IncidentMonitor.objects.get(incident=incident).impact == "DOWN"
        downs = list(
            monitor.results.filter(status="DOWN")
            .order_by("checked_at")[:2]
            .values_list("checked_at", flat=True)
        )
        assert incident.started_at == downs[1]  # the second DOWN in a row triggers

        target["up"] = True
        wait_for(lambda: Incident.objects.filter(state="RESOLVED").exists(), procs, timeout=60)
    incident.refresh_from_db()
    assert incident.ended_at is not None and incident.ended_at > incident.started_at
    resolved = incident.updates.order_by("-created_at").first()
    assert resolved.body.startswith("The alert has been resolved, Total duration: ")
    assert IncidentMonitor.objects.get(incident=incident).impact_removed_at == incident.ended_at
    assert list(AlertEvent.objects.order_by("at").values_list("status", flat=True)) == [
        "TRIGGERED",
        "RESOLVED",
    ]
