"""Template helpers of the public pages: status words and icons, uptime,
day bars, durations, and the site settings for frames that are not rendered
by this app's views (``{% site_settings as site %}``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from public_site import render
from public_site.models import SiteSettings
from public_site.status import COMPONENT_LABEL, LEVEL_LABEL

register = template.Library()


@register.simple_tag(takes_context=True)
def site_settings(context: Any) -> SiteSettings:
    """The site settings: the view's ``site`` when it passed one, else loaded
    once per request (frames of pages other apps render, e.g. subscribe)."""
    site = context.get("site")
    if isinstance(site, SiteSettings):
        return site
    request = context.get("request")
    cached = getattr(request, "_beacon_site", None)
    if isinstance(cached, SiteSettings):
        return cached
    site = SiteSettings.load()
    if request is not None:
        request._beacon_site = site
    return site


@register.filter
def site_css(site: SiteSettings) -> str:
    """The site's colours as CSS custom properties (for ``<body style>``)."""
    return render.site_style(site)


@register.filter
def level_icon(level: str) -> SafeString:
    return render.status_icon(level)


@register.filter
def level_label(level: str) -> str:
    return LEVEL_LABEL.get(level, level)


@register.filter
def component_label(status: str) -> str:
    return COMPONENT_LABEL.get(status, status)


@register.filter
def uptime(value: float | None) -> str:
    return render.format_uptime(value)


@register.filter
def bars(row: Any) -> SafeString:
    """A ``MonitorRow``'s day bars."""
    return render.bars_html(row.days, uptime=row.uptime)


@register.filter
def monitor_rows(section: Any, days: int) -> SafeString:
    """A ``SectionBlock``'s monitors as ``<li>`` rows (see ``render.monitor_rows_html``)."""
    return render.monitor_rows_html(section.monitors, days=days)


@register.filter
def duration(start: datetime | None, end: datetime | None) -> str:
    """``3 d 4 h``, ``2 h 14 min``, ``5 min``, ``under a minute``."""
    if start is None or end is None:
        return ""
    return format_duration(end - start)


def format_duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return "under a minute"


@register.simple_tag
def when(dt: datetime | None, rel: bool = False) -> SafeString:
    """``<time>`` in the active (site) zone, e.g. ``2026-03-04 14:02 CET``, with
    ``(12 minutes ago)`` when ``rel``; ``public.js`` rewrites the absolute part
    in the reader's zone. A tag rather than an include: pages have dozens."""
    if dt is None:
        return mark_safe('<span class="muted">\u2014</span>')
    local = timezone.localtime(dt)
    text = dateformat.format(local, "Y-m-d H:i T")
    out = f'<time datetime="{dt.isoformat()}"><span class="abs">{escape(text)}</span>'
    if rel:
        out += f' <span class="rel">({escape(naturaltime(dt))})</span>'
    return mark_safe(out + "</time>")  # noqa: S308 - escaped text, our own markup


_STATES = {
    "RESOLVED": ("resolved", "\u2713", "Resolved"),
    "MONITORING": ("monitoring", "\u25d4", "Monitoring"),
    "IDENTIFIED": ("identified", "\u25ce", "Identified"),
    "INVESTIGATING": ("investigating", "!", "Investigating"),
}


@register.filter
def incident_state(state: str) -> SafeString:
    """An incident state as a badge: icon and word."""
    css, icon, word = _STATES.get(state, _STATES["INVESTIGATING"])
    return mark_safe(  # noqa: S308 - constant markup
        f'<span class="state state-{css}"><span aria-hidden="true">{icon}</span> {word}</span>'
    )
