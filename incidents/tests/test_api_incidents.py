"""Incidents API: list/filters, create, edit, delete, updates, timeline and the
lifecycle actions (acknowledge, resolve, reopen), with hostile input.

Every refused request must leave the database as it was: no half-written
incident, update or timeline row.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from alerting.models import Alert, AlertRule
from incidents.models import Incident, IncidentMonitor, IncidentUpdate, TimelineEntry
from monitors.services import record_results
from monitors.tests.factories import make_monitor, result

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents"
HOSTILE_MARKDOWN = (
    "Hello <script>alert(1)</script> <img src=x onerror=alert(2)> "
    '<a href="javascript:alert(3)">x</a> [y](javascript:alert(4)) '
    '<p onclick="alert(5)">p</p> **bold** ünïcødé 🚨'
)


@pytest.fixture
def admin(api_client_for, admin_user):
    return api_client_for(admin_user)


@pytest.fixture
def operator(api_client_for, operator_user):
    return api_client_for(operator_user)


@pytest.fixture
def viewer(api_client_for, viewer_user):
    return api_client_for(viewer_user)


def post_json(client, url: str, body: Any):
    """POST ``body`` as JSON via json.dumps (which can escape lone surrogates)."""
    return client.generic("POST", url, json.dumps(body), content_type="application/json")


def counts() -> tuple[int, int, int, int]:
    return (
        Incident.objects.count(),
        IncidentUpdate.objects.count(),
        TimelineEntry.objects.count(),
        IncidentMonitor.objects.count(),
    )


def assert_rejected(response, field: str | None, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    if field is None:
        assert "detail" in body, body
    else:
        assert body.get(field), body
    return body


def alert_incident() -> tuple[Alert, Incident]:
    """An incident opened by the real alert path (two DOWN results, threshold 2)."""
    monitor = make_monitor(tag="api", name="Payment API")
    rule = AlertRule.objects.create(kind="STATUS", value="DOWN", failure_threshold=2)
    rule.monitors.add(monitor)
    start = timezone.now() - timedelta(minutes=10)
    record_results(
        [result(monitor, start, "DOWN"), result(monitor, start + timedelta(minutes=1), "DOWN")],
        now=start + timedelta(minutes=1),
    )
    alert = Alert.objects.get()
    assert alert.incident is not None
    return alert, alert.incident


def create(operator, **overrides: Any) -> dict[str, Any]:
    body = {"title": "Checkout errors", "body": "We are looking into it.", **overrides}
    response = operator.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


# --- Reading -------------------------------------------------------------------------


def test_alert_opened_incident_is_listed_with_its_fields(viewer) -> None:
    alert, incident = alert_incident()
    response = viewer.get(URL)
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 1
    item = page["results"][0]
    assert item["id"] == incident.pk and item["key"] == incident.key
    assert item["title"] == "Payment API STATUS: DOWN"
    assert item["source"] == "ALERT" and item["state"] == "INVESTIGATING"
    assert item["monitors"] == [{"tag": "api", "impact": "DOWN", "impact_removed_at": None}]
    assert item["alerts"] == [alert.pk]
    assert item["follow_up_of"] is None and item["reopen_count"] == 0
    assert viewer.get(f"{URL}/{incident.pk}").json() == item

    updates = viewer.get(f"{URL}/{incident.pk}/updates").json()
    assert len(updates) == 1 and updates[0]["state"] == "INVESTIGATING"
    timeline = viewer.get(f"{URL}/{incident.pk}/timeline").json()
    assert [e["type"] for e in timeline] == ["Created", "AlertTriggered"]


def test_list_filters(viewer, operator) -> None:
    _, from_alert = alert_incident()
    manual = create(operator, severity="WARNING", monitors=[{"tag": "api", "impact": "DEGRADED"}])
    other = create(operator, title="Other")

    def keys(query: str) -> set[str]:
        response = viewer.get(URL + query)
        assert response.status_code == 200, response.json()
        return {row["key"] for row in response.json()["results"]}

    assert keys("?source=ALERT") == {from_alert.key}
    assert keys("?source=DASHBOARD") == {manual["key"], other["key"]}
    assert keys("?severity=WARNING") == {manual["key"]}
    assert keys("?monitor=api") == {from_alert.key, manual["key"]}
    assert keys("?state=RESOLVED") == set()
    past = (timezone.now() - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    assert keys(f"?from={past}") == {manual["key"], other["key"]}
    assert keys(f"?to={past}") == {from_alert.key}
    assert viewer.get(URL + "?page_size=1").json()["count"] == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?state=BROKEN", "state"),
        ("?source=EMAIL", "source"),
        ("?severity=LOW", "severity"),
        ("?monitor=nope", "monitor"),
        ("?monitor=%00", "monitor"),
        ("?from=not-a-date", "from"),
        ("?to=2030-13-45", "to"),
    ],
)
def test_bad_filters_are_400(viewer, query: str, field: str) -> None:
    assert_rejected(viewer.get(URL + query), field)


def test_unknown_incident_is_404(viewer) -> None:
    for pk in ("999", "99999999999999999999999"):
        assert viewer.get(f"{URL}/{pk}").status_code == 404
        assert viewer.get(f"{URL}/{pk}/timeline").status_code == 404


# --- Creating ------------------------------------------------------------------------


def test_create_incident_with_markdown_is_sanitised(operator, operator_user) -> None:
    make_monitor(tag="api")
    body = create(
        operator,
        state="IDENTIFIED",
        severity="WARNING",
        monitors=[{"tag": "api", "impact": "MAINTENANCE"}],
        body=HOSTILE_MARKDOWN,
    )
    assert body["state"] == "IDENTIFIED" and body["source"] == "DASHBOARD"
    assert body["monitors"][0]["impact"] == "MAINTENANCE"
    update = IncidentUpdate.objects.get()
    assert update.body == HOSTILE_MARKDOWN
    assert update.author == operator_user
    html = update.html.lower()
    assert "<script" not in html and "javascript:" not in html
    assert "onerror" not in html and "onclick" not in html
    assert "<strong>bold</strong>" in html and "🚨" in update.html
    [shown] = operator.get(f"{URL}/{body['id']}/updates").json()
    assert shown["html"] == update.html and shown["author"] == operator_user.username


def test_roles_for_incidents(viewer, operator, admin, api_client_for) -> None:
    assert api_client_for(None).get(URL).status_code == 401
    assert viewer.post(URL, {"title": "x", "body": "y"}, format="json").status_code == 403
    incident = create(operator)
    url = f"{URL}/{incident['id']}"
    assert viewer.patch(url, {"title": "z"}, format="json").status_code == 403
    assert viewer.post(f"{url}/acknowledge", {}, format="json").status_code == 403
    assert viewer.post(f"{url}/updates", {"state": "MONITORING", "body": "b"}).status_code == 403
    assert operator.delete(url).status_code == 403
    assert admin.delete(url).status_code == 204
    assert counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "t" * 301}, "title"),
        ({"title": "nul\x00"}, "title"),
        ({"title": "\udfff"}, "title"),
        ({"title": ["list"]}, "title"),
        ({"body": ""}, "body"),
        ({"body": "b" * 20001}, "body"),
        ({"body": "a\x00b"}, "body"),
        ({"body": {"md": "x"}}, "body"),
        ({"state": "OPEN"}, "state"),
        ({"severity": "LOW"}, "severity"),
        ({"monitors": [{"tag": "api", "impact": "UP"}]}, "monitors"),
        ({"monitors": [{"tag": "nope", "impact": "DOWN"}]}, "monitors"),
        (
            {"monitors": [{"tag": "api", "impact": "DOWN"}, {"tag": "api", "impact": "DEGRADED"}]},
            "monitors",
        ),
        ({"monitors": ["api"]}, "monitors"),
        ({"monitors": [{"tag": "api"}]}, "monitors"),
        ({"monitors": [{"tag": "api", "impact": "DOWN", "extra": 1}]}, "monitors"),
        ({"monitors": {"tag": "api"}}, "monitors"),
        ({"monitors": [{"tag": "a\x00", "impact": "DOWN"}]}, "monitors"),
        ({"source": "ALERT"}, "source"),
        ({"key": "INC-000001"}, "key"),
    ],
)
def test_hostile_create_is_400_and_writes_nothing(operator, overrides, field) -> None:
    make_monitor(tag="api")
    body = {"title": "Checkout errors", "body": "Looking.", **overrides}
    assert_rejected(post_json(operator, URL, body), field)
    assert counts() == (0, 0, 0, 0)


def test_unparseable_create_bodies(operator) -> None:
    raw = operator.generic("POST", URL, b"\xff\xfe", content_type="application/json")
    assert_rejected(raw, None)
    assert_rejected(operator.post(URL, "nope", format="json"), "non_field_errors")
    form = operator.generic("POST", URL, "title=x", "application/x-www-form-urlencoded")
    assert_rejected(form, None, status=415)
    assert counts() == (0, 0, 0, 0)


# --- Editing -------------------------------------------------------------------------


def test_patch_incident_edits_through_the_service(operator) -> None:
    make_monitor(tag="api")
    make_monitor(tag="web")
    incident = create(operator, monitors=[{"tag": "api", "impact": "DOWN"}])
    url = f"{URL}/{incident['id']}"
    started = "2030-01-01T10:00:00Z"
    response = operator.patch(
        url,
        {
            "title": "Renamed",
            "severity": "WARNING",
            "started_at": started,
            "monitors": [{"tag": "web", "impact": "DEGRADED"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["title"] == "Renamed" and body["severity"] == "WARNING"
    assert body["started_at"] == started
    assert body["monitors"] == [{"tag": "web", "impact": "DEGRADED", "impact_removed_at": None}]
    edited = TimelineEntry.objects.filter(type=TimelineEntry.Type.EDITED).get()
    assert "monitors" in edited.message and "title" in edited.message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"severity": "LOW"}, "severity"),
        ({"started_at": "soon"}, "started_at"),
        ({"ended_at": "2000-01-01T00:00:00Z"}, "ended_at"),  # before the start: the service says no
        ({"monitors": [{"tag": "api", "impact": "DOWN"}] * 2}, "monitors"),
        ({"state": "RESOLVED"}, "state"),
        ({"title": "ok", "id": 5, "bogus": 1}, "bogus"),
    ],
)
def test_hostile_patch_is_400_and_changes_nothing(operator, body, field) -> None:
    make_monitor(tag="api")
    incident = create(operator, monitors=[{"tag": "api", "impact": "DOWN"}])
    before = counts(), Incident.objects.values().get()
    response = operator.generic(
        "PATCH", f"{URL}/{incident['id']}", json.dumps(body), content_type="application/json"
    )
    assert_rejected(response, field)
    assert (counts(), Incident.objects.values().get()) == before


def test_put_is_not_allowed(operator) -> None:
    incident = create(operator)
    response = operator.put(f"{URL}/{incident['id']}", {"title": "x"}, format="json")
    assert response.status_code == 405


# --- Updates and lifecycle -----------------------------------------------------------


def test_post_update_moves_the_state(operator) -> None:
    incident = create(operator)
    url = f"{URL}/{incident['id']}/updates"
    response = operator.post(url, {"state": "MONITORING", "body": "Fix deployed."}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["html"] == "<p>Fix deployed.</p>"
    assert Incident.objects.get().state == "MONITORING"
    for body, field in [
        ({"state": "MONITORING", "body": "  "}, "body"),
        ({"state": "DONE", "body": "x"}, "state"),
        ({"body": "x"}, "state"),
        ({"state": "MONITORING", "body": "x", "html": "<b>"}, None),
    ]:
        before = counts()
        response = post_json(operator, url, body)
        if field is None:  # html is read-only: accepted and ignored
            assert response.status_code == 201
            assert IncidentUpdate.objects.first().html == "<p>x</p>"
        else:
            assert_rejected(response, field)
            assert counts() == before


def test_acknowledge(operator, operator_user) -> None:
    incident = create(operator)
    url = f"{URL}/{incident['id']}/acknowledge"
    response = operator.post(url, {"note": "on it"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["acknowledged_by"] == operator_user.username
    assert body["acknowledged_at"] is not None and body["acknowledge_note"] == "on it"
    assert operator.post(url).status_code == 200  # the note is optional
    assert_rejected(post_json(operator, url, {"note": "n" * 5001}), "note")
    assert_rejected(post_json(operator, url, {"note": 5, "x": 1}), "x")


def test_resolve_and_reopen(operator) -> None:
    incident = create(operator)
    url = f"{URL}/{incident['id']}"
    before = counts()
    assert_rejected(
        post_json(operator, f"{url}/resolve", {"note": " ", "classification": "Resolved"}), "note"
    )
    assert_rejected(
        post_json(operator, f"{url}/resolve", {"note": "ok", "classification": "Fixed"}),
        "classification",
    )
    assert_rejected(post_json(operator, f"{url}/resolve", {"note": "ok"}), "classification")
    assert_rejected(post_json(operator, f"{url}/reopen", {"reason": "x"}), None, status=409)
    assert counts() == before

    response = operator.post(
        f"{url}/resolve", {"note": "Rolled back.", "classification": "Resolved"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "RESOLVED" and body["ended_at"] is not None
    assert (
        body["resolve_note"] == "Rolled back." and body["resolution_classification"] == "Resolved"
    )
    assert body["active_alert_count_at_resolution"] == 0

    before = counts()
    again = post_json(operator, f"{url}/resolve", {"note": "x", "classification": "Resolved"})
    assert_rejected(again, None, status=409)
    assert_rejected(post_json(operator, f"{url}/reopen", {}), "reason")
    assert_rejected(post_json(operator, f"{url}/reopen", {"reason": ""}), "reason")
    assert_rejected(post_json(operator, f"{url}/reopen", {"reason": "r" * 301}), "reason")
    assert counts() == before

    reopened = operator.post(f"{url}/reopen", {"reason": "Errors are back."}, format="json")
    assert reopened.status_code == 200, reopened.json()
    body = reopened.json()
    assert body["state"] == "INVESTIGATING" and body["reopen_count"] == 1
    assert body["reopen_reason"] == "Errors are back." and body["last_reopened_at"]
    types = [e["type"] for e in operator.get(f"{url}/timeline").json()]
    assert types == ["Created", "Resolved", "Reopened"]


def test_resolving_an_alert_incident_counts_active_alerts(operator) -> None:
    alert, incident = alert_incident()
    response = operator.post(
        f"{URL}/{incident.pk}/resolve",
        {"note": "Mitigated.", "classification": "NoImpact"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["active_alert_count_at_resolution"] == 1
    alert.refresh_from_db()
    assert alert.status == "TRIGGERED" and alert.post_resolution_watch_since is not None


def test_recovery_resolves_and_shows_impact_removed(viewer) -> None:
    alert, incident = alert_incident()
    start = timezone.now() - timedelta(minutes=5)
    record_results(
        [result(alert.monitor, start, "UP"), result(alert.monitor, start + timedelta(minutes=1))],
        now=start + timedelta(minutes=1),
    )
    body = viewer.get(f"{URL}/{incident.pk}").json()
    assert body["state"] == "RESOLVED"
    assert body["monitors"][0]["impact_removed_at"] is not None
    events = viewer.get(f"/api/v1/alert-events?incident={incident.key}").json()
    assert [e["status"] for e in events] == ["RESOLVED", "TRIGGERED"]
