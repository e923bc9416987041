"""The public pages for people: status pages, monitor and day detail,
incident and maintenance pages, and the history.

Views are thin: ``now`` is read once here, data comes from
``public_site.selectors`` (which applies the visibility rules), and every
successful page is cached through ``@cache_public`` (see ``public_site.cache``).
Unknown slugs, tags, keys, ids, dates and out-of-range history pages are
404s; a malformed page number shows the first page; nothing is a 500.

Times are rendered in the site's time zone inside ``<time datetime>``
elements, which ``public.js`` converts to the reader's zone.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, date, timedelta
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from monitors.selectors import hourly_latency
from monitors.svg import latency_chart

from . import selectors
from .bars import day_start, utc_day
from .cache import cache_public
from .models import SiteSettings, StatusPage
from .render import bar_links_html, site_style

RANGES = {"24h": 24, "7d": 24 * 7, "30d": 24 * 30}
DEFAULT_RANGE = "24h"
LEGEND = ("up", "degraded", "down", "maintenance", "nodata")
_KEY = re.compile(r"^INC-(\d{1,12})$", re.IGNORECASE)
_MAX_ID = 2**62


def _zone(site: SiteSettings) -> Any:
    try:
        return zoneinfo.ZoneInfo(site.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    site: SiteSettings | None = None,
    pages: list[StatusPage] | None = None,
    status: int = 200,
) -> HttpResponse:
    site = site or SiteSettings.load()
    context = {
        "site": site,
        "site_style": site_style(site),
        "nav_pages": pages if pages is not None else selectors.all_pages(),
        "retention_days": settings.BEACON_RESULT_RETENTION_DAYS,
        "legend_levels": LEGEND,
        **context,
    }
    with timezone.override(_zone(site)):
        return render(request, template, context, status=status)


@require_safe
@cache_public
def home(request: HttpRequest) -> HttpResponse:
    pages = selectors.all_pages()
    page = selectors.home_of(pages)
    return _page(request, page, pages, current="home")


@require_safe
@cache_public
def status_page(request: HttpRequest, slug: str) -> HttpResponse:
    pages = selectors.all_pages()
    page = next((p for p in pages if p.slug == slug), None)
    if page is None:
        raise Http404("No such status page.")
    return _page(request, page, pages, current=page.slug)


def _page(
    request: HttpRequest, page: StatusPage | None, pages: list[StatusPage], *, current: str
) -> HttpResponse:
    now = timezone.now()
    data = selectors.page_data(page, now=now)
    home = selectors.home_of(pages)
    context = {
        "data": data,
        "day_count": len(data.days),
        "page": page,
        "current_page": current if not (page and home and page.pk == home.pk) else "home",
        "now": now,
    }
    return _render(request, "public/page.html", context, pages=pages)


def _monitor_or_404(tag: str) -> Any:
    monitor = selectors.public_monitor(tag[:64])
    if monitor is None:
        raise Http404("No such monitor.")
    return monitor


@require_safe
@cache_public
def monitor(request: HttpRequest, tag: str) -> HttpResponse:
    monitor = _monitor_or_404(tag)
    now = timezone.now()
    data = selectors.monitor_page(monitor, now=now)
    chosen = request.GET.get("range", DEFAULT_RANGE)
    chosen = chosen if chosen in RANGES else DEFAULT_RANGE
    hours = RANGES[chosen]
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    chart = latency_chart(hourly_latency(monitor, since=start), start=start, hours=hours)
    prefix = reverse("public:monitor", args=[monitor.tag]) + "/days/"
    context = {
        "monitor": monitor,
        "data": data,
        "row": data.row,
        "bars": bar_links_html(data.row.days, url_prefix=prefix),
        "chart": chart,
        "ranges": list(RANGES),
        "range": chosen,
        "now": now,
    }
    return _render(request, "public/monitor.html", context)


@require_safe
@cache_public
def monitor_day(request: HttpRequest, tag: str, day: str) -> HttpResponse:
    monitor = _monitor_or_404(tag)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise Http404("Not a date (YYYY-MM-DD).") from None
    now = timezone.now()
    age = (utc_day(now) - when).days
    if not 0 <= age < selectors.PUBLIC_DAYS:
        raise Http404(f"Day detail covers the last {selectors.PUBLIC_DAYS} days.")
    detail = selectors.monitor_day(
        monitor, when, now=now, retention_days=settings.BEACON_RESULT_RETENTION_DAYS
    )
    hours = [None] * 24
    for row in detail.hours:
        hours[row.hour.astimezone(UTC).hour] = row
    grid = None
    if detail.minutes is not None:
        by_minute = {cell.minute: cell for cell in detail.minutes}
        grid = [[by_minute.get(h * 60 + m) for m in range(60)] for h in range(24)]
    chart = latency_chart(detail.hours, start=day_start(when), hours=24)
    context = {
        "monitor": monitor,
        "day": when,
        "detail": detail,
        "bar": detail.bar,
        "hours": list(enumerate(hours)),
        "grid": grid,
        "chart": chart,
        "previous_day": when - timedelta(days=1) if age + 1 < selectors.PUBLIC_DAYS else None,
        "next_day": when + timedelta(days=1) if age > 0 else None,
        "now": now,
    }
    return _render(request, "public/day.html", context)


@require_safe
@cache_public
def incident(request: HttpRequest, key: str) -> HttpResponse:
    match = _KEY.match(key)
    if match is None:
        raise Http404("Not an incident key.")
    pk = int(match.group(1))
    if not 0 < pk < _MAX_ID:
        raise Http404("No such incident.")
    data = selectors.incident_page(pk)
    if data is None:
        raise Http404("No such incident.")
    if key != data.incident.key:
        return redirect("public:incident", key=data.incident.key, permanent=True)
    now = timezone.now()
    return _render(
        request, "public/incident.html", {"incident": data.incident, "data": data, "now": now}
    )


@require_safe
@cache_public
def maintenance(request: HttpRequest, pk: int) -> HttpResponse:
    if not 0 < pk < _MAX_ID:
        raise Http404("No such maintenance window.")
    now = timezone.now()
    window = selectors.window_page(pk, now=now)
    if window is None:
        raise Http404("No such maintenance window.")
    return _render(request, "public/maintenance.html", {"window": window, "now": now})


@require_safe
@cache_public
def history(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("page", "1")
    try:
        number = int(raw) if len(raw) <= 6 else 1
    except ValueError:
        number = 1
    now = timezone.now()
    data = selectors.history_page(number, now=now)
    if data is None:
        raise Http404("No such history page.")
    context = {"history": data, "now": now, "current_page": "history"}
    return _render(request, "public/history.html", context)


_NOT_PUBLIC = ("/console/", "/accounts/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for the whole site (``handler404``): the public frame, except under
    the console and sign-in, which keep Django's default (the console's 404
    template), and under ``/api/``, which answers JSON in DRF's shape (a path
    no API route matches, e.g. a tag with upper-case letters, is still an API
    answer). Never links to the console from public paths."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse({"detail": "Not found.", "path": request.path[:200]}, status=404)
    if request.path.startswith(_NOT_PUBLIC):
        from django.views.defaults import page_not_found

        return page_not_found(request, exception)  # type: ignore[arg-type]
    response = _render(request, "public/404.html", {}, status=404)
    return response
