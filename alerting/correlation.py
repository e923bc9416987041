"""Correlation: does a firing alert join an open incident, open one, or is it
only stored? A pure function of (alert, open incidents, dependency graph, now,
window, threshold), unit-tested without a database; the service that runs it
under a lock is ``alerting.correlation_services``.

Rules (``decide``):

1. A candidate is an open incident whose reference time -- its last
   correlated alert (``last_correlated_at``), else its start -- lies within
   ``window`` of the alert's time (either side).
2. An alert with a service joins a candidate concerning the same service or a
   service one dependency hop away, in either direction (``api`` depends on
   ``db``: an ``api`` alert joins a ``db`` incident and the other way round).
   Two hops (``web -> api -> db``: a ``web`` alert and a ``db`` incident) is
   not enough on its own; it happens through the middle service's alerts,
   which add that service to the incident.
3. An alert without a service joins a candidate holding an alert with the
   same title (compared case-insensitively, spaces collapsed).
4. Among several matching candidates: the most recently correlated one; on a
   tie, one concerning the alert's own service over a neighbour's; then the
   oldest incident (smallest id). So the choice never depends on query order.
5. No candidate: ``Open`` when the alert may open an incident (its severity
   reaches the integration's ``min_severity``, or for a rule alert its rule
   says ``create_incident``), else ``Store``: kept, no incident.

Also the Markdown of the updates Beacon posts for correlated incidents
(``opened_body``, ``recovered_body``); vendor text goes through ``md_text``
(``alerting.tables.escape`` after turning ``<``, ``>``, ``&`` into entities).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from catalog.graph import Graph
from incidents.models import SEVERITY_RANK

from .tables import escape


def md_text(value: object) -> str:
    """Outside text made literal in Markdown: ``<``, ``>`` and ``&`` become
    entities (shown as themselves, never a tag), then ``alerting.tables.escape``
    escapes the Markdown specials and folds newlines."""
    return escape(html.escape(str(value), quote=False))


def title_key(title: str) -> str:
    """How titles are compared for alerts without a service."""
    return " ".join(title.split()).casefold()


def reaches(severity: str, min_severity: str | None) -> bool:
    """True when ``severity`` (CRITICAL/WARNING/INFO) is at least ``min_severity``
    (critical/warning/info, any case; None = no threshold). An unknown or empty
    severity counts as INFO, the lowest."""
    if min_severity is None:
        return True
    # Integration thresholds are lower-case names; an unknown one admits only CRITICAL.
    rank = SEVERITY_RANK.get(severity.upper(), SEVERITY_RANK["INFO"])
    return rank >= SEVERITY_RANK.get(min_severity.upper(), SEVERITY_RANK["CRITICAL"])


@dataclass(frozen=True)
class AlertFacts:
    """What correlation needs to know about one alert."""

    id: int
    service_id: int | None
    severity: str
    title: str
    at: datetime
    source: str = "generic"
    fingerprint: str = ""


@dataclass(frozen=True)
class Candidate:
    """An open incident as correlation sees it."""

    incident_id: int
    service_ids: frozenset[int]
    started_at: datetime
    last_correlated_at: datetime | None = None
    titles: frozenset[str] = field(default_factory=frozenset)

    @property
    def reference(self) -> datetime:
        return self.last_correlated_at or self.started_at


@dataclass(frozen=True)
class Join:
    incident_id: int


@dataclass(frozen=True)
class Open:
    pass


@dataclass(frozen=True)
class Store:
    reason: str


Decision = Join | Open | Store


def decide(
    alert: AlertFacts,
    candidates: Iterable[Candidate],
    graph: Graph,
    *,
    window: timedelta,
    min_severity: str | None,
    may_open: bool = True,
) -> Decision:
    """Join, Open or Store for ``alert`` (see the module docstring)."""
    matches: list[tuple[datetime, int, int]] = []
    near = graph.neighbours(alert.service_id) if alert.service_id is not None else frozenset()
    wanted_title = title_key(alert.title)
    for candidate in candidates:
        if abs(alert.at - candidate.reference) > window:
            continue
        if alert.service_id is not None:
            if alert.service_id in candidate.service_ids:
                matches.append((candidate.reference, 1, -candidate.incident_id))
            elif near & candidate.service_ids:
                matches.append((candidate.reference, 0, -candidate.incident_id))
        elif wanted_title and wanted_title in candidate.titles:
            matches.append((candidate.reference, 1, -candidate.incident_id))
    if matches:
        return Join(-max(matches)[2])
    if not may_open:
        return Store("its rule does not open incidents")
    if not reaches(alert.severity, min_severity):
        return Store(f"severity {alert.severity or 'unknown'} is below {min_severity}")
    return Open()


# --- Markdown of the automatic updates ----------------------------------------------


@dataclass(frozen=True)
class AlertLine:
    """One alert in an update's table."""

    title: str
    service: str
    source: str
    severity: str
    started_at: datetime
    ended_at: datetime | None = None
    link: str = ""


def _minutes(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds() / 60))


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def opened_body(alert: AlertLine, description: str = "") -> str:
    """First update of an incident opened by an external alert."""
    rows = [
        ("Alert", alert.title),
        ("Service", alert.service or "-"),
        ("Source", alert.source),
        ("Severity", alert.severity or "-"),
        ("Incident Status", "TRIGGERED"),
        ("Started", _when(alert.started_at)),
    ]
    if alert.link.startswith(("http://", "https://")):
        rows.append(("Link", alert.link))
    body = "Alert triggered\n\n" + _table(("Setting", "Value"), rows)
    text = " ".join(description.split())[:1000]
    if text:
        body += "\n\n" + md_text(text)
    return body


def recovered_body(lines: Sequence[AlertLine], now: datetime, started_at: datetime) -> str:
    """Update posted when the last active alert of an incident recovers."""
    rows = [
        (
            line.title,
            line.service or "-",
            line.source,
            line.severity or "-",
            f"{_minutes(line.started_at, line.ended_at or now)} min",
        )
        for line in lines[:50]
    ]
    more = f"\n\n…and {len(lines) - 50} more." if len(lines) > 50 else ""
    return (
        f"All alerts have recovered, Total duration: {_minutes(started_at, now)} minutes"
        "\n\n#### Recovered alerts\n\n"
        + _table(("Alert", "Service", "Source", "Severity", "Duration"), rows)
        + more
    )


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A left-aligned, padded Markdown table; every cell escaped."""
    cells = [[md_text(str(v)[:300]) for v in row] for row in rows]
    cells = [[f"**{r[0]}**", *r[1:]] if len(head) == 2 else r for r in cells]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(head)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |",
        "| " + " | ".join(":" + "-" * (w - 1) for w in widths) + " |",
    ]
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    return "\n".join(lines)


def severity_of(counts: Mapping[str, int]) -> str:
    """The most severe of the severities present (CRITICAL over WARNING over INFO)."""
    present = [s for s, n in counts.items() if n and s in SEVERITY_RANK]
    return max(present, key=SEVERITY_RANK.__getitem__) if present else "CRITICAL"
