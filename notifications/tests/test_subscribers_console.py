"""Console pages of subscribers: roles, search and filters in the URL, paging,
CSV export (admin, formula-safe, streamed), the subscriber page, removal with
confirmation, and adding a webhook subscriber verified by a real call."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.utils import timezone

from monitors.tests.factories import make_monitor
from monitors.tests.servers import Reply, serve_http
from notifications.models import Subscriber, SubscriberEvent
from notifications.tests.subscribers_fixtures import make_subscriber

pytestmark = pytest.mark.django_db

LIST = "/console/subscribers/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rows(response) -> list[str]:
    html = response.content.decode()
    return [part.split('"', 1)[0] for part in html.split('data-subscriber="')[1:]]


def test_roles(viewer_user, operator_user, admin_user) -> None:
    subscriber = make_subscriber("v@example.com")
    viewer = _client(viewer_user)
    assert Client().get(LIST).status_code == 302  # to sign-in
    assert viewer.get(LIST).status_code == 200
    assert viewer.get(f"{LIST}{subscriber.pk}/").status_code == 200
    for path in (
        "export.csv",
        f"{subscriber.pk}/remove/",
        f"{subscriber.pk}/edit/",
        "webhooks/new/",
    ):
        assert viewer.get(LIST + path).status_code == 403
        assert _client(operator_user).get(LIST + path).status_code == 403
    assert viewer.post(f"{LIST}{subscriber.pk}/remove/").status_code == 403
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()
    admin_page = _client(admin_user).get(LIST).content.decode()
    assert "Export CSV" in admin_page and "Remove" in admin_page
    assert "Export CSV" not in viewer.get(LIST).content.decode()


def test_search_and_filters_live_in_the_url(viewer_user) -> None:
    api, web = make_monitor(tag="api", name="API"), make_monitor(tag="web", name="Web")
    everything = make_subscriber("all@example.com")
    api_only = make_subscriber("api@example.com", all_monitors=False, monitors=[api])
    web_pending = make_subscriber(
        "web@corp.example", status="pending", all_monitors=False, monitors=[web]
    )
    hook = make_subscriber(url="https://hooks.example.com/x", notify_incidents=False)
    gone = make_subscriber("gone@example.com", status="unsubscribed", notify_maintenance=False)
    client = _client(viewer_user)

    def ids(query: str) -> set[int]:
        response = client.get(LIST + query)
        assert response.status_code == 200
        return {int(x) for x in _rows(response)}

    assert ids("") == {everything.pk, api_only.pk, web_pending.pk, hook.pk, gone.pk}
    assert ids("?q=CORP") == {web_pending.pk}
    assert ids("?q=hooks") == {hook.pk}
    assert ids("?kind=webhook") == {hook.pk}
    assert ids("?status=pending") == {web_pending.pk}
    assert ids("?monitor=api") == {everything.pk, api_only.pk, hook.pk, gone.pk}
    assert ids("?monitor=web&status=pending") == {web_pending.pk}
    assert ids("?events=incidents") == {everything.pk, api_only.pk, web_pending.pk, gone.pk}
    assert ids("?events=maintenance") == {everything.pk, api_only.pk, web_pending.pk, hook.pk}
    # Junk is ignored, never an error.
    assert len(ids("?kind=<script>&status=x&events=%00&monitor=%00&q=%00")) == 5
    empty = client.get(LIST + "?q=nobody-like-this")
    assert b"No subscribers match these filters" in empty.content


def test_the_list_pages(viewer_user) -> None:
    for i in range(60):
        make_subscriber(f"user{i:02d}@example.com")
    client = _client(viewer_user)
    first, second = client.get(LIST), client.get(LIST + "?page=2")
    assert len(_rows(first)) == 50 and len(_rows(second)) == 10
    assert not set(_rows(first)) & set(_rows(second))
    assert b"Page 1 of 2" in first.content
    assert client.get(LIST + "?page=999").status_code == 200  # clamps to the last page


def test_an_empty_list_says_what_to_do(viewer_user) -> None:
    response = _client(viewer_user).get(LIST)
    assert b"No subscribers yet" in response.content and b"/subscribe" in response.content


def test_csv_export_takes_the_filters_and_neutralises_formulas(admin_user) -> None:
    api = make_monitor(tag="api")
    make_subscriber("=cmd|' /C calc'!A0@example.com".replace("|", "").replace(" ", ""))
    make_subscriber("plain@example.com", all_monitors=False, monitors=[api])
    make_subscriber("pending@example.com", status="pending")
    response = _client(admin_user).get(LIST + "export.csv?status=confirmed")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["address"] for r in rows] == ["'=cmd'/Ccalc'!A0@example.com", "plain@example.com"]
    plain = rows[1]
    assert (plain["status"], plain["all_monitors"], plain["monitors"]) == (
        "confirmed",
        "False",
        "api",
    )
    assert plain["created_at"] and plain["confirmed_at"] and plain["unsubscribed_at"] == ""


def test_the_subscriber_page_shows_choices_and_log(viewer_user) -> None:
    api = make_monitor(tag="api", name="Public API")
    subscriber = make_subscriber("page@example.com", all_monitors=False, monitors=[api])
    SubscriberEvent.objects.create(
        subscriber=subscriber, address=subscriber.email, type="confirmed", at=timezone.now()
    )
    response = _client(viewer_user).get(f"{LIST}{subscriber.pk}/")
    html = response.content.decode()
    assert "page@example.com" in html and "Public API" in html
    assert 'data-event="confirmed"' in html
    assert _client(viewer_user).get(f"{LIST}999999/").status_code == 404


def test_removal_is_confirmed_first(admin_user) -> None:
    subscriber = make_subscriber("remove@example.com")
    client = _client(admin_user)
    page = client.get(f"{LIST}{subscriber.pk}/remove/")
    assert page.status_code == 200 and b"Remove remove@example.com?" in page.content
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()
    response = client.post(f"{LIST}{subscriber.pk}/remove/")
    assert (response.status_code, response["Location"]) == (302, LIST)
    assert not Subscriber.objects.filter(pk=subscriber.pk).exists()
    assert SubscriberEvent.objects.get(type="removed").actor == admin_user
    assert client.post(f"{LIST}{subscriber.pk}/remove/").status_code == 404


def test_an_admin_changes_what_a_subscriber_follows(admin_user, operator_user) -> None:
    api, web = make_monitor(tag="api", name="API"), make_monitor(tag="web", name="Web")
    subscriber = make_subscriber("edit@example.com")  # everything, both kinds
    client = _client(admin_user)
    detail = client.get(f"{LIST}{subscriber.pk}/").content.decode()
    assert f'href="{LIST}{subscriber.pk}/edit/"' in detail
    form = client.get(f"{LIST}{subscriber.pk}/edit/").content.decode()
    assert 'value="all" required id="id_scope_0" checked' in form
    response = client.post(
        f"{LIST}{subscriber.pk}/edit/",
        {"scope": "some", "monitors": ["web", "api"], "notify_incidents": "on"},
    )
    assert (response.status_code, response["Location"]) == (302, f"{LIST}{subscriber.pk}/")
    subscriber.refresh_from_db()
    assert not subscriber.all_monitors
    assert set(subscriber.monitors.all()) == {api, web}
    assert (subscriber.notify_incidents, subscriber.notify_maintenance) == (True, False)
    event = SubscriberEvent.objects.get(subscriber=subscriber, type="preferences_changed")
    assert event.actor == admin_user
    assert event.data["all_monitors"] == [True, False]
    # Saving the same choices again writes no second event.
    client.post(
        f"{LIST}{subscriber.pk}/edit/",
        {"scope": "some", "monitors": ["api", "web"], "notify_incidents": "on"},
    )
    assert SubscriberEvent.objects.filter(type="preferences_changed").count() == 1
    # Operators cannot.
    assert _client(operator_user).post(f"{LIST}{subscriber.pk}/edit/", {}).status_code == 403


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"scope": "some", "notify_incidents": "on"}, "monitors", "Choose at least one"),
        (
            {"scope": "some", "monitors": ["<script>x</script>"], "notify_incidents": "on"},
            "monitors",
            "Choose services from the list",
        ),
        ({"scope": "some", "monitors": ["nope"], "notify_incidents": "on"}, "monitors", ""),
        ({"scope": "all"}, "notify_incidents", "Choose incidents, maintenance or both"),
        ({"scope": "everything" * 1000, "notify_incidents": "on"}, "scope", ""),
        ({}, "scope", ""),
    ],
)
def test_editing_choices_refuses_bad_input_inline(
    admin_user, data: dict, field: str, message: str
) -> None:
    make_monitor(tag="api", name="API")
    subscriber = make_subscriber("bad@example.com")
    response = _client(admin_user).post(f"{LIST}{subscriber.pk}/edit/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}' in html and "error" in html
    assert message in html
    assert "<script>x</script>" not in html
    subscriber.refresh_from_db()
    assert subscriber.all_monitors
    assert not SubscriberEvent.objects.filter(type="preferences_changed").exists()


def test_an_unsubscribed_address_cannot_be_edited(admin_user) -> None:
    subscriber = make_subscriber("gone@example.com", status="unsubscribed")
    client = _client(admin_user)
    assert "Edit choices" not in client.get(f"{LIST}{subscriber.pk}/").content.decode()
    response = client.post(
        f"{LIST}{subscriber.pk}/edit/", {"scope": "all", "notify_incidents": "on"}
    )
    assert response.status_code == 400
    assert "subscribe again first" in response.content.decode()
    assert client.post(f"{LIST}999999/edit/", {}).status_code == 404


def test_adding_a_webhook_subscriber_verifies_it_first(admin_user) -> None:
    client = _client(admin_user)
    with serve_http({"/ok": Reply(200), "/down": Reply(503)}) as base:
        bad = client.post(
            LIST + "webhooks/new/",
            {"url": f"{base}/down", "scope": "all", "notify_incidents": "on"},
        )
        assert bad.status_code == 400
        assert b"test call failed" in bad.content and b"503" in bad.content
        assert not Subscriber.objects.exists()
        for junk in ("ftp://x", "<script>", "x" * 3000):
            data = {"url": junk, "scope": "all", "notify_incidents": "on"}
            assert client.post(LIST + "webhooks/new/", data).status_code == 400
        good = client.post(
            LIST + "webhooks/new/",
            {"url": f"{base}/ok", "scope": "all", "notify_maintenance": "on"},
        )
    assert good.status_code == 200
    subscriber = Subscriber.objects.get()
    assert subscriber.kind == "webhook" and subscriber.status == "confirmed"
    assert (subscriber.notify_incidents, subscriber.notify_maintenance) == (False, True)
    assert subscriber.token.encode() in good.content  # the secret, shown once


def test_the_nav_links_to_subscribers(viewer_user) -> None:
    html = _client(viewer_user).get(LIST).content.decode()
    assert f'href="{LIST}" aria-current="page">Subscribers</a>' in html
