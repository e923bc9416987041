"""Read queries for the machine-facing public endpoints: feeds, badges, the
embed widget and the Statuspage-compatible v2 API.

Contract:

- Visibility is the HTML side's (``public_site.selectors``): only
  ``Monitor.is_public`` monitors ever come out of here; an incident is public
  when it touches at least one public monitor, a maintenance window when it
  is global or covers one; both are shown with their public monitors only.
- A page's components, their statuses and its banner are those of
  ``selectors.page_data``; other components (of incidents, maintenance,
  badges) go through ``public_site.status.component_status`` with the same
  three inputs read the same way (``StatusInputs``), so the page, the
  badges, the feeds and the API agree.
- Every function takes ``now`` (read once at the edge) and runs a fixed,
  small number of queries whatever the number of monitors: no per-monitor
  query loops (the tests assert the counts).
- Nothing here writes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Prefetch, Q, Sum

from incidents.maintenance import is_active, parse_rrule
from incidents.models import (
    Incident,
    IncidentMonitor,
    IncidentUpdate,
    MaintenanceWindow,
    State,
)
from monitors.models import TAG_PATTERN, DailyRollup, HourlyRollup, Monitor, MonitorState

from . import selectors
from .models import Section, SiteSettings, StatusPage
from .selectors import MonitorRow, PageData
from .status import Banner, component_status, uptime_percent, worst_impact

log = logging.getLogger(__name__)


_TAG = re.compile(TAG_PATTERN)
MAX_TAG = Monitor._meta.get_field("tag").max_length or 64


class PageNotFound(LookupError):
    """``?page=<slug>`` named no status page."""


def base_url(site: SiteSettings, request_root: str) -> str:
    """Absolute root for links: the site's public URL when set, else the
    request's own scheme and host (``request_root``, e.g. ``https://h/``)."""
    root = site.public_url.strip() or request_root
    return root.rstrip("/")


def monitor_state(monitor: Monitor) -> MonitorState | None:
    """The monitor's state row (selected with it), or ``None`` if it has none."""
    try:
        return monitor.state
    except ObjectDoesNotExist:
        return None


def public_monitor(tag: str) -> Monitor | None:
    """The public monitor with this tag (state joined), or ``None``: private and
    unknown tags are indistinguishable to callers. A string that cannot be a
    tag is not looked up (PostgreSQL refuses NUL bytes outright: a 500)."""
    return selectors.public_monitor(tag)


# --- status inputs -------------------------------------------------------------------


@dataclass(frozen=True)
class StatusInputs:
    """What, besides a check result, moves a component's status right now.

    The same inputs, read the same way, as ``selectors.page_data`` (a paused
    monitor has no check status; open incidents weigh with their worst impact
    until it is removed; global windows cover every monitor)."""

    maintenance_everywhere: bool
    maintenance_ids: frozenset[int]
    impacts: dict[int, str]  # monitor id -> worst declared impact of open incidents

    def in_maintenance(self, monitor_id: int) -> bool:
        return self.maintenance_everywhere or monitor_id in self.maintenance_ids

    def status_of(self, monitor: Monitor) -> str:
        state = monitor_state(monitor)
        check = state.status if state and monitor.is_active else None
        return component_status(
            check,
            in_maintenance=self.in_maintenance(monitor.pk),
            incident_impact=self.impacts.get(monitor.pk),
        )


def active_windows(now: datetime) -> list[MaintenanceWindow]:
    """Maintenance windows active at ``now`` (monitors prefetched); 2 queries.

    A window whose saved RRULE no longer parses is skipped and logged rather
    than failing every public request (poison-row guard)."""
    candidates = (
        MaintenanceWindow.objects.filter(starts_at__lte=now)
        .filter(Q(rrule="", ends_at__gt=now) | ~Q(rrule=""))
        .prefetch_related("monitors")
    )
    active = []
    for window in candidates:
        try:
            if is_active(window, now):
                active.append(window)
        except (ValueError, TypeError, OverflowError):
            log.warning("maintenance window %s has an unusable rrule", window.pk)
    return active


