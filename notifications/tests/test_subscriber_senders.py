"""Subscriber senders against real local servers: emails through aiosmtpd (both
parts, subject, unsubscribe headers, one connection per batch, a refused
recipient failing alone, a server that is down), and signed webhooks through
a local HTTP server."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.utils import timezone
from django.utils.html import escape

from incidents import maintenance_services
from incidents import services as incidents
from monitors.tests.factories import make_monitor
from monitors.tests.servers import Reply, Request, closed_port, serve_http
from notifications import signing
from notifications.models import Event, Notification
from notifications.signing import read_confirmation_token
from notifications.subscriber_senders import (
    SubscriberEmailSender,
    SubscriberWebhookSender,
    build_email,
    personal_values,
    render_shared,
    subject_for,
    wire_bytes,
    wire_template,
)
from notifications.tests.subscribers_fixtures import (
    deliveries_for,
    make_subscriber,
    running_mailbox,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(settings):
    yield from running_mailbox(settings)


@pytest.fixture
def site_url(settings) -> str:
    settings.SITE_URL = "https://status.example.com"
    return settings.SITE_URL


def _incident_update(body: str = "We found it.\n\n* **DB** restarted\n* queue drained"):
    now = timezone.now()
    api = make_monitor(tag="api", name="Public API")
    web = make_monitor(tag="web", name="Web app")
    hidden = make_monitor(tag="internal", name="Internal thing", is_public=False)
    incident = incidents.create_incident(
        title="Checkout errors",
        body="Looking into it",
        monitors=[(api, "DOWN"), (web, "DEGRADED"), (hidden, "DOWN")],
        now=now,
    )
    update = incidents.post_update(incident, state="IDENTIFIED", body=body, now=now)
    notification = Notification.objects.get(update=update, event=Event.INCIDENT_UPDATED)
    return incident, notification, (api, web)


def send_pass(deliveries):
    """One engine pass of the email sender (it closes its connection at the end)."""
    with SubscriberEmailSender() as sender:
        return sender.send_batch(deliveries)


def header(message, name: str) -> str | None:
    """A header's value; a long one is folded by the sender, and unfolding
    leaves the fold's leading space (RFC 5322 3.2.2), which readers ignore."""
    value = message[name]
    return None if value is None else str(value).strip()


