"""One incident update to N confirmed email subscribers, end to end.

Starts a real SMTP server (aiosmtpd) on 127.0.0.1, creates N confirmed email
subscribers (default 10,000) and an incident in a fresh database, starts one
real ``celery worker`` (the command line of ``make run``), posts one incident
update through the incident services, and waits until the SMTP server has
accepted every mail. Prints the time from the update to the first and the
last accepted mail, mails per second, the SMTP connections used, and the
deliveries' final state. Exit status 0 when every mail arrived within
``--budget`` seconds (60 by default).

    .venv/bin/python bench/notify_email.py
    .venv/bin/python bench/notify_email.py --subscribers 10000 --postgres
"""

from __future__ import annotations

import argparse
import logging
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from common import ROOT, beat_command, fresh_environment, worker_command


class Counting:
    """An aiosmtpd handler that keeps each accepted message's bytes and
    recipients, and counts connections (EHLO). Parsing is left to the end
    (a sample), so the server is not the bottleneck being measured."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.connections = 0
        self.changed = threading.Condition()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.changed:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        with self.changed:
            self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
            self.changed.notify_all()
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_sample(messages: list[tuple[list[str], bytes]], count: int) -> str:
    """Parse a random sample: both parts, the unsubscribe headers, one recipient each."""
    for rcpts, raw in random.Random(1).sample(messages, min(count, len(messages))):
        message = message_from_bytes(raw, policy=policy.default)
        assert len(rcpts) == 1 and rcpts[0] in str(message["To"])
        assert message.get_body(("plain",)) is not None and message.get_body(("html",))
        assert str(message["List-Unsubscribe"]).strip().startswith("<https://")
        assert str(message["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"
        assert "Checkout errors: Identified" in str(message["Subject"])
    return f"{min(count, len(messages))} parsed: two parts, unsubscribe headers, one recipient"


def wait_ready(log_path, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until the worker logs that it is ready (it logs at INFO for this)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the worker exited: {log_path.read_text()[-2000:]}")
        if " ready." in log_path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise SystemExit("the worker did not start in time")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--subscribers", type=int, default=10_000)
    p.add_argument("--concurrency", default="4", help="worker threads (make run's default)")
    p.add_argument("--budget", type=float, default=60.0, help="seconds allowed for all mail")
    p.add_argument("--postgres", action="store_true")
    p.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/beacon_notify")
    args = p.parse_args()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command

    box = Counting()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        data_dir, env = fresh_environment(
            "notify",
            args.postgres_url if args.postgres else None,
            BEACON_SMTP_HOST="127.0.0.1",
            BEACON_SMTP_PORT=str(port),
            BEACON_SITE_URL="https://status.example.com",
        )
        import django

        django.setup()
        from django.db import connection
        from django.db.models import Count
        from django.utils import timezone

        from incidents import services as incidents
        from monitors import services as monitors
        from notifications.models import Delivery, Notification, Subscriber

        now = timezone.now()
        monitor = monitors.create_monitor(
            {
                "name": "Checkout API",
                "tag": "checkout",
                "kind": "tcp",
                "config": {"host": "127.0.0.1", "port": 9},
                "is_active": False,
            },
            now=now,
        )
        incident = incidents.create_incident(
            title="Checkout errors",
            body="We are looking into failed payments.",
            monitors=[(monitor, "DOWN")],
            now=now,
        )
        # The opening announcement went to nobody (no subscriber yet); mark it
        # planned so the worker does not plan it once the subscribers exist.
        Notification.objects.filter(incident=incident).update(planned_at=now)
        print(f"creating {args.subscribers} confirmed subscribers...", flush=True)
        batch = 2000
        for start in range(0, args.subscribers, batch):
            Subscriber.objects.bulk_create(
                [
                    Subscriber(
                        kind="email",
                        email=f"reader{i}@example.com",
                        token=f"bench-token-{i:06d}",
                        status="confirmed",
                        confirmed_at=now,
                        all_monitors=i % 2 == 0,
                    )
                    for i in range(start, min(start + batch, args.subscribers))
                ]
            )
            print(f"  {min(start + batch, args.subscribers)}/{args.subscribers}", flush=True)
        through = Subscriber.monitors.through
        followers = Subscriber.objects.filter(all_monitors=False).values_list("pk", flat=True)
        through.objects.bulk_create(
            [through(subscriber_id=pk, monitor_id=monitor.pk) for pk in followers.iterator()],
            batch_size=batch,
        )
        connection.close()

        log_path = data_dir / "worker.log"
        log = open(log_path, "wb")  # noqa: SIM115 - lives as long as the processes
        worker = subprocess.Popen(
            worker_command(args.concurrency, "INFO"),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        # Beat as in `make run`: its notifications tick re-queues sending passes.
        beat = subprocess.Popen(
            beat_command(data_dir / "beat", "WARNING"),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(log_path, worker)
            print("worker ready; posting the update", flush=True)
            started = time.perf_counter()
            incidents.post_update(
                incident,
                state="IDENTIFIED",
                body="The payment provider's **certificate** expired; renewing it now.",
                now=timezone.now(),
            )
            first = None
            next_report = 5.0
            with box.changed:
                while len(box.messages) < args.subscribers:
                    now_s = time.perf_counter() - started
                    if first is None and box.messages:
                        first = now_s
                    if now_s >= next_report:  # progress, and a stall shows as a flat line
                        print(f"  {now_s:5.1f} s: {len(box.messages)} accepted", flush=True)
                        next_report += 5.0
                    left = args.budget * 3 - now_s
                    if left <= 0 or worker.poll() is not None:
                        break
                    box.changed.wait(min(left, 1.0))
            elapsed = time.perf_counter() - started
            received = len(box.messages)
            connections = box.connections
        finally:
            for proc in (worker, beat):
                proc.terminate()
            for proc in (worker, beat):
                proc.wait(timeout=60)
        statuses = dict(
            Delivery.objects.values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        vendor = connection.vendor
        unique = len({rcpts[0] for rcpts, _ in box.messages})
        errors = log_path.read_text(errors="replace").count("ERROR/")
        sample = check_sample(box.messages, 50)
    finally:
        controller.stop()
    rate = received / elapsed if elapsed else 0
    print()
    print(f"{'subscribers':>22}: {args.subscribers}")
    print(f"{'mails accepted':>22}: {received}")
    print(f"{'first mail after':>22}: {first if first is not None else float('nan'):.2f} s")
    print(f"{'all accepted after':>22}: {elapsed:.2f} s (budget {args.budget:g} s)")
    print(f"{'mails/s':>22}: {rate:.0f}")
    print(
        f"{'SMTP connections':>22}: {connections} ({received / max(connections, 1):.0f} mails each)"
    )
    print(f"{'distinct recipients':>22}: {unique}")
    print(f"{'sample':>22}: {sample}")
    print(f"{'deliveries':>22}: {statuses}")
    print(f"{'worker errors logged':>22}: {errors}")
    print(f"{'worker threads':>22}: {args.concurrency}")
    print(f"{'database':>22}: {vendor}")
    ok = received == unique == args.subscribers and elapsed <= args.budget and not errors
    if ok:
        shutil.rmtree(data_dir, ignore_errors=True)
    else:
        print(f"{'kept for a look':>22}: {data_dir} (worker.log)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
