"""Status roll-up for the public side: pure functions, no database.

One vocabulary per audience, derived from the same inputs:

- a monitor's *component status* (Atlassian Statuspage's enum, used by the
  v2 API and the page): ``operational``, ``degraded_performance``,
  ``partial_outage``, ``major_outage``, ``under_maintenance``;
- a page's *indicator* (Statuspage's ``status.indicator``): ``none``,
  ``minor``, ``major``, ``critical``, ``maintenance``;
- the page *banner* (words shown to people).

Inputs are a monitor's current status (``UP`` / ``DEGRADED`` / ``DOWN`` or
``None`` when never checked), whether it is under maintenance now, and the
impact of open incidents on it (``DOWN`` / ``DEGRADED`` / ``MAINTENANCE``),
because an operator declaring an outage counts as much as a failing check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

OPERATIONAL = "operational"
DEGRADED = "degraded_performance"
PARTIAL = "partial_outage"
MAJOR = "major_outage"
MAINTENANCE = "under_maintenance"

COMPONENT_STATUSES = (OPERATIONAL, DEGRADED, PARTIAL, MAJOR, MAINTENANCE)

# Worst first when several components roll into one group.
_RANK = {OPERATIONAL: 0, MAINTENANCE: 1, DEGRADED: 2, PARTIAL: 3, MAJOR: 4}

INDICATORS = ("none", "minor", "major", "critical", "maintenance")


@dataclass(frozen=True)
class Banner:
    """The overall banner: Statuspage indicator, words, and a CSS/icon key."""

    indicator: str
    description: str
    level: str  # up / degraded / partial / down / maintenance


def component_status(
    monitor_status: str | None, *, in_maintenance: bool, incident_impact: str | None = None
) -> str:
    """One monitor as a Statuspage component.

    Maintenance wins over check results (failures during planned work are
    expected); otherwise the worse of the check status and the open
    incidents' declared impact. A monitor never checked is operational
    (nothing is known to be wrong).
    """
    if in_maintenance or incident_impact == "MAINTENANCE":
        return MAINTENANCE
    worst = _worse(_from_check(monitor_status), _from_check(incident_impact))
    return worst


def _from_check(status: str | None) -> str:
    if status == "DOWN":
        return MAJOR
    if status == "DEGRADED":
        return DEGRADED
    return OPERATIONAL


def _worse(a: str, b: str) -> str:
    return a if _RANK[a] >= _RANK[b] else b


def group_status(statuses: Iterable[str]) -> str:
    """A section (component group): the worst of its components, with
    ``partial_outage`` when some but not all are in a major outage."""
    values = list(statuses)
    if not values:
        return OPERATIONAL
    if all(s == MAINTENANCE for s in values):
        return MAINTENANCE
    down = sum(1 for s in values if s == MAJOR)
    if down and down < len(values):
        return PARTIAL
    worst = OPERATIONAL
    for s in values:
        worst = _worse(worst, s)
    return worst


def banner(statuses: Iterable[str]) -> Banner:
    """The page's overall banner from its components' statuses.

    All down: Major Outage (critical). Some down: Partial Outage (major).
    Any degraded: Degraded Performance (minor). Otherwise, any under
    maintenance: Under Maintenance. Otherwise All Systems Operational.
    """
    values = list(statuses)
    down = sum(1 for s in values if s == MAJOR)
    partial = any(s == PARTIAL for s in values)
    if values and down == len(values):
        return Banner("critical", "Major Outage", "down")
    if down or partial:
        return Banner("major", "Partial Outage", "partial")
    if any(s == DEGRADED for s in values):
        return Banner("minor", "Degraded Performance", "degraded")
    if any(s == MAINTENANCE for s in values):
        return Banner("maintenance", "Under Maintenance", "maintenance")
    return Banner("none", "All Systems Operational", "up")


def day_level(
    up: int,
    degraded: int,
    down: int,
    *,
    maintenance: bool = False,
    incident_impact: str | None = None,
) -> str:
    """A 90-day bar's colour key for one day.

    The worst of what the checks saw (``down`` / ``degraded`` / ``up``) and
    what open incidents declared for the monitor that day (``incident_impact``:
    ``DOWN`` / ``DEGRADED`` / ``MAINTENANCE``). A day covered by a maintenance
    window (or an incident declaring maintenance) is ``maintenance`` (blue)
    unless something failed: day counts cannot tell a failure inside the window
    from one outside it, so a failure is shown rather than hidden. No results,
    no incident and no maintenance: ``nodata`` (grey).
    """
    if incident_impact == "MAINTENANCE":
        maintenance = True
    if down or incident_impact == "DOWN":
        return "down"
    if degraded or incident_impact == "DEGRADED":
        return "degraded"
    if maintenance:
        return "maintenance"
    if up:
        return "up"
    return "nodata"


def uptime_percent(up: int, degraded: int, down: int) -> float | None:
    """Share of results that were not DOWN (degraded counts as up), or ``None``
    without data. Rounded by the caller for display."""
    total = up + degraded + down
    if not total:
        return None
    return 100.0 * (up + degraded) / total


# --- Words, icons and levels shown to people --------------------------------------

#: A component status as a CSS/icon level key (the same keys as ``day_level``).
COMPONENT_LEVEL = {
    OPERATIONAL: "up",
    DEGRADED: "degraded",
    PARTIAL: "partial",
    MAJOR: "down",
    MAINTENANCE: "maintenance",
}

#: A component status in words (Statuspage's wording).
COMPONENT_LABEL = {
    OPERATIONAL: "Operational",
    DEGRADED: "Degraded Performance",
    PARTIAL: "Partial Outage",
    MAJOR: "Major Outage",
    MAINTENANCE: "Under Maintenance",
}

#: A level key's icon (status is never shown by colour alone) and words.
LEVEL_ICON = {
    "up": "\u2713",  # check mark
    "degraded": "\u25b2",  # triangle
    "partial": "\u25d1",  # half circle
    "down": "\u2715",  # cross
    "maintenance": "\u2692",  # hammer and pick
    "nodata": "\u25cb",  # empty circle
}
LEVEL_LABEL = {
    "up": "Operational",
    "degraded": "Degraded",
    "partial": "Partial outage",
    "down": "Outage",
    "maintenance": "Maintenance",
    "nodata": "No data",
}

_IMPACT_RANK = {None: 0, "MAINTENANCE": 1, "DEGRADED": 2, "DOWN": 3}


def worst_impact(impacts: Iterable[str | None]) -> str | None:
    """The most severe incident impact (``DOWN`` > ``DEGRADED`` > ``MAINTENANCE``)."""
    worst: str | None = None
    for impact in impacts:
        if _IMPACT_RANK.get(impact, 0) > _IMPACT_RANK[worst]:
            worst = impact
    return worst


# --- Colours ----------------------------------------------------------------------

_HEX = "0123456789abcdef"


def is_hex_colour(value: str) -> bool:
    """True for ``#rrggbb`` (either case)."""
    return len(value) == 7 and value[0] == "#" and all(c in _HEX for c in value[1:].lower())


def _luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    channels = []
    for start in (1, 3, 5):
        c = int(colour[start : start + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio between two ``#rrggbb`` colours (1 to 21)."""
    la, lb = _luminance(a), _luminance(b)
    light, dark = max(la, lb), min(la, lb)
    return (light + 0.05) / (dark + 0.05)


def readable_on(background: str) -> str:
    """Black or white, whichever contrasts more with ``background``.

    The better of the two always reaches at least 4.58:1, so text and icons
    drawn on a site's own status colours meet WCAG AA whatever colour an admin
    picks.
    """
    black, white = "#000000", "#ffffff"
    if contrast_ratio(background, black) >= contrast_ratio(background, white):
        return black
    return white
