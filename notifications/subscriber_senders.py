"""Senders of subscriber deliveries: ``subscriber_email`` and ``subscriber_webhook``.

Senders only send: whether a subscriber gets a notification was decided by
``notifications.audience`` when the delivery was planned. One guard is
repeated here, at the last moment: nothing goes to a subscriber who was
removed or unsubscribed since, and nothing but the confirmation mail goes to
an address that is not confirmed.

Email (``SubscriberEmailSender.send_batch``):

* the shared part of a mail (subject, text and HTML bodies) is rendered once
  per notification from its context snapshot with random placeholders for
  the per-subscriber parts (address, manage / unsubscribe / confirm links),
  which are then substituted with plain string replacement: rendering costs
  one template pass per notification, not per subscriber;
* one SMTP connection (``django.core.mail.get_connection()``) carries the
  whole engine pass (every ``send_batch`` until ``close``); it is reopened
  if the server drops it;
* mails go out pre-serialised: the shared message is turned into bytes once
  (``wire_template``) and each subscriber's copy is a few byte replacements,
  handed to smtplib directly. Whenever that could differ from Django's own
  serialisation (bodies needing quoted-printable, non-ASCII values) or the
  backend is not SMTP, the reference path (``build_email``) is used;
* every mail has a text and an HTML part, ``List-Unsubscribe:
  <https://.../unsubscribe/<token>>`` with ``List-Unsubscribe-Post:
  List-Unsubscribe=One-Click`` (RFC 8058), ``Auto-Submitted:
  auto-generated`` and ``X-Beacon-Delivery``;
* a refusal is judged per message: a 5xx for one recipient (550 no such
  user) fails that delivery for good and the batch goes on; 4xx answers and
  a lost connection are transient (retried later by the engine).

Webhook (``SubscriberWebhookSender``): a JSON POST ``{"id", "event",
"event_label", "sent_at", "data"}`` signed with the subscriber's secret (its
``token``): ``X-Beacon-Timestamp``, ``X-Beacon-Signature: sha256=<hex>``,
``X-Beacon-Delivery`` (``notifications.signing``), sent through the
engine's ``HttpSender``: 2xx is success; 408, 425, 429, 5xx and network
errors are transient (a 429/503 ``Retry-After`` is honoured); other
answers, redirects included (never followed), are permanent.
"""

from __future__ import annotations

import json
import secrets
import smtplib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formataddr, parseaddr
from functools import cache
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import make_msgid, sanitize_address
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.urls import get_urlconf, reverse
from django.utils import timezone
from django.utils.html import escape

from . import signing
from .audience import EMAIL_CHANNEL, WEBHOOK_CHANNEL
from .models import Event, Subscriber, SubscriberStatus
from .notifiers.base import HttpSender, Outcome, Sender, elapsed_ms, register

SUBJECT_MAX = 200
INCIDENT_TEMPLATES = ("emails/incident.txt", "emails/incident.html")
MAINTENANCE_TEMPLATES = ("emails/maintenance.txt", "emails/maintenance.html")
CONFIRM_TEMPLATES = ("emails/confirm.txt", "emails/confirm.html")
MAINTENANCE_SUBJECTS = {
    Event.MAINTENANCE_SCHEDULED: "Maintenance scheduled",
    Event.MAINTENANCE_STARTED: "Maintenance in progress",
    Event.MAINTENANCE_ENDED: "Maintenance completed",
}


def _one_line(text: str, limit: int = SUBJECT_MAX) -> str:
    """Header-safe text: no line breaks (header injection), bounded length."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --- Links --------------------------------------------------------------------------------


def site_base(context: dict[str, Any]) -> str:
    """The public base URL links are built on: the snapshot's, else the current one."""
    url = (context.get("site") or {}).get("url")
    if url:
        return str(url).rstrip("/")
    from .incident_variables import site

    return site()["url"]


@cache
def _path_prefix(name: str, urlconf: str | None) -> str:
    """The path of ``name`` up to its one token argument (``/unsubscribe/``):
    ``reverse`` costs ~0.2 ms, twice per mail; tokens are URL-safe as they are."""
    marker = "TOKEN"
    return reverse(name, args=[marker], urlconf=urlconf)[: -len(marker)]


