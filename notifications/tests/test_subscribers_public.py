"""The public subscriber pages through Django's test client: the same answer
for every address, hostile input refused next to its field, the rate limit,
confirmation, the manage page and RFC 8058 one-click unsubscribe."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from monitors.tests.factories import make_monitor
from notifications import signing
from notifications.models import Event, Notification, Subscriber, SubscriberEvent
from notifications.tests.subscribers_fixtures import make_subscriber

pytestmark = pytest.mark.django_db

FORM = "/subscribe"


def _post(client: Client, **data):
    body = {"scope": "all", "notify_incidents": "on", "notify_maintenance": "on", **data}
    return client.post(FORM, body)


def _field_errors(response, field: str) -> str:
    html = response.content.decode()
    match = re.search(rf'data-field="{field}".*?<ul class="errors"[^>]*>(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def test_the_form_shows_public_services_only(client) -> None:
    make_monitor(tag="api", name="Public API")
    make_monitor(tag="secret", name="Secret backend", is_public=False)
    response = client.get(FORM)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Public API" in html and "Secret backend" not in html
    assert 'name="email"' in html and 'value="some"' in html
    assert "no-store" in response["Cache-Control"]


def test_the_answer_is_the_same_whatever_the_address_is(client, settings) -> None:
    settings.BEACON_SUBSCRIBE_RESEND_SECONDS = 0
    make_subscriber("confirmed@example.com", status="confirmed")
    make_subscriber("pending@example.com", status="pending")
    make_subscriber("gone@example.com", status="unsubscribed")
    answers = set()
    addresses = ["new", "confirmed", "pending", "gone"]
    for email in (f"{name}@example.com" for name in addresses):
        response = _post(client, email=email)
        answers.add((response.status_code, response["Location"], response.content))
    assert answers == {(302, "/subscribe/sent", b"")}
    page = client.get("/subscribe/sent")
    assert page.status_code == 200 and b"Check your inbox" in page.content
    # Behind the identical answer each address got what its state calls for.
    mails = Notification.objects.filter(event=Event.SUBSCRIBER_CONFIRM)
    assert sorted(mails.values_list("subscriber__email", "context__already_confirmed")) == [
        ("confirmed@example.com", True),
        ("gone@example.com", False),
        ("new@example.com", False),
        ("pending@example.com", False),
    ]


def test_choosing_services_and_event_types(client) -> None:
    api = make_monitor(tag="api", name="API")
    make_monitor(tag="web", name="Web")
    response = _post(
        client, email="picky@example.com", scope="some", monitors=["api"], notify_maintenance=""
    )
    assert response.status_code == 302
    subscriber = Subscriber.objects.get()
    assert subscriber.all_monitors is False
    assert list(subscriber.monitors.all()) == [api]
    assert (subscriber.notify_incidents, subscriber.notify_maintenance) == (True, False)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": ""}, "email", "required"),
        ({"email": "x" * 300 + "@example.com"}, "email", "at most 254"),
        ({"email": "<script>alert(1)</script>"}, "email", "valid email"),
        ({"email": "nul\x00@example.com"}, "email", "Null characters"),
        ({"email": "a@example.com", "scope": "nonsense"}, "scope", "valid choice"),
        ({"email": "a@example.com", "scope": "some"}, "monitors", "at least one service"),
        ({"email": "a@example.com", "scope": "some", "monitors": ["nope"]}, "monitors", "valid"),
        (
            {"email": "a@example.com", "scope": "some", "monitors": ["<script>"]},
            "monitors",
            "from the list",
        ),
        (
            {"email": "a@example.com", "scope": "some", "monitors": ["a\x00b"]},
            "monitors",
            "from the list",
        ),
        (
            {"email": "a@example.com", "scope": "some", "monitors": ["secret"]},
            "monitors",
            "valid",
        ),
        (
            {"email": "a@example.com", "scope": "some", "monitors": [f"m{i}x" for i in range(201)]},
            "monitors",
            "at most 200",
        ),
        (
            {"email": "a@example.com", "notify_incidents": "", "notify_maintenance": ""},
            "notify_incidents",
            "incidents, maintenance or both",
        ),
    ],
)
def test_hostile_input_is_refused_next_to_its_field(client, data, field, message) -> None:
    make_monitor(tag="api")
    make_monitor(tag="secret", is_public=False)
    response = _post(client, **data)
    assert response.status_code == 400
    errors = _field_errors(response, field)
    assert message.lower() in errors.lower(), response.content.decode()[:3000]
    assert "<script>alert" not in response.content.decode()  # echoed input is escaped
    assert not Subscriber.objects.exists()


def test_unicode_addresses_with_an_international_domain_are_accepted(client) -> None:
    response = _post(client, email="jose@bücher.example")
    assert response.status_code == 302
    assert Subscriber.objects.get().email == "jose@bücher.example"


def test_a_bot_filling_the_hidden_field_gets_the_usual_answer_and_nothing_happens(client) -> None:
    response = _post(client, email="bot@example.com", website="http://spam.example")
    assert (response.status_code, response["Location"]) == (302, "/subscribe/sent")
    assert not Subscriber.objects.exists()


def test_posts_are_rate_limited_per_client_address(client, settings) -> None:
    settings.BEACON_SUBSCRIBE_MAX_PER_IP = 2
    for n in range(2):
        assert _post(client, email=f"p{n}@example.com").status_code == 302
    response = _post(client, email="p3@example.com")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many subscription requests" in response.content
    assert b"p3@example.com" in response.content  # the form keeps what was typed
    assert Subscriber.objects.count() == 2
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert _post(other, email="p4@example.com").status_code == 302


def test_the_form_needs_its_csrf_token() -> None:
    strict = Client(enforce_csrf_checks=True)
    assert _post(strict, email="csrf@example.com").status_code == 403
    assert not Subscriber.objects.exists()


# --- Confirmation -------------------------------------------------------------------------


def test_confirming_takes_a_click_on_the_page_and_lands_on_the_manage_page(client) -> None:
    now = timezone.now()
    subscriber = make_subscriber("c@example.com", status="pending")
    token = signing.confirmation_token(subscriber.pk, subscriber.email, now=now)
    page = client.get(f"/subscribe/confirm/{token}")
    assert page.status_code == 200 and b"Confirm subscription" in page.content
    subscriber.refresh_from_db()
    assert subscriber.status == "pending"  # a link scanner's GET confirms nothing
    response = client.post(f"/subscribe/confirm/{token}")
    assert response.status_code == 302
    assert response["Location"] == f"/subscriptions/{subscriber.token}?confirmed=1"
    subscriber.refresh_from_db()
    assert subscriber.status == "confirmed"
    manage = client.get(response["Location"])
    assert b"Subscription confirmed" in manage.content
    # A replayed POST changes nothing.
    assert client.post(f"/subscribe/confirm/{token}").status_code == 302
    assert SubscriberEvent.objects.filter(type="confirmed").count() == 1


def test_dead_confirmation_links_say_so(client, settings) -> None:
    subscriber = make_subscriber("old@example.com", status="pending")
    old = signing.confirmation_token(
        subscriber.pk,
        subscriber.email,
        now=timezone.now() - timedelta(hours=settings.BEACON_SUBSCRIBE_CONFIRM_HOURS + 1),
    )
    for token in (old, "garbage", "a" * 2000, "%3Cscript%3E"):
        get = client.get(f"/subscribe/confirm/{token}")
        post = client.post(f"/subscribe/confirm/{token}")
        assert (get.status_code, post.status_code) == (400, 400)
        assert b"Subscribe again" in get.content
    assert b"expired" in client.get(f"/subscribe/confirm/{old}").content
    subscriber.refresh_from_db()
    assert subscriber.status == "pending"


# --- Manage and unsubscribe ---------------------------------------------------------------


def test_the_manage_page_changes_choices(client) -> None:
    api = make_monitor(tag="api", name="API")
    subscriber = make_subscriber("m@example.com")
    url = f"/subscriptions/{subscriber.token}"
    page = client.get(url)
    assert page.status_code == 200 and b"m@example.com" in page.content
    assert "no-store" in page["Cache-Control"]
    response = client.post(url, {"scope": "some", "monitors": ["api"], "notify_incidents": "on"})
    assert (response.status_code, response["Location"]) == (302, f"{url}?saved=1")
    subscriber.refresh_from_db()
    assert (subscriber.all_monitors, subscriber.notify_maintenance) == (False, False)
    assert list(subscriber.monitors.all()) == [api]
    bad = client.post(url, {"scope": "all"})
    assert bad.status_code == 400
    assert "incidents, maintenance or both" in _field_errors(bad, "notify_incidents")


@pytest.mark.parametrize("token", ["nope", "x" * 65, "%00"])
def test_unknown_tokens_are_404(client, token) -> None:
    make_subscriber("t@example.com")
    assert client.get(f"/subscriptions/{token}").status_code == 404
    assert client.get(f"/unsubscribe/{token}").status_code == 404
    assert client.post(f"/unsubscribe/{token}").status_code == 404


def test_unsubscribe_asks_on_get_and_acts_on_post(client) -> None:
    subscriber = make_subscriber("bye@example.com")
    page = client.get(f"/unsubscribe/{subscriber.token}")
    assert page.status_code == 200 and b"Unsubscribe?" in page.content
    subscriber.refresh_from_db()
    assert subscriber.status == "confirmed"
    done = client.post(f"/unsubscribe/{subscriber.token}")
    assert done.status_code == 200 and b"You are unsubscribed" in done.content
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"
    assert SubscriberEvent.objects.get(type="unsubscribed").data == {"via": "page"}


def test_one_click_unsubscribe_works_without_cookies_and_replays_are_harmless() -> None:
    subscriber = make_subscriber("oneclick@example.com")
    mail_provider = Client(enforce_csrf_checks=True)  # no session, no CSRF cookie
    for _ in range(2):
        response = mail_provider.post(
            f"/unsubscribe/{subscriber.token}",
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"
    [event] = SubscriberEvent.objects.filter(type="unsubscribed")
    assert event.data == {"via": "one-click"}
    # Its manage page now says so and offers to subscribe again.
    page = Client().get(f"/subscriptions/{subscriber.token}")
    assert b"unsubscribed" in page.content and b"Subscribe again" in page.content
