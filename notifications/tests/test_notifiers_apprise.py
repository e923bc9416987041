"""Apprise triggers: real Apprise sends to a local receiver (its ``json://``
service), failures are transient, URLs are validated by Apprise and masked."""

from __future__ import annotations

import json

import pytest

from monitors.tests.servers import Reply, Request, serve_http
from notifications import planning, sending, trigger_services
from notifications.models import Delivery

from .trigger_helpers import T0, alerting_monitor, make_trigger, trigger_alert

pytestmark = pytest.mark.django_db


def send_alert(trigger) -> Delivery:
    monitor, _ = alerting_monitor([trigger], name='Queue "worker"\nünï')
    notification = trigger_alert(monitor)
    planning.plan(notification.pk, T0)
    sending.send_due(T0, 10, notification_id=notification.pk)
    return Delivery.objects.get(notification=notification)


def test_apprise_delivers_title_and_body_through_the_service(settings) -> None:
    got: list[Request] = []
    with serve_http({"/notify": Reply(200, "ok")}, record=got) as base:
        url = base.replace("http://", "json://") + "/notify"
        trigger = make_trigger("apprise", {"urls": [url]})
        delivery = send_alert(trigger)
    assert delivery.status == "sent", delivery.last_error
    payload = json.loads(got[0].body)
    assert payload["title"] == '🚨 Triggered: Queue "worker" ünï STATUS: DOWN'
    assert payload["message"].startswith('Queue "worker"\nünï STATUS: DOWN triggered after 1')
    assert delivery.tries.get().response_body == "1 service(s) notified"


def test_a_failing_apprise_service_is_retried() -> None:
    with serve_http({"/notify": Reply(500, "boom")}) as base:
        trigger = make_trigger(
            "apprise", {"urls": [base.replace("http://", "json://") + "/notify"]}
        )
        delivery = send_alert(trigger)
    assert delivery.status == "retrying"
    assert delivery.last_error


@pytest.mark.parametrize(
    ("urls", "message"),
    [
        (["bogus://x"], "not a URL Apprise understands"),
        (["file:///etc/passwd"], "not a URL Apprise understands"),
        ([], "Ensure this field has at least 1 elements."),
        (["ntfy://ntfy.sh/a"] * 2, "listed twice"),
        (["ntfy://ntfy.sh/a"] * 11, "no more than 10"),
        ("ntfy://ntfy.sh/a", "Must be a list"),
        ([7], "Must be a string"),
    ],
)
def test_apprise_urls_are_validated(urls, message) -> None:
    with pytest.raises(trigger_services.TriggerInvalid) as caught:
        make_trigger("apprise", {"urls": urls})
    assert message in json.dumps(caught.value.errors["config"]["urls"], ensure_ascii=False)


def test_apprise_urls_are_masked_and_kept_when_sent_back_masked() -> None:
    trigger = make_trigger(
        "apprise", {"urls": ["tgram://123456789:abcdefg_hijklmnop/12315544/", "ntfy://ntfy.sh/t"]}
    )
    masked = trigger_services.notifier("apprise").mask_config(trigger.config)
    assert masked == {"urls": ["tgram://••••••••", "ntfy://••••••••"]}
    assert "abcdefg" not in trigger_services.notifier("apprise").target_text(trigger.config)
    trigger = trigger_services.update_trigger(
        trigger, {"config": {"urls": [masked["urls"][0], "gotify://h/token"]}}, now=T0
    )
    assert trigger.config["urls"] == [
        "tgram://123456789:abcdefg_hijklmnop/12315544/",
        "gotify://h/token",
    ]
