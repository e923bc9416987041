"""Read queries shaped for pages and the API. Nothing here scans raw results
for aggregates: day bars and charts read the rollups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet

from .models import CheckResult, DailyRollup, HourlyRollup, Monitor


def monitor_list(
    *, kind: str = "", status: str = "", text: str = "", active: str = ""
) -> QuerySet[Monitor]:
    """Monitors with their state, filtered for the list pages.

    ``status`` is UP / DEGRADED / DOWN, ``PENDING`` (never checked) or
    ``PAUSED``; ``text`` matches name, tag or description; ``active`` is
    ``"true"``/``"false"`` or empty.
    """
    qs = Monitor.objects.select_related("state")
    if kind:
        qs = qs.filter(kind=kind)
    if status == "PAUSED":
        qs = qs.filter(is_active=False)
    elif status == "PENDING":
        qs = qs.filter(state__status__isnull=True)
    elif status:
        qs = qs.filter(state__status=status)
    if text:
        qs = qs.filter(
            Q(name__icontains=text) | Q(tag__icontains=text) | Q(description__icontains=text)
        )
    if active in ("true", "false"):
        qs = qs.filter(is_active=(active == "true"))
    return qs


@dataclass(frozen=True)
class Day:
    """One day of a monitor's history; ``rollup`` is None when nothing was recorded."""

    day: date
    rollup: DailyRollup | None

    @property
    def status(self) -> str | None:
        return self.rollup.worst_status if self.rollup else None

    @property
    def uptime_percent(self) -> float | None:
        return self.rollup.uptime_percent if self.rollup else None


def daily_history(monitor: Monitor, *, days: int, today: date) -> list[Day]:
    """The last ``days`` days ending ``today`` (oldest first), gaps as empty days."""
    start = today - timedelta(days=days - 1)
    rollups = {r.day: r for r in DailyRollup.objects.filter(monitor=monitor, day__gte=start)}
    return [Day(day, rollups.get(day)) for day in (start + timedelta(n) for n in range(days))]


def uptime_over(history: list[Day]) -> float | None:
    """Uptime % over a run of days, weighting each day by its result count."""
    total = sum(d.rollup.total for d in history if d.rollup)
    if not total:
        return None
    ok = sum(d.rollup.up_count + d.rollup.degraded_count for d in history if d.rollup)
    return round(100.0 * ok / total, 3)


def hourly_latency(monitor: Monitor, *, since: datetime) -> list[HourlyRollup]:
    """Hourly rollups since ``since`` (oldest first) for latency charts."""
    return list(HourlyRollup.objects.filter(monitor=monitor, hour__gte=since).order_by("hour"))


def hourly_latency_many(
    monitor_ids: list[int], *, since: datetime
) -> dict[int, list[HourlyRollup]]:
    """Hourly rollups for several monitors in one query (list-page sparklines)."""
    series: dict[int, list[HourlyRollup]] = {mid: [] for mid in monitor_ids}
    for row in HourlyRollup.objects.filter(monitor_id__in=monitor_ids, hour__gte=since).order_by(
        "monitor_id", "hour"
    ):
        series[row.monitor_id].append(row)
    return series


def recent_results(
    monitor: Monitor,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[CheckResult]:
    """Newest results first, optionally within [since, until]."""
    qs = CheckResult.objects.filter(monitor=monitor)
    if since is not None:
        qs = qs.filter(checked_at__gte=since)
    if until is not None:
        qs = qs.filter(checked_at__lte=until)
    return list(qs.order_by("-checked_at", "-id")[:limit])
