"""Impacted services of an incident (API and console): list with source and
up-/downstream, associate and dissociate with a ServicesChanged entry, the
primary service following; and the incident API's correlation fields and
filters (service, status, severity, from/to, limit), with hostile input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alerting.correlation_services import process_alerts
from catalog.tests.factories import chain, external_alert, make_integration, make_service
from incidents import services as incident_services
from incidents.models import Incident, IncidentService, TimelineEntry

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.fixture
def operator(api_client_for, operator_user):
    return api_client_for(operator_user)


@pytest.fixture
def viewer(api_client_for, viewer_user):
    return api_client_for(viewer_user)


def send(client, method: str, url: str, body: Any):
    return client.generic(method, url, json.dumps(body), content_type="application/json")


@pytest.fixture
def incident(db) -> Incident:
    chain("web", "api", "db")
    make_service("worker", depends_on=("db",))
    make_service("billing")
    integration = make_integration("g", min_severity="info")
    from catalog.models import Service

    alert = external_alert(integration, T0, service=Service.objects.get(slug="api"))
    process_alerts([alert.pk], T0)
    alert.refresh_from_db()
    return alert.incident


def test_get_lists_services_with_source_and_neighbourhood(incident, viewer) -> None:
    rows = viewer.get(f"/api/v1/incidents/{incident.pk}/services").json()
    assert len(rows) == 1
    row = rows[0]
    assert (row["slug"], row["source"], row["is_primary"]) == ("api", "alert", True)
    assert [(s["slug"], s["depth"]) for s in row["upstream"]] == [("db", 1)]
    assert [(s["slug"], s["depth"]) for s in row["downstream"]] == [("web", 1)]


def test_associate_and_dissociate(incident, operator, viewer) -> None:
    url = f"/api/v1/incidents/{incident.pk}/services"
    assert send(viewer, "POST", url, {"service": "db"}).status_code == 403
    r = send(operator, "POST", url, {"service": "db"})
    assert r.status_code == 200, r.content
    rows = {row["slug"]: row for row in r.json()}
    assert rows["db"]["source"] == "manual" and rows["db"]["is_primary"] is True
    assert rows["api"]["is_primary"] is False
    incident.refresh_from_db()
    assert incident.primary_service.slug == "db"
    entry = incident.timeline.filter(type="ServicesChanged").get()
    assert entry.data == {"added": ["db"]} and entry.actor is not None
    # Associating again changes nothing.
    send(operator, "POST", url, {"service": "db"})
    assert incident.timeline.filter(type="ServicesChanged").count() == 1
    r = operator.delete(f"{url}/db")
    assert r.status_code == 200 and [row["slug"] for row in r.json()] == ["api"]
    r = send(operator, "DELETE", url, {"service": "api"})
    assert r.status_code == 200 and r.json() == []
    incident.refresh_from_db()
    assert incident.primary_service is None
    assert list(
        incident.timeline.filter(type="ServicesChanged").values_list("data", flat=True)
    ) == [{"added": ["db"]}, {"removed": ["db"]}, {"removed": ["api"]}]


def test_hostile_service_input(incident, operator) -> None:
    url = f"/api/v1/incidents/{incident.pk}/services"
    before = (IncidentService.objects.count(), TimelineEntry.objects.count())
    for body in (
        {"service": "ghost"},
        {"service": "Bad Slug"},
        {"service": "x" * 100},
        {"service": 5},
        {"service": ["db"]},
        {"service": "db\x00"},
        {"service": "<script>"},
        {},
        {"service": "db", "more": 1},
    ):
        r = send(operator, "POST", url, body)
        assert r.status_code == 400, (body, r.content)
    assert operator.delete(f"{url}/ghost").status_code == 400
    assert operator.delete(f"{url}/billing").status_code == 400  # not linked
    assert operator.delete(f"{url}/NOT%20A%20SLUG").status_code == 400
    assert operator.get("/api/v1/incidents/999999/services").status_code == 404
    assert (IncidentService.objects.count(), TimelineEntry.objects.count()) == before


def test_a_merged_incident_refuses_service_changes(incident, operator) -> None:
    from incidents import merging

    other = incident_services.create_incident(title="other", body="x", now=T0)
    merging.merge_incident(other, incident, now=T0 + MIN)
    r = send(operator, "POST", f"/api/v1/incidents/{other.pk}/services", {"service": "db"})
    assert r.status_code == 409 and "merged" in r.json()["detail"]


def test_incident_fields_and_counts(incident, viewer) -> None:
    from catalog.models import Service

    integration = make_integration("h", min_severity="info")
    extra = external_alert(integration, T0 + MIN, service=Service.objects.get(slug="db"))
    process_alerts([extra.pk], T0 + MIN)
    body = viewer.get(f"/api/v1/incidents/{incident.pk}").json()
    assert body["alert_count"] == 2 and body["active_alert_count"] == 2
    assert body["correlated_alert_count"] == 1
    assert body["affected_services"] == ["api", "db"]
    assert body["primary_service"] == "db"
    assert body["merged_into"] is None and body["status"] == "open"
    assert body["investigation_status"] == "idle" and body["investigation"] == ""
    assert body["last_correlated_at"].startswith("2026-05-04T12:01")
    extra.refresh_from_db()
    extra.status = "RESOLVED"
    extra.resolved_at = T0 + 5 * MIN
    extra.save()
    body = viewer.get(f"/api/v1/incidents/{incident.pk}").json()
    assert body["alert_count"] == 2 and body["active_alert_count"] == 1
    alerts = viewer.get(f"/api/v1/incidents/{incident.pk}/alerts").json()
    assert [a["id"] for a in alerts] == sorted(a["id"] for a in alerts) and len(alerts) == 2


def test_incident_filters(incident, viewer) -> None:
    other = incident_services.create_incident(
        title="Manual", body="x", now=T0 + 60 * MIN, severity="WARNING"
    )
    incident_services.acknowledge(other, now=T0 + 61 * MIN)
    done = incident_services.create_incident(title="Done", body="x", now=T0 + 120 * MIN)
    incident_services.resolve(done, note="n", classification="Resolved", now=T0 + 121 * MIN)

    def keys(**params: Any) -> list[str]:
        r = viewer.get("/api/v1/incidents", params)
        assert r.status_code == 200, r.content
        return [row["key"] for row in r.json()["results"]]

    assert keys(service="api") == [incident.key]
    assert keys(service="db") == []
    assert keys(status="open") == [other.key, incident.key]
    assert keys(status="Acknowledged") == [other.key]
    assert keys(status="unacknowledged") == [incident.key]
    assert keys(status="resolved") == [done.key]
    assert keys(status="INVESTIGATING") == [other.key, incident.key]
    assert keys(severity="WARNING") == [other.key]
    assert keys(**{"from": "2026-05-04T12:30:00Z"}) == [done.key, other.key]
    assert keys(limit=1) == [done.key]
    r = viewer.get("/api/v1/incidents", {"limit": 1, "page": 2})
    assert [row["key"] for row in r.json()["results"]] == [other.key]
    for params, field in [
        ({"service": "ghost"}, "service"),
        ({"service": "Bad Slug"}, "service"),
        ({"status": "closed"}, "status"),
        ({"status": "x" * 50}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"from": "yesterday"}, "from"),
    ]:
        r = viewer.get("/api/v1/incidents", params)
        assert r.status_code == 400 and field in r.json(), (params, r.content)


# --- console ------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_console_services_panel(incident, operator_user, viewer_user) -> None:
    client = _client(operator_user)
    url = reverse("incidents:detail", args=[incident.pk])
    page = client.get(url).content.decode()
    assert 'data-service="api"' in page and "Primary" in page
    assert "depends on" in page and "/console/services/db/" in page
    r = client.post(reverse("incidents:service_add", args=[incident.pk]), {"service": "billing"})
    assert r.status_code == 302
    assert incident.services.filter(slug="billing").exists()
    r = client.post(reverse("incidents:service_add", args=[incident.pk]), {"service": "ghost"})
    assert r.status_code == 400 and r.context["service_form"].errors["service"]
    r = client.post(reverse("incidents:service_remove", args=[incident.pk, "billing"]))
    assert r.status_code == 302 and not incident.services.filter(slug="billing").exists()
    viewer = _client(viewer_user)
    page = viewer.get(url).content.decode()
    assert 'data-service="api"' in page and "Add a service" not in page
    assert (
        viewer.post(
            reverse("incidents:service_add", args=[incident.pk]), {"service": "db"}
        ).status_code
        == 403
    )
    assert (
        viewer.post(reverse("incidents:service_remove", args=[incident.pk, "api"])).status_code
        == 403
    )
    assert timezone.now()


def test_console_shows_service_names_escaped(operator_user) -> None:
    evil = make_service("evil", name="<img src=x onerror=alert(1)>")
    incident = incident_services.create_incident(title="t", body="x", now=T0)
    IncidentService.objects.create(incident=incident, service=evil, source="manual", added_at=T0)
    page = (
        _client(operator_user).get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    )
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
