"""The heartbeat push endpoint: records pushes, rejects bad input with the field named."""

from __future__ import annotations

import pytest
from django.test import Client

from monitors import services
from monitors.models import CheckResult, MonitorState, ResultSource, Status

from .factories import make_monitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def heartbeat():
    return make_monitor("heartbeat", {"degraded_after_seconds": 60, "down_after_seconds": 120})


def test_a_push_records_a_result_and_moves_state(client: Client, heartbeat) -> None:
    response = client.get(f"/push/{heartbeat.push_token}")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "monitor": heartbeat.tag, "status": "UP"}
    state = MonitorState.objects.get(monitor=heartbeat)
    assert state.status == Status.UP and state.last_push_at is not None
    assert CheckResult.objects.get(monitor=heartbeat).source == ResultSource.PUSH


def test_post_with_form_fields_and_a_down_status(client: Client, heartbeat) -> None:
    response = client.post(
        f"/push/{heartbeat.push_token}",
        {"status": "DOWN", "msg": "backup failed: disk full <b>", "latency": "812"},
    )
    assert response.status_code == 200
    r = CheckResult.objects.get(monitor=heartbeat)
    assert (r.status, r.message, r.latency_ms) == (
        Status.DOWN,
        "backup failed: disk full <b>",
        812.0,
    )


def test_each_push_is_its_own_result(client: Client, heartbeat) -> None:
    for _ in range(3):
        assert client.get(f"/push/{heartbeat.push_token}?status=up").status_code == 200
    assert CheckResult.objects.filter(monitor=heartbeat).count() == 3
    assert MonitorState.objects.get(monitor=heartbeat).consecutive_count == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=sideways", "status"),
        ("status=" + "x" * 5000, "status"),
        ("latency=abc", "latency"),
        ("latency=-1", "latency"),
        ("latency=nan", "latency"),
        ("latency=1e309", "latency"),
        ("latency=99999999999", "latency"),
        ("msg=" + "m" * 501, "msg"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(
    client: Client, heartbeat, query: str, field: str
) -> None:
    response = client.get(f"/push/{heartbeat.push_token}?{query}")
    assert response.status_code == 400
    assert field in response.json()
    assert not CheckResult.objects.filter(monitor=heartbeat).exists()


def test_unknown_tokens_and_other_kinds_are_404(client: Client) -> None:
    tcp = make_monitor("tcp")
    tcp.push_token = "tcp-token-should-not-work"
    tcp.save()
    assert client.get("/push/nope").status_code == 404
    assert client.get("/push/tcp-token-should-not-work").status_code == 404
    assert client.get("/push/" + "a" * 300).status_code == 404


def test_a_paused_monitor_refuses_pushes(client: Client, heartbeat) -> None:
    from django.utils import timezone

    services.set_active(heartbeat, False, now=timezone.now())
    assert client.get(f"/push/{heartbeat.push_token}").status_code == 409
    assert not CheckResult.objects.exists()


def test_unicode_message_round_trips(client: Client, heartbeat) -> None:
    msg = "résumé ✓ 数据库 🚀"
    assert client.post(f"/push/{heartbeat.push_token}", {"msg": msg}).status_code == 200
    assert CheckResult.objects.get(monitor=heartbeat).message == msg
