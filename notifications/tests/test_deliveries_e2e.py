"""End to end with a real Celery worker and beat: a monitor checked by the real
engine goes DOWN, its rule's webhook trigger reaches a local receiver (signed,
with the delivery id), then RESOLVED does; and a worker killed (SIGKILL)
while the receiver holds its request loses nothing: after a restart the
delivery is sent, under the same ``X-Beacon-Delivery``."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading

import pytest
from django.utils import timezone

from monitors.tests.factories import make_monitor
from monitors.tests.servers import Reply, Request, serve_http
from monitors.tests.waiting import wait_for
from notifications.models import Delivery, DeliveryAttempt

from .trigger_helpers import make_rule, make_trigger

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def env_with(celery_env: dict[str, str], **values: str) -> dict[str, str]:
    return {**celery_env, **values}


def test_an_alert_reaches_the_webhook_and_so_does_its_resolution(start_celery, celery_env) -> None:
    target = {"up": True}
    got: list[Request] = []

    def health(_request: Request) -> Reply:
        return Reply(200, "ok") if target["up"] else Reply(503, "down")

    with serve_http({"/health": health, "/hook": Reply(200, "thanks")}, record=got) as base:
        monitor = make_monitor(
            "http",
            {"url": f"{base}/health"},
            name='Checkout "API"',
            tag="checkout",
            interval_seconds=10,
            timeout_seconds=5,
            now=timezone.now(),
        )
        hook = make_trigger("webhook", {"url": f"{base}/hook", "secret": "e2e-secret"})
        make_rule([monitor], [hook], failure=1, success=1)
        env = env_with(celery_env, BEACON_DELIVERY_BACKOFF_SECONDS="1")
        procs = [start_celery("worker", env=env), start_celery("beat", env=env)]
        wait_for(lambda: monitor.results.filter(status="UP").exists(), procs)
        target["up"] = False
        wait_for(lambda: Delivery.objects.filter(status="sent").exists(), procs, timeout=90)
        target["up"] = True
        wait_for(lambda: Delivery.objects.filter(status="sent").count() == 2, procs, timeout=90)
    hooks = [r for r in got if r.path == "/hook"]
    assert len(hooks) == 2
    first, second = (json.loads(r.body) for r in hooks)
    assert first["alert_status"] == "TRIGGERED" and first["is_triggered"] is True
    assert first["alert_name"] == 'Checkout "API" STATUS: DOWN'
    assert second["alert_status"] == "RESOLVED" and second["is_resolved"] is True
    deliveries = list(Delivery.objects.order_by("id"))
    for request, delivery in zip(hooks, deliveries, strict=True):
        assert request.headers["x-beacon-delivery"] == str(delivery.pk)
        stamp = request.headers["x-beacon-timestamp"]
        digest = hmac.new(b"e2e-secret", stamp.encode() + b"." + request.body, hashlib.sha256)
        assert request.headers["x-beacon-signature"] == f"sha256={digest.hexdigest()}"
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 1, 200)


def test_a_worker_killed_mid_delivery_loses_nothing(start_celery, celery_env) -> None:
    holding = threading.Event()
    release = threading.Event()
    got: list[Request] = []

    def hook(_request: Request) -> Reply:
        if not holding.is_set():
            holding.set()
            release.wait(60)  # hold the first request until its worker is dead
            return Reply(200, "too late")
        return Reply(200, "thanks")

    with serve_http({"/health": Reply(503, "down"), "/hook": hook}, record=got) as base:
        monitor = make_monitor(
            "http",
            {"url": f"{base}/health"},
            tag="kill",
            interval_seconds=10,
            timeout_seconds=5,
            now=timezone.now(),
        )
        make_rule([monitor], [make_trigger("webhook", {"url": f"{base}/hook"})], failure=1)
        # A short lease and timeout so the restarted worker takes the delivery up soon.
        env = env_with(
            celery_env,
            BEACON_DELIVERY_LEASE_SECONDS="2",
            BEACON_DELIVERY_TIMEOUT_SECONDS="4",
            BEACON_NOTIFY_REPLAN_AFTER_SECONDS="1",
        )
        worker = start_celery("worker", env=env)
        procs = [worker, start_celery("beat", env=env)]
        wait_for(holding.is_set, procs, timeout=90)
        worker.kill()  # SIGKILL while the receiver holds the request
        worker.wait(10)
        release.set()
        procs = [procs[1], start_celery("worker", env=env)]
        wait_for(lambda: Delivery.objects.filter(status="sent").exists(), procs, timeout=90)
    delivery = Delivery.objects.get()
    hooks = [r for r in got if r.path == "/hook"]
    assert len(hooks) >= 2
    assert {r.headers["x-beacon-delivery"] for r in hooks} == {str(delivery.pk)}
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert DeliveryAttempt.objects.get(delivery=delivery).response_body == "thanks"
