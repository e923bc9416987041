"""Time to detect: from a target starting to fail to the incident row.

Starts a local HTTP target with one path per monitor, creates N HTTP
monitors (interval ``--interval``) under one STATUS/DOWN rule with failure
threshold ``--threshold``, runs real ``celery beat`` and ``celery worker``
processes, then takes each path down at a random moment, waits for its
incident and brings it back up. Prints detection time p50/p95/p99/max and
the bound (threshold x interval + 2 s).

    .venv/bin/python bench/detect.py --outages 20 --postgres
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common import ROOT, beat_command, fresh_environment, percentile, worker_command

DOWN: set[str] = set()


class Target(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        down = self.path in DOWN
        body = b"down" if down else b"ok"
        self.send_response(503 if down else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--outages", type=int, default=20)
    p.add_argument("--interval", type=int, default=10)
    p.add_argument("--threshold", type=int, default=2)
    p.add_argument("--postgres", action="store_true")
    p.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/beacon_detect")
    args = p.parse_args()

    data_dir, env = fresh_environment("detect", args.postgres_url if args.postgres else None)

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from alerting.models import AlertRule
    from incidents.models import Incident
    from monitors import services

    server = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    now = timezone.now()
    monitors = [
        services.create_monitor(
            {
                "name": f"Detect {i}",
                "tag": f"detect-{i}",
                "kind": "http",
                "config": {"url": f"{base}/m{i}"},
                "interval_seconds": args.interval,
                "timeout_seconds": 5,
            },
            now=now + timedelta(seconds=args.interval * i / args.outages),
        )
        for i in range(args.outages)
    ]
    rule = AlertRule.objects.create(
        kind="STATUS", value="DOWN", failure_threshold=args.threshold, success_threshold=1
    )
    rule.monitors.set(monitors)
    connection.close()
    log = open(data_dir / "celery.log", "w")  # noqa: SIM115 - lives as long as the processes
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        for cmd in (worker_command("4", "WARNING"), beat_command(data_dir / "beat", "WARNING"))
    ]
    bound = args.threshold * args.interval + 2
    detect: list[float] = []
    try:
        time.sleep(args.interval * 2)  # every monitor has been checked UP at least once
        rng = random.Random(1)
        starts = {}
        order = list(range(args.outages))
        rng.shuffle(order)
        for i in order:  # outages start at random moments, spread over the run
            time.sleep(rng.uniform(0, args.interval / 2))
            DOWN.add(f"/m{i}")
            starts[i] = timezone.now()
            print(f"  outage {len(starts)}/{args.outages} started on detect-{i}", flush=True)
        deadline = time.monotonic() + bound * 3
        while time.monotonic() < deadline:
            found = dict(
                Incident.objects.filter(state="INVESTIGATING").values_list(
                    "affected__monitor__tag", "created_at"
                )
            )
            connection.close()
            if len(found) >= args.outages:
                break
            time.sleep(0.2)
        for i, started in starts.items():
            created = found.get(f"detect-{i}")
            if created is None:
                print(f"  detect-{i}: no incident within {bound * 3}s")
                continue
            detect.append((created - started).total_seconds())
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
        server.shutdown()
    print()
    print(f"{'outages':>16}: {len(detect)} of {args.outages} detected")
    print(
        f"{'bound':>16}: {bound} s (threshold {args.threshold} x interval {args.interval}s + 2 s)"
    )
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        print(f"{'detect ' + name:>16}: {percentile(detect, q):.2f} s")
    print(f"{'detect max':>16}: {max(detect):.2f} s")
    print(f"{'database':>16}: {connection.vendor}")
    shutil.rmtree(data_dir, ignore_errors=True)
    return 0 if len(detect) == args.outages and max(detect) <= bound else 1


if __name__ == "__main__":
    sys.exit(main())