def _parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_an_incident_update_mail_has_both_parts_the_headers_and_per_subscriber_links(
    mailbox, site_url
) -> None:
    incident, notification, (api, _web) = _incident_update(
        "We found it.\n\n* **DB** restarted\n\n<script>alert(1)</script>"
    )
    alice = make_subscriber("alice@example.com", all_monitors=False, monitors=[api])
    bob = make_subscriber("bob@example.com")
    make_subscriber("pending@example.com", status="pending")
    deliveries = deliveries_for(notification)
    assert [d.subscriber_id for d in deliveries] == [alice.pk, bob.pk]

    outcomes = send_pass(deliveries)

    assert [o.ok for o in outcomes] == [True, True]
    received = mailbox.wait_for(2)
    assert mailbox.connections == 1  # one SMTP connection for the batch
    by_rcpt = {r.rcpt_tos[0]: r.message for r in received}
    assert set(by_rcpt) == {"alice@example.com", "bob@example.com"}
    message = by_rcpt["alice@example.com"]
    assert header(message, "Subject") == "[Beacon] Checkout errors: Identified"
    assert header(message, "To") == "alice@example.com"
    unsubscribe = f"{site_url}/unsubscribe/{alice.token}"
    assert header(message, "List-Unsubscribe") == f"<{unsubscribe}>"
    assert header(message, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert header(message, "Auto-Submitted") == "auto-generated"
    assert header(message, "X-Beacon-Delivery") == str(deliveries[0].pk)
    assert message.get_content_type() == "multipart/alternative"
    text, html = _parts(message)
    # The update rendered from Markdown, sanitised, in the HTML part; the source in the text.
    assert "<strong>DB</strong>" in html and "<li>" in html
    assert "<script>" not in html
    assert "* **DB** restarted" in text
    # Affected public monitors only, and the incident page.
    for part in (text, html):
        assert "Public API" in part and "Web app" in part
        assert "Internal thing" not in part
        assert f"{site_url}/incidents/{incident.key}" in part
        assert f"{site_url}/subscriptions/{alice.token}" in part
        assert unsubscribe in part
        assert "alice@example.com" in part
        assert "@@" not in part  # every placeholder was substituted
    # Bob's mail carries Bob's links, not Alice's.
    bob_text, _ = _parts(by_rcpt["bob@example.com"])
    assert bob.token in bob_text and alice.token not in bob_text


def test_a_refused_recipient_fails_alone_and_the_connection_carries_on(mailbox) -> None:
    _, notification, _ = _incident_update()
    for name in ("a", "nobody", "c"):
        make_subscriber(f"{name}@example.com")
    mailbox.reject_rcpt.add("nobody@example.com")
    deliveries = deliveries_for(notification)

    outcomes = send_pass(deliveries)

    by_target = {d.target: o for d, o in zip(deliveries, outcomes, strict=True)}
    assert by_target["a@example.com"].ok and by_target["c@example.com"].ok
    refused = by_target["nobody@example.com"]
    assert not refused.ok and not refused.transient  # 550: permanent
    assert refused.status_code == 550 and "nobody@example.com" in refused.error
    assert len(mailbox.wait_for(2)) == 2
    assert mailbox.connections == 1


def test_one_connection_serves_a_whole_pass_of_several_batches(mailbox) -> None:
    _, notification, _ = _incident_update()
    for i in range(5):
        make_subscriber(f"p{i}@example.com")
    deliveries = deliveries_for(notification)
    with SubscriberEmailSender() as sender:
        first = sender.send_batch(deliveries[:2])
        second = sender.send_batch(deliveries[2:])
    assert all(o.ok for o in first + second)
    mailbox.wait_for(5)
    assert mailbox.connections == 1
    send_pass(deliveries[:1])  # a new pass opens its own
    mailbox.wait_for(6)
    assert mailbox.connections == 2


def test_a_server_that_is_down_makes_every_mail_transient(settings) -> None:
    _, notification, _ = _incident_update()
    make_subscriber("a@example.com")
    make_subscriber("b@example.com")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    settings.EMAIL_TIMEOUT = 2

    outcomes = send_pass(deliveries_for(notification))

    assert [(o.ok, o.transient) for o in outcomes] == [(False, True), (False, True)]
    assert all("Connection" in o.error or "refused" in o.error.lower() for o in outcomes)


def test_nothing_but_the_confirmation_goes_to_a_subscriber_who_is_not_confirmed(mailbox) -> None:
    _, notification, _ = _incident_update()
    later_unsubscribed = make_subscriber("late@example.com")
    later_removed = make_subscriber("removed@example.com")
    deliveries = deliveries_for(notification)
    later_unsubscribed.status = "unsubscribed"
    later_unsubscribed.save()
    later_removed.delete()
    for delivery in deliveries:
        delivery.refresh_from_db()
        if delivery.subscriber_id:
            delivery.subscriber.refresh_from_db()

    outcomes = send_pass(deliveries)

    assert [(o.ok, o.transient) for o in outcomes] == [(False, False), (False, False)]
    assert "unsubscribed" in outcomes[0].error and "removed" in outcomes[1].error
    assert mailbox.messages == [] and mailbox.connections == 0


def test_the_confirmation_mail_carries_a_working_signed_link(mailbox, site_url) -> None:
    pending = make_subscriber("new@example.com", status="pending")
    now = timezone.now()
    notification = Notification.objects.create(
        event=Event.SUBSCRIBER_CONFIRM,
        subscriber=pending,
        context={"site": {"name": "Acme", "url": site_url}, "already_confirmed": False},
        created_at=now,
    )

    [outcome] = send_pass(deliveries_for(notification))

    assert outcome.ok
    [received] = mailbox.wait_for(1)
    assert header(received.message, "Subject") == "[Acme] Confirm your subscription"
    assert (
        header(received.message, "List-Unsubscribe") == f"<{site_url}/unsubscribe/{pending.token}>"
    )
    text, html = _parts(received.message)
    link = re.search(rf"{re.escape(site_url)}/subscribe/confirm/(\S+)", text)
    assert link, text
    assert read_confirmation_token(link.group(1), now=now) == (pending.pk, "new@example.com")
    assert link.group(0) in html
    assert "48 hours" in text


def test_titles_cannot_inject_headers_and_unicode_survives(mailbox) -> None:
    now = timezone.now()
    incident = incidents.create_incident(
        title="Ünïcode 🚀 outage\r\nBcc: victim@example.com", body="é", now=now
    )
    make_subscriber("ü@example.com".replace("ü", "u"))
    notification = Notification.objects.get(incident=incident, event=Event.INCIDENT_CREATED)

    [outcome] = send_pass(deliveries_for(notification))

    assert outcome.ok
    [received] = mailbox.wait_for(1)
    assert received.rcpt_tos == ["u@example.com"]
    assert header(received.message, "Bcc") is None
    assert header(received.message, "Subject") == (
        "[Beacon] Ünïcode 🚀 outage Bcc: victim@example.com: Investigating"
    )


def test_maintenance_mail_subject_and_times(mailbox) -> None:
    now = timezone.now().replace(microsecond=0)
    db = make_monitor(tag="db", name="Database")
    window = maintenance_services.create_window(
        {
            "title": "DB upgrade",
            "description": "Minor **downtime**.",
            "starts_at": now + timedelta(hours=1),
            "ends_at": now + timedelta(hours=2),
            "monitors": [db],
        },
        now=now,
    )
    make_subscriber("ops@example.com", notify_incidents=False)
    make_subscriber("noops@example.com", notify_maintenance=False)
    notification = Notification.objects.get(maintenance=window)

    outcomes = send_pass(deliveries_for(notification))

    assert [o.ok for o in outcomes] == [True]
    [received] = mailbox.wait_for(1)
    assert received.rcpt_tos == ["ops@example.com"]
    assert header(received.message, "Subject") == "[Beacon] DB upgrade: Maintenance scheduled"
    text, html = _parts(received.message)
    start = (now + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    assert start in text and "Database" in text
    assert "<strong>downtime</strong>" in html


def test_the_shared_part_is_rendered_once_per_notification(monkeypatch, mailbox) -> None:
    _, notification, _ = _incident_update()
    for i in range(30):
        make_subscriber(f"user{i}@example.com")
    calls = []
    import notifications.subscriber_senders as senders

    real = senders.render_shared
    monkeypatch.setattr(senders, "render_shared", lambda *a: calls.append(a) or real(*a))

    outcomes = send_pass(deliveries_for(notification))

    assert all(o.ok for o in outcomes) and len(outcomes) == 30
    assert len(calls) == 1
    assert len(mailbox.wait_for(30)) == 30 and mailbox.connections == 1


def test_subjects_follow_the_format() -> None:
    site = {"site": {"name": "Acme"}}
    incident = {**site, "incident": {"title": "API down", "state_label": "Resolved"}}
    assert subject_for(Event.INCIDENT_RESOLVED, incident) == "[Acme] API down: Resolved"
    window = {**site, "maintenance": {"title": "Upgrade"}}
    assert subject_for(Event.MAINTENANCE_ENDED, window) == "[Acme] Upgrade: Maintenance completed"
    assert subject_for(Event.SUBSCRIBER_CONFIRM, {**site, "already_confirmed": True}) == (
        "[Acme] You are already subscribed"
    )
    long = {**site, "incident": {"title": "x" * 500, "state_label": "Identified"}}
    assert len(subject_for(Event.INCIDENT_UPDATED, long)) == 200
    with pytest.raises(ValueError):
        render_shared(Event.ALERT_TRIGGERED, site)


# --- Webhooks ---------------------------------------------------------------------------


def test_webhook_calls_are_signed_and_judged() -> None:
    _, notification, _ = _incident_update()
    received: list[Request] = []

    def route(status: int):
        def answer(request: Request) -> Reply:
            received.append(request)
            return Reply(status, "thanks", {"Retry-After": "7"})

        return answer

    routes = {"/ok": route(200), "/busy": route(503), "/gone": route(410), "/moved": route(301)}
    with serve_http(routes) as base:
        hooks = {path: make_subscriber(url=f"{base}{path}") for path in routes}
        deliveries = deliveries_for(notification)
        with SubscriberWebhookSender() as sender:
            outcomes = sender.send_batch(deliveries)

    by_url = {d.target.rsplit("/", 1)[1]: o for d, o in zip(deliveries, outcomes, strict=True)}
    assert by_url["ok"].ok and by_url["ok"].status_code == 200
    assert (by_url["busy"].ok, by_url["busy"].transient, by_url["busy"].retry_after) == (
        False,
        True,
        7.0,
    )
    assert (by_url["gone"].ok, by_url["gone"].transient) == (False, False)
    assert (by_url["moved"].ok, by_url["moved"].transient) == (False, False)
    assert len(received) == 4
    now = timezone.now()
    for request in received:
        hook = hooks[request.path]
        delivery = next(d for d in deliveries if d.subscriber_id == hook.pk)
        assert request.headers["x-beacon-delivery"] == str(delivery.pk)
        assert request.headers["content-type"] == "application/json"
        assert signing.verify_webhook(
            hook.token,
            request.body,
            request.headers["x-beacon-timestamp"],
            request.headers["x-beacon-signature"],
            now=now,
        )
        # Signed with this subscriber's secret, not another's.
        other = hooks["/ok" if request.path != "/ok" else "/gone"]
        assert not signing.verify_webhook(
            other.token,
            request.body,
            request.headers["x-beacon-timestamp"],
            request.headers["x-beacon-signature"],
            now=now,
        )
        payload = json.loads(request.body)
        assert payload["id"] == str(delivery.pk)
        assert payload["event"] == "incident.updated"
        assert payload["data"]["incident"]["title"] == "Checkout errors"
        assert payload["data"]["update"]["state"] == "IDENTIFIED"


def test_a_webhook_to_an_unsubscribed_subscriber_is_not_made() -> None:
    _, notification, _ = _incident_update()
    received: list[Request] = []
    with serve_http({"/hook": Reply(200)}, record=received) as base:
        hook = make_subscriber(url=f"{base}/hook")
        deliveries = deliveries_for(notification)
        hook.status = "unsubscribed"
        hook.save()
        deliveries[0].subscriber.refresh_from_db()
        with SubscriberWebhookSender() as sender:
            [outcome] = sender.send_batch(deliveries)
    assert not outcome.ok and not outcome.transient
    assert received == []


# --- The serialised fast path gives exactly the reference mail ---------------------------


def _reference(shared, subscriber, delivery_id, now):
    values = personal_values(shared, subscriber, now)
    message = build_email(shared, values, delivery_id, site_name="Beacon").message()
    return message_from_bytes(message.as_bytes(linesep="\r\n"), policy=policy.default)


def _comparable(message) -> tuple:
    headers = sorted(
        (name, str(value).strip())
        for name, value in message.items()
        if name not in ("Message-ID", "Date", "Content-Type")
    )
    parts = [(p.get_content_type(), p.get_content()) for p in message.iter_parts()]
    return headers, message.get_content_type(), parts


@pytest.mark.parametrize(
    ("confirmation", "address"),
    [
        (False, "o'brien&co@example.com"),
        (True, "o'brien&co@example.com"),
        (False, '"john smith"@example.com'),
    ],
)
def test_the_fast_path_mail_equals_the_reference_mail(confirmation, address, site_url) -> None:
    now = timezone.now()
    _, notification, _ = _incident_update("Body with <b>tags</b> & “quotes” and ünïcode.")
    subscriber = make_subscriber(address, status="pending")
    if confirmation:
        notification = Notification.objects.create(
            event=Event.SUBSCRIBER_CONFIRM,
            subscriber=subscriber,
            context={"site": {"name": "Beacon", "url": site_url}, "already_confirmed": False},
            created_at=now,
        )
    shared = render_shared(notification.event, notification.context)
    template = wire_template(shared, "Beacon")
    assert template is not None
    values = personal_values(shared, subscriber, now)
    raw = wire_bytes(template, values, "42")
    fast = message_from_bytes(raw, policy=policy.default)
    assert _comparable(fast) == _comparable(_reference(shared, subscriber, "42", now))
    assert escape(address) in fast.get_body(("html",)).get_content()
    assert header(fast, "Message-ID") and "@@" not in raw.decode()


def test_long_lines_and_international_addresses_take_the_reference_path(mailbox) -> None:
    _, notification, _ = _incident_update("word " * 4000)  # one 20,000-character line
    make_subscriber("jose@bücher.example")
    make_subscriber("plain@example.com")
    shared = render_shared(notification.event, notification.context)
    assert wire_template(shared, "Beacon") is None  # quoted-printable bodies: no markers

    outcomes = send_pass(deliveries_for(notification))

    assert [o.ok for o in outcomes] == [True, True]
    received = mailbox.wait_for(2)
    assert sorted(r.rcpt_tos[0] for r in received) == [
        "jose@xn--bcher-kva.example",
        "plain@example.com",
    ]
    for r in received:
        text, _ = _parts(r.message)
        assert text.count("word") == 4000
    assert mailbox.connections == 1


def test_cached_link_prefixes_build_what_reverse_builds() -> None:
    from django.urls import reverse

    from notifications.models import new_token
    from notifications.subscriber_senders import confirm_url, manage_url, unsubscribe_url

    now = timezone.now()
    for _ in range(20):
        token = new_token()
        assert manage_url("https://s.example", token) == "https://s.example" + reverse(
            "subscribe:manage", args=[token]
        )
        assert unsubscribe_url("", token) == reverse("subscribe:unsubscribe", args=[token])
    link = confirm_url("", 7, "a+b@example.com", now)
    signed = link.rsplit("/", 1)[1]
    assert link == reverse("subscribe:confirm", args=[signed])
    assert signing.read_confirmation_token(signed, now=now) == (7, "a+b@example.com")
