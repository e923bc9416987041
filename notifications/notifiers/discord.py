"""Discord triggers: an embed posted to a channel webhook URL.

Config: ``{"url": "https://discord.com/api/webhooks/<id>/<token>"}`` (the URL
is the secret: shown masked). Templates: ``body`` (format ``json``).

The default embed is red (15158332) while triggered and green (3066993) once
resolved, with fields (status, severity, type, value, thresholds, message,
incident link), a footer and the event's timestamp. ``allowed_mentions`` is
empty, so an ``@everyone`` in a monitor name pings nobody.
"""

from __future__ import annotations

from monitors.checks.fields import StrictConfig

from .base import register
from .slack import ChatWebhook
from .trigger import TemplateSpec, url_field, validate_http_url

RED = 15158332
GREEN = 3066993

DEFAULT_BODY = """{
  "username": "{{site_name}}",
  {{#site_logo_url}}"avatar_url": "{{site_logo_url}}",
  {{/site_logo_url}}"content": "{{#is_triggered}}🚨 **Alert triggered**{{/is_triggered}}{{#is_resolved}}✅ **Alert resolved**{{/is_resolved}}",
  "allowed_mentions": {"parse": []},
  "embeds": [
    {
      "title": "{{alert_name}}",
      "url": "{{alert_cta_url}}",
      "color": {{#is_triggered}}15158332{{/is_triggered}}{{#is_resolved}}3066993{{/is_resolved}},
      "fields": [
        {"name": "Status", "value": "{{alert_status}}", "inline": true},
        {"name": "Severity", "value": "{{alert_severity}}", "inline": true},
        {"name": "Alert type", "value": "{{alert_for}}", "inline": true},
        {"name": "Alert value", "value": "{{alert_value}}", "inline": true},
        {"name": "Failure threshold", "value": "{{alert_failure_threshold}}", "inline": true},
        {"name": "Success threshold", "value": "{{alert_success_threshold}}", "inline": true},
        {"name": "Message", "value": "{{alert_message}}", "inline": false}{{#alert_incident_url}},
        {"name": "Incident", "value": "[{{incident_key}}]({{alert_incident_url}})", "inline": false}{{/alert_incident_url}}
      ],
      "footer": {"text": "{{site_name}} · alert {{alert_id}}"},
      "timestamp": "{{alert_timestamp}}"
    }
  ]
}
"""  # noqa: E501 - template text, kept as users see it


class DiscordConfig(StrictConfig):
    url = url_field(
        "Webhook URL",
        "Channel settings → Integrations → Webhooks → Copy Webhook URL "
        "(https://discord.com/api/webhooks/...).",
    )

    def validate_url(self, value: str) -> str:
        return validate_http_url(value)


@register
class DiscordNotifier(ChatWebhook):
    kind = "discord"
    label = "Discord"
    description = "An embed through a Discord channel webhook."
    Config = DiscordConfig
    templates = (
        TemplateSpec(
            "body",
            "Message (JSON)",
            "json",
            DEFAULT_BODY,
            "Mustache; values are JSON-escaped, so put {{variables}} inside quotes.",
        ),
    )
