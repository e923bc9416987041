"""TCP port check.

Contract of the ``tcp`` kind:

* config (normalised): ``{"host": str, "port": int, "degraded_above_ms": int | None}``;
  ``host`` is a hostname (lowercased, IDNA-encoded to ASCII) or an IP address
  (IPv6 without brackets);
* ``run`` opens a TCP connection with ``asyncio.open_connection`` within
  ``target.timeout_seconds`` and closes it: UP "port 443 open" with the connect
  latency, DEGRADED when slower than ``degraded_above_ms``, DOWN "connection
  refused", "timeout after 5s", "cannot resolve host 'x'"...

The shared strict config fields live in ``monitors.checks.fields``.
"""

from __future__ import annotations

import asyncio
import time

from . import register
from .base import Check, CheckTarget, Outcome, RunContext
from .fields import (
    HostField,
    StrictConfig,
    StrictInt,
    classify_os_error,
    degraded_above_field,
    latency_outcome,
    timeout_text,
)


@register
class TcpCheck(Check):
    kind = "tcp"
    label = "TCP port"

    class Config(StrictConfig):
        host = HostField(label="Host", help_text="Hostname or IP address, without port or scheme.")
        port = StrictInt(min_value=1, max_value=65535, label="Port", help_text="TCP port, 1-65535.")
        degraded_above_ms = degraded_above_field()

    async def run(self, target: CheckTarget, ctx: RunContext) -> Outcome | None:
        host: str = target.config["host"]
        port: int = target.config["port"]
        started = time.perf_counter()
        try:
            async with asyncio.timeout(target.timeout_seconds):
                _reader, writer = await asyncio.open_connection(host, port)
        except TimeoutError:
            return Outcome.down(timeout_text(target.timeout_seconds))
        except OSError as exc:
            return Outcome.down(classify_os_error(exc, host))
        latency_ms = (time.perf_counter() - started) * 1000
        writer.close()
        try:
            async with asyncio.timeout(1):
                await writer.wait_closed()
        except (OSError, TimeoutError):
            pass
        return latency_outcome(
            latency_ms, f"port {port} open", target.config.get("degraded_above_ms")
        )
