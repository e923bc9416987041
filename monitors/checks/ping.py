"""Ping (ICMP echo) check.

Config (normalised): ``{"host": str, "count": int}``; ``host`` as in the tcp
kind (hostname or IP), ``count`` 1-10 echo requests (default 3).

``run`` sends ``count`` echo requests with icmplib's ``async_ping`` within
``target.timeout_seconds`` (the interval and per-reply wait are derived from
it). Latency is the average round trip of the replies. All replies: UP;
some lost: DEGRADED "1/3 packets lost"; none: DOWN.

Sockets: unprivileged ICMP (``SOCK_DGRAM``, allowed by the
``net.ipv4.ping_group_range`` sysctl) is tried first, then a raw socket
(root or CAP_NET_RAW). Once unprivileged ICMP has been refused, the process
goes straight to the raw socket. If both are refused the check is DOWN with
a message telling the administrator how to allow it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from icmplib import ICMPLibError, NameLookupError, SocketPermissionError, async_ping

from . import register
from .base import Check, CheckTarget, Outcome, RunContext
from .fields import HostField, StrictConfig, StrictInt, timeout_text

PERMISSION_MESSAGE = (
    "ICMP is not permitted for this process: allow unprivileged ping with "
    '`sysctl -w net.ipv4.ping_group_range="0 2147483647"` or run the worker as root '
    "(or with CAP_NET_RAW)"
)

# None: unknown yet; False: unprivileged sockets work; True: they were refused.
_needs_privileged: bool | None = None


def ping_timing(timeout: float, count: int) -> tuple[float, float]:
    """(interval between requests, wait per reply) fitting ``count`` pings in ``timeout``."""
    interval = min(0.2, timeout / (count * 4))
    per_reply = max(0.05, 0.9 * (timeout - interval * (count - 1)) / count)
    return interval, per_reply


async def _ping(host: str, count: int, interval: float, per_reply: float) -> Any:
    global _needs_privileged
    if not _needs_privileged:
        try:
            result = await async_ping(
                host, count=count, interval=interval, timeout=per_reply, privileged=False
            )
        except SocketPermissionError:
            _needs_privileged = True
        else:
            _needs_privileged = False
            return result
    return await async_ping(
        host, count=count, interval=interval, timeout=per_reply, privileged=True
    )


@register
class PingCheck(Check):
    kind = "ping"
    label = "Ping (ICMP)"

    class Config(StrictConfig):
        host = HostField(label="Host", help_text="Hostname or IP address to ping.")
        count = StrictInt(
            min_value=1,
            max_value=10,
            required=False,
            default=3,
            label="Echo requests",
            help_text="Pings per check, 1-10; default 3. Some lost: DEGRADED; all: DOWN.",
        )

    async def run(self, target: CheckTarget, ctx: RunContext) -> Outcome | None:
        host: str = target.config["host"]
        count: int = target.config.get("count", 3)
        timeout = target.timeout_seconds
        interval, per_reply = ping_timing(timeout, count)
        try:
            async with asyncio.timeout(timeout):
                result = await _ping(host, count, interval, per_reply)
        except TimeoutError:
            return Outcome.down(timeout_text(timeout))
        except (SocketPermissionError, PermissionError):
            return Outcome.down(PERMISSION_MESSAGE)
        except NameLookupError:
            return Outcome.down(f"cannot resolve host {host!r}")
        except ICMPLibError as exc:
            return Outcome.down(f"ping failed: {exc}")
        return summarise(
            host, result.packets_sent or count, result.packets_received, result.avg_rtt
        )


def summarise(host: str, sent: int, received: int, avg_rtt: float) -> Outcome:
    """The outcome of ``sent`` echo requests of which ``received`` were answered."""
    if received == 0:
        return Outcome.down(f"no reply from {host} ({sent}/{sent} packets lost)")
    latency_ms = float(avg_rtt)
    lost = sent - received
    if lost:
        return Outcome.degraded(latency_ms, f"{lost}/{sent} packets lost, avg {latency_ms:.1f} ms")
    return Outcome.up(latency_ms, f"{received}/{sent} replies, avg {latency_ms:.1f} ms")
