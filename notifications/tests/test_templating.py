"""Mustache templates: escaping per target format, the default template of every
kind with hostile text in every variable, and what a save rejects (pure: no
database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from notifications import templating
from notifications.notifiers import senders, trigger_kinds
from notifications.variables import (
    EXAMPLE_SITE,
    HOSTILE,
    NAMES,
    sample_variables,
    validation_samples,
)

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
NASTY = 'a "quoted" \\ back\nnew line\r\t</script><script>x()</script> <!channel> & ünï 🚨 {{x}}'


def hostile_everywhere(*, triggered: bool, incident: bool) -> dict:
    """Every text variable (ids included) carries quotes, newlines, markup, unicode."""
    values = sample_variables(triggered=triggered, incident=incident, now=NOW, site=EXAMPLE_SITE)
    return {k: (f"{v}{NASTY}" if isinstance(v, str) and v else v) for k, v in values.items()}


def test_json_escaping_keeps_any_value_one_valid_string() -> None:
    out = templating.render('{"m": "{{alert_message}}"}', {"alert_message": NASTY}, "json")
    assert json.loads(out) == {"m": NASTY}


def test_slack_escaping_also_neutralises_slack_control_characters() -> None:
    out = templating.render('{"t": "{{alert_name}}"}', {"alert_name": "<!channel> & <b>"}, "slack")
    assert json.loads(out) == {"t": "&lt;!channel&gt; &amp; &lt;b&gt;"}


def test_html_escaping_shows_markup_instead_of_running_it() -> None:
    out = templating.render("<p>{{alert_message}}</p>", {"alert_message": NASTY}, "html")
    assert "<script>" not in out
    assert "&lt;/script&gt;&lt;script&gt;x()&lt;/script&gt;" in out
    assert "&quot;quoted&quot;" in out


def test_text_is_not_escaped_and_line_is_one_line() -> None:
    assert templating.render("{{alert_message}}", {"alert_message": "<b>&"}, "text") == "<b>&"
    assert templating.render("{{a}}\n{{b}}", {"a": "x\ny", "b": "z"}, "line") == "x y z"


def test_booleans_render_as_json_literals_and_sections_follow_them() -> None:
    source = (
        '{"t": {{is_triggered}}, "r": {{is_resolved}}, "s": "{{#is_triggered}}on{{/is_triggered}}"}'
    )
    out = templating.render(source, {"is_triggered": True, "is_resolved": False}, "json")
    assert json.loads(out) == {"t": True, "r": False, "s": "on"}


def test_missing_variables_render_as_nothing() -> None:
    assert templating.render("[{{nothing}}]", {}, "text") == "[]"


@pytest.mark.parametrize("kind", ["webhook", "slack", "discord", "email", "apprise"])
@pytest.mark.parametrize("triggered", [True, False])
@pytest.mark.parametrize("incident", [True, False])
def test_default_templates_survive_hostile_text_in_every_variable(
    kind: str, triggered: bool, incident: bool
) -> None:
    assert kind in trigger_kinds()
    notifier = senders()[kind]
    context = hostile_everywhere(triggered=triggered, incident=incident)
    rendered = notifier.render({}, context)
    for spec in notifier.templates:
        out = rendered[spec.name]
        if spec.fmt in ("json", "slack"):
            json.loads(out)  # valid JSON whatever the values hold
        if spec.fmt == "html":
            assert "<script>" not in out and "</script>" not in out
        if spec.fmt == "line":
            assert "\n" not in out and "\r" not in out


def test_default_webhook_body_carries_every_kener_variable_exactly() -> None:
    context = hostile_everywhere(triggered=True, incident=True)
    body = json.loads(senders()["webhook"].render({}, context)["body"])
    kener = [n for n in NAMES if not n.startswith(("monitor_", "rule_", "incident_"))]
    assert sorted(body) == sorted(kener)
    for name in kener:
        assert body[name] == context[name], name  # the exact value, round-tripped
    assert body["is_triggered"] is True and body["alert_failure_threshold"] == 3


def test_default_webhook_body_has_null_incident_fields_without_an_incident() -> None:
    context = hostile_everywhere(triggered=False, incident=False)
    body = json.loads(senders()["webhook"].render({}, context)["body"])
    assert body["alert_incident_id"] is None and body["alert_incident_url"] is None
    assert body["is_resolved"] is True and body["is_triggered"] is False


def test_discord_default_is_red_when_triggered_and_green_when_resolved() -> None:
    discord = senders()["discord"]
    red = json.loads(discord.render({}, hostile_everywhere(triggered=True, incident=True))["body"])
    green = json.loads(
        discord.render({}, hostile_everywhere(triggered=False, incident=False))["body"]
    )
    assert red["embeds"][0]["color"] == 15158332
    assert green["embeds"][0]["color"] == 3066993
    assert red["allowed_mentions"] == {"parse": []}


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ('{"a": {{alert_name}}}', "does not render valid JSON"),
        ('{"a": "{{{alert_message}}}"}', "does not render valid JSON"),
        ('{"a": "{{& alert_message}}"}', "does not render valid JSON"),
        ('{"a": "x"', "does not render valid JSON"),
        ("{{#is_triggered}}x", "is never closed"),
        ("{{/is_triggered}}", "closes no open section"),
        ("{{#is_triggered}}{{/is_resolved}}", "closes the section {{#is_triggered}}"),
        ('{"a": "{{alert_nmae}}"}', "unknown variable {{alert_nmae}}"),
        ('{"a": "{{alert_name}"}', "never closed"),
        ("{{> header}}", "partials"),
        ("{{=<% %>=}}", "delimiters"),
        ('{"a": "{{}}"}', "empty tag"),
        ('{"a": "{{alert name}}"}', "not a variable name"),
        ("x" * (templating.MAX_TEMPLATE_CHARS + 1), "At most"),
        ("a\x00b", "NUL"),
    ],
)
def test_a_template_that_cannot_be_used_is_rejected_with_the_reason(
    source: str, reason: str
) -> None:
    with pytest.raises(templating.TemplateError) as caught:
        templating.validate(source, "json", validation_samples(NOW), NAMES)
    assert reason in str(caught.value)


def test_an_error_names_the_line() -> None:
    with pytest.raises(templating.TemplateError, match=r"^Line 3: unknown variable"):
        templating.validate('{\n"a": 1,\n"b": "{{oops}}"}', "json", validation_samples(NOW), NAMES)


def test_html_template_with_unescaped_value_is_rejected() -> None:
    with pytest.raises(templating.TemplateError, match="without HTML escaping"):
        templating.validate("<p>{{{alert_message}}}</p>", "html", validation_samples(NOW), NAMES)
    # Markup the admin wrote in the template itself is theirs to keep.
    templating.validate(
        "<script>track()</script><p>{{alert_message}}</p>", "html", validation_samples(NOW), NAMES
    )


def test_kener_style_unquoted_numbers_are_accepted() -> None:
    templating.validate(
        '{"id": {{alert_id}}, "f": {{alert_failure_threshold}}, "t": {{is_triggered}}}',
        "json",
        validation_samples(NOW),
        NAMES,
    )


def test_validation_samples_are_hostile_in_every_text_variable() -> None:
    triggered, resolved, escalated = validation_samples(NOW)
    assert HOSTILE in triggered["alert_name"] and HOSTILE in triggered["site_name"]
    assert HOSTILE in triggered["alert_incident_url"]
    assert resolved["alert_incident_url"] == "" and resolved["is_resolved"] is True
    assert escalated["incident_escalated"] is True
    assert HOSTILE in escalated["incident_escalation_note"]
