"""Grafana Alerting webhook contact point (unified alerting, payload version "1").

Format: https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
and ``grafana/alerting`` ``receivers/webhook`` (the ``webhookMessage`` type:
Alertmanager's template data plus ``orgId``, ``title``, ``state``,
``message``, ``version``, ``groupKey``, ``truncatedAlerts``). Each alert also
carries ``silenceURL``, ``dashboardURL``, ``panelURL``, ``imageURL``,
``values`` and ``valueString``.

What Beacon reads: as for Alertmanager (``alertmanager.parse_group_alert``),
with the link taken from ``panelURL``, else ``dashboardURL``, else
``generatorURL`` (the rule). Severity from the ``severity`` label.

Test notifications: the contact point's "Test" button sends one alert with
labels ``alertname=TestAlert`` and ``instance=Grafana`` (annotation
``summary=Notification test``); such alerts are acknowledged and open
nothing. Legacy (pre-8) Grafana alerting bodies (``ruleId``, ``ruleName``,
``state``, ``evalMatches``) are understood too: one alert per rule, ``state``
``alerting``/``no_data`` firing and ``ok`` resolved; its test body
(``ruleName`` "Test notification", ``ruleId`` 0) is a test.

Signature (Grafana 11.6+, contact point "HMAC Signature"): HMAC-SHA256, hex,
of the raw body, in the header ``X-Grafana-Alerting-Signature`` (the
documented default; ``grafana/alerting``'s ``http/hmac.go`` defaults to
``X-Grafana-Alert-Signature``, accepted too). When a timestamp header is
configured Grafana puts Unix seconds in it and signs ``"<timestamp>:<body>"``;
Beacon reads ``X-Grafana-Alerting-Timestamp`` (or the docs' example name
``X-Grafana-Alerting-Signature-Timestamp``) and refuses timestamps more than
five minutes from ``now`` (replays).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from .alertmanager import parse_group
from .base import (
    ParseResult,
    PayloadError,
    Source,
    constant_time_equal,
    first_str,
    flatten_labels,
    get_header,
    hmac_sha256,
    make_alert,
    opt_list,
    opt_str,
    parse_time,
    register,
    split_secrets,
)

SIGNATURE_HEADERS = ("X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature")
TIMESTAMP_HEADERS = ("X-Grafana-Alerting-Timestamp", "X-Grafana-Alerting-Signature-Timestamp")
TIMESTAMP_TOLERANCE = timedelta(minutes=5)
LINK_KEYS = ("panelURL", "dashboardURL", "generatorURL")


def is_test_alert(alert: Mapping[str, Any]) -> bool:
    """Grafana's contact point test alert (labels TestAlert / Grafana)."""
    labels = alert.get("labels")
    if not isinstance(labels, Mapping):
        return False
    return labels.get("alertname") == "TestAlert" and labels.get("instance") == "Grafana"


def _legacy(payload: Mapping[str, Any], now: datetime) -> ParseResult:
    """Grafana's legacy (dashboard) alerting webhook body."""
    rule_id = opt_str(payload, "ruleId", "").strip()
    rule_name = opt_str(payload, "ruleName", "").strip()
    if rule_name == "Test notification" and rule_id in ("", "0"):
        return ParseResult(alerts=[], deployments=[], is_test=True)
    state = opt_str(payload, "state", "").strip().lower()
    if state not in ("alerting", "no_data", "ok", "pending", "paused"):
        raise PayloadError("state", "must be one of alerting, no_data, ok, pending, paused")
    if state in ("pending", "paused"):
        # Not a state change anyone should be paged for: acknowledge only.
        return ParseResult(alerts=[], deployments=[])
    matches = opt_list(payload, "evalMatches", "")
    labels = flatten_labels(payload.get("tags"), "tags")
    status = "resolved" if state == "ok" else "firing"
    alert = make_alert(
        source=GrafanaSource.name,
        fingerprint=f"legacy:{opt_str(payload, 'orgId', '')}:{rule_id or rule_name}",
        title=first_str(payload, ("ruleName", "title"), ""),
        description=opt_str(payload, "message", ""),
        severity="warning" if state == "no_data" else "critical",
        status=status,
        link=first_str(payload, ("ruleUrl",), ""),
        labels={**labels, "eval_matches": str(len(matches))},
        ended_at=now if status == "resolved" else None,
        raw=payload,
    )
    return ParseResult(alerts=[alert], deployments=[])


@register
class GrafanaSource(Source):
    name = "grafana"
    label = "Grafana"
    endpoint = "/api/grafana/alerts"
    sends_resolve = True
    signs = True

    def _parse(self, payload: Any, *, headers: Mapping[str, str], now: datetime) -> ParseResult:
        if "alerts" not in payload and ("ruleId" in payload or "ruleName" in payload):
            return _legacy(payload, now)
        alerts, skipped = parse_group(
            payload, source=self.name, now=now, link_keys=LINK_KEYS, skip=is_test_alert
        )
        if not alerts and skipped:
            return ParseResult(alerts=[], deployments=[], is_test=True)
        return ParseResult(alerts=alerts, deployments=[])

    def verify_signature(
        self, body: bytes, headers: Mapping[str, str], secret: str, now: datetime
    ) -> bool:
        signature = next(
            (get_header(headers, h) for h in SIGNATURE_HEADERS if get_header(headers, h)), ""
        )
        signature = signature.strip().lower()
        if not signature:
            return False
        timestamp = next(
            (get_header(headers, h) for h in TIMESTAMP_HEADERS if get_header(headers, h)), ""
        ).strip()
        message = body
        if timestamp:
            if not (timestamp.isascii() and timestamp.isdigit()):
                return False
            try:
                sent_at = parse_time(int(timestamp), "timestamp")
            except PayloadError:
                return False
            if sent_at is None or abs(now - sent_at) > TIMESTAMP_TOLERANCE:
                return False
            message = timestamp.encode("ascii") + b":" + body
        return any(
            constant_time_equal(hmac_sha256(key, message).hex(), signature)
            for key in split_secrets(secret)
        )
