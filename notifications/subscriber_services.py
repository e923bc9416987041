"""Subscriber services: the only code that changes subscribers.

Every function takes an explicit ``now`` (and the client ``ip`` or the
console/API ``actor`` when there is one), runs in one transaction and
writes a ``SubscriberEvent`` with the change. Refused input raises
``SubscriberError(field, message)`` for the form or the API to show next to
the field; nothing is written then.

The public side (``subscribe``, ``confirm``, ``update_preferences``,
``unsubscribe``) never tells a visitor whether an address is known:
``subscribe`` returns nothing and does the right thing for each case:

* a new address (or one that unsubscribed) becomes ``pending`` and gets the
  confirmation link (a ``subscriber.confirm`` notification);
* a pending address takes the new choices and gets the link again;
* a confirmed address keeps its choices (a stranger must not change them)
  and gets an "already subscribed" mail with its manage link;

and at most one such mail per ``BEACON_SUBSCRIBE_RESEND_SECONDS``, so the
form cannot be used to flood someone's inbox.

The admin side (``create_subscriber``, ``remove``) adds email subscribers
as pending too (double opt-in holds for everybody) and webhook subscribers
only after a signed test call to their URL answered 2xx.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing as django_signing
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import IntegrityError, transaction

from monitors.models import Monitor

from . import outbox, signing
from .models import (
    Event,
    Notification,
    Subscriber,
    SubscribeRequest,
    SubscriberEvent,
    SubscriberKind,
    SubscriberStatus,
)

MAX_EMAIL = 254
MAX_URL = 2000
MAX_MONITORS = 200
EventType = SubscriberEvent.Type


class SubscriberError(ValueError):
    """A refused change; ``field`` names the input at fault (or ``None``)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class Choices:
    """What a subscriber follows: everything or some monitors, and which events."""

    all_monitors: bool = True
    monitors: Sequence[Monitor] = field(default_factory=list)
    notify_incidents: bool = True
    notify_maintenance: bool = True

    def check(self) -> None:
        """Refuse choices that would never notify anything."""
        if not (self.notify_incidents or self.notify_maintenance):
            raise SubscriberError(
                "notify_incidents", "Choose incidents, maintenance or both: one is needed."
            )
        if not self.all_monitors and not self.monitors:
            raise SubscriberError("monitors", "Choose at least one monitor, or everything.")
        if len(self.monitors) > MAX_MONITORS:
            raise SubscriberError("monitors", f"At most {MAX_MONITORS} monitors.")

    def snapshot(self) -> dict[str, Any]:
        return {
            "all_monitors": self.all_monitors,
            "monitors": [] if self.all_monitors else sorted(m.tag for m in self.monitors),
            "notify_incidents": self.notify_incidents,
            "notify_maintenance": self.notify_maintenance,
        }


def choices_of(subscriber: Subscriber) -> Choices:
    """The current choices of a saved subscriber."""
    return Choices(
        all_monitors=subscriber.all_monitors,
        monitors=list(subscriber.monitors.order_by("name", "pk")),
        notify_incidents=subscriber.notify_incidents,
        notify_maintenance=subscriber.notify_maintenance,
    )


def normalise_email(raw: Any) -> str:
    """A checked, lower-cased address; ``SubscriberError("email")`` otherwise.

    Lower-casing the whole address (local parts are case-insensitive at
    every provider that matters) keeps ``Foo@x`` and ``foo@x`` one subscriber.
    """
    if not isinstance(raw, str):
        raise SubscriberError("email", "Enter an email address.")
    email = raw.strip()
    if not email:
        raise SubscriberError("email", "Enter an email address.")
    if len(email) > MAX_EMAIL:
        raise SubscriberError("email", f"At most {MAX_EMAIL} characters.")
    try:
        EmailValidator()(email)
    except ValidationError:
        raise SubscriberError("email", "Enter a valid email address.") from None
    return email.lower()