def _link(base: str, name: str, token: str) -> str:
    return base + _path_prefix(name, get_urlconf()) + token


def manage_url(base: str, token: str) -> str:
    return _link(base, "subscribe:manage", token)


def unsubscribe_url(base: str, token: str) -> str:
    return _link(base, "subscribe:unsubscribe", token)


def confirm_url(base: str, subscriber_id: int, email: str, now: datetime) -> str:
    return _link(
        base, "subscribe:confirm", signing.confirmation_token(subscriber_id, email, now=now)
    )


# --- Email ----------------------------------------------------------------------------------


NAMES = ("recipient", "manage_url", "unsubscribe_url", "confirm_url")


@dataclass(frozen=True)
class SharedEmail:
    """A notification's mail, rendered once, with markers where each
    subscriber's values go (one set per part: the HTML one is escaped)."""

    subject: str
    text: str
    html: str
    text_markers: dict[str, str]  # name -> marker in ``text``
    html_markers: dict[str, str]  # name -> marker in ``html``
    base: str
    is_confirmation: bool
    nonce: str


def _templates(event: str) -> tuple[str, str] | None:
    if event.startswith("incident."):
        return INCIDENT_TEMPLATES
    if event.startswith("maintenance."):
        return MAINTENANCE_TEMPLATES
    if event == Event.SUBSCRIBER_CONFIRM:
        return CONFIRM_TEMPLATES
    return None


def subject_for(event: str, context: dict[str, Any]) -> str:
    """``[{site}] {incident title}: {state}`` and its maintenance / confirmation kin."""
    site_name = (context.get("site") or {}).get("name") or "Beacon"
    if event.startswith("incident."):
        incident = context.get("incident") or {}
        text = f"[{site_name}] {incident.get('title', '')}: {incident.get('state_label', '')}"
    elif event.startswith("maintenance."):
        window = context.get("maintenance") or {}
        label = MAINTENANCE_SUBJECTS.get(event, "Maintenance")
        text = f"[{site_name}] {window.get('title', '')}: {label}"
    elif context.get("already_confirmed"):
        text = f"[{site_name}] You are already subscribed"
    else:
        text = f"[{site_name}] Confirm your subscription"
    return _one_line(text)


def render_shared(event: str, context: dict[str, Any]) -> SharedEmail:
    """Render a notification's mail once (see the module docstring).

    The markers carry a random nonce, so text an operator wrote (an update
    body) can never be mistaken for one.
    """
    templates = _templates(event)
    if templates is None:
        raise ValueError(f"no subscriber email for event {event!r}")
    nonce = secrets.token_hex(8)
    text_markers = {name: f"@@{nonce}:t:{name}@@" for name in NAMES}
    html_markers = {name: f"@@{nonce}:h:{name}@@" for name in NAMES}
    extra = {"confirm_hours": settings.BEACON_SUBSCRIBE_CONFIRM_HOURS}
    return SharedEmail(
        subject=subject_for(event, context),
        text=render_to_string(templates[0], {**context, **text_markers, **extra}),
        html=render_to_string(templates[1], {**context, **html_markers, **extra}),
        text_markers=text_markers,
        html_markers=html_markers,
        base=site_base(context),
        is_confirmation=event == Event.SUBSCRIBER_CONFIRM,
        nonce=nonce,
    )


def personal_values(shared: SharedEmail, subscriber: Subscriber, now: datetime) -> dict[str, str]:
    """One subscriber's address and links."""
    return {
        "recipient": subscriber.email,
        "manage_url": manage_url(shared.base, subscriber.token),
        "unsubscribe_url": unsubscribe_url(shared.base, subscriber.token),
        "confirm_url": (
            confirm_url(shared.base, subscriber.pk, subscriber.email, now)
            if shared.is_confirmation
            else ""
        ),
    }


def _from_address(site_name: str) -> str:
    sender = settings.DEFAULT_FROM_EMAIL
    name, address = parseaddr(sender)
    return sender if name else formataddr((site_name, address or sender))


