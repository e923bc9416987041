"""End to end: real ``celery beat`` and ``celery worker`` processes check real
local servers through the broker and the test database."""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from monitors.models import CheckResult, Monitor, MonitorState, ResultSource, Status

from .factories import make_monitor
from .servers import Reply, serve_http
from .waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def http_url() -> Iterator[str]:
    with serve_http({"/health": Reply(200, "all good")}) as base:
        yield f"{base}/health"


def test_beat_and_worker_check_monitors_and_report_health(start_celery, http_url: str) -> None:
    now = timezone.now()
    web = make_monitor("http", {"url": http_url}, interval_seconds=10, timeout_seconds=5, now=now)
    poison = make_monitor("http", {"url": http_url}, interval_seconds=10, now=now)
    Monitor.objects.filter(pk=poison.pk).update(config={"url": 12})  # corrupt behind validation
    beat = make_monitor(
        "heartbeat",
        {"degraded_after_seconds": 60, "down_after_seconds": 120},
        interval_seconds=10,
        now=now,
    )
    client = Client()
    assert client.get("/healthz").status_code == 503  # no scheduler tick yet

    procs = [start_celery("worker"), start_celery("beat")]
    wait_for(lambda: CheckResult.objects.filter(monitor__in=[web, poison]).count() >= 2, procs)
    state = MonitorState.objects.get(monitor=web)
    assert state.status == Status.UP
    assert state.next_check_at > now
    assert MonitorState.objects.get(monitor=poison).status == Status.DOWN

    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["database"]["ok"] and body["broker"]["ok"] and body["scheduler"]["ok"]

    # A push reaches the heartbeat monitor at once; the engine sees it as fresh.
    pushed = client.get(f"/push/{beat.push_token}?status=up&msg=nightly+backup&latency=12.5")
    assert pushed.status_code == 200
    push = CheckResult.objects.get(monitor=beat, source=ResultSource.PUSH)
    assert (push.status, push.message, push.latency_ms) == (Status.UP, "nightly backup", 12.5)


def test_two_beats_and_two_workers_never_check_a_slot_twice(start_celery) -> None:
    listener = socket.create_server(("127.0.0.1", 0), backlog=256)
    port = listener.getsockname()[1]
    listener.listen()
    try:
        now = timezone.now()
        monitors = [
            make_monitor("tcp", {"host": "127.0.0.1", "port": port}, interval_seconds=10, now=now)
            for _ in range(12)
        ]
        procs = [
            start_celery("worker"),
            start_celery("worker"),
            start_celery("beat"),
            start_celery("beat"),
        ]
        started = time.monotonic()
        wait_for(
            lambda: all(
                CheckResult.objects.filter(monitor=m, source="scheduled").count() >= 3
                for m in monitors
            ),
            procs,
            timeout=120,
        )
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    for m in monitors:
        dues = list(
            CheckResult.objects.filter(monitor=m, source="scheduled")
            .order_by("due_at")
            .values_list("due_at", flat=True)
        )
        assert len(dues) == len(set(dues))
        # Consecutive slots are one interval apart: nothing doubled, nothing skipped.
        assert all(b - a == timedelta(seconds=10) for a, b in itertools.pairwise(dues))
        assert len(dues) <= elapsed / 10 + 2
    for proc in procs:
        assert "IntegrityError" not in proc.log_path.read_text(errors="replace")  # type: ignore[attr-defined]
