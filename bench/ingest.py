"""Ingestion benchmark: sustained inbound alerts through the real web server.

Creates a fresh database (PostgreSQL ``beacon_bench_ingest`` with
``--postgres``), 50 catalogue services and two integrations (Alertmanager
and Grafana), then starts gunicorn exactly as ``make run`` does
(``scripts/run_all.py``'s web command) and one Celery worker (correlation runs
after each commit), and sends ``--rate`` alerts per second for ``--duration``
seconds, open loop (requests leave on schedule whether or not earlier ones
have been answered, so a slow server shows up as latency, not as a lower
offered rate):

* ``--single-share`` (20 %) of the alerts as single Grafana alerts, one per
  request, the rest in Alertmanager notification groups of ``--group`` (10);
* ``--repeat`` of them re-fire a recently sent fingerprint (dedup path), the
  rest are new; ``--resolve`` of the repeats are resolves.

The Celery worker runs at ``nice 19`` by default (``--worker-nice``): on a
2-core machine correlating a storm (about 10 ms of CPU per new alert) would
otherwise take a core from the web server; niced, it uses the idle time and
catches up after the storm, which the benchmark reports as the time until its
queue is empty. Run with ``--worker-nice 0`` to see the contended figures.

The load generator shares the machine's cores with the server, so it is an
asyncio client on raw streams (one short connection per request, as gunicorn's
sync workers close after each answer; no HTTP library in the hot path).

Prints alerts accepted per second, requests per second, response time
p50/p95/p99/max, errors, and then checks the database: every fingerprint
stored once, every receipt an occurrence, every firing receipt counted in
``occurrence_count`` (none lost, none doubled).

    .venv/bin/python bench/ingest.py --postgres
    .venv/bin/python bench/ingest.py --postgres --rate 500 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, fresh_environment, percentile, worker_command

SERVICES = 50


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rate", type=int, default=500, help="alerts per second offered")
    p.add_argument("--duration", type=int, default=60, help="seconds of load")
    p.add_argument(
        "--warmup", type=int, default=10, help="seconds of load first, to other integrations"
    )
    p.add_argument("--group", type=int, default=10, help="alerts per Alertmanager group")
    p.add_argument(
        "--single-share", type=float, default=0.2, help="share of alerts sent one per request"
    )
    p.add_argument("--repeat", type=float, default=0.5, help="share of repeated fingerprints")
    p.add_argument("--resolve", type=float, default=0.2, help="share of repeats that resolve")
    p.add_argument(
        "--web-workers", default="2", help="gunicorn workers (BEACON_WEB_WORKERS; make run: 2)"
    )
    p.add_argument("--concurrency", default="2", help="Celery worker threads")
    p.add_argument("--max-in-flight", type=int, default=256, help="open requests at most")
    p.add_argument(
        "--worker-nice",
        type=int,
        default=19,
        help="niceness of the Celery worker (0: same priority as the web server)",
    )
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--postgres", action="store_true", help="use a fresh PostgreSQL database")
    p.add_argument(
        "--postgres-url", default="postgres://postgres@127.0.0.1:5432/beacon_bench_ingest"
    )
    p.add_argument(
        "--drain-limit", type=int, default=300, help="seconds to wait for correlation to catch up"
    )
    p.add_argument("--json", action="store_true", help="print the figures as JSON too")
    return p.parse_args()


# --- the load ---------------------------------------------------------------------


class Load:
    """Builds the requests and remembers what was sent, for the DB check."""

    def __init__(self, args: argparse.Namespace, tokens: dict[str, str]) -> None:
        self.args = args
        self.tokens = tokens
        self.rng = random.Random(42)
        self.seq = 0
        self.recent: dict[str, list[str]] = {"alertmanager": [], "grafana": []}
        self.firing: Counter[tuple[str, str]] = Counter()  # firing receipts per fingerprint
        self.seen: set[tuple[str, str]] = set()

    def _alert(self, source: str) -> dict:
        self.seq += 1
        recent = self.recent[source]
        status = "firing"
        if recent and self.rng.random() < self.args.repeat:
            # Only fingerprints whose first receipt was answered are repeated,
            # so the expected counts do not depend on the server's ordering.
            fp = self.rng.choice(recent)
            if self.rng.random() < self.args.resolve:
                status = "resolved"
        else:
            fp = f"{source[:2]}{self.seq:08x}"
        service = f"svc-{int(fp[2:], 16) % SERVICES:02d}"
        now = datetime.now(UTC)
        return {
            "status": status,
            "labels": {
                "alertname": "HighErrorRate",
                "service": service,
                "severity": ("critical", "warning")[self.seq % 2],
                "instance": f"{service}-{fp}:9100",
            },
            # The sequence number makes every body distinct: no replays.
            "annotations": {"summary": f"Error rate high on {service}", "seq": str(self.seq)},
            "startsAt": (now - timedelta(minutes=1)).isoformat(),
            "endsAt": now.isoformat() if status == "resolved" else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph",
            "fingerprint": fp,
        }

    def request(self, source: str, size: int) -> tuple[str, bytes, list[dict]]:
        alerts = [self._alert(source) for _ in range(size)]
        # One fingerprint twice in one body is kept once by the parser.
        alerts = list({a["fingerprint"]: a for a in alerts}.values())
        body = {
            "version": "4" if source == "alertmanager" else "1",
            "groupKey": '{}:{alertname="HighErrorRate"}',
            "status": "firing",
            "receiver": "beacon",
            "groupLabels": {"alertname": "HighErrorRate"},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example:9093",
            "truncatedAlerts": 0,
            "alerts": alerts,
        }
        path = "/api/alertmanager/alerts" if source == "alertmanager" else "/api/grafana/alerts"
        return f"{path}?token={self.tokens[source]}", json.dumps(body).encode(), alerts

    def record(self, source: str, alerts: list[dict]) -> None:
        """An answered (202) request: count its receipts, offer its new
        fingerprints for repeats."""
        recent = self.recent[source]
        for a in alerts:
            key = (source, a["fingerprint"])
            if key not in self.seen:
                recent.append(a["fingerprint"])
                if len(recent) > 2000:
                    recent.pop(0)
            self.seen.add(key)
            if a["status"] == "firing":
                self.firing[key] += 1


async def post(port: int, target: str, body: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    writer.write(head + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data.partition(b"\r\n\r\n")[2]


async def run_load(args: argparse.Namespace, load: Load) -> dict:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    accepted = 0
    replays = 0
    in_flight = asyncio.Semaphore(args.max_in_flight)
    tasks: list[asyncio.Task] = []

    async def one(source: str, size: int) -> None:
        nonlocal accepted, replays
        target, body, alerts = load.request(source, size)
        async with in_flight:
            started = time.perf_counter()
            try:
                status, payload = await post(args.port, target, body)
            except OSError as exc:
                errors[type(exc).__name__] += 1
                return
            latencies.append(time.perf_counter() - started)
        if status != 202:
            errors[f"HTTP {status}"] += 1
            return
        answer = json.loads(payload)
        replays += answer["replay"]
        accepted += answer["accepted"]
        load.record(source, alerts)

    start = time.perf_counter()
    next_at = start
    sent = {"single": 0, "grouped": 0}
    last_report = start
    while time.perf_counter() - start < args.duration:
        # Keep the share of single alerts at --single-share, alert by alert.
        total = sent["single"] + sent["grouped"]
        if sent["single"] < args.single_share * (total + 1):
            source, size, kind = "grafana", 1, "single"
        else:
            source, size, kind = "alertmanager", args.group, "grouped"
        sent[kind] += size
        tasks.append(asyncio.create_task(one(source, size)))
        next_at += size / args.rate  # open loop: the schedule, not the answers
        delay = next_at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if time.perf_counter() - last_report >= 10:
            last_report = time.perf_counter()
            print(
                f"  {last_report - start:5.0f}s  accepted {accepted}  requests {len(latencies)}"
                f"  errors {sum(errors.values())}",
                flush=True,
            )
    sent_for = time.perf_counter() - start
    await asyncio.gather(*tasks)
    return {
        "seconds": sent_for,
        "requests": len(tasks),
        "answered": len(latencies),
        "accepted": accepted,
        "replays": replays,
        "errors": dict(errors),
        "latencies": latencies,
    }


# --- set-up and checks -----------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and all its descendants (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(stat[11]) + int(stat[12])) / tick
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        pending += [int(c) for c in children]
    return total


def verify(load: Load, integrations: dict[str, int]) -> dict:
    """Compare the database with what was sent (and accepted)."""
    from django.db.models import Count, Sum

    from alerting.models import Alert, AlertOccurrence

    stored = Counter()
    counts: dict[tuple[str, str], int] = {}
    by_id = {pk: source for source, pk in integrations.items()}
    rows = Alert.objects.filter(integration__in=list(by_id)).values_list(
        "integration_id", "fingerprint", "occurrence_count"
    )
    for integration_id, fp, count in rows:
        key = (by_id[integration_id], fp)
        stored[key] += 1
        counts[key] = count
    duplicates = sum(1 for n in stored.values() if n > 1)
    missing = len(load.seen - set(stored))
    # Fingerprints never seen firing (a resolve first) are stored with count 1.
    wrong_counts = sum(1 for key in load.seen if counts.get(key) != max(load.firing.get(key, 0), 1))
    occurrences = AlertOccurrence.objects.filter(alert__integration__in=list(by_id)).aggregate(
        n=Count("id")
    )["n"]
    firing_total = (
        Alert.objects.filter(integration__in=list(by_id)).aggregate(n=Sum("occurrence_count"))["n"]
        or 0
    )
    return {
        "fingerprints_sent": len(load.seen),
        "alerts_stored": sum(stored.values()),
        "duplicates": duplicates,
        "missing": missing,
        "wrong_occurrence_counts": wrong_counts,
        "occurrences": occurrences,
        "occurrence_count_sum": firing_total,
    }


def main() -> int:
    args = parse_args()
    data_dir, env = fresh_environment(
        "ingest", args.postgres_url if args.postgres else None, BEACON_WEB_WORKERS=args.web_workers
    )
    import django

    django.setup()
    from django.db import connection

    from catalog.models import Service
    from integrations.models import Integration

    Service.objects.bulk_create(
        [Service(name=f"Service {i:02d}", slug=f"svc-{i:02d}") for i in range(SERVICES)]
    )
    made = {
        source: Integration.objects.create(name=f"bench {source}", source=source)
        for source in ("alertmanager", "grafana")
    }
    warm = {
        source: Integration.objects.create(name=f"warm-up {source}", source=source).token
        for source in ("alertmanager", "grafana")
    }
    tokens = {source: i.token for source, i in made.items()}
    ids = {source: i.pk for source, i in made.items()}
    connection.close()

    from scripts.run_all import commands  # on the path once common is imported

    env = {**env, "PORT": str(args.port), "BEACON_WEB_WORKERS": args.web_workers}
    os.environ.update(PORT=str(args.port), BEACON_WEB_WORKERS=args.web_workers)
    web_cmd = commands()["web"]
    web_cmd = [part for part in web_cmd if part not in ("--access-logfile", "-")]
    log = open(data_dir / "processes.log", "w")  # noqa: SIM115 - lives as long as they do
    worker_cmd = worker_command(args.concurrency, "WARNING")
    if args.worker_nice:
        # Ingestion first, correlation catches up: see --worker-nice.
        worker_cmd = ["nice", "-n", str(args.worker_nice), *worker_cmd]
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        for cmd in (web_cmd, worker_cmd)
    ]
    queue_dir = Path(env.get("BEACON_BROKER_DIR", data_dir / "broker")) / "queue"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = asyncio.run(post(args.port, "/api/generic/alerts", b"{}"))
                if status:
                    break
            except OSError:
                time.sleep(0.2)
        print(
            f"load: {args.rate} alerts/s for {args.duration}s ({args.single_share:.0%} single, "
            f"the rest in groups of {args.group}; {args.repeat:.0%} repeats), gunicorn "
            f"{args.web_workers} workers, {os.cpu_count()} CPUs",
            flush=True,
        )
        # Gunicorn workers and the database warm up on other integrations
        # (first requests import code and fill caches); not measured.
        warm_args = argparse.Namespace(**{**vars(args), "duration": args.warmup})
        asyncio.run(run_load(warm_args, Load(warm_args, warm)))
        print("  warm-up done; measuring", flush=True)
        load = Load(args, tokens)
        cpu_before = {
            name: cpu_seconds(pid)
            for name, pid in (("web", procs[0].pid), ("worker", procs[1].pid))
        }
        own_before = time.process_time()
        result = asyncio.run(run_load(args, load))
        cpu = {
            name: round(cpu_seconds(pid) - cpu_before[name], 1)
            for name, pid in (("web", procs[0].pid), ("worker", procs[1].pid))
        }
        cpu["load generator"] = round(time.process_time() - own_before, 1)
        # Correlation runs behind ingestion: how long until its queue is empty.
        ended = time.monotonic()
        print("  load done; waiting for the correlation queue to empty", flush=True)
        while any(queue_dir.glob("*.msg")) and time.monotonic() - ended < args.drain_limit:
            time.sleep(0.5)
        left = sum(1 for _ in queue_dir.glob("*.msg"))
        drained = round(time.monotonic() - ended, 1) if not left else f"{left} tasks still queued"
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
        log.close()
    checks = verify(load, ids)
    lat = sorted(result["latencies"])
    figures = {
        "database": connection.vendor,
        "offered_alerts_per_s": args.rate,
        "accepted_alerts": result["accepted"],
        "accepted_alerts_per_s": round(result["accepted"] / result["seconds"], 1),
        "requests_per_s": round(result["answered"] / result["seconds"], 1),
        "p50_ms": round(percentile(lat, 0.5) * 1000, 1),
        "p95_ms": round(percentile(lat, 0.95) * 1000, 1),
        "p99_ms": round(percentile(lat, 0.99) * 1000, 1),
        "max_ms": round(max(lat) * 1000, 1) if lat else float("nan"),
        "errors": result["errors"],
        "replays": result["replays"],
        "cpu_seconds": cpu,
        # Independent of what else runs on the machine: the web tier's cost.
        "web_cpu_ms_per_alert": round(cpu["web"] / max(result["accepted"], 1) * 1000, 2),
        "web_cpu_ms_per_request": round(cpu["web"] / max(result["answered"], 1) * 1000, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "correlation_queue_drained_s": drained,
        **checks,
    }
    print()
    for name, value in figures.items():
        print(f"{name:>24}: {value}")
    if args.json:
        print(json.dumps(figures))
    shutil.rmtree(data_dir, ignore_errors=True)
    ok = (
        not result["errors"]
        and checks["duplicates"] == 0
        and checks["missing"] == 0
        and checks["wrong_occurrence_counts"] == 0
        and checks["occurrences"] == result["accepted"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
