"""/healthz reports database, broker and scheduler, and answers 503 when one is down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from monitors.models import SchedulerTick
from monitors.tasks import DISPATCH_TICK, dispatch_due_checks
from statuspage.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken_broker() -> Iterator[None]:
    """Point the Celery app at a port where nothing listens."""
    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        yield
    finally:
        app.conf.broker_url = saved


def test_no_tick_yet_is_503_naming_the_scheduler(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["scheduler"] == {
        "ok": False,
        "error": "no scheduler tick recorded yet",
        "last_tick_at": None,
    }


def test_a_recent_tick_makes_it_healthy(client: Client) -> None:
    dispatch_due_checks()  # what beat sends every tick
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert body["scheduler"]["ok"] and body["broker"]["ok"]
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_stale_tick_is_503(client: Client, settings) -> None:
    SchedulerTick.objects.create(
        name=DISPATCH_TICK,
        last_at=timezone.now() - timedelta(seconds=settings.BEACON_SCHEDULER_STALE_SECONDS + 5),
    )
    body = client.get("/healthz").json()
    assert body["scheduler"]["ok"] is False
    assert "ago" in body["scheduler"]["error"]


def test_an_unreachable_broker_is_503(client: Client, broken_broker: None) -> None:
    SchedulerTick.objects.create(name=DISPATCH_TICK, last_at=timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False
    assert response.json()["broker"]["error"]


def test_only_get_is_allowed(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
