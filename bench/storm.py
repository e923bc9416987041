"""Alert storm: 10,000 alerts over 50 services in 60 s, folded into incidents.

Creates a fresh database (PostgreSQL ``beacon_bench_storm`` with
``--postgres``), ``--services`` catalogue services in ``--groups`` unrelated
dependency groups (a random tree inside each group: every service but the
group's root depends on one earlier service of its group), and two
integrations (Alertmanager and generic). Starts gunicorn as ``make run``
does, a real Celery worker and beat, and posts the storm through the real
HTTP endpoints (``/api/alertmanager/alerts`` in groups of ``--group`` alerts,
``/api/generic/alerts`` one alert per request, each with its integration's
token):

* the failure cascades: a group's root starts firing first, each level of
  its tree ``--step`` seconds after the one above (as a failing database
  takes its users down one after the other);
* each service fires ``--fingerprints`` distinct alerts, each re-sent until
  the storm holds ``--alerts`` notifications in all (the dedup path), spread
  over ``--duration`` seconds.

Then waits until every alert is in an incident and every investigation is
done, and checks: every fingerprint stored once, each alert's occurrence
count equal to its receipts, exactly as many incidents as unrelated groups,
each incident holding exactly one group's services and alerts. Prints the
accept rate, response times, the time to settle and the checks.

    .venv/bin/python bench/storm.py --postgres
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
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from common import ROOT, beat_command, fresh_environment, percentile, worker_command


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--services", type=int, default=50)
    p.add_argument("--groups", type=int, default=7, help="unrelated dependency groups")
    p.add_argument("--alerts", type=int, default=10_000, help="notifications in the storm")
    p.add_argument("--fingerprints", type=int, default=40, help="distinct alerts per service")
    p.add_argument("--duration", type=float, default=60.0, help="seconds the storm lasts")
    p.add_argument("--step", type=float, default=3.0, help="seconds between cascade levels")
    p.add_argument("--group", type=int, default=10, help="alerts per Alertmanager request")
    p.add_argument("--web-workers", default="4")
    p.add_argument("--concurrency", default="4", help="Celery worker threads")
    p.add_argument("--max-in-flight", type=int, default=128)
    p.add_argument("--settle-timeout", type=float, default=300.0)
    p.add_argument("--port", type=int, default=8766)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--postgres", action="store_true", help="use a fresh PostgreSQL database")
    p.add_argument(
        "--postgres-url", default="postgres://postgres@127.0.0.1:5432/beacon_bench_storm"
    )
    p.add_argument("--json", action="store_true", help="print the figures as JSON too")
    return p.parse_args()


# --- the catalogue and the storm ------------------------------------------------------


@dataclass(frozen=True)
class Node:
    slug: str
    group: int
    parent: str | None
    level: int


def catalogue(args: argparse.Namespace, rng: random.Random) -> list[Node]:
    """``--services`` services in ``--groups`` trees, sizes as even as possible."""
    nodes: list[Node] = []
    sizes = [
        args.services // args.groups + (g < args.services % args.groups) for g in range(args.groups)
    ]
    for group, size in enumerate(sizes):
        members: list[Node] = []
        for i in range(size):
            slug = f"g{group}-s{i:02d}"
            if i == 0:
                members.append(Node(slug, group, None, 0))
            else:
                parent = rng.choice(members)
                members.append(Node(slug, group, parent.slug, parent.level + 1))
        nodes += members
    return nodes


@dataclass(frozen=True)
class Receipt:
    at: float  # seconds after the storm starts
    source: str  # "alertmanager" or "generic"
    service: str
    fingerprint: str
    severity: str


def storm(args: argparse.Namespace, nodes: list[Node], rng: random.Random) -> list[Receipt]:
    """Every notification of the storm, by time. A service's first receipt is
    exactly at its cascade start; each fingerprint keeps one source."""
    fingerprints = [
        (node, f"{node.slug}-fp{k:03d}", ("alertmanager", "generic")[k % 2])
        for node in nodes
        for k in range(args.fingerprints)
    ]
    repeats = max(args.alerts - len(fingerprints), 0)
    receipts: list[Receipt] = []
    for i, (node, fp, source) in enumerate(fingerprints):
        start = node.level * args.step
        first = start if fp.endswith("fp000") else rng.uniform(start, args.duration * 0.5)
        severity = ("critical", "warning")[i % 2]
        receipts.append(Receipt(first, source, node.slug, fp, severity))
    for _ in range(repeats):
        node, fp, source = rng.choice(fingerprints)
        at = rng.uniform(node.level * args.step + 0.5, args.duration)
        receipts.append(Receipt(at, source, node.slug, fp, "critical"))
    receipts.sort(key=lambda r: (r.at, r.fingerprint))
    # A repeat never precedes the fingerprint's first receipt.
    seen: dict[str, float] = {}
    ordered: list[Receipt] = []
    for r in receipts:
        if r.fingerprint in seen and r.at < seen[r.fingerprint]:
            r = Receipt(seen[r.fingerprint] + 0.01, r.source, r.service, r.fingerprint, r.severity)
        seen.setdefault(r.fingerprint, r.at)
        ordered.append(r)
    ordered.sort(key=lambda r: (r.at, r.fingerprint))
    return ordered


def requests_of(
    args: argparse.Namespace, receipts: list[Receipt]
) -> list[tuple[float, str, list[Receipt]]]:
    """Alertmanager receipts in groups of ``--group`` (sent with the group's
    last one: never early), generic ones one per request."""
    out: list[tuple[float, str, list[Receipt]]] = []
    pending: list[Receipt] = []
    for r in receipts:
        if r.source == "generic":
            out.append((r.at, "generic", [r]))
            continue
        if any(p.fingerprint == r.fingerprint for p in pending):
            out.append((pending[-1].at, "alertmanager", pending))
            pending = []
        pending.append(r)
        if len(pending) == args.group:
            out.append((pending[-1].at, "alertmanager", pending))
            pending = []
    if pending:
        out.append((pending[-1].at, "alertmanager", pending))
    out.sort(key=lambda item: item[0])
    return out


def body_of(source: str, receipts: list[Receipt], seq: int) -> bytes:
    now = datetime.now(UTC)
    if source == "generic":
        r = receipts[0]
        return json.dumps(
            {
                "externalId": r.fingerprint,
                "title": f"Errors on {r.service}",
                "description": f"storm receipt {seq}",
                "severity": r.severity,
                "status": "firing",
                "source": "storm",
                "startedAt": (now - timedelta(seconds=5)).isoformat(),
                "service": r.service,
                "environment": "production",
            }
        ).encode()
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate",
                "service": r.service,
                "severity": r.severity,
                "instance": f"{r.fingerprint}:9100",
            },
            "annotations": {"summary": f"Error rate high on {r.service}", "seq": f"{seq}.{i}"},
            "startsAt": (now - timedelta(seconds=5)).isoformat(),
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph",
            "fingerprint": r.fingerprint,
        }
        for i, r in enumerate(receipts)
    ]
    return json.dumps(
        {
            "version": "4",
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
    ).encode()


async def post(port: int, target: str, body: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    writer.write(head + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0


async def send_storm(
    args: argparse.Namespace, plan: list[tuple[float, str, list[Receipt]]], tokens: dict[str, str]
) -> dict:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    accepted: Counter[str] = Counter()  # firing receipts per fingerprint, when answered 202
    in_flight = asyncio.Semaphore(args.max_in_flight)
    paths = {"alertmanager": "/api/alertmanager/alerts", "generic": "/api/generic/alerts"}

    async def one(seq: int, source: str, receipts: list[Receipt]) -> None:
        target = f"{paths[source]}?token={tokens[source]}"
        body = body_of(source, receipts, seq)
        async with in_flight:
            started = time.perf_counter()
            try:
                status = await post(args.port, target, body)
            except OSError as exc:
                errors[type(exc).__name__] += 1
                return
            latencies.append(time.perf_counter() - started)
        if status != 202:
            errors[f"HTTP {status}"] += 1
            return
        for r in receipts:
            accepted[r.fingerprint] += 1

    start = time.perf_counter()
    tasks = []
    last_report = start
    for seq, (at, source, receipts) in enumerate(plan):
        delay = start + at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(seq, source, receipts)))
        if time.perf_counter() - last_report >= 10:
            last_report = time.perf_counter()
            print(
                f"  {last_report - start:5.0f}s  requests {len(latencies)}  "
                f"alerts {sum(accepted.values())}  errors {sum(errors.values())}",
                flush=True,
            )
    await asyncio.gather(*tasks)
    return {
        "seconds": time.perf_counter() - start,
        "requests": len(tasks),
        "latencies": latencies,
        "errors": dict(errors),
        "accepted": accepted,
        "started": start,
    }


# --- settling and checks ------------------------------------------------------------------


def settled(integration_ids: list[int], fingerprints: int) -> tuple[bool, str]:
    from alerting.models import Alert
    from incidents.models import Incident

    alerts = Alert.objects.filter(integration__in=integration_ids)
    stored = alerts.count()
    waiting = alerts.filter(status="TRIGGERED", incident__isnull=True).count()
    investigating = Incident.objects.exclude(investigation_status="done").count()
    state = (
        f"stored {stored}/{fingerprints}, uncorrelated {waiting}, "
        f"investigations left {investigating}"
    )
    return stored == fingerprints and waiting == 0 and investigating == 0, state


def verify(nodes: list[Node], integration_ids: dict[str, int], accepted: Counter[str]) -> dict:
    from alerting.models import Alert
    from incidents.models import Incident, IncidentService

    group_of = {n.slug: n.group for n in nodes}
    rows = list(
        Alert.objects.filter(integration__in=list(integration_ids.values())).values_list(
            "fingerprint", "occurrence_count", "incident_id", "service__slug"
        )
    )
    per_fp = Counter(fp for fp, *_ in rows)
    wrong_counts = sum(1 for fp, count, *_ in rows if count != accepted.get(fp, 0))
    unmatched = sum(1 for *_, slug in rows if slug is None)
    incidents_of_group: dict[int, set[int]] = defaultdict(set)
    for _fp, _count, incident_id, slug in rows:
        if slug is not None:
            incidents_of_group[group_of[slug]].add(incident_id)
    groups_of_incident: dict[int, set[int]] = defaultdict(set)
    for incident_id, slug in IncidentService.objects.values_list("incident_id", "service__slug"):
        groups_of_incident[incident_id].add(group_of[slug])
    incidents = Incident.objects.count()
    return {
        "fingerprints_sent": len(accepted),
        "alerts_stored": len(rows),
        "duplicates": sum(1 for n in per_fp.values() if n > 1),
        "missing": len(set(accepted) - set(per_fp)),
        "wrong_occurrence_counts": wrong_counts,
        "alerts_without_service": unmatched,
        "incidents": incidents,
        "groups": len({n.group for n in nodes}),
        "groups_split_over_incidents": sum(1 for s in incidents_of_group.values() if len(s) != 1),
        "incidents_mixing_groups": sum(1 for s in groups_of_incident.values() if len(s) != 1),
        "correlated_alerts": sum(Incident.objects.values_list("correlated_alert_count", flat=True)),
    }


def main() -> int:
    args = parse_args()
    rng = random.Random(args.seed)
    nodes = catalogue(args, rng)
    receipts = storm(args, nodes, rng)
    plan = requests_of(args, receipts)
    fingerprints = len({r.fingerprint for r in receipts})

    data_dir, env = fresh_environment(
        "storm", args.postgres_url if args.postgres else None, BEACON_WEB_WORKERS=args.web_workers
    )
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from catalog import services as catalog_services
    from integrations.models import Integration

    now = timezone.now()
    for node in nodes:  # parents first: the list is in tree order within each group
        catalog_services.create_service(
            {
                "name": f"Service {node.slug}",
                "slug": node.slug,
                "depends_on": [node.parent] if node.parent else [],
            },
            now=now,
        )
    made = {
        source: Integration.objects.create(
            name=f"storm {source}", source=source, min_severity="warning"
        )
        for source in ("alertmanager", "generic")
    }
    tokens = {source: i.token for source, i in made.items()}
    integration_ids = {source: i.pk for source, i in made.items()}
    connection.close()

    from scripts.run_all import commands

    env = {**env, "PORT": str(args.port), "BEACON_WEB_WORKERS": args.web_workers}
    os.environ.update(PORT=str(args.port), BEACON_WEB_WORKERS=args.web_workers)
    web_cmd = [part for part in commands()["web"] if part not in ("--access-logfile", "-")]
    log = open(data_dir / "processes.log", "w")  # noqa: SIM115 - lives as long as they do
    cmds = [
        web_cmd,
        worker_command(args.concurrency, "WARNING"),
        beat_command(data_dir / "celerybeat-schedule", "WARNING"),
    ]
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        for cmd in cmds
    ]
    settle_s = float("nan")
    state = ""
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if asyncio.run(post(args.port, "/api/generic/alerts", b"{}")):
                    break
            except OSError:
                time.sleep(0.2)
        levels = max(n.level for n in nodes)
        print(
            f"storm: {len(receipts)} alerts ({fingerprints} distinct) over {len(nodes)} services "
            f"in {args.groups} groups (tree depth up to {levels}), {len(plan)} requests in "
            f"{args.duration:.0f}s; gunicorn {args.web_workers} workers, Celery "
            f"{args.concurrency} threads, {os.cpu_count()} CPUs, {connection.vendor}",
            flush=True,
        )
        result = asyncio.run(send_storm(args, plan, tokens))
        sent_at = time.perf_counter()
        print(f"  storm sent in {result['seconds']:.1f}s; waiting to settle", flush=True)
        deadline = time.monotonic() + args.settle_timeout
        ok = False
        while time.monotonic() < deadline:
            ok, state = settled(list(integration_ids.values()), fingerprints)
            connection.close()
            if ok:
                settle_s = time.perf_counter() - sent_at
                break
            time.sleep(0.5)
        print(f"  {'settled' if ok else 'NOT settled'}: {state}", flush=True)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
    checks = verify(nodes, integration_ids, result["accepted"])
    lat = sorted(result["latencies"])
    total = sum(result["accepted"].values())
    figures = {
        "database": connection.vendor,
        "alerts_accepted": total,
        "alerts_per_s": round(total / result["seconds"], 1),
        "requests": result["requests"],
        "p50_ms": round(percentile(lat, 0.5) * 1000, 1),
        "p95_ms": round(percentile(lat, 0.95) * 1000, 1),
        "p99_ms": round(percentile(lat, 0.99) * 1000, 1),
        "max_ms": round(max(lat) * 1000, 1) if lat else float("nan"),
        "errors": result["errors"],
        "settle_after_storm_s": round(settle_s, 1),
        **checks,
    }
    print()
    for name, value in figures.items():
        print(f"{name:>28}: {value}")
    if args.json:
        print(json.dumps(figures))
    if checks["incidents"] != checks["groups"] or not ok:
        print(f"\nlogs kept in {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    good = (
        ok
        and not result["errors"]
        and checks["duplicates"] == 0
        and checks["missing"] == 0
        and checks["wrong_occurrence_counts"] == 0
        and checks["incidents"] == checks["groups"]
        and checks["groups_split_over_incidents"] == 0
        and checks["incidents_mixing_groups"] == 0
    )
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
