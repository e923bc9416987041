"""Status-page benchmark on the data of ``bench/public_data.py``.

    .venv/bin/python bench/public_data.py --postgres      # once: ~13 M results
    .venv/bin/python bench/public_page.py --postgres      # the three figures

Measures, on the database the data command left:

(a) the home page rendered from the database, cache off, one request at a
    time through Django's test client (the whole middleware and template
    stack, no network): p50 / p99 / max over ``--renders`` requests, the
    number of queries and the page size; and the per-day bars query alone
    (daily rollups of every monitor on the page for 90 days);
(b) real gunicorn (``--worker-class``, ``--workers``, ``--threads``) with
    the public cache on (``BEACON_PUBLIC_CACHE_SECONDS``), ``--connections``
    keep-alive connections for ``--duration`` seconds from a load generator
    on the same machine (``wrk`` when installed, else a small asyncio client
    in this file): requests/s, latency p50 / p99, errors. The generator
    competes with the server for the same two cores;
(c) the time from a monitor going DOWN (``monitors.services.record_results``
    in this process) until the page served by gunicorn shows it, polled every
    50 ms, ``--flips`` times (DOWN, then UP again, alternately).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, percentile

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/beacon_bench_public"
BIN = Path(sys.executable).parent


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--postgres", action="store_true", help="use the PostgreSQL bench database")
    p.add_argument("--postgres-url", default=DEFAULT_PG)
    p.add_argument("--sqlite", default=str(ROOT / "var" / "bench" / "public.sqlite3"))
    p.add_argument("--renders", type=int, default=200, help="uncached renders measured")
    p.add_argument("--path", default="/", help="page measured")
    # make run's web server: gunicorn with 2 sync workers (scripts/run_all.py).
    p.add_argument("--worker-class", default="sync")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--duration", type=int, default=20)
    p.add_argument("--ttl", type=int, default=2, help="BEACON_PUBLIC_CACHE_SECONDS for (b), (c)")
    p.add_argument("--flips", type=int, default=6)
    p.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    p.add_argument(
        "--rate",
        type=int,
        default=0,
        help="python tool only: requests/s to send on a fixed schedule (0: as fast as answered)",
    )
    p.add_argument("--skip", default="", help="comma list of parts to skip: a,b,c")
    p.add_argument(
        "--redis-url",
        default="",
        help="cache in Redis (shared by the gunicorn workers), e.g. redis://127.0.0.1:6379/14",
    )
    return p.parse_args()


def environment(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    data_dir = ROOT / "var" / "bench" / "page-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        DJANGO_SETTINGS_MODULE="statuspage.settings",
        DATABASE_URL=args.postgres_url if args.postgres else f"sqlite:///{args.sqlite}",
        BEACON_DATA_DIR=str(data_dir),
        BEACON_SECRET_KEY="bench",  # noqa: S106 - throwaway benchmark database
        BEACON_LOG_LEVEL="WARNING",
        BEACON_PUBLIC_CACHE_SECONDS=str(args.ttl),
    )
    if args.redis_url:
        env.update(REDIS_URL=args.redis_url, BEACON_CACHE_PREFIX="bench-public")
    return env


# --- (a) uncached render ---------------------------------------------------------------


def uncached(args: argparse.Namespace) -> dict[str, float]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone

    from public_site import selectors
    from statuspage.heap import freeze_startup_objects

    client = Client()
    freeze_startup_objects()  # as statuspage.wsgi does in every web worker
    with override_settings(BEACON_PUBLIC_CACHE_SECONDS=0, ALLOWED_HOSTS=["*"]):
        for _ in range(10):
            response = client.get(args.path)
            assert response.status_code == 200, response.status_code
        size = len(response.content)
        times = []
        cpu = []
        for _ in range(args.renders):
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(args.path)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        with CaptureQueriesContext(connection) as captured:
            client.get(args.path)
        queries = len(captured.captured_queries)
        # The per-day bars query alone: 90 days of rollups of every monitor on the page.
        page = selectors.home_of(selectors.all_pages())
        _, infos = selectors._layout(page)
        ids = list(infos)
        from datetime import timedelta

        today = timezone.now().date()
        bars = []
        for _ in range(20):
            t0 = time.perf_counter()
            counts = selectors.daily_counts(ids, today - timedelta(days=89), today)
            bars.append((time.perf_counter() - t0) * 1000)
        rows = [day for per in counts.values() for day in per]
    assert args.ttl == settings.BEACON_PUBLIC_CACHE_SECONDS
    return {
        "p50": percentile(times, 0.5),
        "p99": percentile(times, 0.99),
        "max": max(times),
        "cpu_p50": percentile(cpu, 0.5),
        "queries": queries,
        "kb": size / 1024,
        "monitors": len(ids),
        "bar_rows": len(rows),
        "bars_p50": percentile(bars, 0.5),
    }


# --- (b) load -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(args: argparse.Namespace, env: dict[str, str], port: int) -> subprocess.Popen:
    cmd = [
        str(BIN / "gunicorn"),
        "statuspage.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--log-level",
        "warning",
        "--keep-alive",
        "30",
    ]
    if args.worker_class == "gthread":
        cmd += ["--threads", str(args.threads)]
    log = open(ROOT / "var" / "bench" / "gunicorn.log", "wb")  # noqa: SIM115 - lives with the process
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited; see var/bench/gunicorn.log") from None
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def http_get(port: int, path: str, headers: str = "") -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n".encode()
        )
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def run_wrk(args: argparse.Namespace, port: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "--latency",
            "-H",
            "Accept-Encoding: gzip",
            f"http://127.0.0.1:{port}{args.path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    p50 = ms(re.search(r"50%\s+(\S+)", out).group(1))
    p99 = ms(re.search(r"99%\s+(\S+)", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "none",
        "tool": "wrk (2 threads)",
    }


async def _client(
    port: int,
    path: str,
    stop: float,
    lat: list[float],
    errors: list[int],
    interval: float | None,
    offset: float,
) -> None:
    """One keep-alive connection. With ``interval``, requests are sent on a
    fixed schedule and each latency counts from its scheduled time (open loop:
    a slow answer delays the next ones, and they are counted as late)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\n\r\n".encode()
    due = time.perf_counter() + offset
    while time.monotonic() < stop:
        if interval is not None:
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            t0 = due
            due += interval
        else:
            t0 = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
        await reader.readexactly(length)
        lat.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            errors.append(status)
        if re.search(rb"(?i)connection: close", head):
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()


