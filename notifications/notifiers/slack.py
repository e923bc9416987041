"""Slack triggers: a Block Kit message posted to an incoming-webhook URL.

Config: ``{"url": "https://hooks.slack.com/services/T.../B.../..."}`` (the URL
is the secret: shown masked). Templates: ``body`` (format ``slack``: JSON
escaping plus Slack's ``&``, ``<``, ``>`` as entities, so a monitor name can
neither break the JSON nor ping ``<!channel>``).

The default message: a header (triggered / resolved), the alert name, a
fields section (status, severity, type, value, thresholds), the message, a
context line (time, alert id, incident) and a button to the incident (or
the monitor), red while triggered. For an escalation (``incident_escalated``):
the incident, the note, severity (and what it was), state, start, assignee,
monitors, services, the latest update, a button to the console page, and who
escalated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitors.checks.fields import StrictConfig

from .base import HttpSender, Outcome, register
from .trigger import TemplateSpec, TriggerNotifier, mask_url, short_url, url_field
from .trigger import validate_http_url as _validate_http_url

DEFAULT_BODY = """{{#incident_escalated}}
{
  "text": "Incident escalated: {{incident_key}} {{incident_title}}",
  "blocks": [
    {
      "type": "header",
      "text": {"type": "plain_text", "text": "📣 Incident escalated", "emoji": true}
    },
    {
      "type": "section",
      "text": {"type": "mrkdwn", "text": "*<{{incident_console_url}}|{{incident_key}}> {{incident_title}}*"}
    },
    {
      "type": "section",
      "text": {"type": "mrkdwn", "text": "*Why:*\\n{{incident_escalation_note}}"}
    },
    {
      "type": "section",
      "fields": [
        {"type": "mrkdwn", "text": "*Severity:*\\n{{incident_severity}}{{#incident_previous_severity}} (was {{incident_previous_severity}}){{/incident_previous_severity}}"},
        {"type": "mrkdwn", "text": "*State:*\\n{{incident_state}}"},
        {"type": "mrkdwn", "text": "*Started:*\\n{{incident_started_at}}"},
        {"type": "mrkdwn", "text": "*Assignee:*\\n{{#incident_assignee}}{{incident_assignee}}{{/incident_assignee}}{{^incident_assignee}}nobody{{/incident_assignee}}"},
        {"type": "mrkdwn", "text": "*Monitors:*\\n{{incident_monitors}}{{^incident_monitors}}none{{/incident_monitors}}"},
        {"type": "mrkdwn", "text": "*Services:*\\n{{incident_services}}{{^incident_services}}none{{/incident_services}}"}
      ]
    },
    {
      "type": "section",
      "text": {"type": "mrkdwn", "text": "*Latest update:*\\n{{incident_latest_update}}{{^incident_latest_update}}none{{/incident_latest_update}}"}
    },
    {
      "type": "actions",
      "elements": [
        {
          "type": "button",
          "text": {"type": "plain_text", "text": "Open incident", "emoji": true},
          "url": "{{incident_console_url}}",
          "style": "danger"
        }
      ]
    },
    {
      "type": "context",
      "elements": [{"type": "mrkdwn", "text": "Escalated by *{{incident_escalated_by}}* at {{incident_escalated_at}} · *{{site_name}}*"}]
    }
  ]
}
{{/incident_escalated}}
{{^incident_escalated}}
{
  "text": "{{#is_triggered}}Alert triggered{{/is_triggered}}{{#is_resolved}}Alert resolved{{/is_resolved}}: {{alert_name}}",
  "blocks": [
    {
      "type": "header",
      "text": {
        "type": "plain_text",
        "text": "{{#is_triggered}}🚨 Alert triggered{{/is_triggered}}{{#is_resolved}}✅ Alert resolved{{/is_resolved}}",
        "emoji": true
      }
    },
    {
      "type": "section",
      "text": {"type": "mrkdwn", "text": "*{{alert_name}}*"}
    },
    {
      "type": "section",
      "fields": [
        {"type": "mrkdwn", "text": "*Status:*\\n{{alert_status}}"},
        {"type": "mrkdwn", "text": "*Severity:*\\n{{alert_severity}}"},
        {"type": "mrkdwn", "text": "*Alert type:*\\n{{alert_for}}"},
        {"type": "mrkdwn", "text": "*Alert value:*\\n{{alert_value}}"},
        {"type": "mrkdwn", "text": "*Failure threshold:*\\n{{alert_failure_threshold}}"},
        {"type": "mrkdwn", "text": "*Success threshold:*\\n{{alert_success_threshold}}"}
      ]
    },
    {
      "type": "section",
      "text": {"type": "mrkdwn", "text": "*Message:*\\n{{alert_message}}"}
    },
    {
      "type": "context",
      "elements": [
        {"type": "mrkdwn", "text": "*Time:* {{alert_timestamp}}"},
        {"type": "mrkdwn", "text": "*Alert ID:* {{alert_id}}"}{{#alert_incident_url}},
        {"type": "mrkdwn", "text": "*Incident:* <{{alert_incident_url}}|{{incident_key}}>"}{{/alert_incident_url}}
      ]
    },
    {
      "type": "actions",
      "elements": [
        {
          "type": "button",
          "text": {"type": "plain_text", "text": "{{alert_cta_text}}", "emoji": true},
          "url": "{{alert_cta_url}}",
          "style": "{{#is_triggered}}danger{{/is_triggered}}{{#is_resolved}}primary{{/is_resolved}}"
        }
      ]
    },
    {
      "type": "context",
      "elements": [{"type": "mrkdwn", "text": "Sent by *{{site_name}}*"}]
    }
  ]
}{{/incident_escalated}}
"""  # noqa: E501 - template text, kept as users see it


class SlackConfig(StrictConfig):
    url = url_field(
        "Webhook URL",
        "The incoming-webhook URL from your Slack app (https://hooks.slack.com/services/...).",
    )

    def validate_url(self, value: str) -> str:
        return _validate_http_url(value)


class ChatWebhook(HttpSender, TriggerNotifier):
    """A chat service fed by one webhook URL (the secret) and one JSON body template."""

    secret_fields = ("url",)

    @classmethod
    def mask_value(cls, name: str, value: Any) -> Any:
        return mask_url(str(value)) if name == "url" and value else value

    @classmethod
    def target_text(cls, config: Mapping[str, Any]) -> str:
        return f"{cls.label} {short_url(mask_url(str(config.get('url', ''))))}"[:300]

    def deliver(self, delivery_id: int, config: Mapping[str, Any], rendered: dict) -> Outcome:
        return self.request(delivery_id, "POST", config["url"], body=rendered["body"].encode())


@register
class SlackNotifier(ChatWebhook):
    kind = "slack"
    label = "Slack"
    description = "A Block Kit message through a Slack incoming webhook."
    Config = SlackConfig
    templates = (
        TemplateSpec(
            "body",
            "Message (Block Kit JSON)",
            "slack",
            DEFAULT_BODY,
            "Mustache; values are JSON-escaped and Slack's & < > are escaped.",
        ),
    )
