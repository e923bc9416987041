"""The automatic investigation against the database: the facts gathered
(deployments to affected services and their dependencies in the two hours
before the start, the first failing check with its messages, other active
alerts on related services, overlapping maintenance incl. recurring windows,
similar past incidents), and the run's life: claimed once, stale runs retried,
a lost claim never stores, refreshes debounced, the tick's due list, the task."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from alerting.correlation_services import process_alerts
from catalog.models import Service
from catalog.tests.factories import chain, external_alert, make_integration, make_service
from incidents import investigation_services as inv
from incidents import services as incident_services
from incidents.models import Incident, IncidentService, MaintenanceWindow, TimelineEntry
from incidents.tasks import correlation_tick, investigate
from integrations.models import Deployment
from monitors.models import CheckResult
from monitors.tests.factories import make_monitor

pytestmark = pytest.mark.django_db


def investigations(callbacks) -> list:
    """The on-commit callbacks that queue an investigation (other apps add their own)."""
    return [c for c in callbacks if c.__name__ == "queue_investigation"]


T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def deploy(service: Service | None, at: datetime, version: str, **extra) -> Deployment:
    return Deployment.objects.create(
        source="jenkins",
        external_id=f"{version}-{at.isoformat()}",
        service=service,
        service_name=service.name if service else "gone",
        version=version,
        environment="prod",
        result=extra.pop("result", "success"),
        finished_at=at,
        received_at=at,
        **extra,
    )


def check(monitor, at: datetime, status: str, message: str = "") -> None:
    CheckResult.objects.create(
        monitor=monitor, status=status, due_at=at, checked_at=at, message=message
    )


@pytest.fixture
def world(db):
    web, api, dbs = chain("web", "api", "db")
    billing = make_service("billing")
    integration = make_integration("g", min_severity="info")
    first = external_alert(integration, T0, service=api, title="API 5xx")
    process_alerts([first.pk], T0)
    first.refresh_from_db()
    return {
        "incident": first.incident,
        "web": web,
        "api": api,
        "db": dbs,
        "billing": billing,
        "integration": integration,
    }


def test_facts_cover_every_section(world) -> None:
    incident, api, dbs = world["incident"], world["api"], world["db"]
    deploy(dbs, T0 - 40 * MIN, "db-7.1")  # upstream dependency, in range
    deploy(api, T0 - 119 * MIN, "api-2.0", result="failure")
    deploy(api, T0 - 3 * 60 * MIN, "api-1.9")  # too early
    deploy(world["web"], T0 - 10 * MIN, "web-5")  # downstream: not a cause
    deploy(world["billing"], T0 - 10 * MIN, "billing-1")  # unrelated
    deploy(api, T0 + 5 * MIN, "api-2.1")  # after the start
    monitor = make_monitor(name="API health", tag="api-health", service=api)
    check(monitor, T0 - 10 * MIN, "UP")
    check(monitor, T0 - 9 * MIN, "UP")
    check(monitor, T0 - 8 * MIN, "DOWN", "HTTP 503")
    check(monitor, T0 - 7 * MIN, "DOWN", "HTTP 503")
    check(monitor, T0 - 6 * MIN, "DEGRADED", "slow: 2300 ms")
    quiet = make_monitor(name="Web", tag="web-ok", service=api)
    check(quiet, T0 - MIN, "UP")
    other = external_alert(
        world["integration"], T0, service=dbs, title="Replica lag", severity="INFO"
    )
    Incident.objects.filter(pk=incident.pk).update(last_correlated_at=T0 - 60 * MIN)
    process_alerts([other.pk], T0)  # outside the window: its own incident (if any)
    far = external_alert(world["integration"], T0, service=world["billing"], title="Billing down")
    MaintenanceWindow.objects.create(
        title="Nightly",
        starts_at=T0 - timedelta(days=3, minutes=30),
        ends_at=T0 - timedelta(days=3) + 60 * MIN,
        rrule="FREQ=DAILY",
        is_global=True,
    )
    MaintenanceWindow.objects.create(
        title="Last week", starts_at=T0 - timedelta(days=7), ends_at=T0 - timedelta(days=6)
    )
    past = incident_services.create_incident(
        title="Old API trouble", body="x", now=T0 - timedelta(days=2)
    )
    IncidentService.objects.create(incident=past, service=api, source="manual", added_at=T0)
    incident_services.resolve(
        past, note="Rolled back", classification="Resolved", now=T0 - timedelta(days=2) + 30 * MIN
    )
    same_title = incident_services.create_incident(
        title="API 5xx", body="x", now=T0 - timedelta(days=1)
    )
    incident_services.resolve(
        same_title, note="Noise", classification="FalsePositive", now=T0 - timedelta(days=1)
    )
    incident_services.create_incident(title="API 5xx", body="open one", now=T0 - timedelta(days=1))

    facts = inv.gather_facts(Incident.objects.get(pk=incident.pk), now=T0 + 10 * MIN)
    assert [s.slug for s in facts.services] == ["api"] and facts.services[0].is_primary
    assert facts.services[0].depends_on == ("db",)
    assert [d.version for d in facts.deployments] == ["db-7.1", "api-2.0"]
    assert [c.monitor_tag for c in facts.checks] == ["api-health"]
    first_check = facts.checks[0]
    assert first_check.first_failed_at == T0 - 8 * MIN and first_check.last_ok_at == T0 - 9 * MIN
    assert [(m.status, m.message) for m in first_check.messages] == [
        ("DOWN", "HTTP 503"),
        ("DEGRADED", "slow: 2300 ms"),
    ]
    assert [a.title for a in facts.alerts] == ["Replica lag"]  # db is a neighbour; billing is not
    assert far.pk
    assert [(w.title, w.recurring, w.starts_at) for w in facts.maintenance] == [
        ("Nightly", True, T0 - 30 * MIN)
    ]
    assert [(p.key, p.classification, p.note) for p in facts.similar] == [
        (same_title.key, "False positive", "Noise"),
        (past.key, "Resolved", "Rolled back"),
    ]
    assert "same title" in facts.similar[0].why and "same service api" in facts.similar[1].why


def test_run_stores_markdown_html_and_a_timeline_entry(world) -> None:
    incident = world["incident"]
    deploy(world["db"], T0 - 5 * MIN, "<b>v9</b>")
    assert inv.run_investigation(incident.pk, now=T0 + MIN) is True
    incident.refresh_from_db()
    assert incident.investigation_status == "done" and incident.investigated_at == T0 + MIN
    assert "#### Deployments in the two hours before the start" in incident.investigation
    assert "&lt;b&gt;v9&lt;/b&gt;" in incident.investigation_html
    assert "<b>v9" not in incident.investigation_html
    entry = incident.timeline.get(type="Investigation")
    assert entry.message.startswith("Investigation updated: 1 deployment,")
    assert entry.data["deployments"] == 1
    assert inv.run_investigation(incident.pk, now=T0 + 2 * MIN) is False  # done: nothing to claim


def test_claims_stale_runs_and_lost_claims(world, settings) -> None:
    settings.BEACON_INVESTIGATION_STALE_SECONDS = 300
    incident = world["incident"]
    assert inv.claim(incident.pk, T0) is True
    assert inv.claim(incident.pk, T0 + MIN) is False  # running, not stale
    assert inv.claim(incident.pk, T0 + 6 * MIN) is True  # the first worker died
    # The first worker's late result must not be stored over the new claim.
    Incident.objects.filter(pk=incident.pk).update(investigated_at=T0 + 6 * MIN)
    assert inv.due_investigations(T0 + 7 * MIN) == []
    assert inv.due_investigations(T0 + 12 * MIN) == [incident.pk]
    Incident.objects.filter(pk=incident.pk).update(
        investigation_status="idle", investigated_at=None
    )
    assert inv.run_investigation(incident.pk, now=T0 + 13 * MIN)
    assert TimelineEntry.objects.filter(incident=incident, type="Investigation").count() == 1


def test_refreshes_are_debounced(world, settings, django_capture_on_commit_callbacks) -> None:
    settings.BEACON_INVESTIGATION_DEBOUNCE_SECONDS = 30
    incident = world["incident"]
    inv.run_investigation(incident.pk, now=T0)
    with django_capture_on_commit_callbacks() as queued:
        assert inv.request_investigation(incident, now=T0 + timedelta(seconds=10)) is True
        assert inv.request_investigation(incident, now=T0 + timedelta(seconds=11)) is False
    assert len(investigations(queued)) == 1
    incident.refresh_from_db()
    assert incident.investigation_status == "idle"
    # A join while idle queues nothing; the pending run picks the new alert up.
    api = world["api"]
    with django_capture_on_commit_callbacks() as queued:
        process_alerts([external_alert(world["integration"], T0 + MIN, service=api).pk], T0 + MIN)
    assert investigations(queued) == []
    assert inv.run_investigation(incident.pk, now=T0 + 40 * timedelta(seconds=1))
    assert TimelineEntry.objects.filter(incident=incident, type="Investigation").count() == 2


def test_due_list_and_tick(world, settings) -> None:
    settings.BEACON_INVESTIGATION_DEBOUNCE_SECONDS = 30
    incident = world["incident"]
    manual = incident_services.create_incident(title="manual", body="x", now=T0)
    # Created "now" (the real clock): not due yet; a minute and a half later it is.
    from django.utils import timezone

    now = timezone.now()
    assert incident.pk not in inv.due_investigations(now)
    assert inv.due_investigations(now + 2 * MIN) == [incident.pk]  # not the manual one
    assert manual.pk not in inv.due_investigations(now + 2 * MIN)
    correlation_tick()  # queues (the message goes to the broker); runs without error
    assert investigate(incident.pk) is True  # the task, run in-process
    assert Incident.objects.get(pk=incident.pk).investigation_status == "done"


def test_rerun_from_the_api(world, api_client_for, operator_user, viewer_user) -> None:
    incident = world["incident"]
    inv.run_investigation(incident.pk, now=T0)
    url = f"/api/v1/incidents/{incident.pk}/investigate"
    assert api_client_for(viewer_user).post(url).status_code == 403
    r = api_client_for(operator_user).post(url)
    assert r.status_code == 202 and r.json()["investigation_status"] == "idle"
    Incident.objects.filter(pk=incident.pk).update(investigation_status="running")
    assert api_client_for(operator_user).post(url).status_code == 409


def test_console_tab(world, operator_user, viewer_user) -> None:
    from django.test import Client
    from django.urls import reverse

    incident = world["incident"]
    client = Client()
    client.force_login(viewer_user)
    url = reverse("incidents:detail", args=[incident.pk])
    page = client.get(url, {"tab": "investigation"}).content.decode()
    assert 'id="investigation"' in page and "No investigation yet" in page
    assert "Post an update" not in page  # the overview's composer is on the other tab
    inv.run_investigation(incident.pk, now=T0)
    page = client.get(url, {"tab": "investigation"}).content.decode()
    assert "<h4>Affected services</h4>" in page and "Run again" not in page
    assert client.get(url, {"tab": "<script>"}).context["tab"] == "overview"
    operator = Client()
    operator.force_login(operator_user)
    page = operator.get(url, {"tab": "investigation"}).content.decode()
    assert "Run again" in page
    r = operator.post(reverse("incidents:investigate", args=[incident.pk]))
    assert r.status_code == 302 and r["Location"].endswith("?tab=investigation")
    assert Incident.objects.get(pk=incident.pk).investigation_status == "idle"


@pytest.mark.django_db(transaction=True)
def test_two_workers_run_it_once() -> None:
    api = make_service("api")
    integration = make_integration("g", min_severity="info")
    first = external_alert(integration, T0, service=api)
    process_alerts([first.pk], T0)
    incident_id = Incident.objects.get().pk
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def work() -> None:
        try:
            barrier.wait(timeout=30)
            results.append(inv.run_investigation(incident_id, now=T0 + MIN))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [False, False, False, True]
    assert TimelineEntry.objects.filter(type="Investigation").count() == 1
