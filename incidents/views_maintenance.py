"""Console pages for maintenance windows: list, page, form, delete.

Views are thin: input is judged by ``MaintenanceWindowForm`` (which runs the
API's ``MaintenanceWindowSerializer``) and every change goes through
``incidents.maintenance_services`` with ``now`` read once here and
``actor=request.user``. Roles are enforced on the server for every request:
viewers read, admins create, edit and delete.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import role_required
from accounts.roles import ADMIN, VIEWER
from monitors.models import Monitor

from . import maintenance_services
from .forms_maintenance import MAX_DESCRIPTION, MaintenanceWindowForm
from .maintenance import is_active, parse_rrule
from .markdown import render as render_markdown
from .models import MaintenanceWindow

PAGE_SIZE = 25
NEXT_OCCURRENCES = 5
STATE_FILTERS = [
    ("all", "Any time"),
    ("active", "Active now"),
    ("upcoming", "Upcoming"),
    ("past", "Past"),
]
SORTS = {
    "newest": ("Newest start first", ("-starts_at", "-id")),
    "oldest": ("Oldest start first", ("starts_at", "id")),
    "title": ("Title", ("title", "id")),
}
DEFAULT_SORT = "newest"

# --- RRULE helpers ---------------------------------------------------------------------

_FREQ_WORDS = {
    "YEARLY": ("year", "years"),
    "MONTHLY": ("month", "months"),
    "WEEKLY": ("week", "weeks"),
    "DAILY": ("day", "days"),
    "HOURLY": ("hour", "hours"),
}
_DAY_WORDS = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
_UNDERSTOOD = {"FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL", "WKST"}


def describe_rrule(text: str) -> str:
    """Common RRULEs in words ("Every 2 weeks on Sunday, 10 times"); "" when not easy."""
    rule = text.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[6:]
    parts: dict[str, str] = {}
    for item in rule.split(";"):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        key = key.strip().upper()
        if not sep or key in parts or key not in _UNDERSTOOD:
            return ""
        parts[key] = value.strip().upper()
    freq = _FREQ_WORDS.get(parts.get("FREQ", ""))
    if freq is None:
        return ""
    interval = parts.get("INTERVAL", "1")
    if not interval.isdigit() or int(interval) < 1:
        return ""
    n = int(interval)
    words = f"Every {freq[0]}" if n == 1 else f"Every {n} {freq[1]}"
    if "BYDAY" in parts:
        days = parts["BYDAY"].split(",")
        if parts["FREQ"] not in ("WEEKLY", "DAILY") or not all(d in _DAY_WORDS for d in days):
            return ""
        names = [_DAY_WORDS[d] for d in days]
        words += " on " + (
            names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        )
    if "COUNT" in parts:
        if not parts["COUNT"].isdigit():
            return ""
        count = int(parts["COUNT"])
        words += ", once" if count == 1 else f", {count} times"
    if "UNTIL" in parts:
        until = parts["UNTIL"].rstrip("Z")
        try:
            day = datetime.strptime(until[:8], "%Y%m%d")
        except ValueError:
            return ""
        words += f", until {day:%Y-%m-%d}"
    return words


def _rule(window: MaintenanceWindow) -> Any:
    """The window's parsed recurrence, or None (one-off, or a rule that no longer parses)."""
    if not window.rrule:
        return None
    try:
        return parse_rrule(window.rrule, window.starts_at)
    except (ValueError, TypeError, OverflowError, KeyError, IndexError, AttributeError):
        return None


def _active(window: MaintenanceWindow, now: datetime) -> bool:
    try:
        return is_active(window, now)
    except (ValueError, TypeError, OverflowError, KeyError, IndexError, AttributeError):
        return False


def next_starts(window: MaintenanceWindow, now: datetime, count: int = 1) -> list[datetime]:
    """The starts of the next ``count`` occurrences after ``now`` (one-off: its start, if ahead)."""
    if not window.rrule:
        return [window.starts_at] if window.starts_at > now else []
    rule = _rule(window)
    if rule is None:
        return []
    try:
        return list(itertools.islice(rule.xafter(now, count=count), count))
    except (ValueError, TypeError, OverflowError):
        return []


def current_end(window: MaintenanceWindow, now: datetime) -> datetime | None:
    """When the occurrence covering ``now`` ends, or None if none does."""
    if not _active(window, now):
        return None
    if not window.rrule:
        return window.ends_at
    rule = _rule(window)
    start = rule.before(now, inc=True) if rule is not None else None
    return start + (window.ends_at - window.starts_at) if start else None


def window_state(window: MaintenanceWindow, now: datetime) -> str:
    """``active``, ``upcoming`` or ``past`` at ``now``."""
    if _active(window, now):
        return "active"
    return "upcoming" if next_starts(window, now) else "past"


# --- list ---------------------------------------------------------------------------


