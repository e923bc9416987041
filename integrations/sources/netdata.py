"""Netdata Cloud "Webhook" alert notification integration.

Format: https://learn.netdata.cloud/docs/alerts-&-notifications/notifications/centralized-cloud-notifications/webhook
(``netdata/netdata`` ``integrations/cloud-notifications/integrations/webhook.md``).
Alert notifications carry ``message``, ``alert`` (older bodies: ``alarm``;
newer ones may nest ``{"name": ...}``), ``info``, ``chart``, ``context``,
``space``, ``rooms`` (room name -> URL), ``family``, ``class``, ``severity``
(``warning``, ``critical`` or ``clear``), ``date`` (ISO 8601), ``duration``,
``additional_active_critical_alerts``, ``additional_active_warning_alerts``
and ``alert_url`` (older: ``alarm_url``). Reachability notifications carry
``message``, ``url``, ``host``, ``severity`` (``info``/``critical``) and
``status: {"reachable": bool, "text": ...}``.

What Beacon reads: one alert per notification. Fingerprint: a digest of
space, node (``host``/``hostname``/``node`` when present), chart and alert
name, so "clear" closes the alert "critical" opened; reachability alerts use
the host. Severity from ``severity`` (``SEVERITY_TABLES["netdata"]``);
``clear`` (or ``reachable: true``) means resolved. Title from ``message``,
else the alert name; description from ``info`` plus chart, context and
duration; link ``alert_url``; labels chart, context, family, class, space,
rooms and host.

Authentication: Netdata sends the token as Bearer or Basic (password), as set
in the integration. Verification, older flow: when the integration is saved,
Netdata sends ``GET <url>?crc_token=<random>`` and expects
``{"response_token": "sha256=" + base64(HMAC-SHA256(challenge secret,
crc_token))}`` within 5 seconds: ``crc_response`` computes it. Newer flow:
the "Test" button sends a notification carrying a ``token`` that the user
pastes back into Netdata; such bodies are test notifications
(``ParseResult.is_test``) and ``verification_token`` returns the token so the
endpoint can show it. Netdata does not sign notifications.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .base import (
    ParseResult,
    PayloadError,
    Source,
    clean_text,
    fingerprint_of,
    first_str,
    hmac_sha256,
    label_value,
    make_alert,
    map_severity,
    opt_bool,
    opt_object,
    opt_str,
    parse_time,
    register,
    scalar_text,
    split_secrets,
)

MAX_CRC_TOKEN = 1000
HOST_KEYS = ("host", "hostname", "node", "node_name")


def crc_response(crc_token: Any, secret: str) -> dict[str, str]:
    """The answer to Netdata's ``?crc_token=`` challenge.

    ``secret`` is the challenge secret set in Netdata (with several lines,
    the first). PayloadError when the token is missing, not text or longer
    than 1000 characters.
    """
    if not isinstance(crc_token, str) or not crc_token:
        raise PayloadError("crc_token", "is required")
    if len(crc_token) > MAX_CRC_TOKEN:
        raise PayloadError("crc_token", f"must be at most {MAX_CRC_TOKEN} characters")
    keys = split_secrets(secret)
    if not keys:
        raise PayloadError("crc_token", "cannot be answered: the integration has no secret")
    digest = hmac_sha256(keys[0], clean_text(crc_token).encode("utf-8"))
    return {"response_token": "sha256=" + base64.b64encode(digest).decode("ascii")}


def verification_token(payload: Any) -> str:
    """The verification token of a Netdata test notification ("" if none)."""
    if isinstance(payload, Mapping) and isinstance(payload.get("token"), str):
        return clean_text(payload["token"]).strip()[:1000]
    return ""


def _alert_name(payload: Mapping[str, Any]) -> str:
    value = payload.get("alert")
    if isinstance(value, Mapping):
        return opt_str(value, "name", "alert").strip()
    if value is not None:
        return scalar_text(value, "alert").strip()
    return opt_str(payload, "alarm", "").strip()


def _rooms(payload: Mapping[str, Any]) -> str:
    rooms = payload.get("rooms", payload.get("Rooms"))
    if isinstance(rooms, Mapping):
        return ", ".join(clean_text(str(name)) for name in rooms)
    if isinstance(rooms, list):
        return ", ".join(label_value(room) for room in rooms)
    return scalar_text(rooms, "rooms") if rooms is not None else ""


def _reachability(payload: Mapping[str, Any], now: datetime) -> ParseResult:
    status = opt_object(payload, "status", "")
    host = first_str(payload, HOST_KEYS, "")
    if not host:
        raise PayloadError("host", "is required in a reachability notification")
    reachable = opt_bool(status, "reachable", "status")
    if reachable is None:
        reachable = opt_str(status, "text", "status").strip().lower() == "reachable"
    alert = make_alert(
        source=NetdataSource.name,
        fingerprint=f"reachability:{host}",
        title=opt_str(payload, "message", "") or f"{host} is unreachable",
        severity="info" if reachable else "critical",
        status="resolved" if reachable else "firing",
        started_at=None if reachable else now,
        ended_at=now if reachable else None,
        link=opt_str(payload, "url", ""),
        labels={"host": host, "reachability": "reachable" if reachable else "unreachable"},
        raw=payload,
    )
    return ParseResult(alerts=[alert], deployments=[])


@register
class NetdataSource(Source):
    name = "netdata"
    label = "Netdata Cloud"
    endpoint = "/api/netdata/alerts"
    sends_resolve = True
    signs = False

    def _parse(self, payload: Any, *, headers: Mapping[str, str], now: datetime) -> ParseResult:
        if verification_token(payload):
            return ParseResult(alerts=[], deployments=[], is_test=True)
        if isinstance(payload.get("status"), Mapping):
            return _reachability(payload, now)
        name = _alert_name(payload)
        if not name:
            raise PayloadError("alert", "is required")
        raw_severity = opt_str(payload, "severity", "").strip().lower()
        severity = map_severity("netdata", raw_severity)
        if not severity:
            raise PayloadError("severity", "must be 'warning', 'critical' or 'clear'")
        resolved = raw_severity == "clear"
        space = opt_str(payload, "space", "").strip()
        host = first_str(payload, HOST_KEYS, "")
        chart = opt_str(payload, "chart", "").strip()
        context = opt_str(payload, "context", "").strip()
        duration = opt_str(payload, "duration", "").strip()
        when = parse_time(payload.get("date"), "date", lenient=True) or now
        details = [
            opt_str(payload, "info", "").strip(),
            "\n".join(
                f"{label}: {value}"
                for label, value in (("Chart", chart), ("Context", context), ("Duration", duration))
                if value
            ),
        ]
        labels = {
            key: value
            for key, value in (
                ("alert", name),
                ("chart", chart),
                ("context", context),
                ("family", opt_str(payload, "family", "").strip()),
                ("class", opt_str(payload, "class", "").strip()),
                ("space", space),
                ("rooms", _rooms(payload)),
                ("host", host),
                (
                    "additional_active_critical_alerts",
                    opt_str(payload, "additional_active_critical_alerts", "").strip(),
                ),
                (
                    "additional_active_warning_alerts",
                    opt_str(payload, "additional_active_warning_alerts", "").strip(),
                ),
            )
            if value
        }
        alert = make_alert(
            source=self.name,
            fingerprint=fingerprint_of("alert", space, host, chart, name),
            title=opt_str(payload, "message", "").strip()
            or (f"{name} on {host}" if host else name),
            description="\n\n".join(part for part in details if part),
            severity=severity,
            status="resolved" if resolved else "firing",
            started_at=None if resolved else when,
            ended_at=when if resolved else None,
            link=first_str(payload, ("alert_url", "alarm_url"), ""),
            labels=labels,
            raw=payload,
        )
        return ParseResult(alerts=[alert], deployments=[])
