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


def day_level(up: int, degraded: int, down: int, *, maintenance: bool = False) -> str:
    """A 90-day bar's colour key for one day: ``maintenance`` (blue) when a
    window covered it and nothing failed outside it is known, ``nodata``
    (grey) without results, else the worst status seen that day."""
    if up + degraded + down == 0:
        return "maintenance" if maintenance else "nodata"
    if down:
        return "down"
    if degraded:
        return "degraded"
    return "maintenance" if maintenance else "up"


def uptime_percent(up: int, degraded: int, down: int) -> float | None:
    """Share of results that were not DOWN (degraded counts as up), or ``None``
    without data. Rounded by the caller for display."""
    total = up + degraded + down
    if not total:
        return None
    return 100.0 * (up + degraded) / total
