"""The Statuspage-compatible public API: ``/api/v2/*.json``.

Plain Django views (public, no authentication, no throttling), answering GET
and HEAD with the exact shapes of Atlassian Statuspage's v2 API (see
``shapes``). Every answer carries ``Access-Control-Allow-Origin: *`` like
Statuspage's, and is cached for ``BEACON_PUBLIC_CACHE_SECONDS`` (in the
Django cache, keyed by the public pages' cache version so that a bump
retires these answers too, and in ``Cache-Control``), with an ``ETag``
(``If-None-Match`` gets a 304). Errors are JSON: 400 naming the
parameter, 404 for an unknown page or path.

Optional extension: ``?page=<slug>`` describes another status page than the
home page; incidents and maintenance are then those touching its monitors
(plus announcements and global windows touching none).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_safe

from .. import machine_selectors as sel
from ..cache import current_version
from . import shapes

PAGE_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
INCIDENT_LIMIT = 50  # Statuspage's incidents.json: "the 50 most recent incidents"
MAINTENANCE_LIMIT = 50
CACHE_PREFIX = "public_site:v2:"

Builder = Callable[[sel.PageView, str, datetime], dict[str, Any]]


def cache_seconds() -> int:
    """The public cache lifetime (H3's setting; 5 s until it exists)."""
    return int(getattr(settings, "BEACON_PUBLIC_CACHE_SECONDS", 5))


def json_response(data: Any, status: int = 200, *, max_age: int | None = None) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    response = HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    if max_age is not None:
        response["Cache-Control"] = f"public, max-age={max_age}"
    return response


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any other path under /api/v2/."""
    return json_response({"error": "Not found", "path": request.path[:200]}, status=404)


def _page_param(request: HttpRequest) -> tuple[str | None, HttpResponse | None]:
    values = request.GET.getlist("page")
    if not values:
        return None, None
    if len(values) > 1:
        return None, json_response({"page": ["Give one page slug."]}, status=400)
    slug = values[0]
    if not PAGE_SLUG.match(slug):
        return None, json_response(
            {"page": ["A page slug: lower-case letters, digits and dashes, at most 64."]},
            status=400,
        )
    return slug, None


def _endpoint(name: str, build: Builder) -> Callable[[HttpRequest], HttpResponse]:
    @require_safe
    def view(request: HttpRequest) -> HttpResponse:
        slug, error = _page_param(request)
        if error is not None:
            return error
        root = request.build_absolute_uri("/")
        seconds = cache_seconds()
        digest = hashlib.sha256(root.encode()).hexdigest()[:16]
        # The public pages' version: a change that retires them retires these too.
        version = current_version() if seconds > 0 else 0
        key = f"{CACHE_PREFIX}{name}:{slug or ''}:{digest}:{version}"
        body = cache.get(key) if seconds > 0 else None
        if body is None:
            now = timezone.now()
            try:
                page = sel.page_view(now=now, slug=slug)
            except sel.PageNotFound:
                return json_response({"page": ["No status page with this slug."]}, status=404)
            base = sel.base_url(page.site, root)
            body = json.dumps(build(page, base, now), ensure_ascii=False, separators=(",", ":"))
            if seconds > 0:
                cache.set(key, body, seconds)
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
        response = get_conditional_response(request, etag=etag) or HttpResponse(
            body, content_type="application/json; charset=utf-8"
        )
        response["ETag"] = etag
        response["Access-Control-Allow-Origin"] = "*"
        response["Cache-Control"] = f"public, max-age={seconds}"
        return response

    view.__name__ = f"v2_{name}"
    return view


def _scope(page: sel.PageView) -> set[int] | None:
    """Monitors limiting incidents and maintenance: none for the home/implicit page."""
    if page.home:
        return None
    return page.monitor_ids


def _incidents(
    page: sel.PageView, inputs: sel.StatusInputs, *, unresolved: bool
) -> list[sel.IncidentView]:
    return sel.incidents(
        inputs=inputs,
        limit=INCIDENT_LIMIT,
        unresolved=unresolved,
        page_monitor_ids=_scope(page),
    )


def _runs(
    page: sel.PageView, inputs: sel.StatusInputs, now: datetime, statuses: tuple[str, ...]
) -> list[sel.Occurrence]:
    return sel.maintenance(
        now=now,
        inputs=inputs,
        statuses=statuses,
        limit=MAINTENANCE_LIMIT,
        page_monitor_ids=_scope(page),
    )


def _context(page: sel.PageView, base: str) -> dict[str, Any]:
    return {"pid": shapes.page_id(page), "base": base, "tz_name": page.site.time_zone}


def build_summary(page: sel.PageView, base: str, now: datetime) -> dict[str, Any]:
    inputs = sel.status_inputs(now)
    items = _incidents(page, inputs, unresolved=True)
    runs = _runs(page, inputs, now, ("scheduled", "in_progress"))
    ctx = _context(page, base)
    return {
        "page": shapes.page_obj(page, base, shapes.page_updated_at(page, items, runs)),
        "components": shapes.components_list(page),
        "incidents": [shapes.incident_obj(i, **ctx) for i in items],
        "scheduled_maintenances": [shapes.maintenance_obj(r, **ctx) for r in runs],
        "status": shapes.status_obj(page),
    }


def build_status(page: sel.PageView, base: str, now: datetime) -> dict[str, Any]:
    return {
        "page": shapes.page_obj(page, base, shapes.page_updated_at(page)),
        "status": shapes.status_obj(page),
    }


def build_components(page: sel.PageView, base: str, now: datetime) -> dict[str, Any]:
    return {
        "page": shapes.page_obj(page, base, shapes.page_updated_at(page)),
        "components": shapes.components_list(page),
    }


def _incident_builder(unresolved: bool) -> Builder:
    def build(page: sel.PageView, base: str, now: datetime) -> dict[str, Any]:
        items = _incidents(page, sel.status_inputs(now), unresolved=unresolved)
        ctx = _context(page, base)
        return {
            "page": shapes.page_obj(page, base, shapes.page_updated_at(page, items)),
            "incidents": [shapes.incident_obj(i, **ctx) for i in items],
        }

    return build


def _maintenance_builder(statuses: tuple[str, ...]) -> Builder:
    def build(page: sel.PageView, base: str, now: datetime) -> dict[str, Any]:
        runs = _runs(page, sel.status_inputs(now), now, statuses)
        ctx = _context(page, base)
        return {
            "page": shapes.page_obj(page, base, shapes.page_updated_at(page, runs=runs)),
            "scheduled_maintenances": [shapes.maintenance_obj(r, **ctx) for r in runs],
        }

    return build


summary = _endpoint("summary", build_summary)
status = _endpoint("status", build_status)
components = _endpoint("components", build_components)
incidents = _endpoint("incidents", _incident_builder(unresolved=False))
incidents_unresolved = _endpoint("incidents_unresolved", _incident_builder(unresolved=True))
scheduled_maintenances = _endpoint(
    "maintenances", _maintenance_builder(("scheduled", "in_progress", "completed"))
)
scheduled_maintenances_upcoming = _endpoint("upcoming", _maintenance_builder(("scheduled",)))
# Statuspage's "active" is In Progress or Verifying; Beacon has no verifying step.
scheduled_maintenances_active = _endpoint("active", _maintenance_builder(("in_progress",)))
