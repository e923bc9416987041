"""SVG badges in the shields.io ``flat`` and ``flat-square`` styles (pure).

``render(label, message, color, style)`` returns a complete SVG document:
a grey label box and a coloured message box, white Verdana 11px text, an
accessible ``<title>`` and ``aria-label``. Text width is estimated from a
per-character table (below) and pinned with ``textLength``, so the badge
looks the same whichever of Verdana / DejaVu Sans the viewer has. All text is
XML-escaped here; callers pass plain strings.

The width table holds the advance widths of printable ASCII (32..126) at
11px, read from DejaVu Sans Book's ``hmtx`` table (units / 2048 * 11).
DejaVu Sans descends from Bitstream Vera, drawn to Verdana's proportions,
and is the badge's own fallback font. Other characters: 0 for combining
marks, a full em for East Asian wide ones, an average letter otherwise.
"""

from __future__ import annotations

import math
import unicodedata
from xml.sax.saxutils import escape

STYLES = ("flat", "flat-square")
HEIGHT = 20
PADDING = 5  # px each side of a text
LABEL_COLOR = "#555"

# shields.io's named colours, used for statuses and thresholds.
COLORS = {
    "brightgreen": "#4c1",
    "green": "#97ca00",
    "yellowgreen": "#a4a61d",
    "yellow": "#dfb317",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "blue": "#007ec6",
    "lightgrey": "#9f9f9f",
}

# fmt: off
_ASCII_WIDTHS = (
    3.5, 4.41, 5.06, 9.22, 7.0, 10.45, 8.58, 3.02, 4.29, 4.29, 5.5, 9.22, 3.5, 3.97, 3.5, 3.71,
    7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 3.71, 3.71, 9.22, 9.22, 9.22, 5.84,
    11.0, 7.52, 7.55, 7.68, 8.47, 6.95, 6.33, 8.52, 8.27, 3.24, 3.24, 7.21, 6.13, 9.49, 8.23,
    8.66, 6.63, 8.66, 7.64, 6.98, 6.72, 8.05, 7.52, 10.88, 7.54, 6.72, 7.54, 4.29, 3.71, 4.29,
    9.22, 5.5, 5.5, 6.74, 6.98, 6.05, 6.98, 6.77, 3.87, 6.98, 6.97, 3.06, 3.06, 6.37, 3.06,
    10.72, 6.97, 6.73, 6.98, 6.98, 4.52, 5.73, 4.31, 6.97, 6.51, 9.0, 6.51, 6.51, 5.77, 7.0,
    3.71, 7.0, 9.22,
)
# fmt: on
_FALLBACK = 7.0

# Uptime at or above each floor, latency (ms) below each ceiling; red otherwise.
UPTIME_STEPS = (
    (99.9, "brightgreen"),
    (99.0, "green"),
    (97.0, "yellowgreen"),
    (95.0, "yellow"),
    (90.0, "orange"),
)
LATENCY_STEPS = ((200, "brightgreen"), (500, "green"), (1000, "yellow"), (2000, "orange"))
_WIDE = 11.0


def char_width(char: str) -> float:
    code = ord(char)
    if 32 <= code <= 126:
        return _ASCII_WIDTHS[code - 32]
    if unicodedata.combining(char) or unicodedata.category(char) in ("Cf", "Mn", "Me"):
        return 0.0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return _WIDE
    return _FALLBACK


def text_width(text: str) -> int:
    """Estimated width in px of ``text`` in Verdana 11px, rounded up to an odd
    number (as shields does, so the text centres on a whole pixel)."""
    width = math.ceil(sum(char_width(c) for c in text))
    return width if width % 2 else width + 1


def color_value(name: str) -> str:
    """A shields colour name, or an ``#rgb`` / ``#rrggbb`` value as given."""
    return COLORS.get(name, name)


def _text(x_center: float, width: int, text: str, *, shadow: bool) -> str:
    """One text run at 10x scale (shields' trick for sub-pixel placement)."""
    x = round(x_center * 10)
    length = width * 10
    escaped = escape(text)
    parts = []
    if shadow:
        parts.append(
            f'<text aria-hidden="true" x="{x}" y="150" fill="#010101" fill-opacity=".3" '
            f'transform="scale(.1)" textLength="{length}">{escaped}</text>'
        )
    parts.append(
        f'<text x="{x}" y="140" transform="scale(.1)" fill="#fff" '
        f'textLength="{length}">{escaped}</text>'
    )
    return "".join(parts)


def render(label: str, message: str, color: str, style: str = "flat") -> str:
    """The badge SVG. ``label`` may be empty (a message-only badge)."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}")
    fill = color_value(color)
    label_text = text_width(label) if label else 0
    message_text = text_width(message)
    label_box = label_text + 2 * PADDING if label else 0
    message_box = message_text + 2 * PADDING
    total = label_box + message_box
    accessible = f"{label}: {message}" if label else message
    title = escape(accessible)
    aria = escape(accessible, {'"': "&quot;"})
    flat = style == "flat"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{HEIGHT}" '
        f'role="img" aria-label="{aria}"><title>{title}</title>'
    )
    if flat:
        defs = (
            '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
            'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
            f'<clipPath id="r"><rect width="{total}" height="{HEIGHT}" rx="3" fill="#fff"/>'
            "</clipPath>"
        )
        group_open = '<g clip-path="url(#r)">'
        overlay = f'<rect width="{total}" height="{HEIGHT}" fill="url(#s)"/>'
    else:
        defs = ""
        group_open = '<g shape-rendering="crispEdges">'
        overlay = ""
    boxes = ""
    if label:
        boxes += f'<rect width="{label_box}" height="{HEIGHT}" fill="{LABEL_COLOR}"/>'
    boxes += f'<rect x="{label_box}" width="{message_box}" height="{HEIGHT}" fill="{fill}"/>'
    texts = ""
    if label:
        texts += _text(label_box / 2, label_text, label, shadow=flat)
    texts += _text(label_box + message_box / 2, message_text, message, shadow=flat)
    return (
        f"{head}{defs}{group_open}{boxes}{overlay}</g>"
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        f'text-rendering="geometricPrecision" font-size="110">{texts}</g></svg>'
    )


def uptime_color(percent: float | None) -> str:
    """Threshold colours for an uptime percentage (grey without data)."""
    if percent is None:
        return "lightgrey"
    for floor, name in UPTIME_STEPS:
        if percent >= floor:
            return name
    return "red"


def latency_color(ms: float | None) -> str:
    """Threshold colours for a response time in milliseconds (grey without data)."""
    if ms is None:
        return "lightgrey"
    for ceiling, name in LATENCY_STEPS:
        if ms < ceiling:
            return name
    return "red"


def format_uptime(percent: float | None) -> str:
    """``100%``, ``99.95%`` (rounded down: 99.999 never shows as 100%), or ``no data``."""
    if percent is None:
        return "no data"
    if percent >= 100:
        return "100%"
    value = math.floor(percent * 100) / 100
    return f"{value:.2f}%"


def format_latency(ms: float | None) -> str:
    """``87 ms``, ``1.25 s``, or ``no data``."""
    if ms is None:
        return "no data"
    if ms < 1000:
        return f"{round(ms)} ms"
    return f"{ms / 1000:.2f} s"
