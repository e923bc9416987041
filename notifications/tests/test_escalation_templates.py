"""Escalations (``incident.escalated``) through every kind's default templates:
valid and escaped per format with hostile text in every variable, carrying
what someone new needs; Kener-style custom templates still render; the
escalation sample takes part in template validation (pure: no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from notifications import templating
from notifications.notifiers import senders
from notifications.variables import (
    EXAMPLE_SITE,
    HOSTILE,
    NAMES,
    sample_variables,
    validation_samples,
)

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
NASTY = 'a "quoted" \\ back\nnew line\r\t</script><script>x()</script> <!channel> & ünï 🚨 {{x}}'


def escalation(*, hostile: bool = True, **changes: object) -> dict:
    values = sample_variables(escalated=True, now=NOW, site=EXAMPLE_SITE)
    if hostile:
        values = {
            k: (f"{v}{NASTY}" if isinstance(v, str) and v and k not in ("incident_id",) else v)
            for k, v in values.items()
        }
    return {**values, **changes}


@pytest.mark.parametrize("kind", ["webhook", "slack", "discord", "email", "apprise"])
@pytest.mark.parametrize("blank", [False, True])
def test_default_templates_render_escalations_safely(kind: str, blank: bool) -> None:
    context = escalation()
    if blank:  # no assignee, monitors, services, update or previous severity
        for name in (
            "incident_assignee",
            "incident_monitors",
            "incident_services",
            "incident_latest_update",
            "incident_previous_severity",
        ):
            context[name] = ""
    notifier = senders()[kind]
    rendered = notifier.render({}, context)
    for spec in notifier.templates:
        out = rendered[spec.name]
        if spec.fmt in ("json", "slack"):
            json.loads(out)
        if spec.fmt == "html":
            assert "<script>" not in out and "</script>" not in out
        if spec.fmt == "line":
            assert "\n" not in out and "\r" not in out
        # Every default says what happened and carries the note and the way in.
        if spec.name in ("body", "text", "html"):
            assert "scalat" in out, (kind, spec.name)


def test_webhook_escalation_body_carries_every_fact_exactly() -> None:
    context = escalation()
    body = json.loads(senders()["webhook"].render({}, context)["body"])
    assert body["event"] == "incident.escalated"
    assert body["incident_id"] == 42
    for key, name in [
        ("incident_key", "incident_key"),
        ("incident_title", "incident_title"),
        ("incident_state", "incident_state"),
        ("incident_severity", "incident_severity"),
        ("incident_previous_severity", "incident_previous_severity"),
        ("incident_started_at", "incident_started_at"),
        ("incident_monitors", "incident_monitors"),
        ("incident_services", "incident_services"),
        ("incident_latest_update", "incident_latest_update"),
        ("incident_assignee", "incident_assignee"),
        ("incident_url", "incident_url"),
        ("incident_console_url", "incident_console_url"),
        ("escalation_note", "incident_escalation_note"),
        ("escalated_by", "incident_escalated_by"),
        ("escalated_at", "incident_escalated_at"),
        ("site_url", "site_url"),
        ("site_name", "site_name"),
    ]:
        assert body[key] == context[name], key
    blank = escalation(incident_assignee="", incident_previous_severity="")
    body = json.loads(senders()["webhook"].render({}, blank)["body"])
    assert body["incident_assignee"] is None and body["incident_previous_severity"] is None


def test_slack_escalation_escapes_mentions_and_links() -> None:
    context = escalation()
    out = senders()["slack"].render({}, context)["body"]
    body = json.loads(out)
    text = json.dumps(body, ensure_ascii=False)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert body["blocks"][0]["text"]["text"] == "📣 Incident escalated"
    assert body["blocks"][-2]["elements"][0]["style"] == "danger"


def test_discord_escalation_is_orange_and_pings_nobody() -> None:
    body = json.loads(senders()["discord"].render({}, escalation())["body"])
    assert body["embeds"][0]["color"] == 15105570
    assert body["allowed_mentions"] == {"parse": []}
    assert body["embeds"][0]["description"] == escalation()["incident_escalation_note"]


def test_email_and_apprise_escalations_say_what_and_where() -> None:
    context = escalation(hostile=False)
    email = senders()["email"].render({}, context)
    assert email["subject"] == "[CRITICAL] Escalated: INC-000042 Example API STATUS: DOWN"
    assert (
        "INCIDENT ESCALATED" in email["text"] and context["incident_console_url"] in email["text"]
    )
    assert "Latest update:\nInvestigating elevated errors." in email["text"]
    assert "ALERT TRIGGERED" not in email["text"]
    apprise = senders()["apprise"].render({}, context)
    assert apprise["title"] == "📣 Escalated: INC-000042 Example API STATUS: DOWN"
    assert apprise["body"].startswith(context["incident_escalation_note"])
    assert "Open incident: " + context["incident_console_url"] in apprise["body"]


def test_alerts_still_render_the_alert_defaults() -> None:
    alert = sample_variables(now=NOW, site=EXAMPLE_SITE)
    email = senders()["email"].render({}, alert)
    assert email["subject"] == "[CRITICAL] Triggered: Example API STATUS: DOWN"
    assert "ESCALATED" not in email["text"]
    assert "📣" not in senders()["apprise"].render({}, alert)["title"]


def test_a_kener_style_custom_template_renders_escalations_too() -> None:
    source = (
        '{"content": "{{alert_name}}: {{alert_message}}", "color": '
        "{{#is_triggered}}15158332{{/is_triggered}}{{#is_resolved}}3066993{{/is_resolved}}, "
        '"id": {{alert_id}}, "rule": {{rule_id}}}'
    )
    templating.validate(source, "json", validation_samples(NOW), NAMES)
    context = sample_variables(escalated=True, hostile=True, now=NOW, site=EXAMPLE_SITE)
    body = json.loads(templating.render(source, context, "json"))
    assert body["color"] == 15158332 and body["id"] == 0 and body["rule"] == 0


def test_escalation_variables_are_validated_like_the_others() -> None:
    samples = validation_samples(NOW)
    assert samples[2]["incident_escalated"] is True
    assert HOSTILE in samples[2]["incident_escalation_note"]
    with pytest.raises(templating.TemplateError, match="does not render valid JSON"):
        templating.validate('{"n": {{incident_escalation_note}}}', "json", samples, NAMES)
    # Escalation variables are empty in alerts: quoted, they are valid in both.
    templating.validate(
        '{"n": "{{incident_escalation_note}}", "id": "{{incident_id}}"}', "json", samples, NAMES
    )
    with pytest.raises(templating.TemplateError, match="a triggered alert"):
        templating.validate('{"id": {{incident_id}}}', "json", samples, NAMES)
    templating.validate(
        "{{#incident_escalated}}"
        '{"id": {{incident_id}}}'
        "{{/incident_escalated}}{{^incident_escalated}}{}{{/incident_escalated}}",
        "json",
        samples,
        NAMES,
    )
