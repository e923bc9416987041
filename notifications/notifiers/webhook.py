"""Webhook triggers: a JSON body from a Mustache template, to any http(s) URL.

Config::

    {"url": "https://example.com/hooks/beacon",   # http(s), required
     "method": "POST",                            # POST (default), PUT, PATCH or GET
     "headers": {"Authorization": "Bearer ..."},  # optional, at most 20
     "secret": "..."}                             # optional: sign every request

Templates: ``body`` (format ``json``; the default carries every variable of
an alert, and for an escalation (``incident_escalated``) an
``"event": "incident.escalated"`` object with the incident's facts, the
note and who escalated).

With a ``secret``, each request carries ``X-Beacon-Timestamp`` (unix
seconds) and ``X-Beacon-Signature: sha256=<hex>``, the HMAC-SHA256 with the
secret of ``"{timestamp}.{raw body}"`` (see ``signature``). Every request
carries ``X-Beacon-Delivery: <delivery id>``, the same on every retry. A GET
sends no body (the signature is then of ``"{timestamp}."``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from monitors.checks.fields import StrictConfig, StrictDict, StrictStr

from .. import signing
from .base import HttpSender, Outcome, register
from .trigger import MASK, TemplateSpec, TriggerNotifier, short_url, url_field, validate_http_url

METHODS = ("POST", "PUT", "PATCH", "GET")
MAX_HEADERS = 20
_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
RESERVED_HEADERS = {
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "x-beacon-delivery",
    "x-beacon-timestamp",
    "x-beacon-signature",
}
_SENSITIVE = re.compile(r"auth|token|key|secret|cookie|signature|password|session", re.I)

DEFAULT_BODY = """{{#incident_escalated}}
{
  "event": "incident.escalated",
  "incident_id": {{incident_id}},
  "incident_key": "{{incident_key}}",
  "incident_title": "{{incident_title}}",
  "incident_state": "{{incident_state}}",
  "incident_severity": "{{incident_severity}}",
  "incident_previous_severity": {{#incident_previous_severity}}"{{incident_previous_severity}}"{{/incident_previous_severity}}{{^incident_previous_severity}}null{{/incident_previous_severity}},
  "incident_started_at": "{{incident_started_at}}",
  "incident_monitors": "{{incident_monitors}}",
  "incident_services": "{{incident_services}}",
  "incident_latest_update": "{{incident_latest_update}}",
  "incident_assignee": {{#incident_assignee}}"{{incident_assignee}}"{{/incident_assignee}}{{^incident_assignee}}null{{/incident_assignee}},
  "incident_url": "{{incident_url}}",
  "incident_console_url": "{{incident_console_url}}",
  "escalation_note": "{{incident_escalation_note}}",
  "escalated_by": "{{incident_escalated_by}}",
  "escalated_at": "{{incident_escalated_at}}",
  "site_url": "{{site_url}}",
  "site_name": "{{site_name}}"
}
{{/incident_escalated}}
{{^incident_escalated}}
{
  "alert_id": "{{alert_id}}",
  "alert_name": "{{alert_name}}",
  "alert_for": "{{alert_for}}",
  "alert_value": "{{alert_value}}",
  "alert_status": "{{alert_status}}",
  "alert_severity": "{{alert_severity}}",
  "alert_message": "{{alert_message}}",
  "alert_source": "{{alert_source}}",
  "alert_timestamp": "{{alert_timestamp}}",
  "alert_cta_url": "{{alert_cta_url}}",
  "alert_cta_text": "{{alert_cta_text}}",
  "alert_incident_id": {{#alert_incident_id}}"{{alert_incident_id}}"{{/alert_incident_id}}{{^alert_incident_id}}null{{/alert_incident_id}},
  "alert_incident_url": {{#alert_incident_url}}"{{alert_incident_url}}"{{/alert_incident_url}}{{^alert_incident_url}}null{{/alert_incident_url}},
  "alert_failure_threshold": {{alert_failure_threshold}},
  "alert_success_threshold": {{alert_success_threshold}},
  "is_resolved": {{is_resolved}},
  "is_triggered": {{is_triggered}},
  "site_url": "{{site_url}}",
  "site_name": "{{site_name}}",
  "site_logo_url": "{{site_logo_url}}",
  "colors_up": "{{colors_up}}",
  "colors_down": "{{colors_down}}",
  "colors_degraded": "{{colors_degraded}}",
  "colors_maintenance": "{{colors_maintenance}}"
}
{{/incident_escalated}}
"""  # noqa: E501 - template text, kept as users see it


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The two signature headers for ``body`` at ``now`` (unix seconds): the
    same scheme as webhook subscribers (``notifications.signing``)."""
    timestamp = int(now if now is not None else time.time())
    return {
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.webhook_signature(secret, timestamp, body),
    }


class HeadersField(StrictDict):
    """Header names as HTTP tokens (not ours), values one line of text."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_entries=MAX_HEADERS, child=StrictStr(max_length=2000), **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        headers = super().to_internal_value(data)
        seen: set[str] = set()
        for name, value in headers.items():
            shown = name[:60]
            if not _TOKEN.match(name):
                raise serializers.ValidationError(f"{shown!r} is not a valid header name.")
            if name.lower() in RESERVED_HEADERS:
                raise serializers.ValidationError(f"{shown} is set by Beacon and cannot be set.")
            if name.lower() in seen:
                raise serializers.ValidationError(f"{shown} is given twice.")
            seen.add(name.lower())
            if any(ch in value for ch in "\r\n\x00"):
                raise serializers.ValidationError(f"The value of {shown} must be one line.")
        return headers


class WebhookConfig(StrictConfig):
    url = url_field("URL", "Where to send: an http:// or https:// URL.")
    method = serializers.ChoiceField(choices=METHODS, required=False, default="POST")
    headers = HeadersField(required=False, default=dict)
    secret = StrictStr(
        max_length=200,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="When set, requests are signed (X-Beacon-Signature).",
    )

    def validate_url(self, value: str) -> str:
        return validate_http_url(value)


@register
class WebhookNotifier(HttpSender, TriggerNotifier):
    kind = "webhook"
    label = "Webhook"
    description = "A JSON request to any URL, optionally signed with HMAC-SHA256."
    Config = WebhookConfig
    secret_fields = ("secret", "headers")
    templates = (
        TemplateSpec(
            "body",
            "Body (JSON)",
            "json",
            DEFAULT_BODY,
            "Mustache; values are JSON-escaped, so put {{variables}} inside quotes.",
        ),
    )

    @classmethod
    def mask_value(cls, name: str, value: Any) -> Any:
        if name == "headers" and isinstance(value, Mapping):
            return {k: (MASK if _SENSITIVE.search(k) and v else v) for k, v in value.items()}
        return super().mask_value(name, value)

    @classmethod
    def unmask(cls, name: str, new: Any, stored: Any) -> Any:
        if name == "headers" and isinstance(new, Mapping) and isinstance(stored, Mapping):
            return {k: (stored[k] if v == MASK and k in stored else v) for k, v in new.items()}
        return super().unmask(name, new, stored)

    @classmethod
    def target_text(cls, config: Mapping[str, Any]) -> str:
        return f"{config.get('method', 'POST')} {short_url(str(config.get('url', '')))}"[:300]

    def deliver(self, delivery_id: int, config: Mapping[str, Any], rendered: dict) -> Outcome:
        method = config.get("method", "POST")
        body = b"" if method == "GET" else rendered["body"].encode()
        if body:
            try:
                json.loads(body)
            except ValueError as exc:
                return Outcome.failure(f"The body is not valid JSON: {exc}", transient=False)
        headers = dict(config.get("headers") or {})
        if config.get("secret"):
            headers.update(signed_headers(config["secret"], body))
        return self.request(delivery_id, method, config["url"], body=body or None, headers=headers)
