"""Apprise triggers: one or more Apprise URLs (Teams, Telegram, Pushover, ntfy,
Gotify, Matrix, Opsgenie, SMS gateways, ...), with no code of ours per service.

Config: ``{"urls": ["tgram://bottoken/ChatID", "ntfys://ntfy.sh/topic"]}``
(1 to 10; each must be a URL Apprise understands; they carry tokens, so they
are shown masked). Templates: ``title`` (one line) and ``body`` (plain text;
Apprise formats for each service).

Apprise makes its own HTTP requests (so no ``X-Beacon-Delivery`` header);
a failed ``notify`` is transient (retried with backoff), with the warnings
Apprise logged as the error.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import apprise as apprise_lib
from django.conf import settings
from rest_framework import serializers

from monitors.checks.fields import StrictConfig, StrictList, StrictStr

from .base import Outcome, elapsed_ms, register
from .trigger import MASK, TemplateSpec, TriggerNotifier

MAX_URLS = 10

DEFAULT_TITLE = (
    "{{#incident_escalated}}📣 Escalated: {{incident_key}} {{incident_title}}"
    "{{/incident_escalated}}"
    "{{^incident_escalated}}"
    "{{#is_triggered}}🚨 Triggered{{/is_triggered}}{{#is_resolved}}✅ Resolved{{/is_resolved}}: "
    "{{alert_name}}"
    "{{/incident_escalated}}"
)
DEFAULT_BODY = """{{#incident_escalated}}
{{incident_escalation_note}}

Severity: {{incident_severity}}{{#incident_previous_severity}} (was {{incident_previous_severity}}){{/incident_previous_severity}} · State: {{incident_state}}
Started: {{incident_started_at}}
Assignee: {{#incident_assignee}}{{incident_assignee}}{{/incident_assignee}}{{^incident_assignee}}nobody{{/incident_assignee}}
Monitors: {{incident_monitors}}{{^incident_monitors}}none{{/incident_monitors}}
Services: {{incident_services}}{{^incident_services}}none{{/incident_services}}
Latest update: {{incident_latest_update}}{{^incident_latest_update}}none{{/incident_latest_update}}
Escalated by {{incident_escalated_by}} at {{incident_escalated_at}}
Open incident: {{incident_console_url}}
{{/incident_escalated}}
{{^incident_escalated}}
{{alert_message}}

Status: {{alert_status}} · Severity: {{alert_severity}}
Alert: {{alert_for}} {{alert_value}} at {{alert_timestamp}}
{{alert_cta_text}}: {{alert_cta_url}}
{{/incident_escalated}}"""  # noqa: E501 - template text, kept as users see it


def scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


class AppriseUrlsField(StrictList):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=MAX_URLS, min_length=1, child=StrictStr(max_length=2000), **kwargs
        )

    def to_internal_value(self, data: Any) -> list[str]:
        urls = [u.strip() for u in super().to_internal_value(data)]
        for index, url in enumerate(urls, start=1):
            if apprise_lib.Apprise.instantiate(url) is None:
                service = scheme(url) or "(no scheme)"
                raise serializers.ValidationError(
                    f"URL {index} ({service}://...) is not a URL Apprise understands; "
                    "see https://github.com/caronc/apprise/wiki for each service's format."
                )
        if len(set(urls)) != len(urls):
            raise serializers.ValidationError("A URL is listed twice.")
        return urls


class AppriseConfig(StrictConfig):
    urls = AppriseUrlsField(label="Apprise URLs", help_text=f"1 to {MAX_URLS} Apprise URLs.")


@register
class AppriseNotifier(TriggerNotifier):
    kind = "apprise"
    label = "Apprise"
    description = "Teams, Telegram, Pushover, ntfy, Gotify, Matrix, Opsgenie, SMS and more."
    Config = AppriseConfig
    secret_fields = ("urls",)
    templates = (
        TemplateSpec("title", "Title", "line", DEFAULT_TITLE, "One line."),
        TemplateSpec("body", "Message", "text", DEFAULT_BODY, "Mustache; plain text."),
    )

    @classmethod
    def mask_value(cls, name: str, value: Any) -> Any:
        if name == "urls" and isinstance(value, list):
            return [f"{scheme(str(u))}://{MASK}" for u in value]
        return super().mask_value(name, value)

    @classmethod
    def unmask(cls, name: str, new: Any, stored: Any) -> Any:
        if name == "urls" and isinstance(new, list) and isinstance(stored, list):
            masked = cls.mask_value(name, stored)
            return [
                stored[i] if i < len(stored) and item == masked[i] else item
                for i, item in enumerate(new)
            ]
        return super().unmask(name, new, stored)

    @classmethod
    def target_text(cls, config: Mapping[str, Any]) -> str:
        schemes = ", ".join(f"{scheme(str(u))}://" for u in config.get("urls") or [])
        return f"apprise {schemes}"[:300]

    def worst_case_seconds(self, count: int) -> float:
        return count * MAX_URLS * (settings.BEACON_DELIVERY_TIMEOUT_SECONDS + 1.0)

    def deliver(self, delivery_id: int, config: Mapping[str, Any], rendered: dict) -> Outcome:
        client = apprise_lib.Apprise()
        for url in config.get("urls") or []:
            client.add(url)
        start = time.perf_counter()
        result = client.notify(
            body=rendered["body"] or " ",
            title=rendered["title"],
            body_format=apprise_lib.NotifyFormat.TEXT,
            timeout=settings.BEACON_DELIVERY_TIMEOUT_SECONDS,
        )
        duration = elapsed_ms(start)
        if bool(result):
            count = getattr(result, "success_count", len(config.get("urls") or []))
            return Outcome.success(duration_ms=duration, body=f"{count} service(s) notified")
        messages = [str(entry) for entry in getattr(result, "logs", lambda: [])()]
        error = " | ".join(m.split(" - ", 2)[-1] for m in messages[-5:]) or "Apprise failed"
        return Outcome.failure(error, transient=True, duration_ms=duration)
