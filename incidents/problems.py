"""Problem candidates: read-only hints for problem management, computed by a
pure function over rows the selector loads (``incidents.ops_selectors``).

Three kinds, each grouped by service (an incident or alert without a service
is grouped by its title instead):

* ``reopened``: incidents that were reopened (a fix that did not hold);
  ``count`` is the number of reopens;
* ``persistent_alert``: alerts still firing after an operator resolved their
  incident (in post-resolution watch); ``count`` is the number of alerts;
* ``repeated_non_impact``: incidents resolved as ``NoImpact`` or
  ``FalsePositive`` at least ``min_repeats`` times (a noisy signal);
  ``count`` is the number of such resolutions.

Candidates are sorted newest first (``last_at``), then by type and subject, so
the order never depends on query order. Nothing is stored: a candidate goes
away when its cause does (or leaves the look-back window).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

REOPENED = "reopened"
PERSISTENT_ALERT = "persistent_alert"
REPEATED_NON_IMPACT = "repeated_non_impact"
TYPES = (REOPENED, PERSISTENT_ALERT, REPEATED_NON_IMPACT)

ServiceRef = tuple[str, str]  # (slug, name)


@dataclass(frozen=True)
class ReopenRow:
    key: str
    title: str
    services: tuple[ServiceRef, ...]
    reopen_count: int
    last_reopened_at: datetime


@dataclass(frozen=True)
class PersistRow:
    alert_id: int
    title: str
    service: ServiceRef | None
    since: datetime
    incident_key: str | None


@dataclass(frozen=True)
class ResolutionRow:
    key: str
    title: str
    services: tuple[ServiceRef, ...]
    classification: str
    ended_at: datetime


@dataclass(frozen=True)
class ProblemCandidate:
    type: str
    service: str | None  # slug
    service_name: str | None
    subject: str  # the service's name, else the title grouped on
    count: int
    incidents: tuple[str, ...]
    alerts: tuple[int, ...]
    first_at: datetime
    last_at: datetime
    reason: str


@dataclass
class _Group:
    service: ServiceRef | None
    subject: str
    count: int = 0
    incidents: list[str] | None = None
    alerts: list[int] | None = None
    first_at: datetime | None = None
    last_at: datetime | None = None
    classifications: dict[str, int] | None = None

    def add(self, at: datetime, count: int = 1) -> None:
        self.count += count
        self.first_at = at if self.first_at is None else min(self.first_at, at)
        self.last_at = at if self.last_at is None else max(self.last_at, at)


def _key(service: ServiceRef | None, title: str) -> tuple[str, str]:
    return ("service", service[0]) if service else ("title", " ".join(title.split()).casefold())


def _groups(
    items: Iterable[tuple[Sequence[ServiceRef], str]],
) -> Iterable[tuple[tuple[str, str], ServiceRef | None, str]]:
    for services, title in items:
        if services:
            for service in services:
                yield _key(service, title), service, service[1]
        else:
            yield _key(None, title), None, title


def problem_candidates(
    reopens: Iterable[ReopenRow],
    persists: Iterable[PersistRow],
    resolutions: Iterable[ResolutionRow],
    *,
    min_repeats: int = 2,
) -> list[ProblemCandidate]:
    """All candidates (see the module docstring)."""
    out: list[ProblemCandidate] = []

    groups: dict[tuple[str, str], _Group] = {}
    for row in reopens:
        for key, service, subject in _groups([(row.services, row.title)]):
            group = groups.setdefault(key, _Group(service, subject, incidents=[]))
            group.add(row.last_reopened_at, row.reopen_count)
            assert group.incidents is not None
            if row.key not in group.incidents:
                group.incidents.append(row.key)
    for group in groups.values():
        n = len(group.incidents or [])
        out.append(
            _candidate(
                REOPENED,
                group,
                f"{group.count} reopen{'s' if group.count != 1 else ''} "
                f"across {n} incident{'s' if n != 1 else ''}",
            )
        )

    groups = {}
    for row in persists:
        services = (row.service,) if row.service else ()
        for key, service, subject in _groups([(services, row.title)]):
            group = groups.setdefault(key, _Group(service, subject, incidents=[], alerts=[]))
            group.add(row.since)
            assert group.alerts is not None and group.incidents is not None
            group.alerts.append(row.alert_id)
            if row.incident_key and row.incident_key not in group.incidents:
                group.incidents.append(row.incident_key)
    for group in groups.values():
        out.append(
            _candidate(
                PERSISTENT_ALERT,
                group,
                f"{group.count} alert{'s' if group.count != 1 else ''} still firing after "
                "the incident was resolved",
            )
        )

    groups = {}
    for row in resolutions:
        for key, service, subject in _groups([(row.services, row.title)]):
            group = groups.setdefault(
                key, _Group(service, subject, incidents=[], classifications={})
            )
            group.add(row.ended_at)
            assert group.incidents is not None and group.classifications is not None
            group.incidents.append(row.key)
            group.classifications[row.classification] = (
                group.classifications.get(row.classification, 0) + 1
            )
    for group in groups.values():
        if group.count < min_repeats:
            continue
        how = ", ".join(f"{n} {c}" for c, n in sorted((group.classifications or {}).items()))
        out.append(_candidate(REPEATED_NON_IMPACT, group, f"resolved without impact: {how}"))

    out.sort(key=lambda c: (c.type, c.subject.casefold(), c.service or ""))
    out.sort(key=lambda c: c.last_at, reverse=True)
    return out


def _candidate(type_: str, group: _Group, reason: str) -> ProblemCandidate:
    assert group.first_at is not None and group.last_at is not None
    return ProblemCandidate(
        type=type_,
        service=group.service[0] if group.service else None,
        service_name=group.service[1] if group.service else None,
        subject=group.subject,
        count=group.count,
        incidents=tuple(sorted(group.incidents or [])),
        alerts=tuple(sorted(group.alerts or [])),
        first_at=group.first_at,
        last_at=group.last_at,
        reason=reason,
    )
