"""``POST /incidents/{id}/assign`` and ``/escalate`` and the ``assignee`` filter:
happy paths, roles, hostile input (wrong types, unknown ids, duplicates, 10 kB
strings, unicode, markup), errors naming the field; and one escalation sent
through the real engine to a real local HTTP receiver."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from accounts.roles import ADMIN, OPERATOR, VIEWER
from incidents import services
from incidents.models import Incident, TimelineEntry
from monitors.tests.factories import make_monitor
from monitors.tests.servers import Reply, Request, serve_http
from notifications import planning, sending
from notifications.models import Delivery, Event, Notification
from notifications.tests.trigger_helpers import make_trigger

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
HUGE = "x" * 10_000
NASTY = '<script>alert(1)</script> "ünï" 🚨 \\ \n'


def user(name: str, role: str = OPERATOR, **extra: Any) -> Any:
    return get_user_model().objects.create_user(username=name, password=None, role=role, **extra)


@pytest.fixture
def operator(api_client_for, operator_user):
    return api_client_for(operator_user)


@pytest.fixture
def viewer(api_client_for, viewer_user):
    return api_client_for(viewer_user)


@pytest.fixture
def incident(db) -> Incident:
    return services.create_incident(title="Checkout errors", body="Looking.", now=T0)


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


# --- assign --------------------------------------------------------------------------


def test_assign_by_id_by_username_and_unassign(incident, operator, operator_user) -> None:
    alice = user("alice")
    url = f"/api/v1/incidents/{incident.pk}/assign"
    r = post(operator, url, {"assignee": alice.pk})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["assignee"] == {"id": alice.pk, "username": "alice"}
    assert body["assigned_at"] is not None

    r = post(operator, url, {"assignee": "operator-user"})
    assert r.json()["assignee"] == {"id": operator_user.pk, "username": "operator-user"}
    r = post(operator, url, {"assignee": None})
    assert r.status_code == 200 and r.json()["assignee"] is None
    assert r.json()["assigned_at"] is None
    messages = list(
        incident.timeline.filter(type=TimelineEntry.Type.ASSIGNED).values_list("message", flat=True)
    )
    assert messages == [
        "assigned to alice",
        "assigned to operator-user (was alice)",
        "unassigned (was operator-user)",
    ]
    # The timeline endpoint shows the entries with their data.
    rows = operator.get(f"/api/v1/incidents/{incident.pk}/timeline").json()
    assert rows[-1]["type"] == "Assigned" and rows[-1]["data"]["previous"] == operator_user.pk


def test_the_incident_shows_its_assignee(incident, viewer) -> None:
    services.assign(incident, assignee=user("alice"), now=T0)
    body = viewer.get(f"/api/v1/incidents/{incident.pk}").json()
    assert body["assignee"]["username"] == "alice"
    assert body["assigned_at"] == "2026-05-04T12:00:00Z"


def test_viewers_cannot_assign_and_unknown_incidents_are_404(
    incident, viewer, operator, api_client_for
) -> None:
    url = f"/api/v1/incidents/{incident.pk}/assign"
    assert post(viewer, url, {"assignee": None}).status_code == 403
    assert post(api_client_for(None), url, {"assignee": None}).status_code in (401, 403)
    assert post(operator, "/api/v1/incidents/999999/assign", {"assignee": None}).status_code == 404
    assert not incident.timeline.filter(type=TimelineEntry.Type.ASSIGNED).exists()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "required"),
        ({"assignee": True}, "A user id"),
        ({"assignee": 1.5}, "A user id"),
        ({"assignee": [1]}, "A user id"),
        ({"assignee": {"id": 1}}, "A user id"),
        ({"assignee": ""}, "A user id"),
        ({"assignee": 0}, "No user"),
        ({"assignee": -3}, "No user"),
        ({"assignee": 2**70}, "No user"),
        ({"assignee": 987654}, "No user"),
        ({"assignee": "nobody-here"}, "No user"),
        ({"assignee": HUGE}, "No user"),
        ({"assignee": NASTY}, "No user"),
        ({"assignee": "ünï🚨"}, "No user"),
        ({"assignee": "vera"}, "viewer; only operators and admins"),
        ({"assignee": "gone"}, "not an active user"),
    ],
)
def test_bad_assignees_are_400_naming_the_field(incident, operator, body, reason) -> None:
    user("vera", VIEWER)
    user("gone", is_active=False)
    r = post(operator, f"/api/v1/incidents/{incident.pk}/assign", body)
    assert r.status_code == 400, r.content
    assert list(r.json()) == ["assignee"]
    assert reason in r.json()["assignee"][0]
    assert not incident.timeline.filter(type=TimelineEntry.Type.ASSIGNED).exists()


def test_unknown_keys_and_non_objects_are_refused(incident, operator) -> None:
    url = f"/api/v1/incidents/{incident.pk}/assign"
    r = post(operator, url, {"assignee": None, "<b>x</b>": 1})
    assert r.status_code == 400 and "<b>x</b>" in r.json()
    assert post(operator, url, ["assignee"]).status_code == 400
    r = operator.post(url, "{not json", content_type="application/json")
    assert r.status_code == 400


def test_merged_incident_is_a_409(incident, operator) -> None:
    other = services.create_incident(title="b", body="b", now=T0)
    Incident.objects.filter(pk=incident.pk).update(merged_into=other)
    r = post(operator, f"/api/v1/incidents/{incident.pk}/assign", {"assignee": None})
    assert r.status_code == 409 and "merged" in r.json()["detail"]


def test_assignee_filter(api_client_for, operator_user, viewer) -> None:
    alice = user("alice", ADMIN)
    mine = services.create_incident(title="mine", body="b", now=T0)
    hers = services.create_incident(title="hers", body="b", now=T0)
    free = services.create_incident(title="free", body="b", now=T0)
    services.assign(mine, assignee=operator_user, now=T0)
    services.assign(hers, assignee=alice, now=T0)
    operator = api_client_for(operator_user)

    def keys(client: Any, value: str) -> list[str]:
        r = client.get("/api/v1/incidents", {"assignee": value})
        assert r.status_code == 200, r.content
        return sorted(row["title"] for row in r.json()["results"])

    assert keys(operator, "me") == ["mine"]
    assert keys(operator, "ME") == ["mine"]
    assert keys(viewer, "me") == []
    assert keys(viewer, "none") == ["free"]
    assert keys(viewer, "alice") == ["hers"]
    assert keys(viewer, str(alice.pk)) == ["hers"]
    assert free.assignee_id is None
    for bad in ("ghost", "99999999", "x" * 151, NASTY, "9" * 40):
        r = viewer.get("/api/v1/incidents", {"assignee": bad})
        assert r.status_code == 400 and list(r.json()) == ["assignee"], bad


# --- escalate ------------------------------------------------------------------------


def test_escalate_returns_the_deliveries_it_created(incident, operator) -> None:
    pager, sre, _other = make_trigger(name="pager"), make_trigger(name="sre"), make_trigger()
    r = post(
        operator,
        f"/api/v1/incidents/{incident.pk}/escalate",
        {"triggers": [sre.pk, pager.pk], "note": "Need the DB on-call.", "severity": "CRITICAL"},
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["incident"]["key"] == incident.key
    assert body["timeline_entry"]["type"] == "Escalated"
    assert body["timeline_entry"]["data"] == {"triggers": [sre.pk, pager.pk], "severity": None}
    assert sorted(d["trigger_name"] for d in body["deliveries"]) == ["pager", "sre"]
    assert {d["status"] for d in body["deliveries"]} == {"pending"}
    assert {d["event"] for d in body["deliveries"]} == {"incident.escalated"}
    assert Delivery.objects.filter(notification_id=body["notification"]).count() == 2


def test_escalate_raises_the_severity(operator) -> None:
    incident = services.create_incident(title="t", body="b", severity="INFO", now=T0)
    r = post(
        operator,
        f"/api/v1/incidents/{incident.pk}/escalate",
        {"triggers": [make_trigger().pk], "note": "worse", "severity": "WARNING"},
    )
    assert r.status_code == 200 and r.json()["incident"]["severity"] == "WARNING"
    assert r.json()["timeline_entry"]["data"]["severity"] == ["INFO", "WARNING"]


def test_viewers_cannot_escalate(incident, viewer) -> None:
    r = post(
        viewer,
        f"/api/v1/incidents/{incident.pk}/escalate",
        {"triggers": [make_trigger().pk], "note": "x"},
    )
    assert r.status_code == 403
    assert not Notification.objects.filter(event=Event.INCIDENT_ESCALATED).exists()


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"note": "x"}, "triggers", "required"),
        ({"triggers": [], "note": "x"}, "triggers", "at least 1"),
        ({"triggers": "1", "note": "x"}, "triggers", "list"),
        ({"triggers": {"a": 1}, "note": "x"}, "triggers", "list"),
        ({"triggers": [True], "note": "x"}, "triggers", "integer"),
        ({"triggers": ["<script>"], "note": "x"}, "triggers", "integer"),
        ({"triggers": [0], "note": "x"}, "triggers", "greater than or equal to 1"),
        ({"triggers": [2**70], "note": "x"}, "triggers", "less than or equal"),
        ({"triggers": [987654], "note": "x"}, "triggers", "Unknown trigger id(s): 987654"),
        ({"triggers": "DUP", "note": "x"}, "triggers", "Listed more than once"),
        ({"triggers": list(range(1, 30)), "note": "x"}, "triggers", "no more than 20"),
        ({"triggers": "OK"}, "note", "required"),
        ({"triggers": "OK", "note": ""}, "note", "blank"),
        ({"triggers": "OK", "note": "   "}, "note", "Say why"),
        ({"triggers": "OK", "note": HUGE}, "note", "no more than 5000"),
        ({"triggers": "OK", "note": 5}, "note", "Must be a string"),
        ({"triggers": "OK", "note": ["x"]}, "note", "Must be a string"),
        ({"triggers": "OK", "note": None}, "note", "null"),
        ({"triggers": "OK", "note": "a\x00b"}, "note", "Null characters"),
        ({"triggers": "OK", "note": "x", "severity": "LOW"}, "severity", "not a valid choice"),
        ({"triggers": "OK", "note": "x", "severity": NASTY}, "severity", "not a valid choice"),
        ({"triggers": "OK", "note": "x", "severity": "INFO"}, "severity", "cannot lower"),
        ({"triggers": "INACTIVE", "note": "x"}, "triggers", "is inactive"),
        ({"triggers": "OK", "note": "x", "<img>": 1}, "<img>", "Unknown field"),
    ],
)
def test_bad_escalations_are_400_naming_the_field(incident, operator, body, field, reason) -> None:
    active = make_trigger()
    inactive = make_trigger(is_active=False)
    value = body.get("triggers")
    if value == "OK":
        body = {**body, "triggers": [active.pk]}
    elif value == "DUP":
        body = {**body, "triggers": [active.pk, active.pk]}
    elif value == "INACTIVE":
        body = {**body, "triggers": [inactive.pk]}
    r = post(operator, f"/api/v1/incidents/{incident.pk}/escalate", body)
    assert r.status_code == 400, r.content
    errors = r.json()
    assert field in errors, errors
    assert reason in json.dumps(errors[field], ensure_ascii=False), errors
    assert not incident.timeline.filter(type=TimelineEntry.Type.ESCALATED).exists()
    assert not Delivery.objects.exists()


def test_unicode_and_markup_in_the_note_are_kept_verbatim(incident, operator) -> None:
    note = NASTY * 50
    r = post(
        operator,
        f"/api/v1/incidents/{incident.pk}/escalate",
        {"triggers": [make_trigger().pk], "note": note},
    )
    assert r.status_code == 200, r.content
    notification = Notification.objects.get(pk=r.json()["notification"])
    assert notification.context["incident_escalation_note"] == note


def test_resolved_incident_escalation_is_a_409(incident, operator) -> None:
    services.resolve(incident, note="done", classification="Resolved", now=T0)
    r = post(
        operator,
        f"/api/v1/incidents/{incident.pk}/escalate",
        {"triggers": [make_trigger().pk], "note": "x"},
    )
    assert r.status_code == 409 and "reopen" in r.json()["detail"]
    assert post(operator, "/api/v1/incidents/999999/escalate", {}).status_code == 404


# --- one escalation through a real receiver --------------------------------------------


def test_an_escalation_reaches_a_real_webhook_with_everything_a_newcomer_needs(
    operator, operator_user
) -> None:
    monitor = make_monitor(name='Pay "API" <b>', now=T0)
    incident = services.create_incident(
        title="Checkout <errors> ünï",
        body="First look.",
        severity="WARNING",
        monitors=[(monitor, "DOWN")],
        now=T0,
    )
    services.post_update(incident, state="IDENTIFIED", body="DB failover **stuck**.", now=T0)
    services.assign(incident, assignee=operator_user, now=T0)
    got: list[Request] = []
    with serve_http({"/hook": Reply(200, "ok")}, record=got) as base:
        trigger = make_trigger("webhook", {"url": f"{base}/hook", "secret": "s3cret"})
        r = post(
            operator,
            f"/api/v1/incidents/{incident.pk}/escalate",
            {
                "triggers": [trigger.pk],
                "note": 'Need DB on-call "now"\n<script>',
                "severity": "CRITICAL",
            },
        )
        assert r.status_code == 200, r.content
        notification_id = r.json()["notification"]
        # What the queued task does after commit: plan (already done) and send.
        assert planning.plan(notification_id, T0).planned is False
        report = sending.send_due(datetime.now(UTC), 10, notification_id=notification_id)
    assert report.sent == 1 and len(got) == 1
    delivery = Delivery.objects.get(notification_id=notification_id)
    assert delivery.status == "sent" and delivery.attempts == 1
    assert delivery.tries.count() == 1
    request = got[0]
    assert request.headers["x-beacon-delivery"] == str(delivery.pk)
    assert "x-beacon-signature" in request.headers
    payload = json.loads(request.body)
    site = payload["site_url"]
    assert payload == {
        "event": "incident.escalated",
        "incident_id": incident.pk,
        "incident_key": incident.key,
        "incident_title": "Checkout <errors> ünï",
        "incident_state": "IDENTIFIED",
        "incident_severity": "CRITICAL",
        "incident_previous_severity": "WARNING",
        "incident_started_at": "2026-05-04T12:00:00Z",
        "incident_monitors": 'Pay "API" <b> (Down)',
        "incident_services": "",
        "incident_latest_update": "DB failover **stuck**.",
        "incident_assignee": "operator-user",
        "incident_url": f"{site}/incidents/{incident.key}",
        "incident_console_url": f"{site}/console/incidents/{incident.pk}/",
        "escalation_note": 'Need DB on-call "now"\n<script>',
        "escalated_by": "operator-user",
        "escalated_at": payload["escalated_at"],
        "site_url": site,
        "site_name": payload["site_name"],
    }
    assert payload["escalated_at"].endswith("Z")
