"""Alert-to-first-trigger-request latency: from the alert event's commit to the
webhook request arriving at a receiver.

Starts a local HTTP receiver, creates N (paused) monitors under one STATUS/DOWN
rule (failure and success threshold 1) with a webhook trigger pointing at the
receiver, runs real ``celery worker`` and ``celery beat`` processes (the
command lines of ``make run``), then raises and resolves alerts through the
real recording path (``monitors.services.record_results``) one after another,
``--gap`` seconds apart. Each event's commit time is taken by an on-commit
hook registered before the outbox's; the receiver stamps each request's
arrival. Prints latency p50/p95/p99/max and exits 1 when p99 >= 1 s or a
request never arrived.

    .venv/bin/python bench/notify_latency.py --events 200
    .venv/bin/python bench/notify_latency.py --events 200 --postgres
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common import ROOT, beat_command, fresh_environment, percentile, worker_command

ARRIVED: dict[tuple[str, str], float] = {}
LOCK = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        at = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        payload = json.loads(body)
        with LOCK:
            ARRIVED.setdefault((payload["alert_id"], payload["alert_status"]), at)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--events", type=int, default=200, help="alert events (half trigger, half resolve)"
    )
    p.add_argument("--gap", type=float, default=0.1, help="seconds between events")
    p.add_argument("--concurrency", default="4", help="worker threads (make run's default)")
    p.add_argument("--log-level", default="WARNING", help="of the worker and beat")
    p.add_argument("--keep", action="store_true", help="keep the data dir and celery.log")
    p.add_argument("--postgres", action="store_true")
    p.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/beacon_notify")
    args = p.parse_args()

    data_dir, env = fresh_environment("notify", args.postgres_url if args.postgres else None)

    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from alerting.models import AlertEvent, AlertRule
    from monitors import services
    from monitors.services import NewResult
    from notifications import trigger_services

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    now = timezone.now()
    monitors = [
        services.create_monitor(
            {
                "name": f"Notify {i}",
                "tag": f"notify-{i}",
                "kind": "http",
                "config": {"url": url},
                "is_active": False,  # results come from this script, not from checks
            },
            now=now,
        )
        for i in range(max(1, args.events // 2))
    ]
    trigger = trigger_services.create_trigger(
        {"name": "bench", "kind": "webhook", "config": {"url": url, "secret": "bench"}}, now=now
    )
    rule = AlertRule.objects.create(
        kind="STATUS", value="DOWN", failure_threshold=1, success_threshold=1
    )
    rule.monitors.set(monitors)
    rule.triggers.set([trigger])
    connection.close()
    log = open(data_dir / "celery.log", "w")  # noqa: SIM115 - lives as long as the processes
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        for cmd in (
            worker_command(args.concurrency, args.log_level),
            beat_command(data_dir / "beat", args.log_level),
        )
    ]
    committed: dict[tuple[str, str], float] = {}
    try:
        time.sleep(5)  # the worker is up and consuming
        for n in range(args.events):
            monitor = monitors[(n // 2) % len(monitors)] if args.events > 1 else monitors[0]
            status = "DOWN" if n % 2 == 0 else "UP"
            at = timezone.now()
            stamp: dict[str, float] = {}
            with transaction.atomic():
                # Registered first, so it runs at commit, before the outbox's hook.
                transaction.on_commit(lambda stamp=stamp: stamp.setdefault("t", time.time()))
                services.record_results(
                    [
                        NewResult(
                            monitor_id=monitor.pk,
                            due_at=at,
                            checked_at=at,
                            status=status,
                            latency_ms=5.0,
                            message="",
                            source="manual",
                        )
                    ],
                    now=at,
                )
            event = AlertEvent.objects.filter(monitor=monitor).order_by("-id").first()
            if event is not None:
                committed[(str(event.alert_id), event.status)] = stamp["t"]
            if (n + 1) % 50 == 0:
                print(f"  {n + 1}/{args.events} events", flush=True)
            time.sleep(args.gap)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with LOCK:
                if all(key in ARRIVED for key in committed):
                    break
            time.sleep(0.1)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
        server.shutdown()
    latencies = [(ARRIVED[k] - t) * 1000 for k, t in committed.items() if k in ARRIVED]
    missing = len(committed) - len(latencies)
    print()
    print(f"{'events':>16}: {len(committed)} committed, {len(latencies)} delivered")
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        print(f"{'latency ' + name:>16}: {percentile(latencies, q):.1f} ms")
    print(f"{'latency max':>16}: {max(latencies, default=float('nan')):.1f} ms")
    print(f"{'database':>16}: {connection.vendor}")
    if args.keep:
        print(f"{'kept':>16}: {data_dir} (celery.log)")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0 if not missing and percentile(latencies, 0.99) < 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