def status_inputs(now: datetime, *, monitor_ids: Iterable[int] | None = None) -> StatusInputs:
    """Active maintenance and open incidents' impacts: 3 queries.

    ``monitor_ids`` narrows the impact query (one monitor's badge); without it
    the impacts of every public monitor are read (open incidents are few)."""
    everywhere = False
    covered: set[int] = set()
    for window in active_windows(now):
        if window.is_global:
            everywhere = True
        covered |= {m.pk for m in window.monitors.all()}
    rows = IncidentMonitor.objects.filter(
        impact_removed_at__isnull=True, monitor__is_public=True, incident__started_at__lte=now
    ).exclude(incident__state=State.RESOLVED)
    if monitor_ids is not None:
        rows = rows.filter(monitor_id__in=list(monitor_ids))
    found: dict[int, list[str]] = {}
    for monitor_id, impact in rows.values_list("monitor_id", "impact"):
        found.setdefault(monitor_id, []).append(impact)
    impacts = {mid: worst for mid, values in found.items() if (worst := worst_impact(values))}
    return StatusInputs(everywhere, frozenset(covered), impacts)


# --- the page: components and groups ----------------------------------------------------


@dataclass
class Component:
    """A public monitor as a Statuspage component."""

    tag: str
    name: str
    description: str
    status: str
    created_at: datetime
    changed_at: datetime  # its last status flip or configuration change
    position: int  # 1-based, within its group or among top-level components

    @classmethod
    def of_monitor(cls, monitor: Monitor, status: str, position: int) -> Component:
        state = monitor_state(monitor)
        since = state.since if state else None
        changed = max(t for t in (monitor.updated_at, since) if t is not None)
        return cls(
            monitor.tag,
            monitor.name,
            monitor.description,
            status,
            monitor.created_at,
            changed,
            position,
        )

    @classmethod
    def of_row(cls, row: MonitorRow, position: int) -> Component:
        times = [t for t in (row.updated_at, row.since, row.created_at) if t is not None]
        created = row.created_at or min(times)
        return cls(row.tag, row.name, row.description, row.status, created, max(times), position)


@dataclass
class Group:
    """A section of a page as a Statuspage component group."""

    section: Section
    position: int
    components: list[Component]
    status: str


@dataclass
class PageView:
    """One public page's components: grouped by section or, for the implicit
    page of a fresh install (no status page yet), ungrouped."""

    site: SiteSettings
    page: StatusPage | None
    data: PageData
    home: bool  # what ``/`` shows: incidents and maintenance are not narrowed
    groups: list[Group] = field(default_factory=list)
    ungrouped: list[Component] = field(default_factory=list)

    @property
    def components(self) -> list[Component]:
        """Leaf components in display order (each monitor once)."""
        return [*self.ungrouped, *(c for g in self.groups for c in g.components)]

    @property
    def monitor_ids(self) -> set[int]:
        return set(self.data.monitors)

    @property
    def banner(self) -> Banner:
        """The page's banner, exactly as the HTML page shows it."""
        return self.data.banner


def find_page(slug: str | None) -> StatusPage | None:
    """The page named by ``slug``, else the home page as the HTML side picks
    it (``selectors.home_of``), else ``None`` (the implicit page of every
    public monitor). Raises ``PageNotFound`` for an unknown slug."""
    if slug:
        page = StatusPage.objects.filter(slug=slug).first()
        if page is None:
            raise PageNotFound(slug)
        return page
    return selectors.home_of(selectors.all_pages())


def page_view(*, now: datetime, slug: str | None = None) -> PageView:
    """The components of the page ``slug`` (or the home page), with the
    statuses and banner of ``selectors.page_data`` (one day of bars: the API
    shows no bars), so the HTML page and the API always agree: ~10 queries
    whatever the number of monitors.

    A monitor placed in two sections of the same page is listed once, in the
    first (a Statuspage component belongs to one group)."""
    site = SiteSettings.load()
    page = find_page(slug)
    home = slug is None or page == find_page(None)
    data = selectors.page_data(page, now=now, days=1)
    view = PageView(site=site, page=page, data=data, home=home)
    sections = {s.pk: s for s in Section.objects.filter(page=page)} if page else {}
    seen: set[str] = set()
    position = 0
    for block in data.sections:
        rows = [r for r in block.monitors if r.tag not in seen]
        seen.update(r.tag for r in rows)
        components = [Component.of_row(r, n) for n, r in enumerate(rows, start=1)]
        section = sections.get(block.id) if block.id is not None else None
        if section is None:
            view.ungrouped.extend(components)
            continue
        position += 1
        # The section's status as the page shows it (it counts a monitor listed
        # in an earlier section too, which the API lists only there).
        view.groups.append(Group(section, position, components, block.status))
    if view.ungrouped:
        view.ungrouped = [replace(c, position=n) for n, c in enumerate(view.ungrouped, start=1)]
    return view


