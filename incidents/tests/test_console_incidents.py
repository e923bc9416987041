"""Console pages of the incidents app through Django's test client: every view
for every role, list filters and paging, the lifecycle actions through the
services, inline validation errors, the Markdown preview and hostile input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ADMIN, OPERATOR, VIEWER
from alerting import rule_services
from incidents import services
from incidents.models import Incident, IncidentMonitor, Source, State, TimelineEntry
from monitors import services as monitor_services
from monitors.tests.factories import make_monitor, result

pytestmark = pytest.mark.django_db


def _user(username: str, role: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username, password=None, role=role)


@pytest.fixture
def users(db: None) -> dict[str, Any]:
    return {
        "admin": _user("admin-user", ADMIN),
        "operator": _user("operator-user", OPERATOR),
        "viewer": _user("viewer-user", VIEWER),
    }


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def incident() -> Incident:
    return services.create_incident(
        title="Slow logins", body="Looking into **it**.", now=timezone.now()
    )


def _open(title: str, **kwargs: Any) -> Incident:
    return services.create_incident(title=title, body="x", now=timezone.now(), **kwargs)


# --- access by role ---------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(incident: Incident) -> None:
    for url in (
        reverse("incidents:list"),
        reverse("incidents:detail", args=[incident.pk]),
        reverse("incidents:create"),
    ):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_viewer_reads_but_cannot_act(users: dict[str, Any], incident: Incident) -> None:
    viewer = client_for(users["viewer"])
    assert viewer.get(reverse("incidents:list")).status_code == 200
    page = viewer.get(reverse("incidents:detail", args=[incident.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Slow logins" in html
    assert "data-ack-form" not in html
    assert "Post an update" not in html
    pk = incident.pk
    posts = {
        "update": {"state": "IDENTIFIED", "body": "x"},
        "acknowledge": {},
        "resolve": {"classification": "Resolved", "note": "done"},
        "reopen": {"reason": "again"},
        "edit": {"title": "x"},
        "delete": {},
    }
    for action, data in posts.items():
        response = viewer.post(reverse(f"incidents:{action}", args=[pk]), data)
        assert response.status_code == 403, action
    assert viewer.post(reverse("incidents:preview"), {"body": "x"}).status_code == 403
    assert viewer.get(reverse("incidents:create")).status_code == 403
    incident.refresh_from_db()
    assert incident.state == State.INVESTIGATING
    assert incident.acknowledged_at is None


def test_operator_cannot_delete(users: dict[str, Any], incident: Incident) -> None:
    operator = client_for(users["operator"])
    assert operator.get(reverse("incidents:delete", args=[incident.pk])).status_code == 403
    assert operator.post(reverse("incidents:delete", args=[incident.pk])).status_code == 403
    html = operator.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert reverse("incidents:delete", args=[incident.pk]) not in html
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_admin_deletes_with_confirmation(users: dict[str, Any], incident: Incident) -> None:
    admin = client_for(users["admin"])
    url = reverse("incidents:delete", args=[incident.pk])
    confirm = admin.get(url)
    assert confirm.status_code == 200
    assert b"btn-danger" in confirm.content
    assert Incident.objects.filter(pk=incident.pk).exists()
    response = admin.post(url)
    assert response.status_code == 302
    assert not Incident.objects.filter(pk=incident.pk).exists()


# --- list ---------------------------------------------------------------------------


def test_list_empty_state(users: dict[str, Any]) -> None:
    html = client_for(users["operator"]).get(reverse("incidents:list")).content.decode()
    assert "No incidents yet" in html
    assert reverse("incidents:create") in html


def test_list_filters(users: dict[str, Any]) -> None:
    web = make_monitor(name="Web", tag="web")
    db = make_monitor(name="DB", tag="db")
    now = timezone.now()
    a = _open("Alpha outage", severity="WARNING", monitors=[(web, "DOWN")])
    b = _open("Beta outage", source=Source.ALERT, monitors=[(db, "DEGRADED")])
    c = _open("Gamma old", started_at=now - timedelta(days=10))
    services.resolve(c, note="fixed", classification="Resolved", now=now)
    client = client_for(users["viewer"])

    def keys(**params: str) -> set[str]:
        response = client.get(reverse("incidents:list"), params)
        assert response.status_code == 200
        return {i.title for i in response.context["page"].object_list}

    assert keys() == {"Alpha outage", "Beta outage", "Gamma old"}
    assert keys(state="open") == {"Alpha outage", "Beta outage"}
    assert keys(state="RESOLVED") == {"Gamma old"}
    assert keys(severity="WARNING") == {"Alpha outage"}
    assert keys(source="ALERT") == {"Beta outage"}
    assert keys(monitor="web") == {"Alpha outage"}
    old_day = (now - timedelta(days=10)).date().isoformat()
    assert keys(to=old_day) == {"Gamma old"}
    assert keys(**{"from": now.date().isoformat()}) == {"Alpha outage", "Beta outage"}
    assert keys(q="beta") == {"Beta outage"}
    assert keys(state="bogus", severity="nope", **{"from": "not-a-date"}) == {
        "Alpha outage",
        "Beta outage",
        "Gamma old",
    }
    html = client.get(reverse("incidents:list"), {"state": "MONITORING"}).content.decode()
    assert "No incidents match these filters" in html
    assert a.key in client.get(reverse("incidents:list")).content.decode()
    assert b.key in client.get(reverse("incidents:list")).content.decode()


def test_list_badges_have_icon_and_word(users: dict[str, Any], incident: Incident) -> None:
    html = client_for(users["viewer"]).get(reverse("incidents:list")).content.decode()
    assert 'class="badge badge-down" data-state="INVESTIGATING"' in html
    assert "Investigating</span>" in html
    assert 'aria-hidden="true">!</span>' in html


def test_list_paging_keeps_filters(users: dict[str, Any]) -> None:
    for n in range(30):
        _open(f"Incident {n}", severity="WARNING")
    _open("Critical one")
    client = client_for(users["viewer"])
    first = client.get(reverse("incidents:list"), {"severity": "WARNING"})
    assert first.context["page"].paginator.count == 30
    assert len(first.context["page"].object_list) == 25
    html = first.content.decode()
    assert "?severity=WARNING&amp;page=2" in html
    second = client.get(reverse("incidents:list"), {"severity": "WARNING", "page": 2})
    assert len(second.context["page"].object_list) == 5


# --- incident page and lifecycle ----------------------------------------------------


def test_detail_shows_timeline_updates_and_affected(users: dict[str, Any]) -> None:
    web = make_monitor(name="Payment API", tag="pay")
    incident = _open("Payments failing", monitors=[(web, "DEGRADED")])
    html = (
        client_for(users["operator"])
        .get(reverse("incidents:detail", args=[incident.pk]))
        .content.decode()
    )
    assert incident.key in html
    assert "Payment API" in html and "Degraded" in html
    assert 'data-type="Created"' in html
    assert "data-ack-form" in html
    assert 'id="resolve-dialog"' in html
    assert reverse("incidents:preview") in html


def test_post_update_changes_state(users: dict[str, Any], incident: Incident) -> None:
    client = client_for(users["operator"])
    response = client.post(
        reverse("incidents:update", args=[incident.pk]),
        {"state": "IDENTIFIED", "body": "Found it: *cache*."},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.IDENTIFIED
    update = incident.updates.first()
    assert update.author == users["operator"]
    html = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "<em>cache</em>" in html


def test_update_validation_error_inline(users: dict[str, Any], incident: Incident) -> None:
    response = client_for(users["operator"]).post(
        reverse("incidents:update", args=[incident.pk]), {"state": "IDENTIFIED", "body": "   "}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="body"' in html
    assert "has-error" in html
    assert incident.updates.count() == 1


def test_update_xss_is_neutralised(users: dict[str, Any], incident: Incident) -> None:
    client = client_for(users["operator"])
    body = (
        "<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[click](javascript:alert(2))"
    )
    client.post(
        reverse("incidents:update", args=[incident.pk]), {"state": "MONITORING", "body": body}
    )
    html = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "<script>alert" not in html
    assert "onerror" not in html
    assert "javascript:alert" not in html


def test_preview_renders_sanitised_markdown(users: dict[str, Any]) -> None:
    client = client_for(users["operator"])
    response = client.post(
        reverse("incidents:preview"),
        {"body": "**bold** <script>alert(1)</script> <img src=x onerror=alert(1)>"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "onerror" not in html
    empty = client.post(reverse("incidents:preview"), {"body": ""}).content.decode()
    assert "Nothing to preview" in empty


def test_acknowledge(users: dict[str, Any], incident: Incident) -> None:
    client = client_for(users["operator"])
    response = client.post(reverse("incidents:acknowledge", args=[incident.pk]))
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.acknowledged_by == users["operator"]
    assert incident.timeline.filter(type=TimelineEntry.Type.ACKNOWLEDGED).exists()


def test_resolve_needs_classification_and_note(users: dict[str, Any], incident: Incident) -> None:
    client = client_for(users["operator"])
    url = reverse("incidents:resolve", args=[incident.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"classification": "", "note": ""})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'data-field="classification"' in html and 'data-field="note"' in html
    assert html.count('class="errors"') >= 2
    ok = client.post(url, {"classification": "FalsePositive", "note": "Flaky probe."})
    assert ok.status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.RESOLVED
    assert incident.resolution_classification == "FalsePositive"
    again = client.post(url, {"classification": "Resolved", "note": "again"})
    assert again.status_code == 400
    assert "already resolved" in again.content.decode()


def test_reopen_button_on_resolved(users: dict[str, Any], incident: Incident) -> None:
    client = client_for(users["operator"])
    detail = reverse("incidents:detail", args=[incident.pk])
    assert "Reopen" not in client.get(detail).content.decode()
    services.resolve(incident, note="ok", classification="Resolved", now=timezone.now())
    html = client.get(detail).content.decode()
    assert "Reopen" in html and 'id="resolve-dialog"' not in html
    bad = client.post(reverse("incidents:reopen", args=[incident.pk]), {"reason": ""})
    assert bad.status_code == 400
    response = client.post(reverse("incidents:reopen", args=[incident.pk]), {"reason": "Back"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.INVESTIGATING
    assert incident.reopen_count == 1


def test_create_incident_form(users: dict[str, Any]) -> None:
    web = make_monitor(name="Web", tag="web")
    db = make_monitor(name="DB", tag="db")
    client = client_for(users["operator"])
    url = reverse("incidents:create")
    page = client.get(url)
    assert page.status_code == 200
    assert f'name="impact_{web.pk}"' in page.content.decode()
    bad = client.post(url, {"title": "", "state": "INVESTIGATING", "severity": "CRITICAL"})
    assert bad.status_code == 400
    assert 'data-field="title"' in bad.content.decode()
    assert not Incident.objects.exists()
    response = client.post(
        url,
        {
            "title": "Database maintenance overrun",
            "state": "IDENTIFIED",
            "severity": "WARNING",
            f"impact_{web.pk}": "DEGRADED",
            f"impact_{db.pk}": "MAINTENANCE",
            "body": "We are *on it*.",
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.state == State.IDENTIFIED
    assert incident.severity == "WARNING"
    assert incident.source == Source.DASHBOARD
    assert dict(incident.affected.values_list("monitor__tag", "impact")) == {
        "web": "DEGRADED",
        "db": "MAINTENANCE",
    }
    assert response["Location"] == reverse("incidents:detail", args=[incident.pk])


def test_edit_incident(users: dict[str, Any]) -> None:
    web = make_monitor(name="Web", tag="web")
    incident = _open("Old title", monitors=[(web, "DOWN")])
    client = client_for(users["operator"])
    url = reverse("incidents:edit", args=[incident.pk])
    assert client.get(url).status_code == 200
    start = incident.started_at - timedelta(hours=1)
    bad = client.post(
        url,
        {
            "title": "New title",
            "severity": "CRITICAL",
            "started_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ended_at": (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            f"impact_{web.pk}": "DOWN",
        },
    )
    assert bad.status_code == 400
    assert "not be before the start" in bad.content.decode()
    ok = client.post(
        url,
        {
            "title": "New title",
            "severity": "WARNING",
            "started_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ended_at": "",
            f"impact_{web.pk}": "",
        },
    )
    assert ok.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "New title"
    assert incident.severity == "WARNING"
    assert incident.started_at.strftime("%Y-%m-%dT%H:%M") == start.strftime("%Y-%m-%dT%H:%M")
    assert not IncidentMonitor.objects.filter(incident=incident).exists()
    assert incident.timeline.filter(type=TimelineEntry.Type.EDITED).exists()


def test_incident_opened_by_real_alert_evaluation(users: dict[str, Any]) -> None:
    monitor = make_monitor(name="Payment API", tag="pay")
    now = timezone.now()
    rule_services.create_rule(
        {"monitors": [monitor], "kind": "STATUS", "value": "DOWN", "failure_threshold": 2},
        now=now,
    )
    start = now - timedelta(minutes=5)
    monitor_services.record_results(
        [result(monitor, start + timedelta(minutes=i), "DOWN", None) for i in range(2)], now=now
    )
    incident = Incident.objects.get()
    assert incident.source == Source.ALERT
    client = client_for(users["viewer"])
    listed = client.get(reverse("incidents:list"), {"source": "ALERT", "monitor": "pay"})
    assert [i.pk for i in listed.context["page"].object_list] == [incident.pk]
    html = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Payment API STATUS: DOWN" in html
    assert 'data-type="AlertTriggered"' in html
