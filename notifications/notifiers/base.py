"""Senders: one class per delivery channel behind a small base class, and the registry.

A *channel* is the string stored in ``Delivery.channel``. Every channel has
one ``Sender`` subclass registered with ``@register``:

* the five trigger kinds (``webhook``, ``slack``, ``discord``, ``email``,
  ``apprise``) in this package, each a ``TriggerNotifier`` (a sender that
  also validates its trigger's config and templates);
* ``subscriber_email`` / ``subscriber_webhook`` in
  ``notifications.subscriber_senders`` (imported when the registry is first
  used; the registry works without it).

The contract of a sender, used by ``notifications.sending``:

* ``send(delivery) -> Outcome``: one try, never raising for a failure of the
  receiver (timeouts, refusals, 4xx/5xx are outcomes). ``delivery`` comes with
  ``notification``, ``trigger`` and ``subscriber`` loaded.
* ``send_batch(deliveries) -> list[Outcome]`` (same order): the default calls
  ``send`` for each; email senders override it to reuse one SMTP connection.
* ``chunk_size`` deliveries at most are passed to one ``send_batch`` call and
  ``worst_case_seconds(n)`` bounds how long it may take: the engine renews
  the deliveries' lease for that long before the call.
* A sender is used as a context manager for one engine pass (``close`` frees
  pooled connections).

Notifiers only send: whether to send was decided when the delivery was
planned. Outcomes are judged by ``classify_status`` (HTTP) and turned into
retry decisions by ``notifications.backoff``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

import httpx
from django.conf import settings

from statuspage import http_client

if TYPE_CHECKING:
    from notifications.models import Delivery

RESPONSE_BODY_LIMIT = 2048
ERROR_LIMIT = 1000
DELIVERY_HEADER = "X-Beacon-Delivery"


@dataclass(frozen=True)
class Outcome:
    """What one try at one delivery found.

    ``ok``: the receiver accepted it. Otherwise ``transient`` says whether a
    retry may succeed (timeouts, connection errors, 5xx, 429) or not (other
    4xx, a refused address). ``retry_after`` is the receiver's Retry-After in
    seconds (429/503), ``response_body`` the first 2 KB of its answer.
    """

    ok: bool
    transient: bool = False
    status_code: int | None = None
    error: str = ""
    retry_after: float | None = None
    duration_ms: float = 0.0
    response_body: str = ""

    @classmethod
    def success(cls, *, status_code: int | None = None, duration_ms: float = 0.0, body: str = ""):
        return cls(True, False, status_code, "", None, duration_ms, body[:RESPONSE_BODY_LIMIT])

    @classmethod
    def failure(
        cls,
        error: str,
        *,
        transient: bool,
        status_code: int | None = None,
        retry_after: float | None = None,
        duration_ms: float = 0.0,
        body: str = "",
    ) -> Outcome:
        return cls(
            False,
            transient,
            status_code,
            error[:ERROR_LIMIT],
            retry_after,
            duration_ms,
            body[:RESPONSE_BODY_LIMIT],
        )


def classify_status(code: int) -> tuple[bool, bool]:
    """``(ok, transient)`` for an HTTP status (pure).

    2xx is success; 408, 425, 429 and 5xx may pass on a later try; anything
    else (other 4xx, a redirect we do not follow, 1xx) will not.
    """
    if 200 <= code < 300:
        return True, False
    if code in (408, 425, 429) or 500 <= code < 600:
        return False, True
    return False, False


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(min(int(text[:12]), 10**9))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


class Sender:
    """Sends deliveries of one channel. Subclasses set ``kind`` and implement ``send``."""

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    chunk_size: ClassVar[int] = 20

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Free pooled connections (called once after an engine pass)."""

    def send(self, delivery: Delivery) -> Outcome:
        raise NotImplementedError

    def send_batch(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """One outcome per delivery, in order; a bug in one send costs only that one."""
        return [self.safe(self.send, delivery) for delivery in deliveries]

    def worst_case_seconds(self, count: int) -> float:
        """How long ``send_batch`` of ``count`` deliveries may take at most."""
        return count * (settings.BEACON_DELIVERY_TIMEOUT_SECONDS + 1.0)

    @staticmethod
    def safe(send: Callable[[Delivery], Outcome], delivery: Delivery) -> Outcome:
        """``send(delivery)``, with an unexpected exception turned into a transient
        failure (retried, then failed) instead of stopping the batch."""
        start = time.perf_counter()
        try:
            return send(delivery)
        except Exception as exc:  # a bug or a library surprise: recorded, not raised
            return Outcome.failure(
                f"internal error: {type(exc).__name__}: {exc}",
                transient=True,
                duration_ms=elapsed_ms(start),
            )


class HttpSender(Sender):
    """A sender that makes HTTP requests through ``statuspage.http_client``
    (one pooled client per engine pass; redirects are not followed)."""

    _client: httpx.Client | None = None

    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = http_client.sync_client(
                verify=True,
                follow_redirects=False,
                timeout=settings.BEACON_DELIVERY_TIMEOUT_SECONDS,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def request(
        self,
        delivery_id: int,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Make one request carrying ``X-Beacon-Delivery`` and judge the answer."""
        sent_headers = {"Content-Type": "application/json", **(headers or {})}
        sent_headers[DELIVERY_HEADER] = str(delivery_id)
        start = time.perf_counter()
        try:
            with self.client().stream(method, url, content=body, headers=sent_headers) as resp:
                text = _read_limited(resp)
        except httpx.TimeoutException:
            return Outcome.failure(
                f"timed out after {settings.BEACON_DELIVERY_TIMEOUT_SECONDS:g} s",
                transient=True,
                duration_ms=elapsed_ms(start),
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return Outcome.failure(
                f"invalid URL: {exc}", transient=False, duration_ms=elapsed_ms(start)
            )
        except httpx.HTTPError as exc:
            return Outcome.failure(
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                transient=True,
                duration_ms=elapsed_ms(start),
            )
        duration = elapsed_ms(start)
        ok, transient = classify_status(resp.status_code)
        if ok:
            return Outcome.success(status_code=resp.status_code, duration_ms=duration, body=text)
        retry_after = None
        if resp.status_code in (429, 503):
            retry_after = parse_retry_after(resp.headers.get("Retry-After"), datetime.now(UTC))
        return Outcome.failure(
            f"HTTP {resp.status_code} {resp.reason_phrase}".strip(),
            transient=transient,
            status_code=resp.status_code,
            retry_after=retry_after,
            duration_ms=duration,
            body=text,
        )


def _read_limited(response: httpx.Response) -> str:
    """The first ``RESPONSE_BODY_LIMIT`` bytes of the body, decoded leniently."""
    data = b""
    for chunk in response.iter_raw():
        data += chunk
        if len(data) >= RESPONSE_BODY_LIMIT:
            break
    return data[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace")


# --- registry ------------------------------------------------------------------------

REGISTRY: dict[str, type[Sender]] = {}


def register(sender_class: type[Sender]) -> type[Sender]:
    """Class decorator: make ``sender_class`` the sender of its ``kind``."""
    if not sender_class.kind:
        raise ValueError(f"{sender_class.__name__} has no kind")
    REGISTRY[sender_class.kind] = sender_class
    return sender_class


_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    from . import apprise, discord, email, slack, webhook  # noqa: F401

    # The subscribers' senders (another module; optional for this registry).
    with suppress(ImportError):
        import notifications.subscriber_senders  # noqa: F401
    _loaded = True


def senders() -> dict[str, type[Sender]]:
    """Every registered channel and its sender class."""
    _load()
    return dict(REGISTRY)


def get_sender(channel: str) -> type[Sender]:
    """The sender class of ``channel``; KeyError when none is registered."""
    _load()
    return REGISTRY[channel]


@contextmanager
def opened(channel: str) -> Iterator[Sender]:
    """A sender instance for one engine pass."""
    with get_sender(channel)() as sender:
        yield sender


def trigger_kinds() -> tuple[str, ...]:
    """The channels that are trigger kinds (``TriggerNotifier`` subclasses)."""
    from .trigger import TriggerNotifier

    return tuple(k for k, cls in senders().items() if issubclass(cls, TriggerNotifier))


__all__ = [
    "DELIVERY_HEADER",
    "REGISTRY",
    "HttpSender",
    "Outcome",
    "Sender",
    "classify_status",
    "get_sender",
    "opened",
    "parse_retry_after",
    "register",
    "senders",
    "trigger_kinds",
]
