"""HTML fragments of the public pages built in Python, not in templates.

A page of 100 monitors has 9,000 day bars; building them with the template
engine would cost more than everything else on the page, so they are built
here with plain string formatting. Every piece of text is escaped; the only
markup is our own.

Bars are HTML (not SVG) so phones can show the last 30 days with CSS alone
(``public.css`` hides the first 60 on narrow screens). Each bar carries a
``title`` (date, words, uptime, incidents) that works without JavaScript;
``public.js`` turns it into a popover that also works on touch screens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from .bars import DayBar
from .status import LEVEL_ICON, LEVEL_LABEL, is_hex_colour, readable_on


def format_uptime(value: float | None) -> str:
    """``99.95%`` (floored: 99.999 never reads 100%), ``100%``, or an em dash."""
    if value is None:
        return "\u2014"
    if value >= 100:
        return "100%"
    return f"{math.floor(value * 100) / 100:.2f}%"


@lru_cache(maxsize=4096)
def _iso(day: date) -> str:
    return day.isoformat()


@lru_cache(maxsize=4096)
def _up_bar(day: date) -> str:
    return f'<i class="d up" title="{day.isoformat()} \u00b7 100% uptime"></i>'


def bar_title(bar: DayBar) -> str:
    """The words of one bar: date, status, uptime and that day's incidents."""
    day, level, up, degraded, down, _, marks = bar
    parts = [_iso(day)]
    if level != "up":
        parts.append(LEVEL_LABEL[level])
    total = up + degraded + down
    if total:
        parts.append(f"{format_uptime(100.0 * (up + degraded) / total)} uptime")
    elif level != "nodata":
        parts.append("no checks")
    text = " \u00b7 ".join(parts)
    for mark in marks:
        text += f"\n{mark.key} {mark.title}"
    return text


@lru_cache(maxsize=4096)
def _nodata_bar(day: date) -> str:
    return f'<i class="d nodata" title="{day.isoformat()} \u00b7 No data"></i>'


def _summary(total: int, levels: dict[str, int], uptime: float | None) -> str:
    words = [f"Last {total} days: {format_uptime(uptime)} uptime"]
    for level, name in (
        ("down", "with an outage"),
        ("degraded", "degraded"),
        ("maintenance", "under maintenance"),
        ("nodata", "without data"),
    ):
        n = levels.get(level, 0)
        if n:
            words.append(f"{n} day{'s' if n != 1 else ''} {name}")
    return "; ".join(words)


def bars_html(bars: Sequence[DayBar], *, uptime: float | None) -> SafeString:
    """A monitor's day bars for a status page (one image with a summary name)."""
    return mark_safe(_bars(bars, uptime))  # noqa: S308 - escaped text, our own markup


def _bars(bars: Sequence[DayBar], uptime: float | None) -> str:
    parts = []
    append = parts.append
    levels: dict[str, int] = {}
    for bar in bars:
        level = bar[1]
        if level == "up" and not bar[6]:
            # The common day (level up, no incident: 100% uptime), one cached
            # string per date: a page has thousands of these.
            append(_up_bar(bar[0]))
        elif level == "nodata":
            levels["nodata"] = levels.get("nodata", 0) + 1
            append(_nodata_bar(bar[0]))
        else:
            levels[level] = levels.get(level, 0) + 1
            append(f'<i class="d {level}" title="{escape(bar_title(bar))}"></i>')
    summary = escape(_summary(len(bars), levels, uptime))
    return f'<div class="bars" role="img" aria-label="{summary}">' + "".join(parts) + "</div>"


def bar_links_html(bars: Sequence[DayBar], *, url_prefix: str) -> SafeString:
    """The monitor page's bars: each day a link to that day's detail."""
    parts = ['<ol class="bars bars-links">']
    for bar in bars:
        title = escape(bar_title(bar))
        parts.append(
            f'<li><a class="d {bar.level}" href="{escape(url_prefix)}{_iso(bar.day)}" '
            f'title="{title}" aria-label="{title}"></a></li>'
        )
    parts.append("</ol>")
    return mark_safe("".join(parts))  # noqa: S308 - escaped text, our own markup


def status_icon(level: str) -> SafeString:
    """The icon of a level in its coloured disc (hidden from screen readers:
    the words beside it say the same)."""
    return mark_safe(_icon(level))  # noqa: S308 - constant markup


@lru_cache(maxsize=64)
def _icon(level: str) -> str:
    icon = LEVEL_ICON.get(level, LEVEL_ICON["nodata"])
    return f'<span class="ico ico-{escape(level)}" aria-hidden="true">{icon}</span>'


DEFAULT_COLOURS = {
    "up": "#16a34a",
    "degraded": "#d97706",
    "down": "#dc2626",
    "maintenance": "#2563eb",
}


def site_style(site: Any) -> str:
    """The site's status colours as CSS custom properties, each with a readable
    foreground (black or white, at least 4.58:1), for ``<body style>``."""
    parts = []
    colours = {}
    for name in ("up", "degraded", "down", "maintenance"):
        colour = getattr(site, f"color_{name}")
        if not is_hex_colour(colour):  # written around the form: use the default
            colour = DEFAULT_COLOURS[name]
        colours[name] = colour
        parts.append(f"--c-{name}:{colour};--c-{name}-fg:{readable_on(colour)}")
    # A partial outage is drawn in the outage colour; its icon and words differ.
    down = colours["down"]
    parts.append(f"--c-partial:{down};--c-partial-fg:{readable_on(down)}")
    return ";".join(parts)


def monitor_rows_html(monitors: Sequence[Any], *, days: int) -> SafeString:
    """The ``<li>`` of each monitor of a section: name, status in words, bars,
    axis. Built here rather than in the template: 100 monitors cost a
    millisecond this way and over ten through the template engine."""
    parts = []
    for m in monitors:
        tag = escape(m.tag)
        level = m.level
        parts.append(
            f'<li class="monitor" data-monitor="{tag}" data-status="{m.status}">'
            f'<div class="monitor-head"><a class="monitor-name" href="/monitors/{tag}">'
            f"{escape(m.name)}</a>"
            f'<span class="status status-{level}" data-level="{level}">{_icon(level)} '
            f'<span class="status-word">{m.label}</span></span></div>'
            f"{_bars(m.days, m.uptime)}"
            f'<div class="axis"><span class="axis-90">{days} days ago</span>'
            f'<span class="axis-30">30 days ago</span>'
            f'<span class="axis-uptime" title="over the last {days} days">'
            f"{format_uptime(m.uptime)} uptime</span><span>Today</span></div></li>"
        )
    return mark_safe("".join(parts))  # noqa: S308 - escaped text, our own markup
