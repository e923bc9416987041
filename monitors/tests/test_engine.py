"""The check engine: claiming slots, running batches, replays, concurrency, poison rows."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from monitors import services
from monitors.engine import run_batch
from monitors.models import (
    CheckResult,
    DailyRollup,
    HourlyRollup,
    Monitor,
    MonitorEvent,
    MonitorState,
    Status,
)
from monitors.scheduling import claim_due

from .factories import make_monitor, result


@pytest.fixture
def tcp_port() -> Iterator[int]:
    """A real TCP listener on 127.0.0.1 that accepts connections."""
    server = socket.create_server(("127.0.0.1", 0), backlog=512)
    port = server.getsockname()[1]
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield port
    stop.set()
    thread.join()
    server.close()


def _in_threads(n: int, fn: Callable[[], Any]) -> list[Any]:
    """Run ``fn`` in ``n`` threads released together; return their results."""
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait()
            out[i] = fn()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return out


@pytest.mark.django_db
def test_a_slot_is_claimed_once_and_the_next_is_one_interval_later() -> None:
    now = timezone.now()
    m = make_monitor(now=now, interval_seconds=60)
    claimed = claim_due(now, 100)
    assert claimed == [(m.pk, now)]
    assert claim_due(now, 100) == []
    state = MonitorState.objects.get(monitor=m)
    assert state.next_check_at == now + timedelta(seconds=60)


@pytest.mark.django_db
def test_paused_monitors_are_not_claimed_and_resume_makes_them_due() -> None:
    now = timezone.now()
    m = make_monitor(now=now)
    services.set_active(m, False, now=now)
    assert claim_due(now, 100) == []
    assert MonitorState.objects.get(monitor=m).next_check_at is None
    services.set_active(m, True, now=now)
    assert claim_due(now, 100) == [(m.pk, now)]
    types = list(MonitorEvent.objects.filter(monitor=m).values_list("type", flat=True))
    assert {"created", "paused", "resumed"} <= set(types)


@pytest.mark.django_db
def test_claim_respects_the_limit_oldest_first() -> None:
    now = timezone.now()
    monitors = [make_monitor(now=now - timedelta(seconds=i)) for i in range(5)]
    first = claim_due(now, 2)
    assert [mid for mid, _ in first] == [monitors[4].pk, monitors[3].pk]
    assert len(claim_due(now, 10)) == 3


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_racing_never_claim_the_same_slot() -> None:
    now = timezone.now()
    ids = {make_monitor(now=now).pk for _ in range(60)}
    claims = _in_threads(2, lambda: claim_due(now, 1000))
    flat = [mid for claim in claims for mid, _ in claim]
    assert sorted(flat) == sorted(ids)  # every slot handed out, none twice


@pytest.mark.django_db(transaction=True)
def test_a_batch_checks_real_ports_and_moves_state(tcp_port: int) -> None:
    now = timezone.now()
    up = make_monitor(config={"host": "127.0.0.1", "port": tcp_port}, now=now)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    down = make_monitor(config={"host": "127.0.0.1", "port": dead_port}, now=now)
    due = now - timedelta(seconds=3)
    written = run_batch([(up.pk, due), (down.pk, due)])
    assert written == 2
    up_state = MonitorState.objects.get(monitor=up)
    down_state = MonitorState.objects.get(monitor=down)
    assert up_state.status == Status.UP and up_state.last_latency_ms is not None
    assert down_state.status == Status.DOWN and "refused" in down_state.last_message.lower()
    r = CheckResult.objects.get(monitor=up)
    assert r.due_at == due
    assert r.lag_ms >= 3000  # started at least 3 s after its slot
    assert DailyRollup.objects.get(monitor=up).up_count == 1
    assert HourlyRollup.objects.get(monitor=down).down_count == 1
    flip = MonitorEvent.objects.get(monitor=down, type="status_changed")
    assert (flip.from_status, flip.to_status) == ("", "DOWN")


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_same_batch_record_each_slot_once(tcp_port: int) -> None:
    now = timezone.now()
    monitors = [
        make_monitor(config={"host": "127.0.0.1", "port": tcp_port}, now=now) for _ in range(20)
    ]
    items = [(m.pk, now) for m in monitors]
    written = _in_threads(2, lambda: run_batch(items))
    assert sorted(written) == [0, 20]  # one worker wrote everything, the other nothing
    assert CheckResult.objects.count() == 20
    assert sum(r.up_count for r in DailyRollup.objects.all()) == 20
    assert all(s.consecutive_count == 1 for s in MonitorState.objects.all())
    # A redelivery after the fact is dropped too.
    assert run_batch(items) == 0
    assert CheckResult.objects.count() == 20


@pytest.mark.django_db(transaction=True)
def test_a_poison_monitor_gets_a_down_result_and_the_batch_goes_on(tcp_port: int) -> None:
    now = timezone.now()
    good = make_monitor(config={"host": "127.0.0.1", "port": tcp_port}, now=now)
    poison = make_monitor(config={"host": "127.0.0.1", "port": tcp_port}, now=now)
    # A config corrupted behind the validator's back (a bad migration, a manual edit).
    Monitor.objects.filter(pk=poison.pk).update(config={"port": ["not", "a", "port"]})
    unknown_kind = make_monitor(now=now)
    Monitor.objects.filter(pk=unknown_kind.pk).update(kind="gopher")
    assert run_batch([(good.pk, now), (poison.pk, now), (unknown_kind.pk, now)]) == 3
    assert MonitorState.objects.get(monitor=good).status == Status.UP
    poisoned = MonitorState.objects.get(monitor=poison)
    assert poisoned.status == Status.DOWN
    assert poisoned.last_message.startswith("check failed:")
    assert MonitorState.objects.get(monitor=unknown_kind).status == Status.DOWN


@pytest.mark.django_db
def test_prune_deletes_old_results_in_batches_and_keeps_rollups() -> None:
    m = make_monitor()
    now = timezone.now()
    old = [result(m, now - timedelta(days=40, minutes=i)) for i in range(25)]
    new = [result(m, now - timedelta(minutes=i)) for i in range(5)]
    services.record_results(old + new, now=now)
    deleted = services.prune_results(before=now - timedelta(days=30), batch_size=10)
    assert deleted == 25
    assert CheckResult.objects.filter(monitor=m).count() == 5
    assert sum(r.up_count for r in DailyRollup.objects.filter(monitor=m)) == 30


@pytest.mark.django_db(transaction=True)
def test_a_result_the_database_refuses_costs_only_its_own_monitor(
    tcp_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    good = make_monitor(config={"host": "127.0.0.1", "port": tcp_port}, now=now)
    bad = make_monitor(config={"host": "127.0.0.1", "port": tcp_port}, now=now)
    # A runner bug yields a status the database's check constraint refuses.
    from monitors import engine
    from monitors.checks import Outcome

    real_run_targets = engine.run_targets

    async def with_bad_value(targets, ctx, due=None):
        results = await real_run_targets(targets, ctx, due)
        return [
            (started, Outcome("BOGUS", 1.0, "x") if t.monitor_id == bad.pk else o)
            for t, (started, o) in zip(targets, results, strict=True)
        ]

    monkeypatch.setattr(engine, "run_targets", with_bad_value)
    written = run_batch([(good.pk, now), (bad.pk, now)])
    assert written == 1
    assert MonitorState.objects.get(monitor=good).status == Status.UP
    assert not CheckResult.objects.filter(monitor=bad).exists()