def run_python(args: argparse.Namespace, port: int) -> dict[str, float]:
    lat: list[float] = []
    errors: list[int] = []
    interval = args.connections / args.rate if args.rate else None

    async def main() -> None:
        stop = time.monotonic() + args.duration
        await asyncio.gather(
            *(
                _client(
                    port,
                    args.path,
                    stop,
                    lat,
                    errors,
                    interval,
                    (interval or 0) * n / args.connections,
                )
                for n in range(args.connections)
            )
        )

    t0 = time.monotonic()
    asyncio.run(main())
    elapsed = time.monotonic() - t0
    mode = f"open loop at {args.rate:,} req/s" if args.rate else "closed loop"
    return {
        "rps": len(lat) / elapsed,
        "p50": percentile(lat, 0.5),
        "p99": percentile(lat, 0.99),
        "errors": len(errors),
        "socket_errors": "none",
        "tool": f"asyncio client, {mode} (1 process)",
    }


# --- (c) time to show a change ---------------------------------------------------------------


def visibility(args: argparse.Namespace, port: int) -> list[float]:
    from django.utils import timezone

    from monitors import services
    from monitors.models import Monitor
    from monitors.services import NewResult

    monitor = Monitor.objects.filter(is_public=True).order_by("tag")[
        Monitor.objects.filter(is_public=True).count() // 2
    ]
    tag = re.escape(monitor.tag)
    seen = []
    for n in range(args.flips):
        status, word = ("DOWN", "major_outage") if n % 2 == 0 else ("UP", "operational")
        now = timezone.now()
        services.record_results(
            [NewResult(monitor.pk, now, now, status, 10.0, "bench flip", "manual")], now=now
        )
        t0 = time.monotonic()
        pattern = re.compile(f'data-monitor="{tag}" data-status="{word}"'.encode())
        while True:
            code, body = http_get(port, args.path)
            if code == 200 and pattern.search(body):
                break
            if time.monotonic() - t0 > 30:
                raise RuntimeError("the change never showed")
            time.sleep(0.05)
        seen.append(time.monotonic() - t0)
        print(f"  flip {n + 1}: {status} visible after {seen[-1]:.2f} s", flush=True)
    return seen


def main() -> int:
    args = parse_args()
    skip = set(filter(None, args.skip.split(",")))
    env = environment(args)
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    cache = "Redis" if args.redis_url else "per-process memory"
    print(f"database: {connection.vendor}; page {args.path}; cache: {cache}", flush=True)
    if "a" not in skip:
        a = uncached(args)
        print(
            f"(a) uncached render: p50 {a['p50']:.1f} ms, p99 {a['p99']:.1f} ms, max "
            f"{a['max']:.1f} ms over {args.renders} renders (CPU of this process p50 "
            f"{a['cpu_p50']:.1f} ms); {a['queries']} queries; "
            f"{a['kb']:.0f} KiB HTML; {a['monitors']} monitors; per-day bars query "
            f"({a['bar_rows']:,} rollup rows) p50 {a['bars_p50']:.1f} ms",
            flush=True,
        )
    connection.close()
    if skip >= {"b", "c"}:
        return 0
    port = free_port()
    proc = start_gunicorn(args, env, port)
    try:
        # Warm-up: enough fresh connections to reach every worker once.
        for _ in range(10 * args.workers):
            code, _body = http_get(port, args.path, "Accept-Encoding: gzip\r\n")
            assert code == 200, code
        if "b" not in skip:
            tool = args.tool
            if tool == "auto":
                tool = "wrk" if shutil.which("wrk") and not args.rate else "python"
            b = run_wrk(args, port) if tool == "wrk" else run_python(args, port)
            print(
                f"(b) cached, gunicorn {args.worker_class} {args.workers} workers"
                f"{f' x {args.threads} threads' if args.worker_class == 'gthread' else ''}, "
                f"{args.connections} connections, {args.duration} s, {b['tool']}: "
                f"{b['rps']:,.0f} req/s, p50 {b['p50']:.1f} ms, p99 {b['p99']:.1f} ms, "
                f"non-2xx {b['errors']}, socket errors {b['socket_errors']}",
                flush=True,
            )
        if "c" not in skip:
            seen = visibility(args, port)
            print(
                f"(c) DOWN/UP visible after: max {max(seen):.2f} s, mean "
                f"{sum(seen) / len(seen):.2f} s over {len(seen)} flips (TTL {args.ttl} s)",
                flush=True,
            )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
