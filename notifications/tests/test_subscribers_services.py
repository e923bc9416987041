"""Subscriber services: subscribe in every state of an address, confirm (valid,
expired, forged, replayed), preferences, unsubscribe, removal, the per-address
rate limit, and webhook subscribers verified by a real test call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing as django_signing
from django.utils import timezone

from monitors.tests.factories import make_monitor
from monitors.tests.servers import Reply, Request, closed_port, serve_http
from notifications import signing
from notifications import subscriber_services as services
from notifications.models import Event, Notification, Subscriber, SubscribeRequest, SubscriberEvent
from notifications.subscriber_services import Choices, SubscriberError

pytestmark = pytest.mark.django_db

EVERYTHING = Choices()


def _confirmations(subscriber: Subscriber) -> list[Notification]:
    return list(
        Notification.objects.filter(event=Event.SUBSCRIBER_CONFIRM, subscriber=subscriber).order_by(
            "id"
        )
    )


def _events(subscriber: Subscriber | None = None) -> list[str]:
    rows = SubscriberEvent.objects.order_by("at", "id")
    if subscriber is not None:
        rows = rows.filter(subscriber=subscriber)
    return list(rows.values_list("type", flat=True))


def test_a_new_address_is_pending_and_gets_one_confirmation() -> None:
    now = timezone.now()
    api = make_monitor(tag="api")
    services.subscribe(
        "  New.Person@Example.COM ",
        Choices(all_monitors=False, monitors=[api], notify_maintenance=False),
        now=now,
        ip="203.0.113.9",
    )
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "new.person@example.com"
    assert subscriber.status == "pending"
    assert (subscriber.all_monitors, subscriber.notify_incidents) == (False, True)
    assert subscriber.notify_maintenance is False
    assert list(subscriber.monitors.all()) == [api]
    assert subscriber.confirmation_sent_at == now
    [confirmation] = _confirmations(subscriber)
    assert confirmation.context["already_confirmed"] is False
    assert confirmation.planned_at is None
    assert _events(subscriber) == ["subscribed", "confirmation_sent"]
    event = SubscriberEvent.objects.get(type="subscribed")
    assert event.ip == "203.0.113.9"
    assert event.data["monitors"] == ["api"]


def test_asking_again_while_pending_takes_the_new_choices_and_respects_the_resend_interval(
    settings,
) -> None:
    settings.BEACON_SUBSCRIBE_RESEND_SECONDS = 300
    now = timezone.now()
    api = make_monitor(tag="api")
    services.subscribe("a@example.com", EVERYTHING, now=now)
    services.subscribe(
        "A@example.com",
        Choices(all_monitors=False, monitors=[api]),
        now=now + timedelta(seconds=60),
    )
    subscriber = Subscriber.objects.get()
    assert subscriber.all_monitors is False and list(subscriber.monitors.all()) == [api]
    assert len(_confirmations(subscriber)) == 1  # within the interval: no second mail
    services.subscribe("a@example.com", EVERYTHING, now=now + timedelta(seconds=301))
    assert len(_confirmations(subscriber)) == 2
    assert Subscriber.objects.count() == 1


def test_a_confirmed_address_keeps_its_choices_and_is_told_it_is_subscribed(settings) -> None:
    settings.BEACON_SUBSCRIBE_RESEND_SECONDS = 0
    now = timezone.now()
    api = make_monitor(tag="api")
    services.subscribe("c@example.com", Choices(all_monitors=False, monitors=[api]), now=now)
    subscriber = Subscriber.objects.get()
    services.confirm(signing.confirmation_token(subscriber.pk, subscriber.email, now=now), now=now)
    # A stranger submits the same address with other choices.
    services.subscribe("c@example.com", Choices(notify_incidents=False), now=now)
    subscriber.refresh_from_db()
    assert subscriber.status == "confirmed"
    assert subscriber.all_monitors is False and subscriber.notify_incidents is True
    confirmations = _confirmations(subscriber)
    assert [c.context["already_confirmed"] for c in confirmations] == [False, True]


def test_an_address_that_unsubscribed_can_subscribe_again_through_confirmation() -> None:
    now = timezone.now()
    subscriber = Subscriber.objects.create(kind="email", email="back@example.com")
    services.unsubscribe(subscriber, now=now)
    services.subscribe(
        "back@example.com", Choices(notify_maintenance=False), now=now + timedelta(hours=1)
    )
    subscriber.refresh_from_db()
    assert subscriber.status == "pending" and subscriber.notify_maintenance is False
    assert len(_confirmations(subscriber)) == 1
    assert _events(subscriber)[-2:] == ["subscribed", "confirmation_sent"]


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter an email address."),
        ("   ", "Enter an email address."),
        ("not-an-address", "Enter a valid email address."),
        ("<script>@example.com", "Enter a valid email address."),
        ("a" * 250 + "@example.com", "At most 254 characters."),
        ("nul\x00@example.com", "Enter a valid email address."),
        (["a@example.com"], "Enter an email address."),
        (None, "Enter an email address."),
    ],
)
def test_bad_addresses_are_refused_on_the_email_field_and_nothing_is_written(
    email, message
) -> None:
    with pytest.raises(SubscriberError) as caught:
        services.subscribe(email, EVERYTHING, now=timezone.now())
    assert (caught.value.field, caught.value.message) == ("email", message)
    assert not Subscriber.objects.exists() and not SubscriberEvent.objects.exists()


def test_choices_that_notify_nothing_are_refused() -> None:
    now = timezone.now()
    with pytest.raises(SubscriberError) as caught:
        services.subscribe(
            "x@example.com", Choices(notify_incidents=False, notify_maintenance=False), now=now
        )
    assert caught.value.field == "notify_incidents"
    with pytest.raises(SubscriberError) as caught:
        services.subscribe("x@example.com", Choices(all_monitors=False, monitors=[]), now=now)
    assert caught.value.field == "monitors"
    assert not Subscriber.objects.exists()


# --- Confirmation ------------------------------------------------------------------------


def test_confirming_twice_is_harmless_and_writes_one_event() -> None:
    now = timezone.now()
    services.subscribe("d@example.com", EVERYTHING, now=now)
    subscriber = Subscriber.objects.get()
    token = signing.confirmation_token(subscriber.pk, subscriber.email, now=now)
    services.confirm(token, now=now + timedelta(minutes=5), ip="198.51.100.1")
    services.confirm(token, now=now + timedelta(minutes=6))
    subscriber.refresh_from_db()
    assert subscriber.status == "confirmed"
    assert subscriber.confirmed_at == now + timedelta(minutes=5)
    assert _events(subscriber).count("confirmed") == 1


def test_confirmation_links_expire(settings) -> None:
    settings.BEACON_SUBSCRIBE_CONFIRM_HOURS = 48
    now = timezone.now()
    services.subscribe("e@example.com", EVERYTHING, now=now)
    subscriber = Subscriber.objects.get()
    token = signing.confirmation_token(subscriber.pk, subscriber.email, now=now)
    with pytest.raises(SubscriberError, match="expired"):
        services.confirm(token, now=now + timedelta(hours=48, seconds=1))
    services.confirm(token, now=now + timedelta(hours=47))
    subscriber.refresh_from_db()
    assert subscriber.status == "confirmed"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # tampered signature
        lambda t: "x" * 600,  # oversized
        lambda t: "",
        lambda t: "<script>alert(1)</script>",
        lambda t: t.replace(":", "", 1),
    ],
)
def test_forged_links_are_refused(mangle) -> None:
    now = timezone.now()
    services.subscribe("f@example.com", EVERYTHING, now=now)
    subscriber = Subscriber.objects.get()
    token = signing.confirmation_token(subscriber.pk, subscriber.email, now=now)
    with pytest.raises(SubscriberError, match="not valid"):
        services.confirm(mangle(token), now=now)
    subscriber.refresh_from_db()
    assert subscriber.status == "pending"


def test_a_link_signed_with_another_salt_or_for_another_address_is_refused() -> None:
    now = timezone.now()
    services.subscribe("g@example.com", EVERYTHING, now=now)
    subscriber = Subscriber.objects.get()
    other_salt = django_signing.dumps(
        {"s": subscriber.pk, "e": subscriber.email, "t": int(now.timestamp())}, salt="other"
    )
    with pytest.raises(SubscriberError):
        services.confirm(other_salt, now=now)
    wrong_address = signing.confirmation_token(subscriber.pk, "evil@example.com", now=now)
    with pytest.raises(SubscriberError):
        services.confirm(wrong_address, now=now)
    subscriber.refresh_from_db()
    assert subscriber.status == "pending"


def test_an_old_link_cannot_resubscribe_someone_who_unsubscribed() -> None:
    now = timezone.now()
    services.subscribe("h@example.com", EVERYTHING, now=now)
    subscriber = Subscriber.objects.get()
    token = signing.confirmation_token(subscriber.pk, subscriber.email, now=now)
    services.unsubscribe(subscriber, now=now)
    with pytest.raises(SubscriberError, match="unsubscribed"):
        services.confirm(token, now=now)
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"


# --- Preferences, unsubscribe, removal --------------------------------------------------


def test_preferences_change_and_record_only_what_changed() -> None:
    now = timezone.now()
    api, web = make_monitor(tag="api"), make_monitor(tag="web")
    services.subscribe("p@example.com", EVERYTHING, now=now)
    subscriber = Subscriber.objects.get()
    services.update_preferences(
        subscriber, Choices(all_monitors=False, monitors=[web, api]), now=now, ip="192.0.2.4"
    )
    subscriber.refresh_from_db()
    assert subscriber.all_monitors is False
    assert sorted(subscriber.monitors.values_list("tag", flat=True)) == ["api", "web"]
    change = SubscriberEvent.objects.get(type="preferences_changed")
    assert change.data == {"all_monitors": [True, False], "monitors": [[], ["api", "web"]]}
    services.update_preferences(
        subscriber, Choices(all_monitors=False, monitors=[api, web]), now=now
    )
    assert SubscriberEvent.objects.filter(type="preferences_changed").count() == 1
    services.unsubscribe(subscriber, now=now)
    with pytest.raises(SubscriberError):
        services.update_preferences(subscriber, EVERYTHING, now=now)


def test_unsubscribing_is_idempotent() -> None:
    now = timezone.now()
    subscriber = Subscriber.objects.create(kind="email", email="u@example.com", status="confirmed")
    services.unsubscribe(subscriber, now=now, via="one-click")
    services.unsubscribe(subscriber, now=now + timedelta(minutes=1), via="one-click")
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed" and subscriber.unsubscribed_at == now
    assert _events(subscriber) == ["unsubscribed"]
    assert SubscriberEvent.objects.get().data == {"via": "one-click"}


def test_removal_deletes_the_row_and_the_log_keeps_the_address(admin_user) -> None:
    now = timezone.now()
    subscriber = Subscriber.objects.create(kind="email", email="r@example.com")
    services.remove(subscriber, now=now, actor=admin_user)
    assert not Subscriber.objects.exists()
    event = SubscriberEvent.objects.get(type="removed")
    assert (event.address, event.actor, event.subscriber) == ("r@example.com", admin_user, None)


# --- Rate limit ---------------------------------------------------------------------------


def test_the_form_is_limited_per_client_address(settings) -> None:
    settings.BEACON_SUBSCRIBE_MAX_PER_IP = 3
    settings.BEACON_SUBSCRIBE_WINDOW_SECONDS = 600
    now = timezone.now()
    assert [services.allow_request("192.0.2.1", now=now) for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert services.allow_request("192.0.2.2", now=now)  # another address is not affected
    assert 595 <= services.retry_after_seconds("192.0.2.1", now=now) <= 601
    later = now + timedelta(seconds=601)
    assert services.allow_request("192.0.2.1", now=later)
    # Requests far outside the window are forgotten.
    services.allow_request("192.0.2.3", now=now + timedelta(seconds=1300))
    assert not SubscribeRequest.objects.filter(at__lt=now + timedelta(seconds=100)).exists()


# --- Admin side ---------------------------------------------------------------------------


def test_an_admin_adds_an_email_subscriber_as_pending(admin_user) -> None:
    now = timezone.now()
    subscriber = services.create_subscriber(
        "email", "Ops@Example.com", EVERYTHING, now=now, actor=admin_user
    )
    assert (subscriber.email, subscriber.status) == ("ops@example.com", "pending")
    assert len(_confirmations(subscriber)) == 1
    assert SubscriberEvent.objects.filter(type="created", actor=admin_user).exists()
    with pytest.raises(SubscriberError, match="already exists") as caught:
        services.create_subscriber("email", "ops@example.com", EVERYTHING, now=now)
    assert caught.value.field == "email"
    services.unsubscribe(subscriber, now=now)
    with pytest.raises(SubscriberError, match="only its owner"):
        services.create_subscriber("email", "ops@example.com", EVERYTHING, now=now)


def test_a_webhook_subscriber_is_added_only_after_a_signed_test_call_succeeds() -> None:
    calls: list[Request] = []

    def hook(request: Request) -> Reply:
        calls.append(request)
        return Reply(204)

    now = timezone.now()
    with serve_http({"/hook": hook, "/broken": Reply(500, "oops")}) as base:
        subscriber = services.create_subscriber("webhook", f"{base}/hook", EVERYTHING, now=now)
        with pytest.raises(SubscriberError) as caught:
            services.create_subscriber("webhook", f"{base}/broken", EVERYTHING, now=now)
        assert caught.value.field == "url" and "500" in caught.value.message
        with pytest.raises(SubscriberError, match="already exists"):
            services.create_subscriber("webhook", f"{base}/hook", EVERYTHING, now=now)
    assert subscriber.status == "confirmed" and subscriber.confirmed_at == now
    assert _events(subscriber) == ["created", "verified"]
    [call] = calls
    assert call.method == "POST"
    assert call.headers["x-beacon-delivery"].startswith("verify-")
    assert signing.verify_webhook(
        subscriber.token,
        call.body,
        call.headers["x-beacon-timestamp"],
        call.headers["x-beacon-signature"],
        now=timezone.now(),
    )
    assert b'"event":"test"' in call.body
    assert Subscriber.objects.count() == 1


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "javascript:alert(1)", "http://", "not a url", "", 42],
)
def test_bad_webhook_urls_are_refused_before_any_call(url) -> None:
    with pytest.raises(SubscriberError) as caught:
        services.create_subscriber("webhook", url, EVERYTHING, now=timezone.now())
    assert caught.value.field == "url"
    assert not Subscriber.objects.exists()


def test_an_unreachable_webhook_is_refused_with_the_reason() -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    with pytest.raises(SubscriberError) as caught:
        services.create_subscriber("webhook", url, EVERYTHING, now=timezone.now())
    assert caught.value.field == "url" and "test call failed" in caught.value.message
    assert not Subscriber.objects.exists()
