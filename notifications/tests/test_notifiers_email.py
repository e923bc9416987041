"""Email triggers through a real local SMTP server (aiosmtpd): both parts,
escaping in each, one connection for a whole batch, and how SMTP replies are
judged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifications import planning, sending
from notifications.models import Delivery

from .smtp import Mailbox, smtp_server
from .trigger_helpers import T0, alerting_monitor, make_trigger, trigger_alert

pytestmark = pytest.mark.django_db

NAME = 'Mail "API" </script><script>alert(1)</script> ünï'


@pytest.fixture
def mailbox(settings) -> Iterator[Mailbox]:
    with smtp_server() as box:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = box.host
        settings.EMAIL_PORT = box.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.DEFAULT_FROM_EMAIL = "Beacon <beacon@example.test>"
        yield box


def raise_and_send(triggers: list, name: str = NAME) -> list[Delivery]:
    monitor, _ = alerting_monitor(triggers, name=name)
    notification = trigger_alert(monitor)
    planning.plan(notification.pk, T0)
    sending.send_due(T0, 100, notification_id=notification.pk)
    return list(Delivery.objects.filter(notification=notification).order_by("id"))


def test_email_has_text_and_html_parts_with_values_escaped(mailbox: Mailbox) -> None:
    trigger = make_trigger("email", {"recipients": ["oncall@example.test", "boss@example.test"]})
    [delivery] = raise_and_send([trigger])
    [mail] = mailbox.wait_for(1)
    assert sorted(mail.rcpt_tos) == ["boss@example.test", "oncall@example.test"]
    message = mail.message
    assert message["Subject"].strip() == f"[CRITICAL] Triggered: {NAME} STATUS: DOWN"
    assert message["From"] == "Beacon <beacon@example.test>"
    assert message["X-Beacon-Delivery"] == str(delivery.pk)
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"ALERT TRIGGERED: {NAME} STATUS: DOWN" in text  # plain text: as written
    context = delivery.notification.context
    assert context["alert_incident_url"] in text
    assert "<script>" not in html
    assert "Mail &quot;API&quot; &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; ünï" in html
    assert f'href="{context["alert_incident_url"]}"' in html
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert delivery.tries.get().response_body.startswith("accepted by 127.0.0.1:")


def test_a_batch_of_email_triggers_uses_one_smtp_connection(mailbox: Mailbox) -> None:
    triggers = [make_trigger("email", {"recipients": [f"team{i}@example.test"]}) for i in range(6)]
    deliveries = raise_and_send(triggers)
    mailbox.wait_for(6)
    assert mailbox.connections == 1
    assert [d.status for d in deliveries] == ["sent"] * 6
    assert sorted(m.rcpt_tos[0] for m in mailbox.messages) == sorted(
        f"team{i}@example.test" for i in range(6)
    )


def test_a_refused_recipient_fails_that_delivery_only(mailbox: Mailbox) -> None:
    mailbox.reject_rcpt.add("nobody@example.test")
    bad = make_trigger("email", {"recipients": ["nobody@example.test"]}, name="bad")
    good = make_trigger("email", {"recipients": ["ok@example.test"]}, name="good")
    deliveries = {d.trigger.name: d for d in raise_and_send([bad, good])}
    mailbox.wait_for(1)
    assert deliveries["bad"].status == "failed"  # 550: permanent, no retry
    assert deliveries["bad"].last_status_code == 550
    assert "no such user" in deliveries["bad"].last_error
    assert deliveries["good"].status == "sent"
    assert mailbox.connections == 1


def test_an_unreachable_smtp_server_is_transient(settings) -> None:
    from monitors.tests.servers import closed_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    trigger = make_trigger("email", {"recipients": ["a@example.test"]})
    [delivery] = raise_and_send([trigger])
    assert delivery.status == "retrying"
    assert "SMTP" in delivery.last_error


def test_custom_email_templates(mailbox: Mailbox) -> None:
    trigger = make_trigger(
        "email",
        {"recipients": ["a@example.test"]},
        templates={
            "subject": "{{site_name}}:\n{{alert_status}}",
            "text": "T {{alert_name}}",
            "html": "<b>{{alert_name}}</b>",
        },
    )
    raise_and_send([trigger], name="A<b>")
    [mail] = mailbox.wait_for(1)
    assert mail.message["Subject"] == "Beacon: TRIGGERED"
    assert mail.message.get_body(("plain",)).get_content().strip() == "T A<b> STATUS: DOWN"
    html = mail.message.get_body(("html",)).get_content().strip()
    assert html == "<b>A&lt;b&gt; STATUS: DOWN</b>"
