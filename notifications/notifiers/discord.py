"""Discord triggers: an embed posted to a channel webhook URL.

Config: ``{"url": "https://discord.com/api/webhooks/<id>/<token>"}`` (the URL
is the secret: shown masked). Templates: ``body`` (format ``json``).

The default embed is red (15158332) while triggered and green (3066993) once
resolved, with fields (status, severity, type, value, thresholds, message,
incident link), a footer and the event's timestamp. An escalation
(``incident_escalated``) is an orange embed: the incident, the note as its
description, severity, state, start, assignee, monitors, services, the
latest update and a link to the console page. ``allowed_mentions`` is
empty, so an ``@everyone`` in a monitor name pings nobody.
"""

from __future__ import annotations

from monitors.checks.fields import StrictConfig

from .base import register
from .slack import ChatWebhook
from .trigger import TemplateSpec, url_field, validate_http_url

RED = 15158332
GREEN = 3066993
ORANGE = 15105570  # escalations

DEFAULT_BODY = """{{#incident_escalated}}
{
  "username": "{{site_name}}",
  {{#site_logo_url}}"avatar_url": "{{site_logo_url}}",
  {{/site_logo_url}}"content": "📣 **Incident escalated** by {{incident_escalated_by}}",
  "allowed_mentions": {"parse": []},
  "embeds": [
    {
      "title": "{{incident_key}} {{incident_title}}",
      "url": "{{incident_console_url}}",
      "color": 15105570,
      "description": "{{incident_escalation_note}}",
      "fields": [
        {"name": "Severity", "value": "{{incident_severity}}{{#incident_previous_severity}} (was {{incident_previous_severity}}){{/incident_previous_severity}}", "inline": true},
        {"name": "State", "value": "{{incident_state}}", "inline": true},
        {"name": "Started", "value": "{{incident_started_at}}", "inline": true},
        {"name": "Assignee", "value": "{{#incident_assignee}}{{incident_assignee}}{{/incident_assignee}}{{^incident_assignee}}nobody{{/incident_assignee}}", "inline": true},
        {"name": "Monitors", "value": "{{incident_monitors}}{{^incident_monitors}}none{{/incident_monitors}}", "inline": false},
        {"name": "Services", "value": "{{incident_services}}{{^incident_services}}none{{/incident_services}}", "inline": false},
        {"name": "Latest update", "value": "{{incident_latest_update}}{{^incident_latest_update}}none{{/incident_latest_update}}", "inline": false},
        {"name": "Incident", "value": "[Open in the console]({{incident_console_url}})", "inline": false}
      ],
      "footer": {"text": "{{site_name}} · escalated by {{incident_escalated_by}}"},
      "timestamp": "{{incident_escalated_at}}"
    }
  ]
}
{{/incident_escalated}}
{{^incident_escalated}}
{
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
}{{/incident_escalated}}
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
