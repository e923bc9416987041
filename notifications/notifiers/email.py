"""Email triggers: a text + HTML message through the configured SMTP server.

Config: ``{"recipients": ["oncall@example.com", ...]}`` (1 to 50 addresses).
Templates: ``subject`` (format ``line``: one line), ``html`` (format
``html``: every value HTML-escaped) and ``text`` (plain). The server, sender
address and credentials are settings (``BEACON_SMTP_*``, mapped to Django's
``EMAIL_*``), not trigger config.

Every message of an engine pass goes over ONE SMTP connection
(``SmtpBatch``, on ``django.core.mail.get_connection()``), opened by the
first ``send`` and closed by ``close``; it is reopened only after a broken
session. SMTP replies decide retries: 4xx and lost connections are transient,
5xx (refused recipients, rejected sender, failed authentication) permanent.
"""

from __future__ import annotations

import smtplib
import socket
import time
from collections.abc import Mapping
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from rest_framework import serializers

from monitors.checks.fields import StrictConfig, StrictList, StrictStr

from .base import DELIVERY_HEADER, Outcome, elapsed_ms, register
from .trigger import TemplateSpec, TriggerNotifier

if TYPE_CHECKING:
    pass

MAX_RECIPIENTS = 50
MAX_SUBJECT = 200

DEFAULT_SUBJECT = (
    "[{{alert_severity}}] {{#incident_escalated}}Escalated: {{incident_key}} {{incident_title}}"
    "{{/incident_escalated}}{{^incident_escalated}}{{#is_triggered}}Triggered{{/is_triggered}}"
    "{{#is_resolved}}Resolved{{/is_resolved}}: {{alert_name}}{{/incident_escalated}}"
)

DEFAULT_TEXT = """{{#incident_escalated}}
INCIDENT ESCALATED: {{incident_key}} {{incident_title}}

{{incident_escalation_note}}

Severity:      {{incident_severity}}{{#incident_previous_severity}} (was {{incident_previous_severity}}){{/incident_previous_severity}}
State:         {{incident_state}}
Started:       {{incident_started_at}}
Assignee:      {{#incident_assignee}}{{incident_assignee}}{{/incident_assignee}}{{^incident_assignee}}nobody{{/incident_assignee}}
Monitors:      {{incident_monitors}}{{^incident_monitors}}none{{/incident_monitors}}
Services:      {{incident_services}}{{^incident_services}}none{{/incident_services}}
Escalated by:  {{incident_escalated_by}} at {{incident_escalated_at}}

Latest update:
{{incident_latest_update}}{{^incident_latest_update}}none{{/incident_latest_update}}

Open incident: {{incident_console_url}}
{{/incident_escalated}}
{{^incident_escalated}}
{{#is_triggered}}ALERT TRIGGERED{{/is_triggered}}{{#is_resolved}}ALERT RESOLVED{{/is_resolved}}: {{alert_name}}

Status:            {{alert_status}}
Severity:          {{alert_severity}}
Alert type:        {{alert_for}} {{alert_value}}
Failure threshold: {{alert_failure_threshold}}
Success threshold: {{alert_success_threshold}}
Time:              {{alert_timestamp}}
{{#alert_incident_url}}Incident:          {{incident_key}} {{alert_incident_url}}
{{/alert_incident_url}}
{{alert_message}}

{{alert_cta_text}}: {{alert_cta_url}}

{{/incident_escalated}}
-- 
Sent by {{site_name}} ({{site_url}})
"""  # noqa: E501, W291 - template text, kept as users see it

