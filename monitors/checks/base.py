"""The small base class every check kind implements.

A kind is one module in ``monitors.checks`` with one ``Check`` subclass:

* ``kind``: the string stored in ``Monitor.kind``;
* ``Config``: a DRF serializer that validates and normalises ``Monitor.config``
  (errors name the field; the API and the console form both use it);
* ``run(target, ctx)``: an ``async`` method returning an ``Outcome`` (or
  ``None`` when this slot has nothing to record, e.g. a heartbeat that was
  pushed recently). It must not touch the database: everything it needs from
  the database is loaded beforehand into ``RunContext`` by the engine.

Runners raise freely; the engine turns any exception into a ``DOWN`` result
carrying the error so one broken monitor never stops a batch.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from rest_framework import serializers

from monitors.models import Status


@dataclass(frozen=True)
class Outcome:
    """What one check found: status, latency in milliseconds (or None), a message."""

    status: str
    latency_ms: float | None = None
    message: str = ""

    @classmethod
    def up(cls, latency_ms: float | None = None, message: str = "") -> Outcome:
        return cls(Status.UP, latency_ms, message)

    @classmethod
    def degraded(cls, latency_ms: float | None = None, message: str = "") -> Outcome:
        return cls(Status.DEGRADED, latency_ms, message)

    @classmethod
    def down(cls, message: str, latency_ms: float | None = None) -> Outcome:
        return cls(Status.DOWN, latency_ms, message)


@dataclass(frozen=True)
class StateSnapshot:
    """The parts of a monitor's current state a runner may need (read-only)."""

    status: str | None = None
    last_push_at: datetime | None = None
    last_latency_ms: float | None = None
    last_message: str = ""


@dataclass(frozen=True)
class CheckTarget:
    """A monitor detached from the ORM: safe to hand to asyncio code."""

    monitor_id: int
    tag: str
    name: str
    kind: str
    config: dict[str, Any]
    timeout_seconds: float
    interval_seconds: int
    created_at: datetime | None = None


@dataclass
class RunContext:
    """Shared per-batch context: the clock, loaded states and shared clients.

    ``states`` holds the snapshot of every monitor in the batch and of every
    group member they reference. ``http`` is filled lazily by the HTTP kind
    with pooled clients (see ``monitors.checks.http``).
    """

    now: datetime
    states: dict[int, StateSnapshot] = field(default_factory=dict)
    # group monitor id -> member monitor ids (resolved from the config's tags)
    members: dict[int, list[int]] = field(default_factory=dict)
    # monitor id -> tag, for every monitor in ``states`` (readable messages)
    tags: dict[int, str] = field(default_factory=dict)
    http: dict[str, Any] = field(default_factory=dict)

    async def aclose(self) -> None:
        """Close pooled clients opened during the batch."""
        for client in list(self.http.values()):
            close = getattr(client, "aclose", None)
            if close is not None:
                await close()
        self.http.clear()


class Check:
    """Base class of a check kind. Subclasses set ``kind`` and ``Config`` and
    implement ``run``."""

    kind: ClassVar[str]
    label: ClassVar[str]
    Config: ClassVar[type[serializers.Serializer]]

    async def run(self, target: CheckTarget, ctx: RunContext) -> Outcome | None:
        raise NotImplementedError

    def member_tags(self, config: dict[str, Any]) -> list[str]:
        """Tags of the monitors whose state this kind reads (groups); empty for most.
        The engine resolves them and fills ``RunContext.members`` and ``states``."""
        return []


_SSL_VERIFY: ssl.SSLContext | None = None
_SSL_NO_VERIFY: ssl.SSLContext | None = None


def ssl_context(verify: bool = True) -> ssl.SSLContext:
    """Process-wide SSL contexts: loading CA certificates costs ~20 ms, so it is
    done once rather than per check."""
    global _SSL_VERIFY, _SSL_NO_VERIFY
    if verify:
        if _SSL_VERIFY is None:
            _SSL_VERIFY = ssl.create_default_context()
        return _SSL_VERIFY
    if _SSL_NO_VERIFY is None:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        _SSL_NO_VERIFY = ctx
    return _SSL_NO_VERIFY