def normalise_url(raw: Any) -> str:
    """A checked http(s) URL for a webhook subscriber."""
    if not isinstance(raw, str) or not raw.strip():
        raise SubscriberError("url", "Enter the URL to call.")
    url = raw.strip()
    if len(url) > MAX_URL:
        raise SubscriberError("url", f"At most {MAX_URL} characters.")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise SubscriberError("url", "Enter a valid http:// or https:// URL.") from None
    return url


def _event(
    subscriber: Subscriber,
    type_: str,
    now: datetime,
    *,
    ip: str | None = None,
    actor: Any = None,
    data: dict[str, Any] | None = None,
) -> SubscriberEvent:
    return SubscriberEvent.objects.create(
        subscriber=subscriber,
        address=str(subscriber)[:300],
        type=type_,
        data=data or {},
        ip=ip or None,
        actor=actor if getattr(actor, "pk", None) else None,
        at=now,
    )


def _apply(subscriber: Subscriber, choices: Choices) -> None:
    subscriber.all_monitors = choices.all_monitors
    subscriber.notify_incidents = choices.notify_incidents
    subscriber.notify_maintenance = choices.notify_maintenance
    subscriber.save()
    subscriber.monitors.set([] if choices.all_monitors else list(choices.monitors))


def _send_confirmation(subscriber: Subscriber, now: datetime, *, already: bool) -> bool:
    """Queue the confirmation (or "already subscribed") mail unless one went
    out within the resend interval. True when one was queued."""
    resend = timedelta(seconds=settings.BEACON_SUBSCRIBE_RESEND_SECONDS)
    last = subscriber.confirmation_sent_at
    if last is not None and now - last < resend:
        return False
    from .incident_variables import site

    here = site()
    notification = Notification.objects.create(
        event=Event.SUBSCRIBER_CONFIRM,
        subscriber=subscriber,
        context={
            "site": {"name": here["name"], "url": here["url"]},
            "event": Event.SUBSCRIBER_CONFIRM,
            "already_confirmed": already,
        },
        created_at=now,
    )
    subscriber.confirmation_sent_at = now
    subscriber.save(update_fields=["confirmation_sent_at"])
    _event(
        subscriber,
        EventType.CONFIRMATION_SENT,
        now,
        data={"notification": notification.pk, "already_confirmed": already},
    )
    outbox._queue_planning(notification)
    return True


# --- Public side -----------------------------------------------------------------------


def subscribe(email: Any, choices: Choices, *, now: datetime, ip: str | None = None) -> None:
    """The public form: see the module docstring for what happens per case.

    Returns nothing on purpose: the caller answers the same in every case.
    """
    email = normalise_email(email)
    choices.check()
    with transaction.atomic():
        subscriber = (
            Subscriber.objects.select_for_update()
            .filter(kind=SubscriberKind.EMAIL, email=email)
            .first()
        )
        if subscriber is None:
            try:
                with transaction.atomic():
                    subscriber = Subscriber.objects.create(kind=SubscriberKind.EMAIL, email=email)
            except IntegrityError:  # created by a concurrent request: treat as known
                subscriber = Subscriber.objects.select_for_update().get(
                    kind=SubscriberKind.EMAIL, email=email
                )
            else:
                _apply(subscriber, choices)
                _event(subscriber, EventType.SUBSCRIBED, now, ip=ip, data=choices.snapshot())
                _send_confirmation(subscriber, now, already=False)
                return
        if subscriber.status == SubscriberStatus.CONFIRMED:
            _event(subscriber, EventType.REQUESTED_AGAIN, now, ip=ip, data=choices.snapshot())
            _send_confirmation(subscriber, now, already=True)
            return
        if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
            subscriber.status = SubscriberStatus.PENDING
            subscriber.confirmed_at = None
            _apply(subscriber, choices)
            _event(
                subscriber,
                EventType.SUBSCRIBED,
                now,
                ip=ip,
                data={**choices.snapshot(), "again": True},
            )
        else:  # still pending: the latest choices are the ones the link confirms
            _apply(subscriber, choices)
            _event(subscriber, EventType.REQUESTED_AGAIN, now, ip=ip, data=choices.snapshot())
        _send_confirmation(subscriber, now, already=False)


