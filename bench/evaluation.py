"""Alert evaluation cost per result, with 1 day and with 90 days of history.

Creates a monitor (60 s interval) with three alert rules (STATUS, LATENCY,
UPTIME), bulk-loads 1 day and then 90 days of past results, and times
``record_results`` (which writes the result, state, rollups and evaluates
the rules) for ``--results`` new results recorded one at a time. The cost
must not grow with history: each rule reads only the last few results.

    .venv/bin/python bench/evaluation.py --postgres
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from common import fresh_environment


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--results", type=int, default=300)
    p.add_argument("--postgres", action="store_true")
    p.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/beacon_evalbench")
    args = p.parse_args()
    data_dir, _env = fresh_environment("eval", args.postgres_url if args.postgres else None)

    import django

    django.setup()
    from django.db import connection

    from alerting.models import AlertRule
    from monitors import services
    from monitors.models import CheckResult
    from monitors.services import NewResult

    now = datetime(2026, 6, 1, tzinfo=UTC)
    monitor = services.create_monitor(
        {"name": "Eval", "tag": "eval", "kind": "tcp", "config": {}}, now=now
    )
    for kind, value in (("STATUS", "DOWN"), ("LATENCY", "1000"), ("UPTIME", "99.9")):
        rule = AlertRule.objects.create(kind=kind, value=value, failure_threshold=5)
        rule.monitors.add(monitor)

    def load_history(days: int, end: datetime) -> None:
        have = CheckResult.objects.filter(monitor=monitor).count()
        want = days * 1440
        start = end - timedelta(minutes=want)
        rows = [
            CheckResult(
                monitor=monitor,
                status="UP",
                due_at=start + timedelta(minutes=i),
                checked_at=start + timedelta(minutes=i),
                latency_ms=20.0,
            )
            for i in range(want - have)
        ]
        CheckResult.objects.bulk_create(rows, batch_size=5000)

    def timed(start: datetime) -> list[float]:
        costs = []
        for i in range(args.results):
            at = start + timedelta(minutes=i)
            status = "DOWN" if (i // 10) % 2 else "UP"  # alternate outages: real transitions
            began = time.perf_counter()
            services.record_results(
                [NewResult(monitor.pk, at, at, status, 30.0 if status == "UP" else None)], now=at
            )
            costs.append((time.perf_counter() - began) * 1000)
        return costs

    figures = {}
    history_end = now
    start = now + timedelta(days=1)
    for days in (1, 90):
        load_history(days, history_end)  # history grows backwards from a fixed end
        costs = timed(start)
        count = CheckResult.objects.filter(monitor=monitor).count()
        figures[days] = (statistics.median(costs), sorted(costs)[int(len(costs) * 0.95)], count)
        start += timedelta(minutes=args.results)
    print(f"database: {connection.vendor}; {args.results} results recorded one at a time")
    for days, (median, p95, count) in figures.items():
        print(
            f"  history {days:>2} days ({count:>7} results): "
            f"median {median:.2f} ms, p95 {p95:.2f} ms per result"
        )
    shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
