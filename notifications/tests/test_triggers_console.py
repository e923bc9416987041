"""Console pages of triggers and deliveries through Django's test client: the
trigger list and editor (inline errors, default templates shown, masked
secrets, "send test" against a real receiver), confirmed deletion, the rule
editor's trigger choice, the delivery list and detail with "retry now", for
every role."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from alerting.models import AlertRule
from monitors.tests.factories import make_monitor
from monitors.tests.servers import Reply, Request, serve_http
from notifications import planning, sending
from notifications.models import Delivery, Trigger
from notifications.notifiers.webhook import DEFAULT_BODY

from .trigger_helpers import T0, alerting_monitor, make_trigger, trigger_alert

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin(admin_user) -> Client:
    return client_for(admin_user)


def form_data(**extra: Any) -> dict[str, Any]:
    data = {
        "name": "Ops hook",
        "is_active": "on",
        "url": "https://example.test/hook",
        "method": "POST",
        "headers": "",
        "secret": "",
        "template_body": DEFAULT_BODY,
    }
    data.update(extra)
    return data


def test_empty_list_says_what_to_do(admin) -> None:
    page = admin.get("/console/triggers/").content.decode()
    assert "No triggers yet" in page and 'href="/console/triggers/new/"' in page


def test_choosing_a_kind_then_creating_with_inline_errors(admin) -> None:
    choose = admin.get("/console/triggers/new/").content.decode()
    for kind in ("webhook", "slack", "discord", "email", "apprise"):
        assert f'href="/console/triggers/new/{kind}/"' in choose
    assert admin.get("/console/triggers/new/pigeon/").status_code == 404

    page = admin.get("/console/triggers/new/webhook/").content.decode()
    assert html.escape(DEFAULT_BODY.strip()) in page  # the default, to edit

    response = admin.post(
        "/console/triggers/new/webhook/",
        form_data(url="ftp://example.test", template_body='{"a": {{alert_name}}}', headers="oops"),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-field="url"' in page and "Use an http:// or https:// URL." in page
    assert "Line 1: write Name: value." in page
    assert "does not render valid JSON" in page
    assert not Trigger.objects.exists()

    response = admin.post(
        "/console/triggers/new/webhook/",
        form_data(headers="Authorization: Bearer abc\nX-Team: ops", secret="s3cret"),
    )
    trigger = Trigger.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/console/triggers/{trigger.pk}/"
    )
    assert trigger.config == {
        "url": "https://example.test/hook",
        "method": "POST",
        "headers": {"Authorization": "Bearer abc", "X-Team": "ops"},
        "secret": "s3cret",
    }
    assert trigger.templates == {}  # the default is stored as nothing


def test_editor_masks_secrets_and_keeps_them_when_unchanged(admin) -> None:
    trigger = make_trigger(
        "webhook",
        {"url": "https://example.test/h", "secret": "s3cret", "headers": {"X-Api-Key": "k3y"}},
        templates={"body": '{"x": "{{alert_name}}"}'},
    )
    page = admin.get(f"/console/triggers/{trigger.pk}/edit/").content.decode()
    assert "s3cret" not in page and "k3y" not in page
    assert "X-Api-Key: ••••••••" in page
    assert html.escape('{"x": "{{alert_name}}"}') in page
    response = admin.post(
        f"/console/triggers/{trigger.pk}/edit/",
        form_data(
            name=trigger.name,
            url="https://example.test/h2",
            secret="••••••••",
            headers="X-Api-Key: ••••••••",
            template_body="",
        ),
    )
    assert response.status_code == 302
    trigger.refresh_from_db()
    assert trigger.config["secret"] == "s3cret"
    assert trigger.config["headers"] == {"X-Api-Key": "k3y"}
    assert trigger.config["url"] == "https://example.test/h2"
    assert trigger.templates == {}  # emptied: back to the default


def test_every_kind_has_an_editor(admin) -> None:
    cases = {
        "slack": {"url": "https://hooks.slack.test/services/x", "template_body": ""},
        "discord": {"url": "https://discord.test/api/webhooks/1/t", "template_body": ""},
        "email": {
            "recipients": "a@example.test\nb@example.test",
            "template_subject": "",
            "template_html": "",
            "template_text": "",
        },
        "apprise": {"urls": "ntfy://ntfy.sh/topic", "template_title": "", "template_body": ""},
    }
    for kind, fields in cases.items():
        assert admin.get(f"/console/triggers/new/{kind}/").status_code == 200
        response = admin.post(f"/console/triggers/new/{kind}/", {"name": kind, **fields})
        assert response.status_code == 302, (kind, response.content.decode()[:3000])
    assert Trigger.objects.get(kind="email").config == {
        "recipients": ["a@example.test", "b@example.test"]
    }
    assert Trigger.objects.get(kind="apprise").config == {"urls": ["ntfy://ntfy.sh/topic"]}
    page = admin.get("/console/triggers/").content.decode()
    assert page.count('data-trigger="') == 4
    assert "Slack https://hooks.slack.test/••••••••" in page


def test_send_test_shows_the_receivers_status_and_body(admin) -> None:
    got: list[Request] = []
    with serve_http({"/h": Reply(201, "<b>created</b>")}, record=got) as base:
        trigger = make_trigger("webhook", {"url": f"{base}/h"})
        response = admin.post(f"/console/triggers/{trigger.pk}/test/", HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<strong data-status-code>201</strong>" in page
    assert "&lt;b&gt;created&lt;/b&gt;" in page  # the body is shown, not rendered
    delivery = Delivery.objects.get()
    assert f"/console/deliveries/{delivery.pk}/" in page
    assert len(got) == 1


def test_send_test_without_htmx_redirects_to_the_delivery(admin) -> None:
    trigger = make_trigger("webhook", {"url": "http://127.0.0.1:9/h"})
    response = admin.post(f"/console/triggers/{trigger.pk}/test/")
    delivery = Delivery.objects.get()
    assert response["Location"] == f"/console/deliveries/{delivery.pk}/"
    assert delivery.status == "failed"


def test_delete_is_confirmed(admin) -> None:
    trigger = make_trigger("webhook", name="<script>x</script>")
    page = admin.get(f"/console/triggers/{trigger.pk}/delete/").content.decode()
    assert "Delete trigger" in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert Trigger.objects.exists()
    assert admin.post(f"/console/triggers/{trigger.pk}/delete/").status_code == 302
    assert not Trigger.objects.exists()


def test_viewers_read_but_cannot_change(viewer_user) -> None:
    trigger = make_trigger("webhook", {"url": "https://example.test/h", "secret": "s3cret"})
    viewer = client_for(viewer_user)
    assert viewer.get("/console/triggers/").status_code == 200
    detail = viewer.get(f"/console/triggers/{trigger.pk}/")
    assert detail.status_code == 200 and "s3cret" not in detail.content.decode()
    assert "Send test" not in detail.content.decode()
    for url in ("new/", "new/webhook/", f"{trigger.pk}/edit/", f"{trigger.pk}/delete/"):
        assert viewer.get(f"/console/triggers/{url}").status_code == 403
    assert viewer.post(f"/console/triggers/{trigger.pk}/test/").status_code == 403
    assert Client().get("/console/triggers/").status_code == 302  # sign in first


def test_the_rule_editor_selects_triggers(admin) -> None:
    monitor = make_monitor(name="Payment API", tag="pay")
    hook = make_trigger("webhook", name="Ops hook")
    other = make_trigger("webhook", name="Other")
    page = admin.get("/console/alerts/rules/new/").content.decode()
    assert "Ops hook" in page and "Other" in page
    response = admin.post(
        "/console/alerts/rules/new/",
        {
            "monitors": [monitor.pk],
            "kind": "STATUS",
            "value": "DOWN",
            "failure_threshold": "2",
            "success_threshold": "1",
            "severity": "CRITICAL",
            "is_active": "on",
            "triggers": [hook.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = AlertRule.objects.get()
    assert list(rule.triggers.all()) == [hook]
    edit = admin.get(f"/console/alerts/rules/{rule.pk}/edit/").content.decode()
    boxes = dict(re.findall(r'<input type="checkbox" name="triggers" value="(\d+)"([^>]*)>', edit))
    assert "checked" in boxes[str(hook.pk)] and "checked" not in boxes[str(other.pk)]
    assert other.rules.count() == 0


def test_delivery_list_detail_and_retry(admin, operator_user, viewer_user) -> None:
    with serve_http({"/bad": Reply(400, "bad <input>")}) as base:
        trigger = make_trigger("webhook", {"url": f"{base}/bad"}, name="Bad hook")
        monitor, _ = alerting_monitor([trigger])
        notification = trigger_alert(monitor)
        planning.plan(notification.pk, T0)
        sending.send_due(T0, 10)
    delivery = Delivery.objects.get()
    listing = admin.get("/console/deliveries/?status=failed").content.decode()
    assert f'data-delivery="{delivery.pk}"' in listing and "Bad hook" in listing
    assert 'data-delivery="' not in admin.get("/console/deliveries/?status=sent").content.decode()
    assert admin.get("/console/deliveries/?status=bogus&trigger=abc").status_code == 200
    by_trigger = admin.get(f"/console/deliveries/?trigger={trigger.pk}&event=alert.triggered")
    assert f'data-delivery="{delivery.pk}"' in by_trigger.content.decode()

    viewer = client_for(viewer_user)
    detail = viewer.get(f"/console/deliveries/{delivery.pk}/").content.decode()
    assert 'data-try="1"' in detail and "bad &lt;input&gt;" in detail
    assert "Retry now" not in detail
    assert viewer.post(f"/console/deliveries/{delivery.pk}/retry/").status_code == 403

    operator = client_for(operator_user)
    assert "Retry now" in operator.get(f"/console/deliveries/{delivery.pk}/").content.decode()
    response = operator.post(f"/console/deliveries/{delivery.pk}/retry/", follow=True)
    assert "Queued: the delivery is sent again now." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "pending"


def test_nav_links(admin) -> None:
    page = admin.get("/console/deliveries/").content.decode()
    assert '<a href="/console/triggers/">Triggers</a>' in page
    assert '<a href="/console/deliveries/" aria-current="page">Deliveries</a>' in page
    assert "Nothing sent yet." in page