def _message(
    shared: SharedEmail,
    text: str,
    html: str,
    *,
    to: str,
    unsubscribe: str,
    delivery_id: str,
    site_name: str,
    message_id: str | None = None,
    connection: Any = None,
) -> EmailMultiAlternatives:
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
        "X-Beacon-Delivery": delivery_id,
    }
    if message_id is not None:
        headers["Message-ID"] = message_id
    message = EmailMultiAlternatives(
        subject=shared.subject,
        body=text,
        from_email=_from_address(site_name),
        to=[to],
        connection=connection,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


def build_email(
    shared: SharedEmail,
    values: dict[str, str],
    delivery_id: int | str,
    *,
    site_name: str,
    connection: Any = None,
) -> EmailMultiAlternatives:
    """One subscriber's mail from the shared rendering (the reference path)."""
    text, html = shared.text, shared.html
    for name in NAMES:
        text = text.replace(shared.text_markers[name], values[name])
        html = html.replace(shared.html_markers[name], escape(values[name]))
    return _message(
        shared,
        text,
        html,
        to=values["recipient"],
        unsubscribe=values["unsubscribe_url"],
        delivery_id=str(delivery_id),
        site_name=site_name,
        connection=connection,
    )


@dataclass(frozen=True)
class WireTemplate:
    """A notification's mail serialised once (``message.as_bytes``), with
    markers where each subscriber's bytes go: building a mail is then a few
    byte replacements instead of a MIME serialisation (the bulk of the CPU
    of a mail). ``wire_template`` returns None whenever that would not give
    exactly what ``build_email`` gives (a body that had to be encoded as
    quoted-printable or base64, a header folded through a marker)."""

    raw: bytes
    envelope_from: str
    markers: dict[bytes, str]  # marker bytes -> name of the value (``to``, ``text:...``)


def wire_template(shared: SharedEmail, site_name: str) -> WireTemplate | None:
    """Serialise the shared mail once with markers (see ``WireTemplate``)."""
    nonce = shared.nonce
    headers = {
        "to": f"r{nonce}@placeholder.invalid",
        "header_unsubscribe": f"https://u{nonce}.invalid/",
        "delivery": f"d{nonce}",
        "message_id": f"<m{nonce}@placeholder.invalid>",
    }
    message = _message(
        shared,
        shared.text,
        shared.html,
        to=headers["to"],
        unsubscribe=headers["header_unsubscribe"],
        delivery_id=headers["delivery"],
        site_name=site_name,
        message_id=headers["message_id"],
    )
    raw = message.message().as_bytes(linesep="\r\n")  # as Django's SMTP backend sends it
    markers: dict[bytes, str] = {}
    expected: dict[str, int] = {}
    for name in NAMES:
        for part, text, marker in (
            ("text", shared.text, shared.text_markers[name]),
            ("html", shared.html, shared.html_markers[name]),
        ):
            markers[marker.encode()] = f"{part}:{name}"
            expected[f"{part}:{name}"] = text.count(marker)
    for name, marker in headers.items():
        markers[marker.encode()] = name
        expected[name] = 1
    for marker, name in markers.items():
        if raw.count(marker) != expected[name]:
            return None  # encoded or folded through a marker: use the reference path
    envelope_from = sanitize_address(message.from_email, message.encoding or "utf-8")
    return WireTemplate(raw=raw, envelope_from=envelope_from, markers=markers)


def wire_bytes(template: WireTemplate, values: dict[str, str], delivery_id: str) -> bytes | None:
    """One subscriber's mail as bytes, or None when a value needs the reference
    path (anything not ASCII: the parts may be declared 7bit)."""
    if not values["recipient"].isascii():
        return None
    filled = {
        "to": sanitize_address(values["recipient"], "utf-8"),  # as Django writes To
        "header_unsubscribe": values["unsubscribe_url"],
        "delivery": delivery_id,
        "message_id": make_msgid(domain=DNS_NAME),
    }
    for name in NAMES:
        filled[f"text:{name}"] = values[name]
        filled[f"html:{name}"] = escape(values[name])
    if not all(value.isascii() for value in filled.values()):
        return None
    raw = template.raw
    for marker, name in template.markers.items():
        raw = raw.replace(marker, filled[name].encode())
    return raw


def refusal(subscriber: Subscriber | None, event: str) -> str:
    """Why a subscriber must not get this now (empty when they may)."""
    if subscriber is None:
        return "The subscriber was removed."
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return "The subscriber unsubscribed."
    if subscriber.status != SubscriberStatus.CONFIRMED and event != Event.SUBSCRIBER_CONFIRM:
        return "The subscriber has not confirmed; only the confirmation link may be sent."
    return ""


def smtp_outcome(exc: Exception, started: float) -> Outcome:
    """Judge an SMTP failure: a 5xx is permanent for this message, the rest transient."""
    code: int | None = None
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = exc.recipients.items()
        codes = [value[0] for _, value in refused]
        code = max(codes) if codes else None
        error = "recipient refused: " + "; ".join(
            f"{rcpt}: {value[0]} {_text(value[1])}" for rcpt, value in refused
        )
    elif isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        error = f"SMTP {code}: {_text(exc.smtp_error)}"
    else:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    permanent = code is not None and 500 <= code < 600
    return Outcome.failure(
        error, transient=not permanent, status_code=code, duration_ms=elapsed_ms(started)
    )


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _connection_lost(exc: Exception) -> bool:
    # SMTPException is an OSError too: only a disconnection or a socket error
    # (not a refusal the server answered) loses the connection.
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def _mail_timeout() -> float:
    return float(settings.EMAIL_TIMEOUT or settings.BEACON_DELIVERY_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class Mail:
    """A mail ready to go: serialised bytes for the SMTP fast path, or a
    Django message (the reference path)."""

    envelope_from: str
    recipient: str
    raw: bytes
    message: EmailMultiAlternatives | None = None


@register
class SubscriberEmailSender(Sender):
    """Sends ``subscriber_email`` deliveries over one SMTP connection per engine
    pass (kept open across ``send_batch`` calls, closed by ``close``)."""

    kind = EMAIL_CHANNEL
    label = "Subscriber email"
    chunk_size = 200

    def worst_case_seconds(self, count: int) -> float:
        # Connecting, then every message waiting its full timeout at worst.
        return _mail_timeout() * 2 + count * (_mail_timeout() + 1.0)

    def send(self, delivery: Any) -> Outcome:
        return self.send_batch([delivery])[0]

    _connection: Any = None  # one SMTP connection per engine pass, across chunks

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def send_batch(self, deliveries: Sequence[Any]) -> list[Outcome]:
        now = timezone.now()
        prepared: dict[int, tuple[SharedEmail, WireTemplate | None, str]] = {}
        outcomes: list[Outcome | None] = [None] * len(deliveries)
        # Serialised mails go straight to smtplib; any other backend (console,
        # in-memory, file) gets Django messages.
        fast = issubclass(get_connection().__class__, SMTPBackend)
        for index, delivery in enumerate(deliveries):
            started = time.perf_counter()
            mail = self._prepare(delivery, prepared, now, started, fast=fast)
            if isinstance(mail, Outcome):
                outcomes[index] = mail
                continue
            if self._connection is None:
                connection = get_connection(fail_silently=False, timeout=_mail_timeout())
                try:
                    connection.open()
                except Exception as exc:  # no server: every mail left is transient
                    failure = smtp_outcome(exc, started)
                    for rest in range(index, len(deliveries)):
                        if outcomes[rest] is None:
                            outcomes[rest] = failure
                    break
                self._connection = connection
            outcomes[index], lost = self._send_one(self._connection, mail, started)
            if lost:  # the next mail opens a new connection
                self.close()
        return [
            o if o is not None else Outcome.failure("not attempted", transient=True)
            for o in outcomes
        ]

    @staticmethod
    def _prepare(
        delivery: Any,
        prepared: dict[int, tuple[SharedEmail, WireTemplate | None, str]],
        now: datetime,
        started: float,
        *,
        fast: bool,
    ) -> Mail | Outcome:
        """The mail of one delivery, or the outcome that stops it before sending."""
        notification = delivery.notification
        if notification is None:
            return Outcome.failure("the notification is gone", transient=False)
        subscriber = delivery.subscriber
        reason = refusal(subscriber, notification.event)
        if reason:
            return Outcome.failure(reason, transient=False)
        try:
            if notification.pk not in prepared:  # once per notification in the batch
                context = notification.context or {}
                site_name = (context.get("site") or {}).get("name") or "Beacon"
                shared = render_shared(notification.event, context)
                template = wire_template(shared, site_name) if fast else None
                prepared[notification.pk] = (shared, template, site_name)
            shared, template, site_name = prepared[notification.pk]
            values = personal_values(shared, subscriber, now)
            raw = wire_bytes(template, values, str(delivery.pk)) if template else None
            if raw is not None:
                return Mail(
                    template.envelope_from, sanitize_address(subscriber.email, "utf-8"), raw
                )
            return Mail("", "", b"", build_email(shared, values, delivery.pk, site_name=site_name))
        except Exception as exc:  # a mail that cannot be built now never will be
            return Outcome.failure(
                f"could not build the mail: {type(exc).__name__}: {exc}",
                transient=False,
                duration_ms=elapsed_ms(started),
            )

    @staticmethod
    def _send_one(connection: Any, mail: Mail, started: float) -> tuple[Outcome, bool]:
        """The outcome, and whether the connection is lost."""
        try:
            if mail.message is None:  # serialised: the backend is Django's SMTP one
                connection.connection.sendmail(mail.envelope_from, [mail.recipient], mail.raw)
            else:
                if not connection.send_messages([mail.message]):
                    failure = Outcome.failure(
                        "the mail backend sent nothing",
                        transient=True,
                        duration_ms=elapsed_ms(started),
                    )
                    return failure, True
        except Exception as exc:
            return smtp_outcome(exc, started), _connection_lost(exc)
        return Outcome.success(status_code=250, duration_ms=elapsed_ms(started)), False


# --- Webhook ---------------------------------------------------------------------------------


def webhook_body(
    delivery_id: int | str, event: str, context: dict[str, Any], *, now: datetime
) -> bytes:
    """The JSON body of a subscriber webhook call (compact, UTF-8)."""
    try:
        label = str(Event(event).label)
    except ValueError:
        label = event
    payload = {
        "id": str(delivery_id),
        "event": event,
        "event_label": label,
        "sent_at": now.astimezone(UTC).isoformat(),
        "data": context,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


@register
class SubscriberWebhookSender(HttpSender):
    """Sends ``subscriber_webhook`` deliveries: one signed POST each, over the
    engine pass's pooled client, redirects not followed."""

    kind = WEBHOOK_CHANNEL
    label = "Subscriber webhook"

    def send(self, delivery: Any) -> Outcome:
        notification = delivery.notification
        if notification is None:
            return Outcome.failure("the notification is gone", transient=False)
        subscriber = delivery.subscriber
        reason = refusal(subscriber, notification.event)
        if reason:
            return Outcome.failure(reason, transient=False)
        now = timezone.now()
        body = webhook_body(delivery.pk, notification.event, notification.context or {}, now=now)
        return self.signed_post(subscriber.url, subscriber.token, body, str(delivery.pk), now)

    def signed_post(
        self, url: str, secret: str, body: bytes, delivery_id: str, now: datetime
    ) -> Outcome:
        """POST ``body`` to ``url`` with the signing headers (see ``notifications.signing``)."""
        headers = signing.webhook_headers(secret, body, delivery_id=delivery_id, now=now)
        return self.request(delivery_id, "POST", url, body=body, headers=headers)  # type: ignore[arg-type]


def verification_call(url: str, secret: str, *, now: datetime, context: dict[str, Any]) -> Outcome:
    """The signed ``test`` call that verifies a new webhook subscriber's URL."""
    delivery_id = f"verify-{secrets.token_hex(8)}"
    body = webhook_body(delivery_id, Event.TEST, context, now=now)
    with SubscriberWebhookSender() as sender:
        return sender.signed_post(url, secret, body, delivery_id, now)
