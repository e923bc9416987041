"""Pure decisions of ingestion: what one received alert does to the stored
one, which times to record, which key makes a delivery a replay, and which
integration a presented credential names. No database, no clock: callers pass
``now``.

Dedup semantics (docs/ingestion.md repeats them):

* one stored alert per (integration, fingerprint);
* firing, unknown fingerprint -> ``NEW_TRIGGERED`` (TRIGGERED, an event);
* firing, stored TRIGGERED -> ``REPEAT`` (last seen, occurrence count + 1);
* firing, stored RESOLVED -> ``REFIRE`` (TRIGGERED again, an event, count + 1);
* resolved, stored TRIGGERED -> ``RESOLVE`` (RESOLVED, an event);
* resolved, stored RESOLVED -> ``DUPLICATE_RESOLVE`` (the receipt is kept, nothing changes);
* resolved, unknown fingerprint -> ``NEW_RESOLVED`` (stored RESOLVED with an
  event saying so; it never opens an incident).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime, timedelta
from enum import StrEnum

TRIGGERED = "TRIGGERED"
RESOLVED = "RESOLVED"

# What H5's parsers put in ``ParseResult.delivery_id`` when the vendor sends no
# id of its own: a digest of the canonical body.
DIGEST_PREFIX = "sha256:"
MAX_KEY = 200
MAX_TOKEN = 64
# Tokens are ``secrets.token_urlsafe``: anything else can never match, and
# must not reach a query (PostgreSQL refuses NUL characters outright).
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Change(StrEnum):
    NEW_TRIGGERED = "new_triggered"
    NEW_RESOLVED = "new_resolved"
    REPEAT = "repeat"
    REFIRE = "refire"
    RESOLVE = "resolve"
    DUPLICATE_RESOLVE = "duplicate_resolve"


# Changes that move an alert's status: these write an AlertEvent and are
# handed to correlation after commit.
TRANSITIONS = frozenset({Change.NEW_TRIGGERED, Change.REFIRE, Change.RESOLVE})


def decide(stored_status: str | None, incoming_status: str) -> Change:
    """The change one receipt makes. ``stored_status`` is None for an unknown
    fingerprint; ``incoming_status`` is the parser's ``firing``/``resolved``."""
    if incoming_status == "firing":
        if stored_status is None:
            return Change.NEW_TRIGGERED
        return Change.REPEAT if stored_status == TRIGGERED else Change.REFIRE
    if incoming_status != "resolved":
        raise ValueError(f"unknown alert status {incoming_status!r}")
    if stored_status is None:
        return Change.NEW_RESOLVED
    return Change.RESOLVE if stored_status == TRIGGERED else Change.DUPLICATE_RESOLVE


def trigger_time(
    started_at: datetime | None, now: datetime, not_before: datetime | None = None
) -> datetime:
    """When an alert (re)triggered: the vendor's start, never in the future
    (a sender's clock running ahead must not date alerts after their receipt)
    and, for a re-fire, never before the previous episode ended (``not_before``:
    a source repeating its first start time must not make the episodes overlap)."""
    at = now if started_at is None or started_at > now else started_at
    return max(at, not_before) if not_before is not None and not_before <= now else at


def resolve_time(ended_at: datetime | None, triggered_at: datetime, now: datetime) -> datetime:
    """When an alert resolved: the vendor's end, kept between the trigger and now."""
    if ended_at is None or ended_at > now:
        return now
    return max(ended_at, triggered_at)


def delivery_key(delivery_id: str, now: datetime, window_seconds: int) -> str:
    """The replay key of a delivery.

    A vendor's own delivery id is the key as it is: the same id again is a
    replay however late it comes. Without one the parser gives a digest of the
    body (``sha256:...``); identical bodies are then replays only within the
    same ``window_seconds`` bucket, because Alertmanager and Grafana re-send an
    unchanged group on their repeat interval and such a repeat is news (the
    alert is still firing: last seen moves, the quiet period restarts), while
    a retry of a failed send comes within seconds.
    """
    if not delivery_id:
        raise ValueError("a delivery id or body digest is required")
    if delivery_id.startswith(DIGEST_PREFIX) and window_seconds > 0:
        bucket = int(now.timestamp()) // window_seconds
        return f"{delivery_id}@{bucket}"[:MAX_KEY]
    if len(delivery_id) > MAX_KEY:
        return DIGEST_PREFIX + hashlib.sha256(delivery_id.encode("utf-8")).hexdigest()
    return delivery_id


def quiet_cutoff(now: datetime, minutes: int) -> datetime:
    """Alerts last seen before this moment have been quiet for ``minutes``."""
    return now - timedelta(minutes=minutes)


def presented_token(query_token: str | None, authorization: str | None) -> str | None:
    """The integration token a request presents, or None.

    In order: the ``token`` query parameter; ``Authorization: Bearer <token>``;
    ``Authorization: Basic base64(user:<token>)`` (any user name: vendors such
    as Netdata or Datadog only offer Basic auth with both fields). Over-long or
    undecodable values, and values that are not token-shaped, come back as ""
    (presented, but never matching a token).
    """
    if query_token is not None and query_token != "":
        return _shaped(query_token)
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return _shaped(value)
    if scheme.lower() == "basic" and value:
        if len(value) > 4 * MAX_TOKEN:
            return ""
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        _, sep, password = decoded.partition(":")
        return _shaped(password) if sep else ""
    return None


def _shaped(token: str) -> str:
    return token if _TOKEN_SHAPE.fullmatch(token) else ""
