"""Status-page benchmark data: N public monitors with D days of one-minute results.

    .venv/bin/python bench/public_data.py --postgres          # 100 x 90 days, ~13 M results
    .venv/bin/python bench/public_data.py --sqlite var/bench/public.sqlite3
    .venv/bin/python bench/public_data.py --monitors 10 --days 7 --postgres   # quick

Creates a fresh database (PostgreSQL ``beacon_bench_public`` by default, or a
SQLite file), migrates it, and writes through the product's models:

- N public HTTP monitors (through ``monitors.services.create_monitor``), laid
  out on a home status page in sections of 20;
- every minute of the last D days, one scheduled result per monitor: mostly UP
  with a per-monitor latency, and now and then a DEGRADED or DOWN run of 5-90
  minutes (seeded: the same data every run);
- the daily and hourly rollups folded from exactly those results with
  ``monitors.rollups.fold`` (what the engine does as results arrive), and
  each monitor's current state from its last result;
- a realistic incident history (a resolved incident per DOWN run longer than
  30 minutes, one open incident) and maintenance (a weekly recurring window
  and a one-off one ahead).

Raw results for all D days are written by default (``--raw-days`` keeps only
the newest days, as ``BEACON_RESULT_RETENTION_DAYS`` pruning would). Rows go
in with PostgreSQL COPY (psycopg) or SQLite ``executemany`` in big
transactions; progress is printed per monitor batch.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, fresh_environment

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/beacon_bench_public"
SECTION_SIZE = 20


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--monitors", type=int, default=100)
    p.add_argument("--days", type=int, default=90, help="days of one-minute results")
    p.add_argument(
        "--raw-days",
        type=int,
        default=0,
        help="keep raw results of the newest N days only (0: all)",
    )
    p.add_argument("--postgres", action="store_true", help="fresh PostgreSQL database")
    p.add_argument("--postgres-url", default=DEFAULT_PG)
    p.add_argument("--sqlite", default="", help="fresh SQLite file at this path")
    p.add_argument("--seed", type=int, default=7)
    return p.parse_args()


def setup(args: argparse.Namespace) -> None:
    if args.postgres:
        fresh_environment("public", args.postgres_url)
    else:
        path = Path(args.sqlite or ROOT / "var" / "bench" / "public.sqlite3").resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        data_dir = path.parent / "data"
        data_dir.mkdir(exist_ok=True)
        os.environ.update(
            DJANGO_SETTINGS_MODULE="statuspage.settings",
            DATABASE_URL=f"sqlite:///{path}",
            BEACON_DATA_DIR=str(data_dir),
            BEACON_SECRET_KEY="bench",  # noqa: S106 - throwaway benchmark database
            BEACON_LOG_LEVEL="WARNING",
        )
        os.environ.pop("REDIS_URL", None)
        import subprocess

        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def day_runs(rng: random.Random) -> list[tuple[int, int, str]]:
    """Trouble in one day: (start minute, length, status) runs, usually none."""
    runs = []
    if rng.random() < 0.06:
        runs.append((rng.randrange(1440), rng.randint(5, 90), "DEGRADED"))
    if rng.random() < 0.04:
        runs.append((rng.randrange(1440), rng.randint(5, 90), "DOWN"))
    return runs


def main() -> int:
    args = parse_args()
    setup(args)
    from django.db import connection, transaction
    from django.utils import timezone

    from incidents import services as incident_services
    from incidents.maintenance_services import create_window
    from monitors import services
    from monitors.models import CheckResult, DailyRollup, HourlyRollup, MonitorState
    from monitors.rollups import Bucket
    from public_site.models import Section, SectionMonitor, StatusPage

    rng = random.Random(args.seed)
    started = time.monotonic()
    now = timezone.now().replace(second=0, microsecond=0)
    end = now  # results up to the minute before now
    first_day = (end - timedelta(days=args.days - 1)).date()
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    minutes = int((end - start).total_seconds() // 60)
    raw_from = end - timedelta(days=args.raw_days) if args.raw_days else start
    print(
        f"{args.monitors} monitors x {minutes:,} minutes = {args.monitors * minutes:,} results "
        f"({'PostgreSQL' if args.postgres else 'SQLite'}; raw from {raw_from:%Y-%m-%d %H:%M})",
        flush=True,
    )

    monitors = []
    page = StatusPage.objects.create(slug="home", title="Home", is_home=True)
    for n in range(args.monitors):
        if n % SECTION_SIZE == 0:
            section = Section.objects.create(
                page=page, name=f"Region {n // SECTION_SIZE + 1}", position=n
            )
        monitor = services.create_monitor(
            {
                "name": f"Service {n + 1:03d}",
                "tag": f"svc-{n + 1:03d}",
                "kind": "http",
                "config": {"url": f"http://127.0.0.1:9/{n}"},
                "is_public": True,
            },
            now=now,
        )
        SectionMonitor.objects.create(section=section, monitor=monitor, position=n)
        monitors.append(monitor)
    # No beat runs in the benchmark; keep the monitors out of any schedule.
    MonitorState.objects.update(next_check_at=None)

    stamps = [start + timedelta(minutes=m) for m in range(minutes)]
    text = [s.strftime("%Y-%m-%d %H:%M:%S+00") for s in stamps]
    day_of = [s.date() for s in stamps]
    hour_of = [s.replace(minute=0) for s in stamps]
    first_raw = next((i for i, s in enumerate(stamps) if s >= raw_from), minutes)
    long_down: list[tuple[int, datetime, datetime]] = []
    written = 0

    for batch_start in range(0, len(monitors), 10):
        batch = monitors[batch_start : batch_start + 10]
        daily: dict = {}
        hourly: dict = {}
        states = []
        rows_pg = io.StringIO()
        rows_sqlite: list[tuple] = []
        for monitor in batch:
            base = rng.uniform(20, 300)
            statuses = ["UP"] * minutes
            for offset in range(0, minutes, 1440):
                for begin, length, status in day_runs(rng):
                    a = offset + begin
                    b = min(a + length, minutes)
                    for i in range(a, b):
                        if status == "DOWN" or statuses[i] == "UP":
                            statuses[i] = status
                    if status == "DOWN" and length > 30 and b > a:
                        long_down.append((monitor.pk, stamps[a], stamps[b - 1]))
            mid = monitor.pk
            last_status = statuses[-1]
            for i in range(minutes):
                status = statuses[i]
                latency = None if status == "DOWN" else round(base * rng.uniform(0.7, 1.6), 1)
                if status == "DEGRADED" and latency is not None:
                    latency *= 4
                key_d = (mid, day_of[i])
                key_h = (mid, hour_of[i])
                bucket = daily.get(key_d)
                if bucket is None:
                    bucket = daily[key_d] = Bucket()
                bucket.add(status, latency)
                bucket = hourly.get(key_h)
                if bucket is None:
                    bucket = hourly[key_h] = Bucket()
                bucket.add(status, latency)
                if i < first_raw:
                    continue
                lat = "\\N" if latency is None else repr(latency)
                if args.postgres:
                    rows_pg.write(f"{mid}\tscheduled\t{status}\t{text[i]}\t{text[i]}\t{lat}\t0\t\n")
                else:
                    rows_sqlite.append(
                        (mid, "scheduled", status, text[i][:-3], text[i][:-3], latency, 0, "")
                    )
            since_index = minutes - 1
            while since_index > 0 and statuses[since_index - 1] == last_status:
                since_index -= 1
            states.append(
                MonitorState(
                    monitor_id=mid,
                    status=last_status,
                    since=stamps[since_index],
                    last_checked_at=stamps[-1],
                    last_due_at=stamps[-1],
                    last_latency_ms=base,
                    consecutive_count=minutes - since_index,
                )
            )
        with transaction.atomic():
            if args.postgres:
                with connection.cursor() as cursor:
                    copy_sql = (
                        f"COPY {CheckResult._meta.db_table} (monitor_id, source, status, due_at, "
                        "checked_at, latency_ms, lag_ms, message) FROM STDIN"
                    )
                    with cursor.cursor.copy(copy_sql) as copy:
                        copy.write(rows_pg.getvalue())
            else:
                with connection.cursor() as cursor:
                    cursor.executemany(
                        f"INSERT INTO {CheckResult._meta.db_table} (monitor_id, source, status, "
                        "due_at, checked_at, latency_ms, lag_ms, message) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                        rows_sqlite,
                    )
            DailyRollup.objects.bulk_create(
                [
                    DailyRollup(
                        monitor_id=m,
                        day=d,
                        up_count=b.up,
                        degraded_count=b.degraded,
                        down_count=b.down,
                        latency_count=b.latency_count,
                        latency_sum=b.latency_sum,
                        latency_min=b.latency_min,
                        latency_max=b.latency_max,
                    )
                    for (m, d), b in daily.items()
                ],
                batch_size=2000,
            )
            HourlyRollup.objects.bulk_create(
                [
                    HourlyRollup(
                        monitor_id=m,
                        hour=h,
                        up_count=b.up,
                        degraded_count=b.degraded,
                        down_count=b.down,
                        latency_count=b.latency_count,
                        latency_sum=b.latency_sum,
                        latency_min=b.latency_min,
                        latency_max=b.latency_max,
                    )
                    for (m, h), b in hourly.items()
                ],
                batch_size=2000,
            )
            MonitorState.objects.bulk_update(
                states,
                [
                    "status",
                    "since",
                    "last_checked_at",
                    "last_due_at",
                    "last_latency_ms",
                    "consecutive_count",
                ],
            )
        written += len(batch) * (minutes - first_raw)
        elapsed = time.monotonic() - started
        print(
            f"  {batch_start + len(batch):>4}/{len(monitors)} monitors, {written:,} results, "
            f"{elapsed:.0f} s ({written / max(elapsed, 1e-9):,.0f}/s)",
            flush=True,
        )

    # Incidents: one per long outage (resolved), one still open; maintenance.
    by_id = {m.pk: m for m in monitors}
    for mid, a, b in long_down[:300]:
        incident = incident_services.create_incident(
            title=f"{by_id[mid].name} unreachable",
            body="Requests **fail**; we are investigating.",
            now=a,
            started_at=a,
            monitors=[(by_id[mid], "DOWN")],
        )
        incident_services.post_update(
            incident, state="RESOLVED", body="Recovered.", now=b + timedelta(minutes=1)
        )
    incident_services.create_incident(
        title="Elevated latency in Region 1",
        body="Some requests are slow.",
        now=now - timedelta(minutes=20),
        monitors=[(m, "DEGRADED") for m in monitors[:3]],
    )
    weekly = start - timedelta(days=start.weekday() + 1) + timedelta(hours=2)
    create_window(
        {
            "title": "Weekly database maintenance",
            "starts_at": weekly,
            "ends_at": weekly + timedelta(hours=1),
            "rrule": "FREQ=WEEKLY",
            "monitors": monitors[10:20],
        },
        now=now,
    )
    create_window(
        {
            "title": "Network upgrade",
            "starts_at": now + timedelta(days=3),
            "ends_at": now + timedelta(days=3, hours=2),
            "is_global": True,
        },
        now=now,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            size = cursor.fetchone()[0]
    else:
        size = f"{Path(connection.settings_dict['NAME']).stat().st_size / 2**20:,.0f} MB"
    total = CheckResult.objects.count()
    print(
        f"done: {total:,} results, {DailyRollup.objects.count():,} daily and "
        f"{HourlyRollup.objects.count():,} hourly rollups, {len(long_down[:300])} incidents; "
        f"database {size}; {time.monotonic() - started:.0f} s"
    )
    print(f"DATABASE_URL={os.environ['DATABASE_URL']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