# --- incidents -----------------------------------------------------------------------------


@dataclass
class IncidentView:
    """An incident as the public sees it: its updates (newest first), its
    public components, and the impact of every affected monitor (public or
    not: the level is shown, never the private names)."""

    incident: Incident
    updates: list[IncidentUpdate]
    components: list[Component]
    impacts: list[str]

    @property
    def latest(self) -> IncidentUpdate | None:
        return self.updates[0] if self.updates else None

    @property
    def monitoring_at(self) -> datetime | None:
        """When the incident last entered MONITORING (``None`` if it never did)."""
        times = [u.created_at for u in self.updates if u.state == State.MONITORING]
        return max(times) if times else None

    @property
    def updated_at(self) -> datetime:
        times = [self.incident.updated_at, *(u.created_at for u in self.updates)]
        return max(times)


def incidents(
    *,
    inputs: StatusInputs,
    limit: int = 50,
    unresolved: bool = False,
    monitor: Monitor | None = None,
    page_monitor_ids: set[int] | None = None,
) -> list[IncidentView]:
    """The ``limit`` most recent public incidents (by start), newest first: 3 queries.

    Public means ``selectors.public_incidents`` (touching a public monitor).
    ``monitor`` keeps incidents touching it; ``page_monitor_ids`` (a page
    other than home) keeps incidents touching one of those monitors."""
    queryset = selectors.public_incidents().order_by("-started_at", "-id")
    if unresolved:
        queryset = queryset.exclude(state=State.RESOLVED)
    if monitor is not None:
        queryset = queryset.filter(
            Exists(IncidentMonitor.objects.filter(incident=OuterRef("pk"), monitor=monitor))
        )
    if page_monitor_ids is not None:
        queryset = queryset.filter(
            Exists(
                IncidentMonitor.objects.filter(
                    incident=OuterRef("pk"), monitor_id__in=list(page_monitor_ids)
                )
            )
        )
    queryset = queryset.prefetch_related(
        Prefetch("updates", queryset=IncidentUpdate.objects.order_by("-created_at", "-id")),
        Prefetch(
            "affected",
            queryset=IncidentMonitor.objects.select_related("monitor", "monitor__state").order_by(
                "monitor__name", "monitor_id"
            ),
        ),
    )
    views = []
    for incident in queryset[:limit]:
        affected = list(incident.affected.all())
        public = [row.monitor for row in affected if row.monitor.is_public]
        views.append(
            IncidentView(
                incident=incident,
                updates=list(incident.updates.all()),
                components=[
                    Component.of_monitor(m, inputs.status_of(m), position)
                    for position, m in enumerate(public, start=1)
                ],
                impacts=[row.impact for row in affected],
            )
        )
    return views


# --- maintenance --------------------------------------------------------------------------


@dataclass
class Occurrence:
    """One run of a maintenance window (a one-off window has one)."""

    window: MaintenanceWindow
    starts_at: datetime
    ends_at: datetime
    status: str  # scheduled / in_progress / completed
    components: list[Component] = field(default_factory=list)

    @property
    def recurring(self) -> bool:
        return bool(self.window.rrule)


def occurrence_status(starts_at: datetime, ends_at: datetime, now: datetime) -> str:
    """Statuspage's maintenance status for a run at ``now`` (pure)."""
    if now < starts_at:
        return "scheduled"
    if now < ends_at:
        return "in_progress"
    return "completed"


def runs_to_show(window: MaintenanceWindow, now: datetime) -> list[tuple[datetime, datetime]]:
    """The runs of ``window`` worth showing at ``now`` (pure, from the row):
    a one-off window's only run; for a recurring one, the run in progress or
    last finished, and the next one. ValueError for an unusable RRULE."""
    duration = window.ends_at - window.starts_at
    if not window.rrule:
        return [(window.starts_at, window.ends_at)]
    rule = parse_rrule(window.rrule, window.starts_at)
    runs = []
    last = rule.before(now, inc=True)
    if last is not None:
        runs.append((last, last + duration))
    upcoming = rule.after(now)
    if upcoming is not None:
        runs.append((upcoming, upcoming + duration))
    return runs


