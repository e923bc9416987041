"""Manual merges through the services, the API and the console: moving an
alert between incidents (counters, services and primary recomputed on both,
timeline on both) and folding an incident into another (alerts, services and
monitors move, the source is resolved as Duplicate with merged_into), with the
refusals (self, merged, resolved, unknown ids, wrong types) leaving no trace."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alerting.correlation_services import process_alerts
from alerting.models import Alert
from catalog.tests.factories import chain, external_alert, make_integration, make_service
from incidents import merging
from incidents import services as incident_services
from incidents.models import Incident, IncidentMonitor, IncidentService, TimelineEntry
from incidents.services import IncidentError
from monitors.tests.factories import make_monitor

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.fixture
def world(db) -> dict[str, Any]:
    """Two incidents: db+api (3 alerts) and billing (2 alerts)."""
    integration = make_integration("grafana", source="grafana", min_severity="info")
    web, api, dbs = chain("web", "api", "db")
    billing = make_service("billing")
    a = [
        external_alert(integration, T0, service=dbs, title="db down"),
        external_alert(integration, T0 + MIN, service=api, title="api 5xx"),
        external_alert(integration, T0 + MIN, service=api, title="api slow"),
        external_alert(integration, T0, service=billing, title="billing down"),
        external_alert(integration, T0 + MIN, service=billing, title="billing slow"),
    ]
    process_alerts([x.pk for x in a], T0 + 2 * MIN)
    for x in a:
        x.refresh_from_db()
    return {
        "alerts": a,
        "db_incident": a[0].incident,
        "billing_incident": a[3].incident,
        "services": {"web": web, "api": api, "db": dbs, "billing": billing},
        "integration": integration,
    }


def test_merge_alert_moves_it_and_recounts_both(world) -> None:
    target, source = world["db_incident"], world["billing_incident"]
    moved = world["alerts"][4]
    merging.merge_alert(target, moved, now=T0 + 5 * MIN)
    moved.refresh_from_db()
    target.refresh_from_db()
    source.refresh_from_db()
    assert moved.incident == target
    assert target.correlated_alert_count == 3 and source.correlated_alert_count == 0
    assert set(target.services.values_list("slug", flat=True)) == {"db", "api", "billing"}
    # billing still has its opener alert in the source: the link stays there.
    assert set(source.services.values_list("slug", flat=True)) == {"billing"}
    assert target.timeline.filter(type="AlertMerged", data__alert=moved.pk).exists()
    assert source.timeline.filter(type="AlertMerged", data__alert=moved.pk).exists()
    # Move the last billing alert too: the alert-sourced link leaves the source.
    merging.merge_alert(target, world["alerts"][3], now=T0 + 6 * MIN)
    assert not source.service_links.exists()
    source.refresh_from_db()
    assert source.primary_service is None and source.state == "INVESTIGATING"


def test_merge_alert_refusals(world) -> None:
    target = world["db_incident"]
    with pytest.raises(IncidentError) as exc:
        merging.merge_alert(target, world["alerts"][0], now=T0)
    assert exc.value.field == "alert"
    incident_services.resolve(target, note="done", classification="Resolved", now=T0 + MIN)
    with pytest.raises(IncidentError) as exc:
        merging.merge_alert(target, world["alerts"][3], now=T0 + 2 * MIN)
    assert exc.value.field is None and "resolved" in exc.value.message
    assert world["alerts"][3].incident == world["billing_incident"]


def test_merge_alert_without_incident_and_a_rule_alert_monitor(world) -> None:
    stray = external_alert(world["integration"], T0, title="stray", severity="INFO")
    merging.merge_alert(world["billing_incident"], stray, now=T0 + MIN)
    stray.refresh_from_db()
    assert stray.incident == world["billing_incident"]
    assert world["billing_incident"].timeline.filter(type="AlertMerged").count() == 1


def test_merge_incident_folds_everything_into_the_target(world) -> None:
    source, target = world["billing_incident"], world["db_incident"]
    monitor = make_monitor(tag="billing-check", service=world["services"]["billing"])
    IncidentMonitor.objects.create(incident=source, monitor=monitor, impact="DOWN")
    incident_services.acknowledge(source, now=T0 + MIN, note="looking")
    merging.merge_incident(source, target, now=T0 + 5 * MIN)
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.merged_into == target and source.state == "RESOLVED"
    assert source.resolution_classification == "Duplicate"
    assert source.resolve_note == f"Merged into {target.key}."
    assert source.correlated_alert_count == 0
    assert Alert.objects.filter(incident=source).count() == 0
    assert Alert.objects.filter(incident=target).count() == 5
    assert target.correlated_alert_count == 4
    assert set(target.services.values_list("slug", flat=True)) == {"db", "api", "billing"}
    assert target.primary_service == world["services"]["db"]
    assert IncidentMonitor.objects.filter(incident=target, monitor=monitor).exists()
    assert source.timeline.filter(type="MergedInto", data__into=target.pk).exists()
    entry = target.timeline.get(type="IncidentMerged")
    assert entry.data["from"] == source.pk and len(entry.data["alerts"]) == 2
    # A merged incident is no candidate for correlation any more.
    late = external_alert(world["integration"], T0 + 6 * MIN, service=world["services"]["billing"])
    process_alerts([late.pk], T0 + 6 * MIN)
    late.refresh_from_db()
    assert late.incident == target  # billing is in the target now


def test_merge_incident_refusals_leave_no_trace(world) -> None:
    source, target = world["billing_incident"], world["db_incident"]
    entries = TimelineEntry.objects.count()
    with pytest.raises(IncidentError) as exc:
        merging.merge_incident(source, source, now=T0)
    assert exc.value.field == "into"
    merging.merge_incident(source, target, now=T0 + MIN)
    entries = TimelineEntry.objects.count()
    third = incident_services.create_incident(title="third", body="x", now=T0)
    entries = TimelineEntry.objects.count()
    for src, dst, words in [
        (third, source, "merged into another"),
        (source, third, "already merged"),
    ]:
        with pytest.raises(IncidentError) as exc:
            merging.merge_incident(src, dst, now=T0 + 2 * MIN)
        assert exc.value.field is None and words in exc.value.message
    incident_services.resolve(third, note="n", classification="NoImpact", now=T0 + 3 * MIN)
    entries = TimelineEntry.objects.count()
    with pytest.raises(IncidentError):
        merging.merge_incident(third, target, now=T0 + 4 * MIN)
    with pytest.raises(IncidentError):
        merging.merge_incident(target, third, now=T0 + 4 * MIN)
    assert TimelineEntry.objects.count() == entries
    assert Incident.objects.get(pk=target.pk).state == "INVESTIGATING"


# --- API ---------------------------------------------------------------------------


def post(client, url: str, body: Any):
    return client.generic("POST", url, json.dumps(body), content_type="application/json")


@pytest.fixture
def operator(api_client_for, operator_user):
    return api_client_for(operator_user)


def test_api_merge_alert_and_merge(world, operator, api_client_for, viewer_user) -> None:
    source, target = world["billing_incident"], world["db_incident"]
    url = f"/api/v1/incidents/{target.pk}"
    assert post(api_client_for(viewer_user), f"{url}/merge-alert", {"alert": 1}).status_code == 403
    r = post(operator, f"{url}/merge-alert", {"alert": world["alerts"][4].pk})
    assert r.status_code == 200, r.content
    assert r.json()["alert_count"] == 4 and r.json()["correlated_alert_count"] == 3
    r = post(operator, f"/api/v1/incidents/{source.pk}/merge", {"into": target.key})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["id"] == target.pk and body["alert_count"] == 5
    assert sorted(body["affected_services"]) == ["api", "billing", "db"]
    got = operator.get(f"/api/v1/incidents/{source.pk}").json()
    assert got["merged_into"] == target.key and got["resolution_classification"] == "Duplicate"


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"alert": 999999}, "alert", 400),
        ({"alert": "1"}, None, None),  # a numeric string is an id: valid shape
        ({"alert": "x"}, "alert", 400),
        ({"alert": -1}, "alert", 400),
        ({"alert": 2**70}, "alert", 400),
        ({"alert": None}, "alert", 400),
        ({"alert": [1]}, "alert", 400),
        ({}, "alert", 400),
        ({"alert": 1, "extra": 2}, "extra", 400),
    ],
)
def test_api_merge_alert_hostile(world, operator, body, field, status) -> None:
    target = world["db_incident"]
    before = TimelineEntry.objects.count()
    r = post(operator, f"/api/v1/incidents/{target.pk}/merge-alert", body)
    if field is None:
        return
    assert r.status_code == status and field in r.json(), r.content
    assert TimelineEntry.objects.count() == before


def test_api_merge_hostile(world, operator) -> None:
    source, target = world["billing_incident"], world["db_incident"]
    url = f"/api/v1/incidents/{source.pk}/merge"
    for body, field in [
        ({"into": source.pk}, "into"),
        ({"into": 99999}, "into"),
        ({"into": "INC-x"}, "into"),
        ({"into": True}, "into"),
        ({"into": 0}, "into"),
        ({"into": {"id": 1}}, "into"),
        ({}, "into"),
    ]:
        r = post(operator, url, body)
        assert r.status_code == 400 and field in r.json(), (body, r.content)
    assert (
        post(
            operator, f"/api/v1/incidents/{target.pk}/merge-alert", {"alert": world["alerts"][0].pk}
        ).status_code
        == 400
    )
    assert post(operator, url, {"into": target.pk}).status_code == 200
    r = post(operator, url, {"into": target.pk})  # again: already merged
    assert r.status_code == 409 and "already merged" in r.json()["detail"]
    r = post(operator, f"/api/v1/incidents/{target.pk}/merge", {"into": source.pk})
    assert r.status_code == 409
    assert post(operator, "/api/v1/incidents/999999/merge", {"into": target.pk}).status_code == 404


# --- console -----------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_console_merge_alert_and_merge_with_confirmation(world, operator_user, viewer_user) -> None:
    source, target = world["billing_incident"], world["db_incident"]
    client = _client(operator_user)
    page = client.get(reverse("incidents:detail", args=[target.pk])).content.decode()
    assert "Move here" in page and "Merge…" in page
    r = client.post(reverse("incidents:merge_alert", args=[target.pk]), {"alert": "abc"})
    assert r.status_code == 400 and r.context["merge_alert_form"].errors["alert"]
    r = client.post(reverse("incidents:merge_alert", args=[target.pk]), {"alert": "999999"})
    assert r.status_code == 400 and "No alert has this number" in r.content.decode()
    r = client.post(
        reverse("incidents:merge_alert", args=[target.pk]), {"alert": world["alerts"][4].pk}
    )
    assert r.status_code == 302
    confirm = client.get(reverse("incidents:merge", args=[source.pk]))
    assert confirm.status_code == 200 and "Duplicate" in confirm.content.decode()
    assert target.key in confirm.content.decode()
    assert Incident.objects.get(pk=source.pk).merged_into is None  # GET changes nothing
    r = client.post(reverse("incidents:merge", args=[source.pk]), {"into": "not-a-number"})
    assert r.status_code == 400
    r = client.post(reverse("incidents:merge", args=[source.pk]), {"into": target.pk})
    assert r.status_code == 302 and r["Location"] == reverse("incidents:detail", args=[target.pk])
    page = client.get(reverse("incidents:detail", args=[source.pk])).content.decode()
    assert f'Merged into <a href="/console/incidents/{target.pk}/">{target.key}</a>' in page
    viewer = _client(viewer_user)
    assert viewer.post(reverse("incidents:merge", args=[target.pk]), {"into": 1}).status_code == 403
    assert (
        viewer.post(reverse("incidents:merge_alert", args=[target.pk]), {"alert": 1}).status_code
        == 403
    )
    assert IncidentService.objects.filter(incident=target).count() == 3
    assert timezone.now()
