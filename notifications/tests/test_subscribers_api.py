"""``/api/v1/subscribers``: roles, listing with validated filters, creating email
(pending, confirmation queued) and webhook (verified by a real call)
subscribers, hostile bodies, and removal."""

from __future__ import annotations

import pytest

from monitors.tests.factories import make_monitor
from monitors.tests.servers import Reply, Request, serve_http
from notifications import signing
from notifications.models import Event, Notification, Subscriber, SubscriberEvent
from notifications.tests.subscribers_fixtures import make_subscriber

pytestmark = pytest.mark.django_db

URL = "/api/v1/subscribers"


def test_roles(api_client_for, viewer_user, operator_user, admin_user) -> None:
    subscriber = make_subscriber("r@example.com")
    body = {"kind": "email", "email": "new@example.com"}
    assert api_client_for(None).get(URL).status_code in (401, 403)
    assert api_client_for(viewer_user).get(URL).status_code == 200
    assert api_client_for(viewer_user).get(f"{URL}/{subscriber.pk}").status_code == 200
    for user in (viewer_user, operator_user):
        client = api_client_for(user)
        assert client.post(URL, body, format="json").status_code == 403
        assert client.delete(f"{URL}/{subscriber.pk}").status_code == 403
    assert Subscriber.objects.count() == 1
    assert api_client_for(admin_user).post(URL, body, format="json").status_code == 201


