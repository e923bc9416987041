"""TLS certificate expiry check.

Config (normalised)::

    {
      "host": "example.com",          # hostname or IP, as in the tcp kind
      "port": 443,
      "server_name": None,            # SNI / name to verify; None = host
      "verify": True,                 # verify the chain and the name
      "degraded_within_days": 14,     # 1-3650
      "down_within_days": 3,          # 0-3649, must be < degraded_within_days
    }

``run`` connects and handshakes within ``target.timeout_seconds`` (latency =
connect + handshake), takes the peer certificate in DER form and reads its
``notAfter`` with ``cryptography``. With ``verify`` a chain or name that does
not verify is DOWN with OpenSSL's reason (an expired certificate is reported
that way too); ``verify: false`` still checks the expiry of self-signed or
internal certificates. Less than ``down_within_days`` left (or expired): DOWN;
less than ``degraded_within_days``: DEGRADED; else UP
"certificate expires in 41 days (2027-01-04)".
"""

from __future__ import annotations

import asyncio
import ssl
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from rest_framework import serializers

from . import register
from .base import Check, CheckTarget, Outcome, RunContext, ssl_context
from .fields import (
    HostField,
    StrictBool,
    StrictConfig,
    StrictInt,
    classify_os_error,
    timeout_text,
)


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def describe_remaining(remaining: timedelta) -> str:
    if remaining.days >= 1:
        return _plural(remaining.days, "day")
    hours = int(remaining.total_seconds() // 3600)
    if hours >= 1:
        return _plural(hours, "hour")
    return "less than an hour"


@register
class TlsCheck(Check):
    kind = "tls"
    label = "TLS certificate"

    class Config(StrictConfig):
        host = HostField(label="Host", help_text="Hostname or IP address, without port or scheme.")
        port = StrictInt(
            min_value=1,
            max_value=65535,
            required=False,
            default=443,
            label="Port",
            help_text="TLS port; default 443.",
        )
        server_name = HostField(
            allow_null=True,
            allow_blank=True,
            required=False,
            default=None,
            label="Server name (SNI)",
            help_text="Name sent in the handshake and verified; empty: the host.",
        )
        verify = StrictBool(
            required=False,
            default=True,
            label="Verify chain and name",
            help_text="Off to watch the expiry of self-signed or internal certificates.",
        )
        degraded_within_days = StrictInt(
            min_value=1,
            max_value=3650,
            required=False,
            default=14,
            label="Degraded within (days)",
            help_text="DEGRADED when the certificate expires within this many days; default 14.",
        )
        down_within_days = StrictInt(
            min_value=0,
            max_value=3649,
            required=False,
            default=3,
            label="Down within (days)",
            help_text="DOWN when it expires within this many days (fewer than the degraded "
            "days); default 3.",
        )

        def validate_server_name(self, value: str | None) -> str | None:
            return value or None

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            degraded = attrs.get("degraded_within_days", 14)
            if attrs.get("down_within_days", 3) >= degraded:
                raise serializers.ValidationError(
                    {"down_within_days": [f"Must be less than degraded_within_days ({degraded})."]}
                )
            return attrs

    async def run(self, target: CheckTarget, ctx: RunContext) -> Outcome | None:
        config = target.config
        host: str = config["host"]
        port: int = config.get("port", 443)
        server_name: str = config.get("server_name") or host
        timeout = target.timeout_seconds
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                _reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=ssl_context(config.get("verify", True)),
                    server_hostname=server_name,
                    ssl_handshake_timeout=timeout,
                )
        except TimeoutError:
            return Outcome.down(timeout_text(timeout))
        except ssl.SSLCertVerificationError as exc:
            return Outcome.down(f"certificate verification failed: {exc.verify_message}")
        except ssl.SSLError as exc:
            return Outcome.down(f"TLS handshake failed: {exc.reason or exc}")
        except OSError as exc:
            return Outcome.down(classify_os_error(exc, host))
        latency_ms = (time.perf_counter() - started) * 1000
        try:
            ssl_object = writer.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        finally:
            writer.close()
            try:
                async with asyncio.timeout(1):
                    await writer.wait_closed()
            except (OSError, TimeoutError, ssl.SSLError):
                pass
        if not der:
            return Outcome.down("the server sent no certificate", latency_ms)
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError as exc:
            return Outcome.down(f"cannot parse the certificate: {exc}", latency_ms)
        return self.judge(certificate.not_valid_after_utc, ctx.now, config, latency_ms)

    @staticmethod
    def judge(
        not_after: datetime, now: datetime, config: dict[str, Any], latency_ms: float | None
    ) -> Outcome:
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        remaining = not_after - now
        date = not_after.date().isoformat()
        if remaining <= timedelta(0):
            ago = describe_remaining(-remaining)
            return Outcome.down(f"certificate expired {ago} ago ({date})", latency_ms)
        message = f"certificate expires in {describe_remaining(remaining)} ({date})"
        if remaining < timedelta(days=config.get("down_within_days", 3)):
            return Outcome.down(message, latency_ms)
        if remaining < timedelta(days=config.get("degraded_within_days", 14)):
            return Outcome.degraded(latency_ms, message)
        return Outcome.up(latency_ms, message)
