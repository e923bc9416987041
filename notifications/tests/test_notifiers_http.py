"""Webhook, Slack and Discord triggers against real local HTTP receivers: the
exact payloads, the signature, the delivery header and how answers are judged.

Alerts are raised through the real recording path; deliveries are planned and
sent by the real engine (``planning.plan``, ``sending.send_due``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from monitors.tests.servers import Reply, Request, closed_port, serve_http
from notifications import planning, sending
from notifications.models import Delivery

from .trigger_helpers import T0, alerting_monitor, make_trigger, record, trigger_alert

pytestmark = pytest.mark.django_db

NAME = 'Pay "API" <b>\\ünï</b>'


def deliver(monitor: Any, status: str = "DOWN", at: Any = T0) -> Delivery:
    """Raise (or resolve) the alert, plan and send; the one delivery."""
    if status == "DOWN":
        notification = trigger_alert(monitor, at)
    else:
        record(monitor, status, at)
        from notifications.models import Notification

        notification = Notification.objects.filter(event="alert.resolved").latest("id")
    planning.plan(notification.pk, at)
    sending.send_due(at, 10, notification_id=notification.pk)
    return Delivery.objects.get(notification=notification)


def test_webhook_sends_the_exact_body_signed_with_the_delivery_id() -> None:
    got: list[Request] = []
    with serve_http({"/hook": Reply(202, "accepted")}, record=got) as base:
        trigger = make_trigger(
            "webhook",
            {
                "url": f"{base}/hook?x=1",
                "method": "PUT",
                "headers": {"Authorization": "Bearer t0ken", "X-Team": "ops"},
                "secret": "s3cret",
            },
        )
        monitor, _rule = alerting_monitor([trigger], name=NAME, description='Line 1\n"two"')
        before = int(time.time())
        delivery = deliver(monitor)
    assert len(got) == 1
    request = got[0]
    assert (request.method, request.path, request.query) == ("PUT", "/hook", "x=1")
    assert request.headers["x-beacon-delivery"] == str(delivery.pk)
    assert request.headers["authorization"] == "Bearer t0ken"
    assert request.headers["x-team"] == "ops"
    assert request.headers["content-type"] == "application/json"
    timestamp = request.headers["x-beacon-timestamp"]
    assert before <= int(timestamp) <= int(time.time())
    expected = hmac.new(b"s3cret", timestamp.encode() + b"." + request.body, hashlib.sha256)
    assert request.headers["x-beacon-signature"] == "sha256=" + expected.hexdigest()

    context = delivery.notification.context
    incident_url = context["alert_incident_url"]
    assert incident_url.endswith(f"/incidents/{context['incident_key']}")
    assert json.loads(request.body) == {
        "alert_id": context["alert_id"],
        "alert_name": f"{NAME} STATUS: DOWN",
        "alert_for": "STATUS",
        "alert_value": "DOWN",
        "alert_status": "TRIGGERED",
        "alert_severity": "CRITICAL",
        "alert_message": 'Line 1\n"two"',
        "alert_source": "ALERT",
        "alert_timestamp": "2026-05-04T12:00:00Z",
        "alert_cta_url": incident_url,
        "alert_cta_text": "View incident",
        "alert_incident_id": context["alert_incident_id"],
        "alert_incident_url": incident_url,
        "alert_failure_threshold": 1,
        "alert_success_threshold": 1,
        "is_resolved": False,
        "is_triggered": True,
        "site_url": "http://127.0.0.1:8000",
        "site_name": "Beacon",
        "site_logo_url": "",
        "colors_up": "#16a34a",
        "colors_down": "#dc2626",
        "colors_degraded": "#d97706",
        "colors_maintenance": "#2563eb",
    }
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 1, 202)
    attempt = delivery.tries.get()
    assert (attempt.number, attempt.outcome, attempt.response_body) == (1, "sent", "accepted")
    assert attempt.duration_ms > 0 and delivery.last_duration_ms == attempt.duration_ms


def test_webhook_without_secret_is_unsigned_and_custom_template_is_used() -> None:
    got: list[Request] = []
    with serve_http({"/hook": Reply(200, "ok")}, record=got) as base:
        trigger = make_trigger(
            "webhook",
            {"url": f"{base}/hook"},
            templates={"body": '{"text": "{{alert_name}} is {{alert_status}}"}'},
        )
        monitor, _ = alerting_monitor([trigger], name=NAME)
        deliver(monitor)
    assert "x-beacon-signature" not in got[0].headers
    assert json.loads(got[0].body) == {"text": f"{NAME} STATUS: DOWN is TRIGGERED"}


def test_a_get_webhook_sends_no_body() -> None:
    got: list[Request] = []
    with serve_http({"/hook": Reply(200, "ok")}, record=got) as base:
        trigger = make_trigger("webhook", {"url": f"{base}/hook", "method": "GET", "secret": "k"})
        monitor, _ = alerting_monitor([trigger])
        deliver(monitor)
    request = got[0]
    assert (request.method, request.body) == ("GET", b"")
    timestamp = request.headers["x-beacon-timestamp"]
    digest = hmac.new(b"k", f"{timestamp}.".encode(), hashlib.sha256).hexdigest()
    assert request.headers["x-beacon-signature"] == f"sha256={digest}"


def test_slack_gets_the_exact_block_kit_message() -> None:
    got: list[Request] = []
    with serve_http({"/services/T1/B2/x": Reply(200, "ok")}, record=got) as base:
        trigger = make_trigger("slack", {"url": f"{base}/services/T1/B2/x"})
        monitor, _ = alerting_monitor([trigger], name="<!channel> & co", severity="WARNING")
        delivery = deliver(monitor)
    context = delivery.notification.context
    url, key = context["alert_incident_url"], context["incident_key"]
    name = "&lt;!channel&gt; &amp; co STATUS: DOWN"
    assert got[0].headers["x-beacon-delivery"] == str(delivery.pk)
    assert json.loads(got[0].body) == {
        "text": f"Alert triggered: {name}",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "🚨 Alert triggered", "emoji": True},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{name}*"}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Status:*\nTRIGGERED"},
                    {"type": "mrkdwn", "text": "*Severity:*\nWARNING"},
                    {"type": "mrkdwn", "text": "*Alert type:*\nSTATUS"},
                    {"type": "mrkdwn", "text": "*Alert value:*\nDOWN"},
                    {"type": "mrkdwn", "text": "*Failure threshold:*\n1"},
                    {"type": "mrkdwn", "text": "*Success threshold:*\n1"},
                ],
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*Message:*\n{name} triggered after 1 failing check.",
                },
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "*Time:* 2026-05-04T12:00:00Z"},
                    {"type": "mrkdwn", "text": f"*Alert ID:* {context['alert_id']}"},
                    {"type": "mrkdwn", "text": f"*Incident:* <{url}|{key}>"},
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "View incident", "emoji": True},
                        "url": url,
                        "style": "danger",
                    }
                ],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Sent by *Beacon*"}]},
        ],
    }


def test_discord_gets_the_exact_embed_red_then_green() -> None:
    got: list[Request] = []
    with serve_http({"/api/webhooks/1/tok": Reply(204, "")}, record=got) as base:
        trigger = make_trigger("discord", {"url": f"{base}/api/webhooks/1/tok"})
        monitor, _rule = alerting_monitor([trigger], name="@everyone's API")
        triggered = deliver(monitor)
        resolved = deliver(monitor, "UP", T0.replace(minute=5))
    assert len(got) == 2
    context = triggered.notification.context
    url, key = context["alert_incident_url"], context["incident_key"]

    def embed(status: str, colour: int, message: str, incident: bool) -> dict:
        fields = [
            {"name": "Status", "value": status, "inline": True},
            {"name": "Severity", "value": "CRITICAL", "inline": True},
            {"name": "Alert type", "value": "STATUS", "inline": True},
            {"name": "Alert value", "value": "DOWN", "inline": True},
            {"name": "Failure threshold", "value": "1", "inline": True},
            {"name": "Success threshold", "value": "1", "inline": True},
            {"name": "Message", "value": message, "inline": False},
        ]
        if incident:
            fields.append({"name": "Incident", "value": f"[{key}]({url})", "inline": False})
        return {
            "title": "@everyone's API STATUS: DOWN",
            "url": url,
            "color": colour,
            "fields": fields,
        }

    first = json.loads(got[0].body)
    assert first == {
        "username": "Beacon",
        "content": "🚨 **Alert triggered**",
        "allowed_mentions": {"parse": []},
        "embeds": [
            {
                **embed(
                    "TRIGGERED",
                    15158332,
                    "@everyone's API STATUS: DOWN triggered after 1 failing check.",
                    True,
                ),
                "footer": {"text": f"Beacon · alert {context['alert_id']}"},
                "timestamp": "2026-05-04T12:00:00Z",
            }
        ],
    }
    second = json.loads(got[1].body)
    assert second["content"] == "✅ **Alert resolved**"
    assert second["embeds"][0]["color"] == 3066993
    assert second["embeds"][0]["fields"][0] == {
        "name": "Status",
        "value": "RESOLVED",
        "inline": True,
    }
    assert second["embeds"][0]["timestamp"] == "2026-05-04T12:05:00Z"
    assert got[1].headers["x-beacon-delivery"] == str(resolved.pk) != str(triggered.pk)
    assert resolved.status == triggered.status == "sent"
    assert resolved.last_status_code == 204


@pytest.mark.parametrize(
    ("reply", "status", "transient"),
    [
        (Reply(500, "boom"), "retrying", True),
        (Reply(503, "busy", {"Retry-After": "7"}), "retrying", True),
        (Reply(429, "slow down", {"Retry-After": "120"}), "retrying", True),
        (Reply(400, "bad"), "failed", False),
        (Reply(404, "gone"), "failed", False),
        (Reply(301, "", {"Location": "http://127.0.0.1:9/"}), "failed", False),
    ],
)
def test_answers_are_judged(reply: Reply, status: str, transient: bool) -> None:
    with serve_http({"/hook": reply}) as base:
        trigger = make_trigger("webhook", {"url": f"{base}/hook"})
        monitor, _ = alerting_monitor([trigger])
        delivery = deliver(monitor)
    assert delivery.status == status
    assert delivery.last_status_code == reply.status
    assert delivery.last_error.startswith(f"HTTP {reply.status}")
    assert delivery.tries.get().response_body == reply.body


def test_connection_refused_is_transient() -> None:
    trigger = make_trigger("webhook", {"url": f"http://127.0.0.1:{closed_port()}/hook"})
    monitor, _ = alerting_monitor([trigger])
    delivery = deliver(monitor)
    assert delivery.status == "retrying" and delivery.last_status_code is None
    assert "Connect" in delivery.last_error


def test_a_huge_answer_is_cut_to_2_kb() -> None:
    with serve_http({"/hook": Reply(500, "é" * 5000)}) as base:
        trigger = make_trigger("webhook", {"url": f"{base}/hook"})
        monitor, _ = alerting_monitor([trigger])
        delivery = deliver(monitor)
    body = delivery.tries.get().response_body
    assert 1000 <= len(body) <= 2048
