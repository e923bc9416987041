"""Daily and hourly rollups, incremented as results are written.

Django's ``bulk_create(update_conflicts=True)`` can only overwrite columns
with the new row's values; rollups need ``count = count + excluded.count``.
So this module writes one ``INSERT ... ON CONFLICT DO UPDATE`` per batch by
hand, in the SQL subset SQLite (3.24+) and PostgreSQL share. Results are
first folded in Python into one row per (monitor, bucket).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection

from .models import DailyRollup, HourlyRollup, Status


@dataclass
class Bucket:
    """Counts and latency folded from several results."""

    up: int = 0
    degraded: int = 0
    down: int = 0
    latency_count: int = 0
    latency_sum: float = 0.0
    latency_min: float | None = None
    latency_max: float | None = None

    def add(self, status: str, latency_ms: float | None) -> None:
        if status == Status.UP:
            self.up += 1
        elif status == Status.DEGRADED:
            self.degraded += 1
        else:
            self.down += 1
        if latency_ms is not None:
            self.latency_count += 1
            self.latency_sum += latency_ms
            self.latency_min = (
                latency_ms if self.latency_min is None else min(self.latency_min, latency_ms)
            )
            self.latency_max = (
                latency_ms if self.latency_max is None else max(self.latency_max, latency_ms)
            )


def fold(
    results: Iterable[tuple[int, datetime, str, float | None]],
) -> tuple[dict[tuple[int, date], Bucket], dict[tuple[int, datetime], Bucket]]:
    """Fold (monitor_id, checked_at, status, latency) into daily and hourly buckets (UTC)."""
    daily: dict[tuple[int, date], Bucket] = {}
    hourly: dict[tuple[int, datetime], Bucket] = {}
    for monitor_id, at, status, latency in results:
        day_key = (monitor_id, at.date())
        hour_key = (monitor_id, at.replace(minute=0, second=0, microsecond=0))
        daily.setdefault(day_key, Bucket()).add(status, latency)
        hourly.setdefault(hour_key, Bucket()).add(status, latency)
    return daily, hourly


_CHUNK = 500  # rows per statement: far below SQLite's bound-parameter limit


def _upsert(table: str, bucket_column: str, rows: dict) -> None:
    items = sorted(rows.items(), key=lambda item: (item[0][0], item[0][1]))
    for start in range(0, len(items), _CHUNK):
        _upsert_chunk(table, bucket_column, items[start : start + _CHUNK])


def _upsert_chunk(table: str, bucket_column: str, items: list) -> None:
    if not items:
        return
    ops = connection.ops
    adapt = ops.adapt_datefield_value if bucket_column == "day" else ops.adapt_datetimefield_value
    qn = connection.ops.quote_name
    columns = [
        "monitor_id",
        bucket_column,
        "up_count",
        "degraded_count",
        "down_count",
        "latency_count",
        "latency_sum",
        "latency_min",
        "latency_max",
    ]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params: list[object] = []
    # Sorted keys make concurrent writers lock rows in the same order (no deadlock).
    for (monitor_id, key), b in items:
        params.extend(
            [
                monitor_id,
                adapt(key),
                b.up,
                b.degraded,
                b.down,
                b.latency_count,
                b.latency_sum,
                b.latency_min,
                b.latency_max,
            ]
        )
    t = qn(table)
    sums = ", ".join(
        f"{c} = {t}.{c} + excluded.{c}"
        for c in ("up_count", "degraded_count", "down_count", "latency_count", "latency_sum")
    )
    # NULL-safe min/max that read the same on SQLite and PostgreSQL.
    extremes = (
        f"latency_min = CASE WHEN {t}.latency_min IS NULL OR excluded.latency_min < "
        f"{t}.latency_min THEN excluded.latency_min ELSE {t}.latency_min END, "
        f"latency_max = CASE WHEN {t}.latency_max IS NULL OR excluded.latency_max > "
        f"{t}.latency_max THEN excluded.latency_max ELSE {t}.latency_max END"
    )
    # Only identifiers from our own models are interpolated; values are bound.
    sql = (
        f"INSERT INTO {t} ({', '.join(columns)}) VALUES "  # noqa: S608
        + ", ".join([placeholders] * len(items))
        + f" ON CONFLICT (monitor_id, {bucket_column}) DO UPDATE SET {sums}, {extremes}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def add_results(results: Iterable[tuple[int, datetime, str, float | None]]) -> None:
    """Add results to the daily and hourly rollups. Call inside the transaction
    that writes the results so rollups and raw rows never disagree."""
    daily, hourly = fold(results)
    _upsert(DailyRollup._meta.db_table, "day", daily)
    _upsert(HourlyRollup._meta.db_table, "hour", hourly)