def test_the_list_is_paginated_filtered_and_never_shows_tokens(api_client_for, viewer_user):
    api = make_monitor(tag="api")
    everything = make_subscriber("all@example.com")
    follower = make_subscriber("api@example.com", all_monitors=False, monitors=[api])
    pending = make_subscriber("pending@corp.example", status="pending")
    hook = make_subscriber(url="https://hooks.example.com/in")
    client = api_client_for(viewer_user)

    def ids(query: str = "") -> list[int]:
        response = client.get(URL + query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    data = client.get(URL).json()
    assert data["count"] == 4
    assert "token" not in str(data) and everything.token not in str(data)
    row = next(r for r in data["results"] if r["id"] == follower.pk)
    assert row["monitors"] == ["api"] and row["all_monitors"] is False
    assert ids("?kind=webhook") == [hook.pk]
    assert ids("?status=pending") == [pending.pk]
    assert ids("?q=CORP") == [pending.pk]
    assert set(ids("?monitor=api")) == {everything.pk, follower.pk, pending.pk, hook.pk}
    assert len(ids("?page_size=2")) == 2
    for query, field in [
        ("?kind=fax", "kind"),
        ("?status=<script>", "status"),
        ("?monitor=nope", "monitor"),
        ("?monitor=%00", "monitor"),
        ("?q=" + "x" * 300, "q"),
        ("?q=%00", "q"),
    ]:
        response = client.get(URL + query)
        assert response.status_code == 400, query
        assert field in response.json()


def test_adding_an_email_subscriber_makes_it_pending_and_queues_the_link(
    api_client_for, admin_user
):
    api = make_monitor(tag="api")
    response = api_client_for(admin_user).post(
        URL,
        {
            "kind": "email",
            "email": "Ops@Example.com",
            "monitors": ["api"],
            "notify_maintenance": False,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["email"] == "ops@example.com"
    assert body["all_monitors"] is False and body["monitors"] == ["api"]
    assert body["notify_maintenance"] is False and "secret" not in body
    subscriber = Subscriber.objects.get()
    assert list(subscriber.monitors.all()) == [api]
    assert Notification.objects.filter(
        event=Event.SUBSCRIBER_CONFIRM, subscriber=subscriber
    ).exists()
    assert SubscriberEvent.objects.get(type="created").actor == admin_user
    again = api_client_for(admin_user).post(
        URL, {"kind": "email", "email": "ops@example.com"}, format="json"
    )
    assert again.status_code == 400 and "already exists" in again.json()["email"][0]


def test_adding_a_webhook_subscriber_verifies_it_and_returns_the_secret_once(
    api_client_for, admin_user
):
    calls: list[Request] = []

    def hook(request: Request) -> Reply:
        calls.append(request)
        return Reply(200, "ok")

    client = api_client_for(admin_user)
    with serve_http({"/hook": hook, "/teapot": Reply(418)}) as base:
        refused = client.post(URL, {"kind": "webhook", "url": f"{base}/teapot"}, format="json")
        assert refused.status_code == 400
        assert "418" in refused.json()["url"][0]
        created = client.post(URL, {"kind": "webhook", "url": f"{base}/hook"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "confirmed" and body["secret"]
    [call] = calls
    assert (
        signing.webhook_signature(
            body["secret"], int(call.headers["x-beacon-timestamp"]), call.body
        )
        == call.headers["x-beacon-signature"]
    )
    shown = client.get(f"{URL}/{body['id']}").json()
    assert "secret" not in shown
    assert Subscriber.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "kind"),
        ({"kind": "fax", "email": "a@example.com"}, "kind"),
        ({"kind": "email"}, "email"),
        ({"kind": "email", "email": "   "}, "email"),
        ({"kind": "email", "email": "nope"}, "email"),
        ({"kind": "email", "email": "<script>@x"}, "email"),
        ({"kind": "email", "email": "a" * 300 + "@example.com"}, "email"),
        ({"kind": "email", "email": ["a@example.com"]}, "email"),
        ({"kind": "email", "email": "a\x00@example.com"}, "email"),
        ({"kind": "email", "email": "a@example.com", "url": "https://x.example"}, "url"),
        ({"kind": "webhook"}, "url"),
        ({"kind": "webhook", "url": "javascript:alert(1)"}, "url"),
        ({"kind": "webhook", "url": "https://x.example/" + "a" * 2100}, "url"),
        ({"kind": "email", "email": "a@example.com", "monitors": ["nope"]}, "monitors"),
        ({"kind": "email", "email": "a@example.com", "monitors": ["api", "api"]}, "monitors"),
        ({"kind": "email", "email": "a@example.com", "monitors": "api"}, "monitors"),
        (
            {"kind": "email", "email": "a@example.com", "monitors": [f"m{i}x" for i in range(201)]},
            "monitors",
        ),
        (
            {"kind": "email", "email": "a@example.com", "all_monitors": True, "monitors": ["api"]},
            "monitors",
        ),
        ({"kind": "email", "email": "a@example.com", "all_monitors": False}, "monitors"),
        (
            {"kind": "email", "email": "a@example.com", "notify_incidents": "maybe"},
            "notify_incidents",
        ),
        (
            {
                "kind": "email",
                "email": "a@example.com",
                "notify_incidents": False,
                "notify_maintenance": False,
            },
            "notify_incidents",
        ),
        ({"kind": "email", "email": "a@example.com", "status": "confirmed"}, "status"),
        ({"kind": "email", "email": "a@example.com", "token": "mine"}, "token"),
    ],
)
def test_hostile_bodies_are_400_naming_the_field(api_client_for, admin_user, body, field):
    make_monitor(tag="api")
    response = api_client_for(admin_user).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Subscriber.objects.exists()


def test_non_json_and_oversized_bodies(api_client_for, admin_user, settings):
    client = api_client_for(admin_user)
    assert client.post(URL, "kind=email", content_type="text/plain").status_code == 415
    assert client.post(URL, "{not json", content_type="application/json").status_code == 400
    assert client.post(URL, [1, 2], format="json").status_code == 400
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    huge = {"kind": "email", "email": "a@example.com", "pad": "x" * 5000}
    assert client.post(URL, huge, format="json").status_code == 413
    assert not Subscriber.objects.exists()


def test_delete_removes_and_audits(api_client_for, admin_user):
    subscriber = make_subscriber("d@example.com")
    client = api_client_for(admin_user)
    assert client.delete(f"{URL}/{subscriber.pk}").status_code == 204
    assert not Subscriber.objects.exists()
    assert SubscriberEvent.objects.get(type="removed").actor == admin_user
    assert client.delete(f"{URL}/{subscriber.pk}").status_code == 404
    assert client.delete(f"{URL}/abc").status_code == 404
