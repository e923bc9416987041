"""Signatures Beacon puts on what it sends out.

* Confirmation links of email subscribers: ``django.core.signing`` with a
  salt of their own, carrying the subscriber id, the address and the time
  it was issued (an explicit ``now``), valid for
  ``BEACON_SUBSCRIBE_CONFIRM_HOURS``. Changing the secret key, the address or
  the salt makes every link invalid; nothing is stored.
* Webhook signatures (subscriber webhooks, and reusable by webhook triggers):
  ``X-Beacon-Timestamp: <unix seconds>`` and
  ``X-Beacon-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{raw body}">``
  keyed with the receiver's secret, plus ``X-Beacon-Delivery: <id>`` so a
  receiver can drop a retried duplicate. Receivers should refuse timestamps
  far from their clock (replays) and compare signatures in constant time
  (``verify_webhook``).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing

CONFIRM_SALT = "beacon.notifications.subscriber-confirm"
SIGNATURE_PREFIX = "sha256="
TIMESTAMP_HEADER = "X-Beacon-Timestamp"
SIGNATURE_HEADER = "X-Beacon-Signature"
DELIVERY_HEADER = "X-Beacon-Delivery"


def confirmation_token(subscriber_id: int, email: str, *, now: datetime) -> str:
    """A signed token for the confirmation link of one subscriber, issued at ``now``."""
    payload = {"s": subscriber_id, "e": email, "t": int(now.timestamp())}
    return signing.dumps(payload, salt=CONFIRM_SALT, compress=False)


def read_confirmation_token(
    token: str, *, now: datetime, max_age: timedelta | None = None
) -> tuple[int, str]:
    """``(subscriber_id, email)`` of a valid token.

    Raises ``signing.SignatureExpired`` when it was issued more than
    ``max_age`` (default ``BEACON_SUBSCRIBE_CONFIRM_HOURS``) before ``now``,
    and ``signing.BadSignature`` for anything this site did not make.
    """
    if max_age is None:
        max_age = timedelta(hours=settings.BEACON_SUBSCRIBE_CONFIRM_HOURS)
    if len(token) > 500:  # real tokens are ~100 characters; do not hash megabytes
        raise signing.BadSignature("token too long")
    data = signing.loads(token, salt=CONFIRM_SALT)
    if not isinstance(data, dict):
        raise signing.BadSignature("unexpected payload")
    subscriber_id, email, issued = data.get("s"), data.get("e"), data.get("t")
    if not (isinstance(subscriber_id, int) and isinstance(email, str) and isinstance(issued, int)):
        raise signing.BadSignature("unexpected payload")
    if now.timestamp() - issued > max_age.total_seconds():
        raise signing.SignatureExpired("confirmation link expired")
    return subscriber_id, email


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of ``"{timestamp}.{body}"`` keyed with ``secret``."""
    message = str(int(timestamp)).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def webhook_headers(secret: str, body: bytes, *, delivery_id: str, now: datetime) -> dict[str, str]:
    """The three signing headers of one request (``now`` gives the timestamp)."""
    timestamp = int(now.timestamp())
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: webhook_signature(secret, timestamp, body),
        DELIVERY_HEADER: str(delivery_id),
    }


def verify_webhook(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    now: datetime,
    tolerance: timedelta = timedelta(minutes=5),
) -> bool:
    """What a receiver does: the timestamp is recent and the signature matches."""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now.timestamp() - stamp) > tolerance.total_seconds():
        return False
    expected = webhook_signature(secret, stamp, body)
    return hmac.compare_digest(expected.encode(), str(signature).encode())