def filter_windows(
    params: Any, now: datetime
) -> tuple[QuerySet[MaintenanceWindow], dict[str, str]]:
    """The windows matching the list's URL filters, and the cleaned filters.

    One-off windows are filtered in SQL; recurring ones need their RRULE, so
    their state is worked out here (there are few of them).
    """
    qs = MaintenanceWindow.objects.all()
    monitor = params.get("monitor", "").strip()[:64]
    if monitor:
        # A monitor is covered by the windows naming it and by the global ones.
        qs = qs.filter(Q(is_global=True) | Q(monitors__tag=monitor)).distinct()
    state = params.get("state", "")
    state = state if state in dict(STATE_FILTERS) else "all"
    if state != "all":
        one_off = {
            "active": Q(starts_at__lte=now, ends_at__gt=now),
            "upcoming": Q(starts_at__gt=now),
            "past": Q(ends_at__lte=now),
        }[state]
        recurring = qs.exclude(rrule="")
        if state in ("active", "past"):
            recurring = recurring.filter(starts_at__lte=now)
        ids = [
            w.pk
            for w in recurring.only("pk", "starts_at", "ends_at", "rrule")
            if window_state(w, now) == state
        ]
        qs = qs.filter((Q(rrule="") & one_off) | Q(pk__in=ids))
    sort = params.get("sort", "")
    sort = sort if sort in SORTS else DEFAULT_SORT
    qs = qs.order_by(*SORTS[sort][1])
    filters = {
        "state": "" if state == "all" else state,
        "monitor": monitor,
        "sort": "" if sort == DEFAULT_SORT else sort,
    }
    return qs, filters


@dataclass
class Row:
    """A window with what the list and page show about it at ``now``."""

    window: MaintenanceWindow
    state: str
    words: str
    next_start: datetime | None
    current_end: datetime | None

    @property
    def duration(self) -> timedelta:
        return self.window.ends_at - self.window.starts_at

    @property
    def duration_text(self) -> str:
        return format_duration(self.duration)


def format_duration(span: timedelta) -> str:
    """``2 h 30 min``, ``1 day 4 h``, ``45 min``."""
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if minutes:
        parts.append(f"{minutes} min")
    return " ".join(parts) or f"{int(span.total_seconds())} s"


def _row(window: MaintenanceWindow, now: datetime) -> Row:
    starts = next_starts(window, now) if window.rrule else []
    return Row(
        window=window,
        state=window_state(window, now),
        words=describe_rrule(window.rrule) if window.rrule else "",
        next_start=starts[0] if starts else None,
        current_end=current_end(window, now),
    )


@role_required(VIEWER)
def maintenance_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    qs, filters = filter_windows(request.GET, now)
    page = Paginator(qs.prefetch_related("monitors"), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [_row(w, now) for w in page.object_list]
    return render(
        request,
        "maintenance/list.html",
        {
            "page": page,
            "f": filters,
            "filtered": bool(filters["state"] or filters["monitor"]),
            "states": STATE_FILTERS,
            "sorts": [(key, label) for key, (label, _order) in SORTS.items()],
            "monitors": Monitor.objects.order_by("name").values_list("tag", "name"),
            "now": now,
        },
    )


# --- page, form, delete ------------------------------------------------------------


def _window(pk: int) -> MaintenanceWindow:
    return get_object_or_404(MaintenanceWindow.objects.prefetch_related("monitors"), pk=pk)


@role_required(VIEWER)
def maintenance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    now = timezone.now()
    window = _window(pk)
    row = _row(window, now)
    duration = row.duration
    occurrences = (
        [(start, start + duration) for start in next_starts(window, now, NEXT_OCCURRENCES)]
        if window.rrule
        else []
    )
    return render(
        request,
        "maintenance/detail.html",
        {
            "window": window,
            "row": row,
            "monitors": window.monitors.order_by("name"),
            "occurrences": occurrences,
            "now": now,
        },
    )


def _form_page(
    request: HttpRequest, form: MaintenanceWindowForm, window: MaintenanceWindow | None
) -> HttpResponse:
    status = 400 if form.is_bound else 200
    source = str(form["description"].value() or "")[:MAX_DESCRIPTION]
    context = {"form": form, "window": window, "preview_html": render_markdown(source)}
    return render(request, "maintenance/form.html", context, status=status)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def maintenance_create(request: HttpRequest) -> HttpResponse:
    form = MaintenanceWindowForm(
        request.POST if request.method == "POST" else None, request=request
    )
    if request.method == "POST" and form.is_valid() and form.validated_data is not None:
        window = maintenance_services.create_window(
            form.validated_data, now=timezone.now(), actor=request.user
        )
        messages.success(request, f"Maintenance window “{window.title}” scheduled.")
        return redirect("maintenance:detail", pk=window.pk)
    return _form_page(request, form, None)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def maintenance_edit(request: HttpRequest, pk: int) -> HttpResponse:
    window = _window(pk)
    form = MaintenanceWindowForm(
        request.POST if request.method == "POST" else None, instance=window, request=request
    )
    if request.method == "POST" and form.is_valid() and form.validated_data is not None:
        window = maintenance_services.update_window(
            window, form.validated_data, now=timezone.now(), actor=request.user
        )
        messages.success(request, f"Maintenance window “{window.title}” saved.")
        return redirect("maintenance:detail", pk=window.pk)
    return _form_page(request, form, window)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def maintenance_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation page; POST: delete."""
    window = _window(pk)
    if request.method == "POST":
        title = window.title
        maintenance_services.delete_window(window, now=timezone.now(), actor=request.user)
        messages.success(request, f"Maintenance window “{title}” deleted.")
        return redirect("maintenance:list")
    return render(request, "maintenance/confirm_delete.html", {"window": window})


@role_required(ADMIN)
@require_POST
def maintenance_preview(request: HttpRequest) -> HttpResponse:
    """htmx: the description's Markdown rendered exactly as it will be stored.

    ``incidents:preview`` reads a ``body`` field; the window form's field is
    ``description`` (the API's name), so this is the same renderer under that name.
    """
    source = request.POST.get("description", "")[:MAX_DESCRIPTION]
    # ``render`` sanitises with nh3's allow-list, so the partial marks it safe.
    return render(request, "maintenance/_preview.html", {"html": render_markdown(source)})
