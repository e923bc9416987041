"""The whole subscriber path in a real headless Chromium, with a real Celery
worker and beat and a real SMTP server (aiosmtpd) on 127.0.0.1:

subscribe on the public form (choosing one service) -> the confirmation mail
arrives -> open its link and confirm -> an incident update is posted -> its
mail arrives (both parts, unsubscribe headers) -> open its unsubscribe link
and unsubscribe -> the next update reaches another subscriber but not this one.

The test process only drives the browser and posts updates through the
incident services; planning and sending are the worker's (the beat's tick
plans notifications whose queue message went elsewhere). Nothing sleeps:
every wait is on mail arriving, a database condition or a selector.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from incidents import services as incidents
from monitors.tests.factories import make_monitor
from monitors.tests.waiting import wait_for
from notifications.models import Delivery, DeliveryStatus, Event, Notification, Subscriber
from notifications.tests.smtp import Mailbox, Received, smtp_server
from notifications.tests.subscribers_fixtures import make_subscriber

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

READER = "reader@example.com"
WITNESS = "witness@example.com"


def mail_where(box: Mailbox, test: Callable[[Received], bool], timeout: float = 90) -> Received:
    """The first accepted message passing ``test``, waiting for it to arrive."""
    with box.changed:
        ok = box.changed.wait_for(lambda: any(test(m) for m in box.messages), timeout)
        if not ok:
            subjects = [(m.rcpt_tos, m.message["Subject"]) for m in box.messages]
            raise AssertionError(f"no such mail within {timeout}s; got {subjects}")
        return next(m for m in box.messages if test(m))


def to(address: str, subject_part: str) -> Callable[[Received], bool]:
    return lambda m: address in m.rcpt_tos and subject_part in str(m.message["Subject"])


def text_of(received: Received) -> str:
    return received.message.get_body(preferencelist=("plain",)).get_content()


def test_subscribe_confirm_notify_unsubscribe(
    page: Page, live_server, start_celery, celery_env, settings
) -> None:
    settings.SITE_URL = live_server.url  # links in mails point at the live server
    # The worker signs confirmation links, the web server checks them: one key.
    settings.SECRET_KEY = celery_env["BEACON_SECRET_KEY"]
    api = make_monitor(tag="api", name="Public API", is_active=False)
    make_monitor(tag="web", name="Web app", is_active=False)
    incident = incidents.create_incident(
        title="Checkout errors",
        body="Looking into it.",
        monitors=[(api, "DOWN")],
        now=timezone.now(),
    )
    make_subscriber(WITNESS)  # hears about everything: proves later mails were sent

    with smtp_server() as box:
        env = {
            **celery_env,
            "BEACON_SMTP_HOST": box.host,
            "BEACON_SMTP_PORT": str(box.port),
            "BEACON_SITE_URL": live_server.url,
            "BEACON_NOTIFY_REPLAN_AFTER_SECONDS": "0",
        }
        procs = [start_celery("worker", env=env), start_celery("beat", env=env)]

        # Subscribe to one service, incidents only.
        page.goto("/subscribe")
        page.get_by_label("Email address").fill(READER)
        page.get_by_label("Only the services I choose").check()
        page.get_by_label("Public API").check()
        page.get_by_label("Scheduled maintenance").uncheck()
        page.get_by_role("button", name="Subscribe").click()
        expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
        subscriber = Subscriber.objects.get(email=READER)
        assert subscriber.status == "pending"

        # The confirmation mail: the only one a pending address gets.
        confirmation = mail_where(box, to(READER, "Confirm your subscription"))
        link = re.search(r"http://\S+/subscribe/confirm/\S+", text_of(confirmation))
        assert link, text_of(confirmation)
        page.goto(link.group(0))
        page.get_by_role("button", name="Confirm subscription").click()
        expect(page.get_by_text("Subscription confirmed")).to_be_visible()
        expect(page.get_by_label("Public API")).to_be_checked()
        subscriber.refresh_from_db()
        assert subscriber.status == "confirmed"

        # An update on the followed service reaches the reader.
        incidents.post_update(
            incident, state="IDENTIFIED", body="Found it: **the database**.", now=timezone.now()
        )
        update = mail_where(box, to(READER, "Checkout errors: Identified"))
        message = update.message
        assert str(message["Subject"]).strip() == "[Beacon] Checkout errors: Identified"
        html = message.get_body(preferencelist=("html",)).get_content()
        assert "<strong>the database</strong>" in html
        assert "Found it: **the database**." in text_of(update)
        assert f"{live_server.url}/incidents/{incident.key}" in text_of(update)
        assert str(message["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"
        unsubscribe = str(message["List-Unsubscribe"]).strip().strip("<>")
        assert unsubscribe == f"{live_server.url}/unsubscribe/{subscriber.token}"
        assert sum(1 for m in box.messages if READER in m.rcpt_tos) == 2

        # Unsubscribe from the link in the mail.
        page.goto(unsubscribe)
        page.get_by_role("button", name="Unsubscribe").click()
        expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
        subscriber.refresh_from_db()
        assert subscriber.status == "unsubscribed"

        # The next update goes out (the witness gets it) but not to the reader.
        incidents.post_update(
            incident, state="MONITORING", body="A fix is deployed.", now=timezone.now()
        )
        mail_where(box, to(WITNESS, "Checkout errors: Monitoring"))
        last = Notification.objects.filter(event=Event.INCIDENT_UPDATED).latest("id")
        wait_for(
            lambda: (
                last.pk
                in set(
                    Notification.objects.filter(planned_at__isnull=False).values_list(
                        "pk", flat=True
                    )
                )
                and not Delivery.objects.filter(
                    notification=last, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]
                ).exists()
            ),
            procs,
        )
        assert list(
            Delivery.objects.filter(notification=last).values_list("target", flat=True)
        ) == [WITNESS]
        # Still only the confirmation and the first update.
        assert sum(1 for m in box.messages if READER in m.rcpt_tos) == 2