def confirm(token: str, *, now: datetime, ip: str | None = None) -> Subscriber:
    """Confirm the subscriber a confirmation link names.

    ``SubscriberError(None, ...)`` when the link is expired, forged, for an
    address that has since changed, or for a subscriber who unsubscribed
    (they must ask again). Confirming twice is harmless.
    """
    try:
        subscriber_id, email = signing.read_confirmation_token(token, now=now)
    except django_signing.SignatureExpired:
        raise SubscriberError(
            None, "This confirmation link has expired. Subscribe again to get a new one."
        ) from None
    except django_signing.BadSignature:
        raise SubscriberError(None, "This confirmation link is not valid.") from None
    with transaction.atomic():
        subscriber = (
            Subscriber.objects.select_for_update()
            .filter(pk=subscriber_id, kind=SubscriberKind.EMAIL, email=email)
            .first()
        )
        if subscriber is None:
            raise SubscriberError(None, "This confirmation link is not valid.")
        if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
            raise SubscriberError(
                None, "This address unsubscribed since; subscribe again to get news."
            )
        if subscriber.status == SubscriberStatus.PENDING:
            subscriber.status = SubscriberStatus.CONFIRMED
            subscriber.confirmed_at = now
            subscriber.save(update_fields=["status", "confirmed_at"])
            _event(subscriber, EventType.CONFIRMED, now, ip=ip)
    return subscriber


def update_preferences(
    subscriber: Subscriber,
    choices: Choices,
    *,
    now: datetime,
    ip: str | None = None,
    actor: Any = None,
) -> Subscriber:
    """Change what a subscriber follows (manage page, console)."""
    choices.check()
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
            raise SubscriberError(None, "This address is unsubscribed; subscribe again first.")
        before = choices_of(subscriber).snapshot()
        _apply(subscriber, choices)
        after = choices.snapshot()
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changes:
            _event(subscriber, EventType.PREFERENCES_CHANGED, now, ip=ip, actor=actor, data=changes)
    return subscriber


