"""Check-engine benchmark: N HTTP monitors, real beat and worker, a few minutes.

Starts a local HTTP target, creates N HTTP monitors at a fixed interval in a
fresh database, runs real ``celery beat`` and ``celery worker`` processes,
and prints checks/s, schedule lag p50/p95/p99, worker peak RSS and the
database size. Progress is printed every 10 s.

    .venv/bin/python bench/checks.py --monitors 10000 --postgres
    .venv/bin/python bench/checks.py --monitors 10000            # SQLite

Monitors are created with their first check spread evenly over one interval,
as monitors added over time are; the first ``--warmup`` seconds are not
measured. Results for slots due inside the measured window count.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from common import ROOT, beat_command, fresh_environment, percentile, worker_command

PY = sys.executable


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--monitors", type=int, default=10_000, help="number of HTTP monitors")
    p.add_argument("--interval", type=int, default=60, help="check interval in seconds")
    p.add_argument("--duration", type=int, default=180, help="measured seconds")
    p.add_argument("--warmup", type=int, default=60, help="seconds before measuring")
    p.add_argument("--postgres", action="store_true", help="use a fresh PostgreSQL database")
    p.add_argument(
        "--postgres-url",
        default="postgres://postgres@127.0.0.1:5432/beacon_bench",
        help="database created afresh when --postgres is given",
    )
    p.add_argument(
        "--redis-url", default="", help="use Redis as the broker (e.g. redis://127.0.0.1:6379/14)"
    )
    p.add_argument("--concurrency", type=int, default=4, help="worker threads")
    p.add_argument("--batch-size", type=int, default=50, help="monitors per queued batch")
    p.add_argument("--tick", type=float, default=2.0, help="beat tick in seconds")
    p.add_argument("--json", action="store_true", help="print the figures as JSON too")
    p.add_argument("--keep", action="store_true", help="keep the data directory")
    return p.parse_args()


def rss_kb(pid: int) -> int:
    """Resident set size of ``pid`` and its children, in KiB (from /proc)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def main() -> int:
    args = parse_args()
    extra = {"BEACON_TICK_SECONDS": str(args.tick), "BEACON_BATCH_SIZE": str(args.batch_size)}
    if args.redis_url:
        extra["REDIS_URL"] = args.redis_url
    data_dir, env = fresh_environment(
        "bench", args.postgres_url if args.postgres else None, **extra
    )
    if args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
    print(f"data dir {data_dir}; database {env['DATABASE_URL']}")

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from monitors.models import CheckResult, Monitor, MonitorState

    target = subprocess.Popen(
        [PY, str(ROOT / "bench" / "target.py")], stdout=subprocess.PIPE, text=True
    )
    port = int(target.stdout.readline())  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/health"

    print(f"creating {args.monitors} HTTP monitors -> {url}")
    start_at = timezone.now() + timedelta(seconds=5)
    step = timedelta(seconds=args.interval) / max(args.monitors, 1)
    created = 0
    chunk = 2000
    while created < args.monitors:
        n = min(chunk, args.monitors - created)
        monitors = Monitor.objects.bulk_create(
            [
                Monitor(
                    name=f"Bench {created + i}",
                    tag=f"bench-{created + i}",
                    kind="http",
                    config={"url": url, "expected_status": ["200-399"]},
                    interval_seconds=args.interval,
                    timeout_seconds=10,
                )
                for i in range(n)
            ]
        )
        MonitorState.objects.bulk_create(
            [
                MonitorState(monitor=m, next_check_at=start_at + step * (created + i))
                for i, m in enumerate(monitors)
            ]
        )
        created += n
        print(f"  {created}/{args.monitors}", end="\r", flush=True)
    print()
    connection.close()

    worker = subprocess.Popen(
        [*worker_command(str(args.concurrency), "WARNING"), "--without-mingle", "--without-gossip"],
        cwd=ROOT,
        env=env,
        stdout=open(data_dir / "worker.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    beat = subprocess.Popen(
        beat_command(data_dir / "beat-schedule", "WARNING"),
        cwd=ROOT,
        env=env,
        stdout=open(data_dir / "beat.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    t0 = time.monotonic()
    measure_from = timezone.now() + timedelta(seconds=args.warmup)
    measure_to = measure_from + timedelta(seconds=args.duration)
    peak_rss = 0
    last_print = 0.0
    total = args.warmup + args.duration
    try:
        while time.monotonic() - t0 < total + 5:
            peak_rss = max(peak_rss, rss_kb(worker.pid))
            if worker.poll() is not None or beat.poll() is not None:
                print("a Celery process died; see logs in", data_dir)
                return 1
            elapsed = time.monotonic() - t0
            if elapsed - last_print >= 10:
                last_print = elapsed
                done = CheckResult.objects.count()
                connection.close()
                phase = "warm-up" if elapsed < args.warmup else "measuring"
                print(
                    f"  {elapsed:5.0f}s/{total}s {phase}: {done} results, "
                    f"worker RSS {rss_kb(worker.pid) / 1024:.0f} MB",
                    flush=True,
                )
            time.sleep(0.5)
    finally:
        for proc in (beat, worker):
            proc.send_signal(signal.SIGTERM)
        for proc in (beat, worker):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        target.terminate()

    window = CheckResult.objects.filter(
        source="scheduled", due_at__gte=measure_from, due_at__lt=measure_to
    )
    lags = list(window.values_list("lag_ms", flat=True))
    expected = args.monitors * args.duration / args.interval
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_database_size(current_database())")
            db_bytes = cur.fetchone()[0]
    else:
        db_file = Path(connection.settings_dict["NAME"])
        db_bytes = sum(p.stat().st_size for p in db_file.parent.glob(db_file.name + "*"))
    figures = {
        "database": connection.vendor,
        "monitors": args.monitors,
        "interval_s": args.interval,
        "measured_s": args.duration,
        "checks": len(lags),
        "checks_per_s": round(len(lags) / args.duration, 1),
        "target_checks_per_s": round(args.monitors / args.interval, 1),
        "completeness_pct": round(100 * len(lags) / expected, 2) if expected else None,
        "lag_p50_ms": round(percentile(lags, 0.50)),
        "lag_p95_ms": round(percentile(lags, 0.95)),
        "lag_p99_ms": round(percentile(lags, 0.99)),
        "lag_max_ms": max(lags) if lags else None,
        "worker_peak_rss_mb": round(peak_rss / 1024, 1),
        "database_size_mb": round(db_bytes / 1024 / 1024, 1),
        "results_total": CheckResult.objects.count(),
    }
    down = window.exclude(status="UP").count()
    figures["non_up_results"] = down
    print()
    for key, value in figures.items():
        print(f"{key:>22}: {value}")
    if args.json:
        print(json.dumps(figures))
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
