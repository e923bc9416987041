"""The sending engine against real local receivers: retries with backoff on
500, timeouts and 429 (Retry-After honoured), no retry on 400, the same
``X-Beacon-Delivery`` on every try, leases that survive a crashed worker,
fencing of a worker that lost its lease, parallel senders that never double
a delivery, and "retry now"."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from monitors.tests.servers import Reply, Request, serve_http
from notifications import planning, sending
from notifications.models import Delivery, DeliveryStatus, Notification
from statuspage.models import AuditEntry

from .trigger_helpers import T0, alerting_monitor, make_trigger, trigger_alert

pytestmark = pytest.mark.django_db

SEC = timedelta(seconds=1)


def fixed(at):
    return lambda: at


def planned_delivery(url: str, **trigger_kw) -> Delivery:
    trigger = make_trigger("webhook", {"url": url}, **trigger_kw)
    monitor, _ = alerting_monitor([trigger])
    notification = trigger_alert(monitor)
    planning.plan(notification.pk, T0)
    return Delivery.objects.get(notification=notification)


def send(at) -> sending.Report:
    return sending.send_due(at, 100, clock=fixed(at))


def test_500s_are_retried_with_backoff_until_sent_with_one_delivery_id(settings) -> None:
    settings.BEACON_DELIVERY_BACKOFF_SECONDS = 30
    answers = iter([Reply(500, "a"), Reply(502, "b"), Reply(200, "ok")])
    got: list[Request] = []
    with serve_http({"/hook": lambda _r: next(answers)}, record=got) as base:
        delivery = planned_delivery(f"{base}/hook")
        assert send(T0).retrying == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("retrying", 1)
        assert delivery.next_attempt_at == T0 + 30 * SEC
        assert send(T0 + 29 * SEC).claimed == 0  # not due yet
        send(T0 + 30 * SEC)
        delivery.refresh_from_db()
        assert delivery.next_attempt_at == T0 + 90 * SEC  # 30 s, then 60 s
        assert send(T0 + 90 * SEC).sent == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 3, 200)
    assert delivery.sent_at == T0 + 90 * SEC and delivery.next_attempt_at is None
    assert {r.headers["x-beacon-delivery"] for r in got} == {str(delivery.pk)}
    assert len(got) == 3
    tries = list(delivery.tries.values_list("number", "outcome", "status_code", "started_at"))
    assert tries == [
        (1, "retrying", 500, T0),
        (2, "retrying", 502, T0 + 30 * SEC),
        (3, "sent", 200, T0 + 90 * SEC),
    ]


def test_a_timeout_is_retried(settings) -> None:
    settings.BEACON_DELIVERY_TIMEOUT_SECONDS = 0.5
    with serve_http({"/slow": Reply(200, "late", delay=5)}) as base:
        delivery = planned_delivery(f"{base}/slow")
        send(T0)
    delivery.refresh_from_db()
    assert delivery.status == "retrying"
    assert delivery.last_error == "timed out after 0.5 s"
    assert 400 <= delivery.last_duration_ms < 3000


def test_429_retry_after_is_honoured(settings) -> None:
    settings.BEACON_DELIVERY_BACKOFF_SECONDS = 30
    with serve_http({"/hook": Reply(429, "", {"Retry-After": "600"})}) as base:
        delivery = planned_delivery(f"{base}/hook")
        send(T0)
    delivery.refresh_from_db()
    assert delivery.status == "retrying" and delivery.last_status_code == 429
    assert delivery.next_attempt_at == T0 + 600 * SEC


def test_400_is_not_retried() -> None:
    got: list[Request] = []
    with serve_http({"/hook": Reply(400, "no such channel")}, record=got) as base:
        delivery = planned_delivery(f"{base}/hook")
        send(T0)
        assert send(T0 + timedelta(days=1)).claimed == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 1, None)
    assert len(got) == 1
    assert delivery.tries.get().response_body == "no such channel"


def test_transient_failures_give_up_after_the_maximum(settings) -> None:
    settings.BEACON_DELIVERY_MAX_ATTEMPTS = 3
    settings.BEACON_DELIVERY_BACKOFF_SECONDS = 1
    got: list[Request] = []
    with serve_http({"/hook": Reply(503, "down")}, record=got) as base:
        delivery = planned_delivery(f"{base}/hook")
        at = T0
        for _ in range(5):
            send(at)
            at += timedelta(hours=1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert len(got) == 3
    assert list(delivery.tries.values_list("outcome", flat=True)) == [
        "retrying",
        "retrying",
        "failed",
    ]


def test_a_crashed_worker_leaves_the_delivery_to_be_claimed_after_its_lease(settings) -> None:
    settings.BEACON_DELIVERY_LEASE_SECONDS = 60
    got: list[Request] = []
    with serve_http({"/hook": Reply(200, "ok")}, record=got) as base:
        delivery = planned_delivery(f"{base}/hook")
        ids, _lease = sending.claim(T0, 10)  # the worker claims, then dies before sending
        assert ids == [delivery.pk]
        assert send(T0 + 59 * SEC).claimed == 0  # still leased: nobody else takes it
        report = send(T0 + 61 * SEC)
    assert report.sent == 1 and len(got) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.claimed_until) == ("sent", 1, None)


def test_a_worker_that_lost_its_lease_neither_sends_nor_records(settings) -> None:
    settings.BEACON_DELIVERY_LEASE_SECONDS = 60
    got: list[Request] = []
    with serve_http({"/hook": Reply(200, "ok")}, record=got) as base:
        delivery = planned_delivery(f"{base}/hook")
        ids, stale = sending.claim(T0, 10)
        assert send(T0 + 61 * SEC).sent == 1  # the lease expired: another worker sent it
        late = sending.send_claimed(ids, stale, fixed(T0 + 62 * SEC))
    assert late.claimed == 1 and late.sent == 0 and late.lost == 1
    assert len(got) == 1
    assert Delivery.objects.get(pk=delivery.pk).tries.count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_senders_send_each_delivery_once(settings) -> None:
    settings.BEACON_DELIVERY_LEASE_SECONDS = 300
    got: list[Request] = []
    with serve_http({"/hook": Reply(200, "ok")}, record=got) as base:
        triggers = [make_trigger("webhook", {"url": f"{base}/hook"}) for _ in range(30)]
        monitor, _ = alerting_monitor(triggers)
        notification = trigger_alert(monitor)
        planning.plan(notification.pk, T0)
        start = threading.Barrier(3)
        reports: list[sending.Report] = []

        def worker() -> None:
            start.wait()
            try:
                reports.append(sending.send_due(T0, 7))
                reports.append(sending.send_due(T0, 7))
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        sending.send_due(T0, 100)  # whatever the threads left
    per_delivery = Counter(r.headers["x-beacon-delivery"] for r in got)
    assert len(per_delivery) == 30 and set(per_delivery.values()) == {1}
    assert Delivery.objects.filter(status="sent", attempts=1).count() == 30


def test_retry_now_makes_a_failed_delivery_due_and_is_audited(admin_user) -> None:
    answers = iter([Reply(400, "bad"), Reply(200, "fixed")])
    got: list[Request] = []
    with serve_http({"/hook": lambda _r: next(answers)}, record=got) as base:
        delivery = planned_delivery(f"{base}/hook")
        send(T0)
        delivery.refresh_from_db()
        assert delivery.status == "failed"
        sending.retry_now(delivery, now=T0 + 5 * SEC, actor=admin_user)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.next_attempt_at) == ("pending", T0 + 5 * SEC)
        send(T0 + 5 * SEC)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert got[0].headers["x-beacon-delivery"] == got[1].headers["x-beacon-delivery"]
    entry = AuditEntry.objects.get(action="retried")
    assert entry.object_id == str(delivery.pk) and entry.actor == admin_user
    with pytest.raises(sending.DeliveryError, match="was sent"):
        sending.retry_now(delivery, now=T0 + 9 * SEC)


def test_retry_now_refuses_a_delivery_being_sent() -> None:
    delivery = planned_delivery("http://127.0.0.1:9/hook")
    sending.claim(T0, 10)
    with pytest.raises(sending.DeliveryError, match="being sent"):
        sending.retry_now(delivery, now=T0 + SEC)
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PENDING


def test_a_delivery_of_an_unknown_channel_is_retried_then_failed(settings) -> None:
    settings.BEACON_DELIVERY_MAX_ATTEMPTS = 2
    notification = Notification.objects.create(event="incident.created", created_at=T0)
    delivery = Delivery.objects.create(
        notification=notification,
        channel="pigeon",
        target="a pigeon",
        next_attempt_at=T0,
        created_at=T0,
    )
    send(T0)
    send(T0 + timedelta(hours=2))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert "No sender for the channel 'pigeon'" in delivery.last_error


def test_count_due_and_drain(settings) -> None:
    settings.BEACON_DELIVERY_BATCH_SIZE = 2
    with serve_http({"/hook": Reply(200, "ok")}) as base:
        triggers = [make_trigger("webhook", {"url": f"{base}/hook"}) for _ in range(5)]
        monitor, _ = alerting_monitor(triggers)
        notification = trigger_alert(monitor)
        planning.plan(notification.pk, T0)
        assert sending.count_due(T0, 100) == 5
        assert sending.count_due(T0, 3) == 3
        report = sending.drain(fixed(T0), 2, budget_seconds=30)
    assert report.sent == 5
    assert sending.count_due(T0, 100) == 0
