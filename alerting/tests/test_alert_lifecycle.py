"""Alerts open, resolve, reopen and follow up incidents, through the real
result-recording path (monitors.services.record_results)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from alerting.models import Alert, AlertEvent, AlertRule
from incidents import services as incident_services
from incidents.models import Incident, IncidentMonitor, MaintenanceWindow, TimelineEntry
from monitors.services import record_results
from monitors.tests.factories import make_monitor, result

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def rule(monitors, kind="STATUS", value="DOWN", failure=3, success=2, **extra) -> AlertRule:
    r = AlertRule.objects.create(
        kind=kind, value=value, failure_threshold=failure, success_threshold=success, **extra
    )
    r.monitors.set(monitors)
    return r


def feed(monitor, statuses: list[str], start: datetime, latency: float | None = 10.0) -> datetime:
    """Record one result per minute from ``start``; return the time after the last."""
    at = start
    for status in statuses:
        record_results([result(monitor, at, status, latency)], now=at)
        at += MIN
    return at


@pytest.fixture
def api(db):
    return make_monitor(name="Payment API", tag="payment-api")


def test_status_alert_opens_and_resolves_an_incident_exactly_like_the_seed(api) -> None:
    r = rule([api], failure=3, success=2, severity="CRITICAL")
    t = feed(api, ["UP", "DOWN", "DOWN"], T0)
    assert not Incident.objects.exists()
    t = feed(api, ["DOWN"], t)  # third DOWN in a row at T0 + 3 min
    incident = Incident.objects.get()
    assert incident.title == "Payment API STATUS: DOWN"
    assert (incident.state, incident.source, incident.severity) == (
        "INVESTIGATING",
        "ALERT",
        "CRITICAL",
    )
    assert incident.started_at == T0 + 3 * MIN
    assert incident.key == f"INC-{incident.pk:06d}"
    first = incident.updates.get()
    assert first.body == (
        "Alert triggered\n\n"
        "| Setting               | Value       |\n"
        "| :-------------------- | :---------- |\n"
        "| **Monitor Name**      | Payment API |\n"
        "| **Monitor Tag**       | payment-api |\n"
        "| **Incident Status**   | TRIGGERED   |\n"
        "| **Severity**          | CRITICAL    |\n"
        "| **Alert Type**        | STATUS      |\n"
        "| **Alert Value**       | DOWN        |\n"
        "| **Failure Threshold** | 3           |"
    )
    assert "<table>" in first.html
    link = IncidentMonitor.objects.get(incident=incident)
    assert (link.monitor_id, link.impact, link.impact_removed_at) == (api.pk, "DOWN", None)
    alert = Alert.objects.get(rule=r, monitor=api)
    assert alert.incident == incident and alert.status == "TRIGGERED"

    t = feed(api, ["DOWN"] * 45 + ["UP"], t)  # still down for a while, then one UP
    assert Incident.objects.get().state == "INVESTIGATING"
    feed(api, ["UP"], t)  # second UP: resolved 47 minutes after the trigger
    incident.refresh_from_db()
    assert incident.state == "RESOLVED"
    assert incident.ended_at == T0 + 50 * MIN
    last = incident.updates.order_by("-created_at").first()
    assert last.state == "RESOLVED"
    assert last.body.startswith(
        "The alert has been resolved, Total duration: 47 minutes\n\n#### Alert Details\n\n"
    )
    assert "| **Incident Status**   | RESOLVED    |" in last.body
    assert "| **Success Threshold** | 2           |" in last.body
    assert IncidentMonitor.objects.get(incident=incident).impact_removed_at == T0 + 50 * MIN
    types = list(incident.timeline.values_list("type", flat=True))
    assert types == ["Created", "AlertTriggered", "UpdatePosted", "AlertResolved"]
    log = list(AlertEvent.objects.order_by("at").values_list("status", "incident_id"))
    assert log == [("TRIGGERED", incident.pk), ("RESOLVED", incident.pk)]


def test_latency_and_uptime_incidents_link_the_monitor_as_down(db) -> None:
    web = make_monitor(name="Web Server", tag="web")
    dbm = make_monitor(name="Database Connection", tag="db-conn")
    rule([web], kind="LATENCY", value="1000", failure=2)
    rule([dbm], kind="UPTIME", value="99.9", failure=4, severity="WARNING")
    feed(web, ["UP", "UP"], T0, latency=1500.0)
    feed(dbm, ["UP", "UP", "UP", "DOWN"], T0)
    titles = dict(Incident.objects.values_list("title", "severity"))
    assert titles == {
        "Web Server LATENCY: 1000": "CRITICAL",
        "Database Connection UPTIME: 99.9": "WARNING",
    }
    impacts = set(IncidentMonitor.objects.values_list("monitor__tag", "impact"))
    assert impacts == {("web", "DOWN"), ("db-conn", "DOWN")}


def test_several_rules_on_one_monitor_and_one_rule_on_several_monitors(db) -> None:
    a = make_monitor(name="A", tag="mon-a")
    b = make_monitor(name="B", tag="mon-b")
    rule([a, b], value="DOWN", failure=2)
    rule([a], value="DEGRADED", failure=1, severity="WARNING")
    feed(a, ["DEGRADED", "DOWN", "DOWN"], T0)
    feed(b, ["DOWN", "DOWN"], T0)
    titles = sorted(Incident.objects.values_list("title", flat=True))
    assert titles == ["A STATUS: DEGRADED", "A STATUS: DOWN", "B STATUS: DOWN"]
    assert Alert.objects.count() == 3
    # The DEGRADED rule resolves on its own schedule, independently.
    feed(a, ["UP", "UP"], T0 + 3 * MIN)
    assert set(Incident.objects.values_list("title", "state")) == {
        ("A STATUS: DEGRADED", "RESOLVED"),
        ("A STATUS: DOWN", "RESOLVED"),
        ("B STATUS: DOWN", "INVESTIGATING"),
    }


def test_a_new_trigger_after_resolution_opens_a_new_incident(api) -> None:
    rule([api], failure=1, success=1)
    t = feed(api, ["DOWN", "UP", "DOWN"], T0)
    assert list(Incident.objects.order_by("id").values_list("state", flat=True)) == [
        "RESOLVED",
        "INVESTIGATING",
    ]
    assert Alert.objects.get().incident == Incident.objects.order_by("id").last()
    assert t == T0 + 3 * MIN


def test_no_incident_without_create_incident_and_none_for_inactive_rules(api) -> None:
    rule([api], failure=1, create_incident=False)
    rule([api], value="DEGRADED", failure=1, is_active=False)
    feed(api, ["DOWN", "DEGRADED"], T0)
    assert not Incident.objects.exists()
    assert AlertEvent.objects.filter(status="TRIGGERED").count() == 1


def test_manual_resolve_then_the_failing_alert_reopens_it(api, settings) -> None:
    settings.BEACON_REOPEN_HORIZON_MINUTES = 30
    rule([api], failure=2, success=2)
    t = feed(api, ["DOWN", "DOWN"], T0)
    incident = Incident.objects.get()
    incident_services.resolve(incident, note="Restarted the pod", classification="Resolved", now=t)
    incident.refresh_from_db()
    assert incident.active_alert_count_at_resolution == 1
    assert Alert.objects.get().post_resolution_watch_since == t
    feed(api, ["DOWN"], t + MIN)
    incident.refresh_from_db()
    assert incident.state == "INVESTIGATING"
    assert incident.reopen_count == 1 and incident.last_reopened_at == t + MIN
    assert "still failing" in incident.reopen_reason
    assert incident.timeline.filter(type="Reopened").count() == 1
    assert Incident.objects.count() == 1


def test_an_alert_still_active_after_the_horizon_opens_a_follow_up(api, settings) -> None:
    settings.BEACON_REOPEN_HORIZON_MINUTES = 10
    rule([api], failure=2, success=5)
    t = feed(api, ["DOWN", "DOWN"], T0)
    first = Incident.objects.get()
    incident_services.resolve(first, note="Looks fine", classification="NoImpact", now=t)
    # Recovering but not yet for 5 checks: neither failing nor resolved.
    t = feed(api, ["UP", "UP", "DEGRADED", "UP"], t)
    assert Incident.objects.count() == 1
    feed(api, ["UP"], t + 10 * MIN)  # past the horizon and the alert is still triggered
    follow_up = Incident.objects.exclude(pk=first.pk).get()
    assert follow_up.follow_up_of == first
    assert follow_up.title == first.title
    assert Alert.objects.get().incident == follow_up
    assert first.timeline.filter(type="FollowUpCreated").exists()
    assert follow_up.timeline.filter(type="FollowUpCreated").exists()


def test_maintenance_suppresses_incident_creation_but_keeps_the_alert(api) -> None:
    window = MaintenanceWindow.objects.create(
        title="DB upgrade", starts_at=T0 - MIN, ends_at=T0 + 30 * MIN
    )
    window.monitors.add(api)
    rule([api], failure=2)
    feed(api, ["DOWN", "DOWN"], T0)
    assert not Incident.objects.exists()
    event = AlertEvent.objects.get()
    assert event.status == "TRIGGERED" and event.suppressed_by_maintenance
    assert Alert.objects.get().suppressed_by_maintenance


def test_recurring_global_maintenance_suppresses_only_inside_an_occurrence(db) -> None:
    m = make_monitor()
    MaintenanceWindow.objects.create(
        title="Nightly",
        starts_at=T0 - timedelta(days=3),
        ends_at=T0 - timedelta(days=3) + 10 * MIN,
        rrule="FREQ=DAILY",
        is_global=True,
    )
    rule([m], failure=1, success=1)
    feed(m, ["DOWN", "UP"], T0 + 2 * MIN)  # inside today's occurrence
    assert not Incident.objects.exists()
    feed(m, ["DOWN"], T0 + 20 * MIN)  # after it
    assert Incident.objects.count() == 1


def test_update_bodies_are_sanitised(api) -> None:
    incident = incident_services.create_incident(
        title="<b>Checkout</b>",
        body='Hi <script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3))',
        now=T0,
    )
    html = incident.updates.get().html
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html


@pytest.mark.parametrize(
    ("note", "classification", "field"),
    [("", "Resolved", "note"), ("   ", "Resolved", "note"), ("ok", "Fixed", "classification")],
)
def test_resolve_needs_a_note_and_a_known_classification(api, note, classification, field) -> None:
    incident = incident_services.create_incident(title="X", body="y", now=T0)
    with pytest.raises(incident_services.IncidentError) as err:
        incident_services.resolve(incident, note=note, classification=classification, now=T0)
    assert err.value.field == field
    incident.refresh_from_db()
    assert incident.state == "INVESTIGATING"
    assert not incident.timeline.filter(type=TimelineEntry.Type.RESOLVED).exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_evaluating_one_monitor_raise_one_alert_and_one_incident() -> None:
    m = make_monitor(name="Racy", tag="racy")
    rule([m], failure=2)
    record_results([result(m, T0, "DOWN")], now=T0)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            barrier.wait()
            at = T0 + offset * MIN
            record_results([result(m, at, "DOWN")], now=at)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in (1, 2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert Alert.objects.count() == 1
    assert Incident.objects.count() == 1
    assert AlertEvent.objects.filter(status="TRIGGERED").count() == 1
