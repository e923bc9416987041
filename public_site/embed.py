"""The embeddable widget of one public monitor: ``/embed/<tag>?theme=light|dark``.

A small standalone HTML document (``templates/public/embed.html``, not the
public frame) meant for an ``<iframe>`` on someone else's site: the monitor's
status (colour, icon and word), its name, its 30-day uptime and a 30-day bar,
linking to the monitor's public page in a new tab.

- Framing is allowed for this view only (``xframe_options_exempt``; the site
  default stays ``DENY``), and ``frame-ancestors *`` says the same in CSP.
- No script at all (CSP ``default-src 'none'``), no form, no cookie: it is
  rendered without the request, so no session or CSRF cookie can be set.
- The numbers are those of the HTML monitor page (``selectors.monitor_page``).
- ``theme``: ``light`` (default), ``dark``, or ``auto`` (the reader's system
  setting); anything else is a 400 naming the parameter. Private or unknown
  tag: 404.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from . import machine_selectors as sel
from . import selectors
from .api_v2.views import json_response
from .models import SiteSettings
from .render import format_uptime
from .status import LEVEL_ICON, LEVEL_LABEL

THEMES = ("light", "dark", "auto")
EMBED_DAYS = 30
CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors *"
)


def _theme(request: HttpRequest) -> str | None:
    values = request.GET.getlist("theme")
    if not values:
        return "light"
    if len(values) == 1 and values[0] in THEMES:
        return values[0]
    return None


@xframe_options_exempt
@require_safe
def embed(request: HttpRequest, tag: str) -> HttpResponse:
    theme = _theme(request)
    if theme is None:
        return json_response({"theme": [f"Must be one of: {', '.join(THEMES)}."]}, status=400)
    monitor = sel.public_monitor(tag)
    if monitor is None:
        return json_response({"detail": "No public monitor with this tag."}, status=404)
    now = timezone.now()
    site = SiteSettings.load()
    base = sel.base_url(site, request.build_absolute_uri("/"))
    data = selectors.monitor_page(monitor, now=now, days=EMBED_DAYS)
    row = data.row
    bars = row.days[-EMBED_DAYS:]
    context = {
        "site": site,
        "theme": theme,
        "row": row,
        "icon": LEVEL_ICON.get(row.level, LEVEL_ICON["nodata"]),
        "uptime": format_uptime(data.uptime_30d) if data.uptime_30d is not None else None,
        "days": EMBED_DAYS,
        "bars": [
            {
                "x": index * 4,
                "level": bar.level,
                "title": f"{bar.day.isoformat()}: {LEVEL_LABEL.get(bar.level, bar.level)}"
                + (f", {format_uptime(bar.uptime)} uptime" if bar.total else ""),
            }
            for index, bar in enumerate(bars)
        ],
        "bar_width": len(bars) * 4 - 1 if bars else 0,
        "link": f"{base}/monitors/{monitor.tag}",
    }
    # Rendered without the request: no context processor can touch the session.
    html = render_to_string("public/embed.html", context)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    seconds = int(getattr(settings, "BEACON_PUBLIC_CACHE_SECONDS", 5))
    response["Cache-Control"] = f"public, max-age={seconds}"
    response["Content-Security-Policy"] = CSP
    response["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response
