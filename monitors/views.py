"""Console pages of the monitors app: list, detail, create/edit, actions.

Views are thin: they read through ``monitors.selectors``, change state only
through ``monitors.services`` (with ``now`` read once here) and enforce roles
on the server with ``role_required`` for every request, POSTs included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import role_required
from accounts.roles import ADMIN, OPERATOR, VIEWER, has_role

from . import selectors, services
from .forms import MonitorForm
from .models import HourlyRollup, Kind, Monitor, MonitorEvent, Status
from .svg import day_bars, latency_chart, sparkline

PAGE_SIZE = 50
STATUS_FILTERS = [
    (Status.UP.value, "Up"),
    (Status.DEGRADED.value, "Degraded"),
    (Status.DOWN.value, "Down"),
    ("PENDING", "Pending (never checked)"),
    ("PAUSED", "Paused"),
]
SORTS = {
    "name": "Name A to Z",
    "-name": "Name Z to A",
    "status": "Worst status first",
    "kind": "Kind",
    "last": "Last checked",
    "latency": "Slowest first",
}
RANGES = {"24h": 24, "7d": 24 * 7}
HISTORY_DAYS = 90
RECENT_RESULTS = 50
RECENT_EVENTS = 20


def _hour_window(now: datetime, hours: int) -> datetime:
    """Start of a window of ``hours`` whole hours whose last one holds ``now``."""
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)


def _sorted(qs: QuerySet[Monitor], sort: str) -> QuerySet[Monitor]:
    if sort == "-name":
        return qs.order_by("-name", "-id")
    if sort == "kind":
        return qs.order_by("kind", "name", "id")
    if sort == "last":
        return qs.order_by(F("state__last_checked_at").desc(nulls_last=True), "name", "id")
    if sort == "latency":
        return qs.order_by(F("state__last_latency_ms").desc(nulls_last=True), "name", "id")
    if sort == "status":
        severity = Case(
            When(is_active=False, then=Value(4)),
            When(state__status=Status.DOWN, then=Value(0)),
            When(state__status=Status.DEGRADED, then=Value(1)),
            When(state__status__isnull=True, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        )
        return qs.order_by(severity, "name", "id")
    return qs.order_by("name", "id")


@dataclass(frozen=True)
class ListRow:
    """One row of the monitors list."""

    monitor: Monitor
    sparkline: SafeString
    uptime_24h: float | None


def _uptime(rows: list[HourlyRollup]) -> float | None:
    total = sum(r.up_count + r.degraded_count + r.down_count for r in rows)
    if not total:
        return None
    return round(100.0 * sum(r.up_count + r.degraded_count for r in rows) / total, 2)


@role_required(VIEWER)
def console_home(request: HttpRequest) -> HttpResponse:
    return redirect("monitors:list")


@role_required(VIEWER)
def monitor_list(request: HttpRequest) -> HttpResponse:
    """The dense list: filters and sort in the URL, 50 a page, one query for sparklines."""
    kind = request.GET.get("kind", "")
    kind = kind if kind in Kind.values else ""
    status = request.GET.get("status", "")
    status = status if status in dict(STATUS_FILTERS) else ""
    text = request.GET.get("q", "").strip()[:200]
    sort = request.GET.get("sort", "name")
    sort = sort if sort in SORTS else "name"
    qs = _sorted(selectors.monitor_list(kind=kind, status=status, text=text), sort)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    start = _hour_window(now, 24)
    series = selectors.hourly_latency_many([m.pk for m in page.object_list], since=start)
    rows = [
        ListRow(m, sparkline(series.get(m.pk, []), start=start), _uptime(series.get(m.pk, [])))
        for m in page.object_list
    ]
    filtered = bool(kind or status or text)
    return render(
        request,
        "monitors/list.html",
        {
            "page": page,
            "rows": rows,
            "kind": kind,
            "status": status,
            "q": text,
            "sort": sort,
            "filtered": filtered,
            "kinds": Kind.choices,
            "statuses": STATUS_FILTERS,
            "sorts": SORTS.items(),
            "now": now,
        },
    )


def _monitor(tag: str) -> Monitor:
    return get_object_or_404(Monitor.objects.select_related("state"), tag=tag)


@role_required(VIEWER)
def monitor_detail(request: HttpRequest, tag: str) -> HttpResponse:
    """Current state, actions by role, charts, day bars, recent results and events."""
    monitor = _monitor(tag)
    now = timezone.now()
    range_key = request.GET.get("range", "24h")
    range_key = range_key if range_key in RANGES else "24h"
    hours = RANGES[range_key]
    start = _hour_window(now, hours)
    chart = latency_chart(selectors.hourly_latency(monitor, since=start), start=start, hours=hours)
    history = selectors.daily_history(monitor, days=HISTORY_DAYS, today=now.date())
    push_url = None
    if monitor.push_token and has_role(request.user, ADMIN):
        push_url = request.build_absolute_uri(reverse("push", args=[monitor.push_token]))
    events = MonitorEvent.objects.filter(monitor=monitor).select_related("actor")[:RECENT_EVENTS]
    return render(
        request,
        "monitors/detail.html",
        {
            "monitor": monitor,
            "state": getattr(monitor, "state", None),
            "range": range_key,
            "ranges": list(RANGES),
            "chart": chart,
            "bars": day_bars(history),
            "history_first": history[0].day if history else None,
            "history_last": history[-1].day if history else None,
            "uptime_90": selectors.uptime_over(history),
            "uptime_30": selectors.uptime_over(history[-30:]),
            "uptime_7": selectors.uptime_over(history[-7:]),
            "results": selectors.recent_results(monitor, limit=RECENT_RESULTS),
            "events": events,
            "push_url": push_url,
            "now": now,
        },
    )


@role_required(OPERATOR)
@require_POST
def monitor_check(request: HttpRequest, tag: str) -> HttpResponse:
    """Run the check now. htmx gets the live-state partial; plain POSTs a redirect."""
    monitor = _monitor(tag)
    result = services.check_now(monitor, now=timezone.now())
    if request.headers.get("HX-Request") == "true":
        monitor = _monitor(tag)
        return render(
            request,
            "monitors/_live.html",
            {"monitor": monitor, "state": getattr(monitor, "state", None), "result": result},
        )
    if result is None:
        messages.info(request, "The check had nothing to record.")
    else:
        level = messages.SUCCESS if result.status == Status.UP else messages.WARNING
        text = f"Checked now: {result.get_status_display()}"
        if result.latency_ms is not None:
            text += f" in {result.latency_ms:.0f} ms"
        if result.message:
            text += f" ({result.message})"
        messages.add_message(request, level, text)
    return redirect("monitors:detail", tag=monitor.tag)


@role_required(ADMIN)
@require_POST
def monitor_toggle(request: HttpRequest, tag: str) -> HttpResponse:
    """Pause (``active=0``) or resume (``active=1``)."""
    monitor = _monitor(tag)
    active = request.POST.get("active") == "1"
    services.set_active(monitor, active, now=timezone.now(), actor=request.user)
    messages.success(request, f"{monitor.name} {'resumed' if active else 'paused'}.")
    return redirect("monitors:detail", tag=monitor.tag)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def monitor_create(request: HttpRequest) -> HttpResponse:
    form = MonitorForm(request.POST if request.method == "POST" else None, request=request)
    if request.method == "POST" and form.is_valid() and form.validated_data is not None:
        monitor = services.create_monitor(
            form.validated_data, now=timezone.now(), actor=request.user
        )
        messages.success(request, f"Monitor {monitor.name} created.")
        return redirect("monitors:detail", tag=monitor.tag)
    return _form_page(request, form, None)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def monitor_edit(request: HttpRequest, tag: str) -> HttpResponse:
    monitor = _monitor(tag)
    form = MonitorForm(
        request.POST if request.method == "POST" else None, instance=monitor, request=request
    )
    if request.method == "POST" and form.is_valid() and form.validated_data is not None:
        monitor = services.update_monitor(
            monitor, form.validated_data, now=timezone.now(), actor=request.user
        )
        messages.success(request, f"Monitor {monitor.name} saved.")
        return redirect("monitors:detail", tag=monitor.tag)
    return _form_page(request, form, monitor)


def _form_page(request: HttpRequest, form: MonitorForm, monitor: Monitor | None) -> HttpResponse:
    status = 400 if form.is_bound and form.errors else 200
    context: dict[str, Any] = {"form": form, "monitor": monitor}
    return render(request, "monitors/form.html", context, status=status)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def monitor_delete(request: HttpRequest, tag: str) -> HttpResponse:
    """GET: the confirmation page; POST: delete."""
    monitor = _monitor(tag)
    if request.method == "POST":
        name = monitor.name
        services.delete_monitor(monitor, now=timezone.now(), actor=request.user)
        messages.success(request, f"Monitor {name} deleted.")
        return redirect("monitors:list")
    return render(request, "monitors/confirm_delete.html", {"monitor": monitor})