DEFAULT_HTML = """<!doctype html>
<html>
<body style="margin:0;padding:24px;background:#f4f4f5;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#18181b">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;margin:0 auto;background:#ffffff;border-radius:8px;border-top:6px solid {{#is_triggered}}{{colors_down}}{{/is_triggered}}{{#is_resolved}}{{colors_up}}{{/is_resolved}}">
<tr><td style="padding:24px">
{{#incident_escalated}}
<p style="margin:0 0 8px;font-size:13px;font-weight:600;text-transform:uppercase;color:{{colors_down}}">Incident escalated</p>
<h1 style="margin:0 0 16px;font-size:20px">{{incident_key}} {{incident_title}}</h1>
<p style="margin:0 0 16px;white-space:pre-wrap">{{incident_escalation_note}}</p>
<table role="presentation" cellpadding="4" cellspacing="0" style="font-size:14px;margin:0 0 16px">
<tr><td style="color:#71717a">Severity</td><td>{{incident_severity}}{{#incident_previous_severity}} (was {{incident_previous_severity}}){{/incident_previous_severity}}</td></tr>
<tr><td style="color:#71717a">State</td><td>{{incident_state}}</td></tr>
<tr><td style="color:#71717a">Started</td><td>{{incident_started_at}}</td></tr>
<tr><td style="color:#71717a">Assignee</td><td>{{#incident_assignee}}{{incident_assignee}}{{/incident_assignee}}{{^incident_assignee}}nobody{{/incident_assignee}}</td></tr>
<tr><td style="color:#71717a">Monitors</td><td>{{incident_monitors}}{{^incident_monitors}}none{{/incident_monitors}}</td></tr>
<tr><td style="color:#71717a">Services</td><td>{{incident_services}}{{^incident_services}}none{{/incident_services}}</td></tr>
<tr><td style="color:#71717a">Escalated by</td><td>{{incident_escalated_by}} at {{incident_escalated_at}}</td></tr>
</table>
<p style="margin:0 0 4px;color:#71717a">Latest update</p>
<p style="margin:0 0 16px;white-space:pre-wrap">{{incident_latest_update}}{{^incident_latest_update}}none{{/incident_latest_update}}</p>
<p style="margin:0"><a href="{{incident_console_url}}" style="display:inline-block;padding:10px 16px;border-radius:6px;background:#18181b;color:#ffffff;text-decoration:none">Open incident</a></p>
{{/incident_escalated}}
{{^incident_escalated}}
<p style="margin:0 0 8px;font-size:13px;font-weight:600;text-transform:uppercase;color:{{#is_triggered}}{{colors_down}}{{/is_triggered}}{{#is_resolved}}{{colors_up}}{{/is_resolved}}">{{#is_triggered}}Alert triggered{{/is_triggered}}{{#is_resolved}}Alert resolved{{/is_resolved}}</p>
<h1 style="margin:0 0 16px;font-size:20px">{{alert_name}}</h1>
<p style="margin:0 0 16px;white-space:pre-wrap">{{alert_message}}</p>
<table role="presentation" cellpadding="4" cellspacing="0" style="font-size:14px;margin:0 0 16px">
<tr><td style="color:#71717a">Status</td><td>{{alert_status}}</td></tr>
<tr><td style="color:#71717a">Severity</td><td>{{alert_severity}}</td></tr>
<tr><td style="color:#71717a">Alert type</td><td>{{alert_for}} {{alert_value}}</td></tr>
<tr><td style="color:#71717a">Thresholds</td><td>{{alert_failure_threshold}} failing / {{alert_success_threshold}} good checks</td></tr>
<tr><td style="color:#71717a">Time</td><td>{{alert_timestamp}}</td></tr>
{{#alert_incident_url}}<tr><td style="color:#71717a">Incident</td><td><a href="{{alert_incident_url}}">{{incident_key}}</a></td></tr>{{/alert_incident_url}}
</table>
<p style="margin:0"><a href="{{alert_cta_url}}" style="display:inline-block;padding:10px 16px;border-radius:6px;background:#18181b;color:#ffffff;text-decoration:none">{{alert_cta_text}}</a></p>
{{/incident_escalated}}
</td></tr>
</table>
<p style="text-align:center;font-size:12px;color:#71717a">Sent by <a href="{{site_url}}" style="color:#71717a">{{site_name}}</a></p>
</body>
</html>
"""  # noqa: E501 - template text, kept as users see it


class RecipientsField(StrictList):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=MAX_RECIPIENTS,
            min_length=1,
            child=StrictStr(max_length=254),
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> list[str]:
        addresses = [a.strip() for a in super().to_internal_value(data)]
        seen: set[str] = set()
        for address in addresses:
            try:
                validate_email(address)
            except DjangoValidationError:
                raise serializers.ValidationError(
                    f"{address[:80]!r} is not a valid email address."
                ) from None
            if address.lower() in seen:
                raise serializers.ValidationError(f"{address[:80]} is listed twice.")
            seen.add(address.lower())
        return addresses


