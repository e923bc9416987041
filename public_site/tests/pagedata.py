"""Building realistic public-page data through the real services.

``history(monitor, now, days={offset: [statuses]})`` records one scheduled
result per status on the day ``offset`` days before ``now`` (through
``monitors.services.record_results``, so rollups are written the product's
way); ``status_page(...)`` lays out a page with sections.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from monitors import services
from monitors.models import Monitor
from monitors.tests.factories import make_monitor, result
from public_site.models import Section, SectionMonitor, StatusPage


def noon(now: datetime, days_ago: int) -> datetime:
    """12:00 UTC ``days_ago`` days before ``now``'s UTC day (or ``now`` if earlier today)."""
    day = now.astimezone(UTC).date() - timedelta(days=days_ago)
    moment = datetime.combine(day, time(12), tzinfo=UTC)
    return min(moment, now - timedelta(seconds=1)) if days_ago == 0 else moment


def history(monitor: Monitor, now: datetime, days: dict[int, Sequence[str]]) -> None:
    """Record results for ``monitor``: ``{days_ago: ["UP", "DOWN", ...]}``.

    Results of a day are a minute apart from 12:00 UTC (from ``now`` backwards
    for today), oldest day first, so the last recorded status is the newest."""
    rows = []
    for days_ago in sorted(days, reverse=True):
        statuses = days[days_ago]
        base = noon(now, days_ago)
        if days_ago == 0:
            base = now - timedelta(minutes=len(statuses))
        for n, status in enumerate(statuses):
            at = base + timedelta(minutes=n)
            rows.append(result(monitor, at, status, latency_ms=20.0 + n))
    services.record_results(rows, now=now)


def monitors(names: Iterable[str], **fields: Any) -> list[Monitor]:
    """Public monitors named ``names`` with tags made from the names."""
    return [make_monitor(name=name, tag=name.lower().replace(" ", "-"), **fields) for name in names]


def status_page(
    slug: str, title: str, sections: dict[str, Sequence[Monitor]], *, is_home: bool = False
) -> StatusPage:
    """A page with ``{section name: [monitors in order]}``."""
    page = StatusPage.objects.create(slug=slug, title=title, is_home=is_home)
    for position, (name, members) in enumerate(sections.items()):
        section = Section.objects.create(page=page, name=name, position=position)
        for order, monitor in enumerate(members):
            SectionMonitor.objects.create(section=section, monitor=monitor, position=order)
    return page