def unsubscribe(
    subscriber: Subscriber, *, now: datetime, ip: str | None = None, via: str = "link"
) -> Subscriber:
    """Stop every mail or call to this subscriber (idempotent: a replayed
    one-click POST changes nothing and writes no second event)."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
            subscriber.status = SubscriberStatus.UNSUBSCRIBED
            subscriber.unsubscribed_at = now
            subscriber.save(update_fields=["status", "unsubscribed_at"])
            _event(subscriber, EventType.UNSUBSCRIBED, now, ip=ip, data={"via": via})
    return subscriber


# --- Rate limit of the public form ------------------------------------------------------


def allow_request(ip: str | None, *, now: datetime) -> bool:
    """Count one subscribe-form post from ``ip``; False when the address has
    used up ``BEACON_SUBSCRIBE_MAX_PER_IP`` inside the window (nothing is
    counted then, so waiting is enough to get through again)."""
    if not ip:
        return True
    window = timedelta(seconds=settings.BEACON_SUBSCRIBE_WINDOW_SECONDS)
    with transaction.atomic():
        recent = SubscribeRequest.objects.filter(ip=ip, at__gt=now - window).count()
        if recent >= settings.BEACON_SUBSCRIBE_MAX_PER_IP:
            return False
        SubscribeRequest.objects.create(ip=ip, at=now)
        # Forget requests far outside the window (bounded work per request).
        old = SubscribeRequest.objects.filter(at__lt=now - window * 2).values_list("pk", flat=True)
        SubscribeRequest.objects.filter(pk__in=list(old[:500])).delete()
    return True


def retry_after_seconds(ip: str, *, now: datetime) -> int:
    """Seconds until the oldest counted request of ``ip`` leaves the window."""
    window = timedelta(seconds=settings.BEACON_SUBSCRIBE_WINDOW_SECONDS)
    oldest = (
        SubscribeRequest.objects.filter(ip=ip, at__gt=now - window)
        .order_by("at")
        .values_list("at", flat=True)
        .first()
    )
    if oldest is None:
        return 0
    return max(1, int((oldest + window - now).total_seconds()) + 1)


# --- Admin side ----------------------------------------------------------------------------


def create_subscriber(
    kind: str,
    address: Any,
    choices: Choices,
    *,
    now: datetime,
    actor: Any = None,
) -> Subscriber:
    """Add a subscriber from the console or the API.

    An email subscriber starts pending and is sent the confirmation link. A
    webhook subscriber is called once with a signed ``test`` event and is
    created (confirmed) only when that call answers 2xx; its ``token`` is the
    signing secret, shown to the admin once.
    """
    choices.check()
    if kind == SubscriberKind.EMAIL:
        email = normalise_email(address)
        with transaction.atomic():
            existing = Subscriber.objects.filter(kind=kind, email=email).first()
            if existing is not None:
                if existing.status == SubscriberStatus.UNSUBSCRIBED:
                    raise SubscriberError(
                        "email",
                        "This address unsubscribed; only its owner can subscribe it again "
                        "(public subscribe form).",
                    )
                raise SubscriberError("email", "A subscriber with this address already exists.")
            try:
                with transaction.atomic():
                    subscriber = Subscriber.objects.create(kind=kind, email=email)
            except IntegrityError:
                raise SubscriberError(
                    "email", "A subscriber with this address already exists."
                ) from None
            _apply(subscriber, choices)
            _event(subscriber, EventType.CREATED, now, actor=actor, data=choices.snapshot())
            _send_confirmation(subscriber, now, already=False)
        return subscriber
    if kind != SubscriberKind.WEBHOOK:
        raise SubscriberError("kind", "Must be email or webhook.")
    url = normalise_url(address)
    if Subscriber.objects.filter(kind=kind, url=url).exists():
        raise SubscriberError("url", "A webhook subscriber with this URL already exists.")
    secret = secrets.token_urlsafe(32)
    # The call happens outside any transaction: no lock is held while a
    # remote server takes its time.
    error = verify_webhook_url(url, secret, now=now)
    if error:
        raise SubscriberError("url", f"The test call failed: {error}")
    with transaction.atomic():
        try:
            with transaction.atomic():
                subscriber = Subscriber.objects.create(
                    kind=kind,
                    url=url,
                    token=secret,
                    status=SubscriberStatus.CONFIRMED,
                    confirmed_at=now,
                )
        except IntegrityError:
            raise SubscriberError(
                "url", "A webhook subscriber with this URL already exists."
            ) from None
        _apply(subscriber, choices)
        _event(subscriber, EventType.CREATED, now, actor=actor, data=choices.snapshot())
        _event(subscriber, EventType.VERIFIED, now, actor=actor)
    return subscriber


def verify_webhook_url(url: str, secret: str, *, now: datetime) -> str:
    """Make the signed test call; an empty string when it answered 2xx, else why not."""
    from .incident_variables import site
    from .subscriber_senders import verification_call

    here = site()
    context = {
        "site": {"name": here["name"], "url": here["url"]},
        "message": "Beacon is checking this URL before sending it status notifications.",
    }
    outcome = verification_call(url, secret, now=now, context=context)
    if outcome.ok:
        return ""
    return outcome.error or f"HTTP {outcome.status_code}"


def remove(subscriber: Subscriber, *, now: datetime, actor: Any = None) -> None:
    """Delete a subscriber (console / API); the event log keeps its address.
    Deliveries already made keep their target text."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        _event(
            subscriber,
            EventType.REMOVED,
            now,
            actor=actor,
            data={"kind": subscriber.kind, "status": subscriber.status},
        )
        subscriber.delete()


def public_monitors() -> Any:
    """The monitors a member of the public may follow."""
    return Monitor.objects.filter(is_public=True).order_by("name", "pk")
