"""PagerDuty v3 webhooks (generic webhook subscriptions).

Format: https://developer.pagerduty.com/docs/webhooks/v3-overview/
(``PagerDuty/developer-docs`` ``docs/webhooks/01-Overview.md``). Each request
carries one event::

    {"event": {"id": "<uuid>", "event_type": "incident.triggered",
               "resource_type": "incident", "occurred_at": "<iso8601>",
               "agent": {...}, "client": {...},
               "data": {"id": "PGR0VU2", "type": "incident", "number": 2,
                        "status": "triggered|acknowledged|resolved",
                        "title": "...", "html_url": "...", "urgency": "high|low",
                        "priority": {"summary": "P1"}, "created_at": "...",
                        "service": {"summary": "API Service"}, "assignees": [...],
                        "escalation_policy": {...}, "teams": [...],
                        "incident_key": "...", "resolve_reason": null}}}

What Beacon reads: every event whose ``data.type`` is ``incident``
(triggered, acknowledged, unacknowledged, escalated, reassigned, delegated,
priority_updated, reopened, resolved...) is the incident's current state as
one alert, fingerprint the incident id. ``data.status`` resolved (or the event
``incident.resolved``) is resolved, anything else firing (an acknowledged
incident still fires). Severity from the priority (``P1``/``P2`` critical,
``P3`` warning, ``P4``/``P5`` info), else the urgency (high critical, low
warning). Title ``data.title``, link ``data.html_url``, service
``data.service.summary``, start ``data.created_at``, end ``occurred_at``.
Events about notes, status updates, responders or services carry no incident
state: they are acknowledged with no alerts. ``pagey.ping`` (the
subscription's test) is a test notification. Delivery id: ``event.id``.

Signature: ``X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]``, HMAC-SHA256 of
the raw body with the subscription's secret; several signatures are sent
while PagerDuty rotates the secret, and one match is enough
(``docs/webhooks/04-Signatures.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .base import (
    ParseResult,
    PayloadError,
    Source,
    constant_time_equal,
    get_header,
    hmac_sha256,
    label_value,
    make_alert,
    map_severity,
    opt_list,
    opt_object,
    opt_str,
    parse_time,
    register,
    require_object,
    split_secrets,
)

SIGNATURE_HEADER = "X-PagerDuty-Signature"


def _summaries(items: list[Any], path: str) -> str:
    names = []
    for index, item in enumerate(items[:20]):
        entry = require_object(item, f"{path}[{index}]")
        names.append(opt_str(entry, "summary", f"{path}[{index}]").strip())
    return ", ".join(name for name in names if name)


@register
class PagerDutySource(Source):
    name = "pagerduty"
    label = "PagerDuty"
    endpoint = "/api/pagerduty/webhook"
    sends_resolve = True
    signs = True

    def _parse(self, payload: Any, *, headers: Mapping[str, str], now: datetime) -> ParseResult:
        if payload.get("event") is None:
            raise PayloadError("event", "is required")
        event = require_object(payload["event"], "event")
        event_type = opt_str(event, "event_type", "event").strip()
        if not event_type:
            raise PayloadError("event.event_type", "is required")
        delivery_id = opt_str(event, "id", "event").strip()
        if event_type == "pagey.ping":
            return ParseResult(alerts=[], deployments=[], is_test=True, delivery_id=delivery_id)
        data = opt_object(event, "data", "event")
        if opt_str(data, "type", "event.data").strip() != "incident":
            # Notes, status updates, responders, services: nothing to alert on.
            return ParseResult(alerts=[], deployments=[], delivery_id=delivery_id)

        incident_id = opt_str(data, "id", "event.data").strip()
        if not incident_id:
            raise PayloadError("event.data.id", "is required")
        state = opt_str(data, "status", "event.data").strip().lower()
        if state not in ("", "triggered", "acknowledged", "resolved"):
            raise PayloadError(
                "event.data.status", "must be 'triggered', 'acknowledged' or 'resolved'"
            )
        resolved = state == "resolved" or (not state and event_type == "incident.resolved")
        priority = opt_str(opt_object(data, "priority", "event.data"), "summary", "priority")
        urgency = opt_str(data, "urgency", "event.data").strip().lower()
        severity = (
            map_severity("pagerduty_priority", priority)
            or map_severity("pagerduty_urgency", urgency)
            or "critical"
        )
        service = opt_object(data, "service", "event.data")
        policy = opt_object(data, "escalation_policy", "event.data")
        assignees = _summaries(opt_list(data, "assignees", "event.data"), "event.data.assignees")
        teams = _summaries(opt_list(data, "teams", "event.data"), "event.data.teams")
        number = opt_str(data, "number", "event.data").strip()
        labels = {
            key: value
            for key, value in (
                ("incident_number", number),
                ("incident_key", opt_str(data, "incident_key", "event.data").strip()),
                ("status", state),
                ("urgency", urgency),
                ("priority", priority.strip()),
                ("service_id", opt_str(service, "id", "event.data.service").strip()),
                ("escalation_policy", opt_str(policy, "summary", "escalation_policy").strip()),
                ("assignees", assignees),
                ("teams", teams),
                ("event_type", event_type),
            )
            if value
        }
        resolve_reason = data.get("resolve_reason")
        description = "\n".join(
            line
            for line in (
                f"PagerDuty incident #{number}" if number else "PagerDuty incident",
                f"Status: {state}" if state else "",
                f"Assigned to: {assignees}" if assignees else "",
                f"Escalation policy: {labels.get('escalation_policy', '')}"
                if labels.get("escalation_policy")
                else "",
                f"Resolve reason: {label_value(resolve_reason)}" if resolve_reason else "",
            )
            if line
        )
        occurred = parse_time(event.get("occurred_at"), "event.occurred_at")
        alert = make_alert(
            source=self.name,
            fingerprint=incident_id,
            title=opt_str(data, "title", "event.data") or opt_str(data, "summary", "event.data"),
            description=description,
            severity=severity,
            status="resolved" if resolved else "firing",
            service=opt_str(service, "summary", "event.data.service"),
            started_at=parse_time(data.get("created_at"), "event.data.created_at"),
            ended_at=(occurred or now) if resolved else None,
            link=opt_str(data, "html_url", "event.data"),
            labels=labels,
            raw=payload,
        )
        return ParseResult(alerts=[alert], deployments=[], delivery_id=delivery_id)

    def verify_signature(
        self, body: bytes, headers: Mapping[str, str], secret: str, now: datetime
    ) -> bool:
        header = get_header(headers, SIGNATURE_HEADER)
        offered = [
            part.strip()[3:].lower()
            for part in header.split(",")
            if part.strip().lower().startswith("v1=")
        ]
        if not offered:
            return False
        expected = [hmac_sha256(key, body).hex() for key in split_secrets(secret)]
        # Compare every pair (no early exit) so timing says nothing useful.
        matches = [constant_time_equal(want, got) for want in expected for got in offered]
        return any(matches)
