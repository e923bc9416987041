"""Console: the "Assigned to" control (select, "Assign to me"), the Escalate dialog
and page, the list's assignee column and filter, inline errors, roles, and the
timeline showing assignments and escalations; through Django's test client."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ADMIN, OPERATOR, VIEWER
from incidents import services
from incidents.models import Incident, TimelineEntry
from notifications.models import Delivery, Event, Notification
from notifications.tests.trigger_helpers import make_trigger

pytestmark = pytest.mark.django_db


def _user(username: str, role: str, **extra: Any) -> Any:
    return get_user_model().objects.create_user(
        username=username, password=None, role=role, **extra
    )


@pytest.fixture
def users(db: None) -> dict[str, Any]:
    return {
        "admin": _user("admin-user", ADMIN),
        "operator": _user("operator-user", OPERATOR),
        "viewer": _user("viewer-user", VIEWER),
    }


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def incident() -> Incident:
    return services.create_incident(
        title="Slow logins", body="Looking.", severity="WARNING", now=timezone.now()
    )


def test_the_incident_page_has_unique_element_ids(users, incident) -> None:
    """Labels point at ids: the escalate and resolve dialogs both have a note,
    and a shared id sent the resolve note's label to the escalation's field."""
    from html.parser import HTMLParser

    make_trigger(name="Pager")
    ids: list[str] = []

    class Ids(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            ids.extend(value for name, value in attrs if name == "id" and value)

    page = client_for(users["operator"]).get(reverse("incidents:detail", args=[incident.pk]))
    Ids().feed(page.content.decode())
    assert "id_note" in ids and "escalate_note" in ids
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []


# --- assign --------------------------------------------------------------------------


def test_the_header_offers_operators_and_admins_only(users, incident) -> None:
    _user("gone", OPERATOR, is_active=False)
    page = client_for(users["operator"]).get(reverse("incidents:detail", args=[incident.pk]))
    text = page.content.decode()
    assert f'action="/console/incidents/{incident.pk}/assign/"' in text
    assert ">Assigned to</label>" in text and ">Unassigned</option>" in text
    assert f'<option value="{users["admin"].pk}">admin-user</option>' in text
    assert f'<option value="{users["operator"].pk}">operator-user</option>' in text
    assert ">viewer-user</option>" not in text and ">gone</option>" not in text
    assert "Assign to me" in text


def test_assign_from_the_select_and_to_me(users, incident) -> None:
    client = client_for(users["operator"])
    url = reverse("incidents:assign", args=[incident.pk])
    response = client.post(url, {"assignee": str(users["admin"].pk)})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.assignee == users["admin"]
    assert client.post(url, {"assignee": "me"}).status_code == 302
    incident.refresh_from_db()
    assert incident.assignee == users["operator"]
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "assigned to operator-user (was admin-user)" in page  # the timeline
    assert "Assign to me" not in page  # already mine
    assert client.post(url, {"assignee": ""}).status_code == 302
    incident.refresh_from_db()
    assert incident.assignee is None
    types = list(incident.timeline.values_list("type", flat=True))
    assert types.count(TimelineEntry.Type.ASSIGNED) == 3


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("VIEWER", "viewer; only operators and admins can be assigned"),
        ("999999", "does not exist"),
        ("<script>alert(1)</script>", "at most 20 characters"),
        ("<b>bob</b>", "Choose a user from the list"),
        ("x" * 10_000, "at most 20 characters"),
        ("ünï", "Choose a user from the list"),
    ],
)
def test_bad_assignees_are_shown_inline(users, incident, value: str, reason: str) -> None:
    if value == "VIEWER":
        value = str(users["viewer"].pk)
    response = client_for(users["operator"]).post(
        reverse("incidents:assign", args=[incident.pk]), {"assignee": value}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert html.escape(reason) in text or reason in text
    assert 'id="id_assignee_error"' in text
    assert "<script>alert(1)</script>" not in text
    assert not incident.timeline.filter(type=TimelineEntry.Type.ASSIGNED).exists()


def test_viewers_see_the_owner_but_cannot_assign(users, incident) -> None:
    services.assign(incident, assignee=users["admin"], now=timezone.now())
    viewer = client_for(users["viewer"])
    page = viewer.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "<strong>admin-user</strong>" in page
    assert "/assign/" not in page and "Escalate" not in page
    response = viewer.post(reverse("incidents:assign", args=[incident.pk]), {"assignee": "me"})
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.assignee == users["admin"]


def test_list_shows_assignees_and_filters_by_them(users, incident) -> None:
    other = services.create_incident(title="Other one", body="x", now=timezone.now())
    services.assign(incident, assignee=users["operator"], now=timezone.now())
    client = client_for(users["operator"])
    url = reverse("incidents:list")
    page = client.get(url).content.decode()
    assert '<th scope="col">Assignee</th>' in page
    assert 'name="assignee"' in page and '<option value="me"' in page

    def titles(params: dict[str, str]) -> set[str]:
        text = client.get(url, params).content.decode()
        return {t for t in ("Slow logins", "Other one") if t in text}

    assert titles({"assignee": "me"}) == {"Slow logins"}
    assert titles({"assignee": "operator-user"}) == {"Slow logins"}
    assert titles({"assignee": "none"}) == {"Other one"}
    assert titles({"assignee": "admin-user"}) == set()
    assert titles({"assignee": "<script>" + "x" * 5000}) == set()
    assert other.assignee_id is None


# --- escalate ------------------------------------------------------------------------


def test_the_escalate_dialog_lists_active_triggers_and_higher_severities(users, incident) -> None:
    make_trigger(name="Pager <b>", kind="webhook")
    make_trigger(name="Retired", is_active=False)
    page = client_for(users["operator"]).get(reverse("incidents:detail", args=[incident.pk]))
    text = page.content.decode()
    assert 'id="escalate-dialog"' in text and 'data-dialog-open="escalate-dialog"' in text
    assert "Pager &lt;b&gt; (Webhook)" in text and "Retired" not in text
    assert '<option value="CRITICAL">Critical</option>' in text
    assert '<option value="INFO">' not in text  # never lower
    assert ">Keep WARNING</option>" in text


def test_escalate_page_posts_and_notifies_the_chosen_triggers(users, incident) -> None:
    pager, sre, _other = make_trigger(name="pager"), make_trigger(name="sre"), make_trigger()
    client = client_for(users["operator"])
    url = reverse("incidents:escalate", args=[incident.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"triggers": [pager.pk, sre.pk], "note": "Need DB on-call.", "severity": "CRITICAL"}
    )
    assert response.status_code == 302, response.content.decode()
    incident.refresh_from_db()
    assert incident.severity == "CRITICAL"
    notification = Notification.objects.get(event=Event.INCIDENT_ESCALATED)
    assert sorted(Delivery.objects.values_list("trigger_id", flat=True)) == sorted(
        [pager.pk, sre.pk]
    )
    assert notification.deliveries.count() == 2
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert 'data-type="Escalated"' in page and "Need DB on-call." in page
    assert "escalated: 2 triggers notified" in page


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"note": "x"}, "triggers", "Choose at least one trigger"),
        ({"triggers": ["999999"], "note": "x"}, "triggers", "not one of the available choices"),
        ({"triggers": ["<script>"], "note": "x"}, "triggers", "not one of the available choices"),
        ({"triggers": "OK", "note": ""}, "note", "This field is required"),
        ({"triggers": "OK", "note": "   "}, "note", "Say why"),
        ({"triggers": "OK", "note": "x" * 10_000}, "note", "at most 5000 characters"),
        ({"triggers": "OK", "note": "x", "severity": "INFO"}, "severity", "not one of the"),
    ],
)
def test_escalate_errors_are_inline(users, incident, data: dict, field: str, reason: str) -> None:
    trigger = make_trigger()
    if data.get("triggers") == "OK":
        data = {**data, "triggers": [trigger.pk]}
    response = client_for(users["operator"]).post(
        reverse("incidents:escalate", args=[incident.pk]), data
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert f'data-field="{field}"' in text and html.escape(reason) in text
    assert not Notification.objects.filter(event=Event.INCIDENT_ESCALATED).exists()


def test_escalating_a_resolved_incident_is_refused_inline(users, incident) -> None:
    trigger = make_trigger()
    services.resolve(incident, note="ok", classification="Resolved", now=timezone.now())
    client = client_for(users["operator"])
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert 'id="escalate-dialog"' not in page
    response = client.post(
        reverse("incidents:escalate", args=[incident.pk]), {"triggers": [trigger.pk], "note": "x"}
    )
    assert response.status_code == 400
    assert "reopen it before escalating" in response.content.decode()


def test_without_triggers_the_dialog_says_what_to_do(users, incident) -> None:
    page = client_for(users["admin"]).get(reverse("incidents:escalate", args=[incident.pk]))
    assert "No active trigger to notify" in page.content.decode()
    assert "Add a trigger" in page.content.decode()


def test_viewers_cannot_escalate(users, incident) -> None:
    trigger = make_trigger()
    viewer = client_for(users["viewer"])
    url = reverse("incidents:escalate", args=[incident.pk])
    assert viewer.get(url).status_code == 403
    assert viewer.post(url, {"triggers": [trigger.pk], "note": "x"}).status_code == 403
    assert not Notification.objects.filter(event=Event.INCIDENT_ESCALATED).exists()
