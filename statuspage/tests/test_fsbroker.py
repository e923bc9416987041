"""The embedded file-system broker delivers each message once, even with
producers and consumers in parallel, and survives an unreadable file."""

from __future__ import annotations

import multiprocessing
import queue
import threading
from pathlib import Path

import pytest
from kombu import Connection

import statuspage.celery  # noqa: F401 - registers the beaconfs:// transport


def _connection(tmp_path: Path) -> Connection:
    for sub in ("queue", "processed", "control"):
        (tmp_path / sub).mkdir(exist_ok=True)
    return Connection(
        "beaconfs://",
        transport_options={
            "data_folder_in": str(tmp_path / "queue"),
            "data_folder_out": str(tmp_path / "queue"),
            "processed_folder": str(tmp_path / "processed"),
            "control_folder": str(tmp_path / "control"),
            "store_processed": False,
        },
    )


def _consume(folder: str, total: int, out: multiprocessing.Queue) -> None:
    """Consumer process: receive until ``total`` messages were seen in all
    (the parent stops us), reporting each payload number."""

    with _connection(Path(folder)) as conn:
        q = conn.SimpleQueue("jobs")
        while True:
            try:
                msg = q.get(timeout=0.05)
            except q.Empty:
                continue
            msg.ack()
            out.put(msg.payload["n"])


def test_parallel_producers_and_consumers_get_each_message_once(tmp_path: Path) -> None:
    # Separate processes: kombu's virtual transports share state inside one process.
    n_producers, per_producer = 4, 150
    total = n_producers * per_producer
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = ctx.Queue()
    _connection(tmp_path).release()
    consumers = [
        ctx.Process(target=_consume, args=(str(tmp_path), total, out), daemon=True)
        for _ in range(2)
    ]
    for p in consumers:
        p.start()

    def produce(start: int) -> None:
        with _connection(tmp_path) as conn:
            producer = conn.Producer(serializer="json")
            for i in range(start, start + per_producer):
                producer.publish({"n": i, "pad": "x" * 2000}, routing_key="jobs")

    producers = [
        threading.Thread(target=produce, args=(k * per_producer,)) for k in range(n_producers)
    ]
    for t in producers:
        t.start()
    for t in producers:
        t.join()
    received = [out.get(timeout=60) for _ in range(total)]
    with pytest.raises(queue.Empty):
        out.get(timeout=0.5)  # nothing delivered twice
    for p in consumers:
        p.terminate()
        p.join()
    assert sorted(received) == list(range(total))


def test_an_unreadable_file_is_skipped_not_fatal(tmp_path: Path) -> None:
    with _connection(tmp_path) as conn:
        # Its own queue name: kombu keeps declared queues per process, across tests.
        q = conn.SimpleQueue("jobs-unreadable")
        (tmp_path / "queue" / "000000000000001_bad.jobs-unreadable.msg").write_bytes(b"")
        q.put({"n": 1})
        msg = q.get(timeout=2)
        assert msg.payload == {"n": 1}
        msg.ack()
        with pytest.raises(q.Empty):
            q.get(timeout=0.1)
        q.close()


def test_one_listing_serves_a_backlog_in_order_across_queues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from statuspage import fsbroker

    listings = 0
    real = fsbroker.os.listdir

    def counting(path: str) -> list[str]:
        nonlocal listings
        listings += 1
        return real(path)

    with _connection(tmp_path) as conn:
        backlog = conn.SimpleQueue("jobs-backlog")
        channel = backlog.channel
        for n in range(200):
            backlog.put({"n": n})
        channel._put("worker@host.jobs.pidbox", {"n": "dotted"})  # dots in a queue name
        monkeypatch.setattr(fsbroker.os, "listdir", counting)
        got = []
        for _ in range(200):
            msg = backlog.get(timeout=2)
            got.append(msg.payload["n"])
            msg.ack()
        assert got == list(range(200))  # oldest first
        assert listings <= 3  # not one listing per message
        assert channel._get("worker@host.jobs.pidbox") == {"n": "dotted"}
        # A message published after the listing is found on a later look.
        backlog.put({"n": "late"})
        msg = backlog.get(timeout=2)
        assert msg.payload == {"n": "late"}
        msg.ack()
        backlog.close()


def test_a_name_claimed_by_another_consumer_is_skipped(tmp_path: Path) -> None:
    with _connection(tmp_path) as conn:
        q = conn.SimpleQueue("jobs-stolen")
        q.put({"n": 1})
        q.put({"n": 2})
        first = q.get(timeout=2)  # lists both names, claims the first
        assert first.payload == {"n": 1}
        first.ack()
        # Another consumer claims the second one meanwhile.
        for path in (tmp_path / "queue").glob("*.jobs-stolen.msg"):
            path.unlink()
        q.put({"n": 3})
        msg = q.get(timeout=2)
        assert msg.payload == {"n": 3}
        msg.ack()
        with pytest.raises(q.Empty):
            q.get(timeout=0.2)
        q.close()
