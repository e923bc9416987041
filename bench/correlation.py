"""Correlation cost per alert, without HTTP: how fast one worker folds stored
alerts into incidents.

Creates a fresh database (PostgreSQL ``beacon_bench_correlation`` with
``--postgres``), ``--services`` services in ``--groups`` dependency trees and
``--alerts`` firing external alerts spread over them, then calls
``alerting.correlation_services.process_alerts`` in batches of ``--batch``
(as the ingestion's task does), in this process. Prints alerts per second,
milliseconds and SQL statements per alert, and the incidents made (one per
group expected).

    .venv/bin/python bench/correlation.py --postgres
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time

from common import fresh_environment, percentile


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--services", type=int, default=50)
    p.add_argument("--groups", type=int, default=7)
    p.add_argument("--alerts", type=int, default=2000)
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--postgres", action="store_true")
    p.add_argument(
        "--postgres-url", default="postgres://postgres@127.0.0.1:5432/beacon_bench_correlation"
    )
    args = p.parse_args()
    data_dir, _env = fresh_environment("correlation", args.postgres_url if args.postgres else None)

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from alerting.correlation_services import process_alerts
    from alerting.models import Alert
    from catalog import services as catalog_services
    from catalog.models import Service
    from incidents.models import Incident
    from integrations.models import Integration

    rng = random.Random(args.seed)
    now = timezone.now()
    order: list[str] = []  # roots first, then their trees: the cascade order
    for group in range(args.groups):
        members: list[str] = []
        for i in range(args.services // args.groups + (group < args.services % args.groups)):
            slug = f"g{group}-s{i:02d}"
            deps = [rng.choice(members)] if members else []
            catalog_services.create_service(
                {"name": slug, "slug": slug, "depends_on": deps}, now=now
            )
            members.append(slug)
        order += members
    services = {s.slug: s for s in Service.objects.all()}
    integration = Integration.objects.create(name="bench", source="generic", min_severity="info")
    # The first alerts follow the cascade (each service after the one it depends on).
    slugs = order + [rng.choice(order) for _ in range(args.alerts - len(order))]
    alerts = Alert.objects.bulk_create(
        [
            Alert(
                source="generic",
                integration=integration,
                fingerprint=f"fp-{i}",
                title=f"Errors on {slug}",
                severity="CRITICAL",
                service=services[slug],
                status="TRIGGERED",
                triggered_at=now,
                last_seen_at=now,
            )
            for i, slug in enumerate(slugs)
        ]
    )
    ids = [a.pk for a in alerts]
    per_batch: list[float] = []
    statements = 0
    started = time.perf_counter()
    for i in range(0, len(ids), args.batch):
        connection.queries_log.clear()  # the log keeps 9,000 at most
        t = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            process_alerts(ids[i : i + args.batch], now)
        statements += len(queries.captured_queries)
        per_batch.append((time.perf_counter() - t) / len(ids[i : i + args.batch]))
    elapsed = time.perf_counter() - started
    incidents = Incident.objects.count()
    print(f"database: {connection.vendor}")
    print(f"alerts: {len(ids)} over {len(order)} services in {args.groups} groups")
    print(f"alerts/s (one worker thread): {len(ids) / elapsed:.0f}")
    print(
        f"ms per alert: median {percentile(per_batch, 0.5) * 1000:.1f}, "
        f"p95 {percentile(per_batch, 0.95) * 1000:.1f}"
    )
    print(f"SQL statements per alert: {statements / len(ids):.1f}")
    print(f"incidents: {incidents} (groups: {args.groups})")
    shutil.rmtree(data_dir, ignore_errors=True)
    return 0 if incidents == args.groups else 1


if __name__ == "__main__":
    sys.exit(main())