class EmailConfig(StrictConfig):
    recipients = RecipientsField(
        label="Recipients", help_text=f"1 to {MAX_RECIPIENTS} email addresses."
    )


def smtp_failure(exc: BaseException, start: float) -> Outcome:
    """An SMTP or network error as an outcome: 5xx replies are permanent."""
    duration = elapsed_ms(start)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        code = codes[0] if codes else None
        detail = "; ".join(
            f"{addr}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for addr, (code, msg) in list(exc.recipients.items())[:5]
        )
        transient = bool(codes) and all(400 <= c < 500 for c in codes)
        return Outcome.failure(
            f"recipients refused: {detail}",
            transient=transient,
            status_code=code,
            duration_ms=duration,
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error
        text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
        return Outcome.failure(
            f"SMTP {exc.smtp_code}: {text}",
            transient=not 500 <= exc.smtp_code < 600,
            status_code=exc.smtp_code,
            duration_ms=duration,
        )
    if isinstance(exc, socket.timeout | TimeoutError):
        return Outcome.failure("SMTP server timed out", transient=True, duration_ms=duration)
    return Outcome.failure(
        f"SMTP: {type(exc).__name__}: {exc}", transient=True, duration_ms=duration
    )


class SmtpBatch:
    """One SMTP connection for a batch of messages, reopened after a failure.

    Shared by every email sender (trigger and subscriber emails):
    ``send(message) -> Outcome``; use as a context manager.
    """

    def __init__(self) -> None:
        self.connection = get_connection(fail_silently=False)
        self.opened = False

    def __enter__(self) -> SmtpBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with suppress(OSError, smtplib.SMTPException):
            self.connection.close()
        self.opened = False

    def send(self, message: EmailMultiAlternatives) -> Outcome:
        start = time.perf_counter()
        try:
            if not self.opened:
                self.connection.open()
                self.opened = True
            message.connection = self.connection
            self.connection.send_messages([message])
        except (OSError, smtplib.SMTPException) as exc:
            outcome = smtp_failure(exc, start)
            if not isinstance(exc, smtplib.SMTPRecipientsRefused):
                self.close()  # the session may be broken: start the next message afresh
            return outcome
        host = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
        return Outcome.success(duration_ms=elapsed_ms(start), body=f"accepted by {host}")


@register
class EmailNotifier(TriggerNotifier):
    kind = "email"
    label = "Email"
    description = "A text and HTML email through the SMTP server of the settings."
    Config = EmailConfig
    chunk_size = 200
    templates = (
        TemplateSpec("subject", "Subject", "line", DEFAULT_SUBJECT, "One line."),
        TemplateSpec(
            "html", "HTML body", "html", DEFAULT_HTML, "Mustache; values are HTML-escaped."
        ),
        TemplateSpec("text", "Text body", "text", DEFAULT_TEXT, "Mustache; plain text."),
    )

    _batch: SmtpBatch | None = None

    @classmethod
    def target_text(cls, config: Mapping[str, Any]) -> str:
        return ("email " + ", ".join(config.get("recipients") or []))[:300]

    def worst_case_seconds(self, count: int) -> float:
        return settings.EMAIL_TIMEOUT * 2 + count * 2.0

    def close(self) -> None:
        if self._batch is not None:
            self._batch.close()
            self._batch = None

    def deliver(self, delivery_id: int, config: Mapping[str, Any], rendered: dict) -> Outcome:
        if self._batch is None:
            self._batch = SmtpBatch()  # kept open for the rest of the batch
        message = EmailMultiAlternatives(
            subject=rendered["subject"][:MAX_SUBJECT],
            body=rendered["text"],
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=list(config.get("recipients") or []),
            headers={DELIVERY_HEADER: str(delivery_id), "Auto-Submitted": "auto-generated"},
        )
        message.attach_alternative(rendered["html"], "text/html")
        return self._batch.send(message)
