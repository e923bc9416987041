"""Helpers shared by the subscriber tests: subscribers in a given state, a real
SMTP server wired into Django's mail settings, and deliveries of a
notification created from the real audience query.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

from monitors.models import Monitor
from notifications.audience import subscriber_deliveries
from notifications.models import Delivery, Notification, Subscriber
from notifications.tests.smtp import Mailbox, smtp_server


def make_subscriber(
    email: str = "",
    *,
    url: str = "",
    status: str = "confirmed",
    all_monitors: bool = True,
    monitors: Sequence[Monitor] = (),
    notify_incidents: bool = True,
    notify_maintenance: bool = True,
    now: datetime | None = None,
) -> Subscriber:
    """A subscriber row in the given state (set-up only; the services are tested on their own)."""
    now = now or timezone.now()
    subscriber = Subscriber.objects.create(
        kind="webhook" if url else "email",
        email=email,
        url=url,
        status=status,
        all_monitors=all_monitors,
        notify_incidents=notify_incidents,
        notify_maintenance=notify_maintenance,
        confirmed_at=now if status == "confirmed" else None,
        unsubscribed_at=now if status == "unsubscribed" else None,
    )
    if monitors:
        subscriber.monitors.set(monitors)
    return subscriber


def deliveries_for(notification: Notification, now: datetime | None = None) -> list[Delivery]:
    """Create the subscriber deliveries of ``notification`` from the audience
    query and return them loaded as the sending engine loads them."""
    now = now or timezone.now()
    Delivery.objects.bulk_create(
        [
            Delivery(
                notification=notification,
                subscriber_id=subscriber_id,
                channel=channel,
                target=target,
                created_at=now,
            )
            for subscriber_id, channel, target in subscriber_deliveries(notification)
        ]
    )
    return list(
        Delivery.objects.filter(notification=notification)
        .select_related("notification", "trigger", "subscriber")
        .order_by("id")
    )


def use_smtp(settings: Any, box: Mailbox) -> None:
    """Point Django's SMTP backend at ``box``."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = box.host
    settings.EMAIL_PORT = box.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


def running_mailbox(settings: Any) -> Iterator[Mailbox]:
    """A real aiosmtpd server on 127.0.0.1 that Django's mail goes to, for a
    test module's ``mailbox`` fixture (``yield from running_mailbox(settings)``)."""
    with smtp_server() as box:
        use_smtp(settings, box)
        yield box