def maintenance(
    *,
    now: datetime,
    inputs: StatusInputs,
    statuses: Sequence[str] = ("scheduled", "in_progress", "completed"),
    limit: int = 50,
    monitor: Monitor | None = None,
    page_monitor_ids: set[int] | None = None,
) -> list[Occurrence]:
    """Runs of maintenance windows with one of ``statuses``, newest start
    first, at most ``limit``: 3 queries (one-off windows, recurring windows,
    their monitors).

    ``monitor`` keeps windows covering it (global ones included);
    ``page_monitor_ids`` keeps global windows and those covering one of them."""
    through = MaintenanceWindow.monitors.through
    windows = selectors.public_windows().prefetch_related(
        Prefetch(
            "monitors",
            queryset=Monitor.objects.filter(is_public=True)
            .select_related("state")
            .order_by("name", "id"),
        )
    )
    if monitor is not None:
        windows = windows.filter(
            Q(is_global=True)
            | Exists(through.objects.filter(maintenancewindow=OuterRef("pk"), monitor=monitor))
        )
    if page_monitor_ids is not None:
        windows = windows.filter(
            Q(is_global=True)
            | Exists(
                through.objects.filter(
                    maintenancewindow=OuterRef("pk"), monitor_id__in=list(page_monitor_ids)
                )
            )
        )
    one_off = windows.filter(rrule="")
    if set(statuses) == {"scheduled"}:
        one_off = one_off.filter(starts_at__gt=now)
    elif "completed" not in statuses:
        one_off = one_off.filter(ends_at__gt=now)
    # Newest first, and never more one-off windows than could be shown.
    one_off = one_off.order_by("-starts_at", "-id")[:limit]
    recurring = windows.exclude(rrule="").order_by("-starts_at", "-id")
    runs: list[Occurrence] = []
    for window in [*one_off, *recurring]:
        try:
            spans = runs_to_show(window, now)
        except (ValueError, TypeError):
            log.warning("maintenance window %s has an unusable rrule", window.pk)
            continue
        public = list(window.monitors.all())
        for start, end in spans:
            status = occurrence_status(start, end, now)
            if status not in statuses:
                continue
            runs.append(
                Occurrence(
                    window=window,
                    starts_at=start,
                    ends_at=end,
                    status=status,
                    components=[
                        Component.of_monitor(m, inputs.status_of(m), position)
                        for position, m in enumerate(public, start=1)
                    ],
                )
            )
    runs.sort(key=lambda r: (r.starts_at, r.window.pk), reverse=True)
    return runs[:limit]


def recent_windows(*, limit: int = 50, monitor: Monitor | None = None) -> list[MaintenanceWindow]:
    """The ``limit`` most recently created windows (feeds): 2 queries."""
    through = MaintenanceWindow.monitors.through
    windows = selectors.public_windows().prefetch_related(
        Prefetch("monitors", queryset=Monitor.objects.filter(is_public=True).order_by("name"))
    )
    if monitor is not None:
        windows = windows.filter(
            Q(is_global=True)
            | Exists(through.objects.filter(maintenancewindow=OuterRef("pk"), monitor=monitor))
        )
    return list(windows.order_by("-created_at", "-id")[:limit])


# --- one monitor's numbers -----------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    up: int
    degraded: int
    down: int

    @property
    def percent(self) -> float | None:
        return uptime_percent(self.up, self.degraded, self.down)


def uptime(monitor: Monitor, *, days: int, now: datetime) -> Counts:
    """Result counts over the last ``days`` UTC days, today included (the
    days the HTML bars show, summed the same way): 1 query."""
    today = now.astimezone(UTC).date()
    totals = DailyRollup.objects.filter(
        monitor=monitor, day__gt=today - timedelta(days=days), day__lte=today
    ).aggregate(up=Sum("up_count"), degraded=Sum("degraded_count"), down=Sum("down_count"))
    return Counts(totals["up"] or 0, totals["degraded"] or 0, totals["down"] or 0)


def latency_ms(monitor: Monitor, *, now: datetime) -> float | None:
    """Mean latency over the last 24 hours of hourly rollups, else the latest
    check's (a monitor checked less than hourly may have no recent rollup): 1 query."""
    totals = HourlyRollup.objects.filter(
        monitor=monitor, hour__gt=now - timedelta(hours=24)
    ).aggregate(total=Sum("latency_sum"), count=Sum("latency_count"))
    if totals["count"]:
        return float(totals["total"]) / totals["count"]
    state = monitor_state(monitor)
    return state.last_latency_ms if state else None
