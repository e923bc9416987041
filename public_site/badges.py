"""Badge views: ``/badge/<tag>/status``, ``/uptime?days=``, ``/latency``.

Each answers an SVG (``image/svg+xml``) for a *public* monitor (404 for a
private or unknown tag). The status word is the status page's component
status for the monitor (``up``, ``degraded``, ``down``, ``maintenance``),
or ``paused`` / ``unknown`` when nothing is known about it now.

Responses carry ``Cache-Control: public, max-age=`` the
``BEACON_BADGE_CACHE_SECONDS`` setting, an ``ETag`` (a repeat request with
``If-None-Match`` gets 304) and a CSP that forbids anything active in the
document. Query parameters, all optional:

- ``style``: ``flat`` (default) or ``flat-square``;
- ``label``: replaces the left text (at most ``MAX_LABEL`` characters; may
  be empty for a message-only badge);
- ``days`` (uptime only): 1 to 90, default 30.

A bad value is a 400 JSON ``{"<param>": ["<what is wrong>"]}``; a parameter
given twice is refused too (which one would win is not obvious).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_safe

from monitors.models import Monitor

from . import badge_svg
from . import machine_selectors as sel
from .api_v2.views import json_response

MAX_LABEL = 40
DAYS_MIN, DAYS_MAX, DAYS_DEFAULT = 1, 90, 30
DAYS_PATTERN = re.compile(r"^[0-9]{1,3}$")

STATUS_BADGES = {
    # word, shields colour
    "operational": ("up", "brightgreen"),
    "degraded_performance": ("degraded", "yellow"),
    "partial_outage": ("partial outage", "orange"),
    "major_outage": ("down", "red"),
    "under_maintenance": ("maintenance", "blue"),
}
UNKNOWN = ("unknown", "lightgrey")
PAUSED = ("paused", "lightgrey")


class BadInput(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _one(request: HttpRequest, name: str) -> str | None:
    values = request.GET.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadInput(name, "Give this parameter once.")
    return values[0]


def parse_style(request: HttpRequest) -> str:
    style = _one(request, "style")
    if style is None:
        return "flat"
    if style not in badge_svg.STYLES:
        raise BadInput("style", f"Must be one of: {', '.join(badge_svg.STYLES)}.")
    return style


def parse_label(request: HttpRequest, default: str | None) -> str | None:
    """``?label=``: the default when absent; stripped; may be empty."""
    label = _one(request, "label")
    if label is None:
        return default
    if len(label) > MAX_LABEL:
        raise BadInput("label", f"At most {MAX_LABEL} characters.")
    if any(not ch.isprintable() for ch in label):
        raise BadInput("label", "Control characters are not allowed.")
    return label.strip()


def parse_days(request: HttpRequest) -> int:
    raw = _one(request, "days")
    if raw is None:
        return DAYS_DEFAULT
    # A strict ASCII pattern: int() would also take "٣", " 7" or "+7".
    if not DAYS_PATTERN.match(raw) or not DAYS_MIN <= int(raw) <= DAYS_MAX:
        raise BadInput("days", f"Must be a whole number of days from {DAYS_MIN} to {DAYS_MAX}.")
    return int(raw)


def status_word(
    monitor_status: str | None, component: str, *, paused: bool = False
) -> tuple[str, str]:
    """Badge word and colour for a monitor: from its component status, except
    ``paused`` / ``unknown`` (grey) when it is paused or was never checked and
    nothing is declared about it."""
    if component == "operational" and paused:
        return PAUSED
    if component == "operational" and monitor_status is None:
        return UNKNOWN
    return STATUS_BADGES.get(component, UNKNOWN)


def svg_response(request: HttpRequest, svg: str) -> HttpResponse:
    """The SVG with caching headers, or 304 when the client has this version."""
    etag = '"' + hashlib.sha256(svg.encode()).hexdigest()[:32] + '"'
    max_age = int(getattr(settings, "BEACON_BADGE_CACHE_SECONDS", 60))
    cached = get_conditional_response(request, etag=etag)
    if cached is None:
        cached = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    cached["ETag"] = etag
    cached["Cache-Control"] = f"public, max-age={max_age}"
    cached["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    cached["Access-Control-Allow-Origin"] = "*"
    return cached


@dataclass(frozen=True)
class Params:
    style: str
    label: str | None  # None: the badge's default label
    days: int


def parse_params(request: HttpRequest, *, uses_days: bool) -> Params:
    """The badge's parameters, validated before any database work (``days``
    only where it means something; elsewhere it is ignored like any unknown one)."""
    days = parse_days(request) if uses_days else DAYS_DEFAULT
    return Params(style=parse_style(request), label=parse_label(request, None), days=days)


Content = Callable[[Monitor, Params, datetime], tuple[str, str, str]]


def _serve(
    request: HttpRequest, tag: str, content: Content, *, uses_days: bool = False
) -> HttpResponse:
    try:
        params = parse_params(request, uses_days=uses_days)
    except BadInput as error:
        return json_response({error.field: [error.message]}, status=400)
    monitor = sel.public_monitor(tag)
    if monitor is None:
        return json_response({"detail": "No public monitor with this tag."}, status=404)
    default_label, message, color = content(monitor, params, timezone.now())
    label = default_label if params.label is None else params.label
    return svg_response(request, badge_svg.render(label, message, color, params.style))


def status_content(monitor: Monitor, params: Params, now: datetime) -> tuple[str, str, str]:
    inputs = sel.status_inputs(now, monitor_ids=[monitor.pk])
    state = sel.monitor_state(monitor)
    word, color = status_word(
        state.status if state else None, inputs.status_of(monitor), paused=not monitor.is_active
    )
    return "status", word, color


def uptime_content(monitor: Monitor, params: Params, now: datetime) -> tuple[str, str, str]:
    percent = sel.uptime(monitor, days=params.days, now=now).percent
    return (
        f"uptime {params.days}d",
        badge_svg.format_uptime(percent),
        badge_svg.uptime_color(percent),
    )


def latency_content(monitor: Monitor, params: Params, now: datetime) -> tuple[str, str, str]:
    ms = sel.latency_ms(monitor, now=now)
    return "latency", badge_svg.format_latency(ms), badge_svg.latency_color(ms)


@require_safe
def status_badge(request: HttpRequest, tag: str) -> HttpResponse:
    return _serve(request, tag, status_content)


@require_safe
def uptime_badge(request: HttpRequest, tag: str) -> HttpResponse:
    return _serve(request, tag, uptime_content, uses_days=True)


@require_safe
def latency_badge(request: HttpRequest, tag: str) -> HttpResponse:
    return _serve(request, tag, latency_content)
