"""Read queries for the public side: what a status page, a monitor page, an
incident, a maintenance window and the history show. Shared by the HTML pages
and the machine side (feeds, badges, the Statuspage v2 API).

Visibility rules, in one place:

- only ``Monitor.is_public`` monitors appear anywhere public;
- an incident is public when it affects at least one public monitor, and it
  is shown with its public monitors only;
- a maintenance window is public when it is global or covers at least one
  public monitor, again shown with its public monitors only;
- nothing internal is read: no notes, authors, alerts, timeline or links.

Cost: a whole page (sections, current status, 90-day bars, uptime, open
incidents, maintenance) is a fixed handful of queries whatever the number of
monitors: layout, daily rollups, incident impacts, open incidents with their
latest update, maintenance windows and their monitors (``page_data``). The
per-day work happens in Python over those rows (``public_site.bars``).
Nothing here reads raw results except ``monitor_day`` (one monitor, one day).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    CharField,
    Exists,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast

from incidents.models import Incident, IncidentMonitor, IncidentUpdate, MaintenanceWindow, State
from monitors.models import CheckResult, DailyRollup, HourlyRollup, Monitor

from .bars import (
    DayBar,
    IncidentMark,
    build_days,
    day_range,
    day_start,
    days_touched,
    occurrences,
    period_uptime,
    utc_day,
)
from .models import Section, SectionMonitor, StatusPage
from .status import (
    COMPONENT_LABEL,
    COMPONENT_LEVEL,
    Banner,
    banner,
    component_status,
    group_status,
    uptime_percent,
    worst_impact,
)

#: Days of bars on a page (phones show the last 30 of them, CSS only).
PUBLIC_DAYS = 90
#: How far ahead scheduled maintenance is announced.
UPCOMING_DAYS = 90
#: Months per page of the history.
HISTORY_MONTHS_PER_PAGE = 3
#: Default name of the one section a fresh install shows (no status page yet).
DEFAULT_SECTION = "Services"


# --- What a page shows -------------------------------------------------------------


@dataclass(slots=True)
class MonitorRow:
    """One public monitor on a page: now, and its last ``PUBLIC_DAYS`` days."""

    id: int
    tag: str
    name: str
    description: str
    check_status: str | None  # UP / DEGRADED / DOWN, None: never checked or paused
    status: str  # Statuspage component status (public_site.status)
    since: datetime | None
    last_checked_at: datetime | None
    is_paused: bool
    in_maintenance: bool
    incident_impact: str | None  # worst impact of open incidents now
    uptime: float | None  # over the days shown
    days: list[DayBar]
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def level(self) -> str:
        return COMPONENT_LEVEL[self.status]

    @property
    def label(self) -> str:
        return COMPONENT_LABEL[self.status]


@dataclass(slots=True)
class SectionBlock:
    """A section (component group) and its monitors in their chosen order."""

    id: int | None
    name: str
    description: str
    position: int
    monitors: list[MonitorRow]
    status: str

    @property
    def level(self) -> str:
        return COMPONENT_LEVEL[self.status]

    @property
    def label(self) -> str:
        return COMPONENT_LABEL[self.status]


@dataclass(slots=True)
class AffectedMonitor:
    """A public monitor named by an incident or a maintenance window."""

    id: int
    tag: str
    name: str
    impact: str = ""


@dataclass(slots=True)
class PublicIncident:
    """An incident as the public sees it (never notes, authors or alerts)."""

    id: int
    key: str
    title: str
    state: str
    started_at: datetime
    ended_at: datetime | None
    updated_at: datetime | None
    monitors: list[AffectedMonitor] = field(default_factory=list)
    latest_state: str = ""
    latest_html: str = ""
    latest_at: datetime | None = None

    @property
    def is_resolved(self) -> bool:
        return self.state == State.RESOLVED

    @property
    def impact(self) -> str | None:
        return worst_impact(m.impact for m in self.monitors)


@dataclass(slots=True)
class PublicWindow:
    """A maintenance window as the public sees it, at ``now``."""

    id: int
    title: str
    description_html: str
    state: str  # active / upcoming / past
    start: datetime  # of the current, next or (past) last occurrence
    end: datetime
    recurring: bool
    is_global: bool
    monitors: list[AffectedMonitor] = field(default_factory=list)
    next_starts: list[datetime] = field(default_factory=list)
    updated_at: datetime | None = None


@dataclass(slots=True)
class PageData:
    """Everything a status page shows."""

    page: StatusPage | None
    sections: list[SectionBlock]
    monitors: dict[int, MonitorRow]
    banner: Banner
    incidents: list[PublicIncident]  # open, newest first
    active_maintenance: list[PublicWindow]
    upcoming_maintenance: list[PublicWindow]
    days: list[date]
    now: datetime

    @property
    def status(self) -> str:
        """The page's overall component status (worst of its groups)."""
        return group_status(s.status for s in self.sections if s.monitors)


# --- Visibility --------------------------------------------------------------------


_MAX_TAG = Monitor._meta.get_field("tag").max_length or 64


def public_monitors() -> QuerySet[Monitor]:
    """Monitors the public may see."""
    return Monitor.objects.filter(is_public=True)


def public_monitor(tag: str) -> Monitor | None:
    """The public monitor with ``tag`` (and its state), or None: private and
    unknown tags are indistinguishable. A string that cannot be a tag is not
    looked up (PostgreSQL refuses NUL bytes outright: that would be a 500)."""
    if len(tag) > _MAX_TAG or "\x00" in tag:
        return None
    return public_monitors().select_related("state").filter(tag=tag).first()


def public_incidents() -> QuerySet[Incident]:
    """Incidents affecting at least one public monitor."""
    return Incident.objects.filter(
        Exists(IncidentMonitor.objects.filter(incident=OuterRef("pk"), monitor__is_public=True))
    )


def public_windows() -> QuerySet[MaintenanceWindow]:
    """Maintenance windows that are global or cover at least one public monitor."""
    through = MaintenanceWindow.monitors.through
    return MaintenanceWindow.objects.filter(
        Q(is_global=True)
        | Exists(through.objects.filter(maintenancewindow=OuterRef("pk"), monitor__is_public=True))
    )


def _public_monitor_prefetch(attr: str = "public_monitors") -> Prefetch:
    return Prefetch(
        "monitors",
        queryset=Monitor.objects.filter(is_public=True).only("id", "tag", "name").order_by("name"),
        to_attr=attr,
    )


def _latest_update(field_name: str) -> Subquery:
    return Subquery(
        IncidentUpdate.objects.filter(incident=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values(field_name)[:1]
    )


def with_latest_update(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    """Annotate ``latest_state``, ``latest_html``, ``latest_at`` (one query)."""
    return qs.annotate(
        latest_state=_latest_update("state"),
        latest_html=_latest_update("html"),
        latest_at=_latest_update("created_at"),
    )


# --- Pages ---------------------------------------------------------------------------


def all_pages() -> list[StatusPage]:
    """Every status page in menu order."""
    return list(StatusPage.objects.order_by("position", "id"))


def home_of(pages: Sequence[StatusPage]) -> StatusPage | None:
    """The home page: the one marked home, else the first; None without pages."""
    for page in pages:
        if page.is_home:
            return page
    return pages[0] if pages else None


@dataclass(slots=True)
class _Info:
    """A monitor as read for a page (plain values, one query)."""

    id: int
    tag: str
    name: str
    description: str
    is_active: bool
    status: str | None
    since: datetime | None
    last_checked_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None


_INFO_FIELDS = (
    "id",
    "tag",
    "name",
    "description",
    "is_active",
    "state__status",
    "state__since",
    "state__last_checked_at",
    "created_at",
    "updated_at",
)


def _layout(page: StatusPage | None) -> tuple[list[tuple[Any, list[int]]], dict[int, _Info]]:
    """The page's sections with their monitor ids in order, and each monitor's info.

    Without a page: one section with every public monitor by name, so a fresh
    install has a useful home page.
    """
    infos: dict[int, _Info] = {}
    if page is None:
        rows = public_monitors().order_by("name", "id").values_list(*_INFO_FIELDS)
        for row in rows:
            infos[row[0]] = _Info(*row)
        return ([(None, list(infos))] if infos else []), infos
    sections = list(page.sections.order_by("position", "id"))
    members: dict[int, list[int]] = {s.pk: [] for s in sections}
    prefixed = tuple(f"monitor__{name}" for name in _INFO_FIELDS)
    entries = (
        SectionMonitor.objects.filter(section__page=page, monitor__is_public=True)
        .order_by("section_id", "position", "id")
        .values_list("section_id", *prefixed)
    )
    for section_id, *values in entries:
        info = infos.get(values[0]) or _Info(*values)
        infos[info.id] = info
        if section_id in members and info.id not in members[section_id]:
            members[section_id].append(info.id)
    return [(s, members[s.pk]) for s in sections], infos


@dataclass(slots=True)
class _Collected:
    rows: dict[int, MonitorRow]
    incidents: dict[int, PublicIncident]  # every public incident in range, by id
    # Windows overlapping the range or ahead of now, with their occurrences
    # there and the covered monitor ids.
    windows: list[tuple[PublicWindow, list[tuple[datetime, datetime]], set[int]]]


def daily_counts(
    ids: Sequence[int], first: date, last: date
) -> dict[int, dict[date, tuple[int, int, int]]]:
    """(up, degraded, down) per day from ``first`` to ``last`` of each monitor,
    from the daily rollups, in one query."""
    counts: dict[int, dict[date, tuple[int, int, int]]] = {mid: {} for mid in ids}
    if not ids:
        return counts
    qs = DailyRollup.objects.filter(monitor_id__in=list(ids), day__gte=first, day__lte=last)
    fields = ("monitor_id", "day", "up_count", "degraded_count", "down_count")
    if connection.vendor == "sqlite":
        # SQLite stores dates as ISO text and Django parses each one: mapping
        # the text through the known dates instead halves this query's cost.
        span = (last - first).days + 1
        by_iso = {(first + timedelta(n)).isoformat(): first + timedelta(n) for n in range(span)}
        rows = qs.annotate(iso=Cast("day", CharField())).values_list(
            "monitor_id", "iso", *fields[2:]
        )
        for mid, iso, up, degraded, down in rows:
            counts[mid][by_iso[iso]] = (up, degraded, down)
    else:
        for mid, day, up, degraded, down in qs.values_list(*fields):
            counts[mid][day] = (up, degraded, down)
    return counts


def _collect(infos: dict[int, _Info], *, now: datetime, days: int) -> _Collected:
    """Status, bars, uptime, incidents and maintenance of ``infos`` monitors.

    Three queries (rollups, incident impacts, maintenance windows + their
    monitors: four) whatever the number of monitors.
    """
    ids = list(infos)
    today = utc_day(now)
    dates = day_range(today, days)
    first = dates[0]
    range_start = day_start(first)

    # 1. Daily rollups of every monitor at once.
    counts = daily_counts(ids, first, today)

    # 2. Incident impacts on these monitors overlapping the range (and open now).
    marks: dict[int, list[tuple[datetime, datetime, IncidentMark]]] = {}
    current: dict[int, list[str]] = {}
    incidents: dict[int, PublicIncident] = {}
    if ids:
        impacts = (
            IncidentMonitor.objects.filter(monitor_id__in=ids, incident__started_at__lte=now)
            .filter(Q(incident__ended_at__isnull=True) | Q(incident__ended_at__gte=range_start))
            .values_list(
                "monitor_id",
                "impact",
                "impact_removed_at",
                "incident_id",
                "incident__title",
                "incident__state",
                "incident__started_at",
                "incident__ended_at",
            )
            .order_by("incident__started_at", "incident_id")
        )
        for mid, impact, removed, iid, title, state, started, ended in impacts:
            incident = incidents.get(iid)
            if incident is None:
                incident = incidents[iid] = PublicIncident(
                    id=iid,
                    key=f"INC-{iid:06d}",
                    title=title,
                    state=state,
                    started_at=started,
                    ended_at=ended,
                    updated_at=None,  # not read here: the machine side reads its own
                )
            info = infos[mid]
            incident.monitors.append(AffectedMonitor(mid, info.tag, info.name, impact))
            open_ = state != State.RESOLVED
            ends = [t for t in (ended, removed) if t is not None]
            end = min(ends) if ends else now
            mark = IncidentMark(incident.key, title, impact)
            marks.setdefault(mid, []).append((started, end, mark))
            if open_ and removed is None:
                current.setdefault(mid, []).append(impact)

    # 3. Maintenance windows covering these monitors, in range or ahead.
    windows = _windows_for(ids, now=now, start=range_start, infos=infos)
    active_ids: set[int] = set()
    maintenance_days: dict[int | None, set[date]] = {}
    for pw, intervals, covered in windows:
        if pw.state == "active":
            active_ids |= set(ids) if pw.is_global else covered
        past = [(a, min(b, now)) for a, b in intervals if a < now]
        touched: set[date] = set()
        for a, b in past:
            touched.update(days_touched(a, b, first, today))
        if not touched:
            continue
        for mid in [None] if pw.is_global else covered:
            maintenance_days.setdefault(mid, set()).update(touched)

    global_days = maintenance_days.get(None, set())
    rows: dict[int, MonitorRow] = {}
    for mid, info in infos.items():
        own = maintenance_days.get(mid)
        mdays = (own | global_days) if own else global_days
        bars = build_days(dates, counts[mid], maintenance_days=mdays, incidents=marks.get(mid, ()))
        check = info.status if info.is_active else None
        in_maintenance = mid in active_ids
        impact = worst_impact(current.get(mid, ()))
        rows[mid] = MonitorRow(
            id=mid,
            tag=info.tag,
            name=info.name,
            description=info.description,
            check_status=check,
            status=component_status(check, in_maintenance=in_maintenance, incident_impact=impact),
            since=info.since,
            last_checked_at=info.last_checked_at,
            is_paused=not info.is_active,
            in_maintenance=in_maintenance,
            incident_impact=impact,
            uptime=_uptime(counts[mid].values()),
            days=bars,
            created_at=info.created_at,
            updated_at=info.updated_at,
        )
    return _Collected(rows, incidents, windows)


def _uptime(counts: Iterable[tuple[int, int, int]]) -> float | None:
    """Uptime % over (up, degraded, down) day counts (``bars.period_uptime``
    without building the bars first)."""
    up = degraded = down = 0
    for u, d, dn in counts:
        up += u
        degraded += d
        down += dn
    return uptime_percent(up, degraded, down)


def _windows_for(
    ids: Sequence[int], *, now: datetime, start: datetime, infos: dict[int, Any] | None = None
) -> list[tuple[PublicWindow, list[tuple[datetime, datetime]], set[int]]]:
    """Windows (global, or covering one of ``ids``) overlapping ``[start, now +
    UPCOMING_DAYS)``, each with its occurrences there and the covered ids."""
    horizon = now + timedelta(days=UPCOMING_DAYS)
    cover = Q(is_global=True)
    if ids:
        through = MaintenanceWindow.monitors.through
        cover |= Exists(
            through.objects.filter(maintenancewindow=OuterRef("pk"), monitor_id__in=list(ids))
        )
    qs = (
        MaintenanceWindow.objects.filter(cover, starts_at__lt=horizon)
        .filter(Q(rrule="", ends_at__gt=start) | ~Q(rrule=""))
        .prefetch_related(_public_monitor_prefetch())
        .order_by("starts_at", "id")
    )
    wanted = set(ids)
    out = []
    for window in qs:
        public = window.public_monitors
        if not window.is_global and not public:
            continue
        intervals = occurrences(window, start, horizon)
        if not intervals:
            continue
        pw = _public_window(window, intervals, now, public)
        if pw is None:
            continue
        covered = {m.id for m in public} & wanted
        out.append((pw, intervals, covered))
    return out


def _public_window(
    window: MaintenanceWindow,
    intervals: list[tuple[datetime, datetime]],
    now: datetime,
    public: Iterable[Monitor],
) -> PublicWindow | None:
    state, start, end = "past", None, None
    upcoming = [(a, b) for a, b in intervals if a > now]
    for a, b in intervals:
        if a <= now < b:
            state, start, end = "active", a, b
            break
    if start is None and upcoming:
        state, (start, end) = "upcoming", upcoming[0]
    if start is None:
        past = [(a, b) for a, b in intervals if b <= now]
        if not past:
            return None
        start, end = past[-1]
    return PublicWindow(
        id=window.pk,
        title=window.title,
        description_html=window.description_html,
        state=state,
        start=start,
        end=end,
        recurring=bool(window.rrule),
        is_global=window.is_global,
        monitors=[AffectedMonitor(m.id, m.tag, m.name) for m in public],
        next_starts=[a for a, _ in upcoming[:5]],
        updated_at=window.updated_at,
    )


def _open_incidents(collected: _Collected) -> list[PublicIncident]:
    """The open incidents among ``collected``, newest first, with their latest
    update (one query)."""
    open_ids = [i.id for i in collected.incidents.values() if i.state != State.RESOLVED]
    if not open_ids:
        return []
    latest = {
        row["pk"]: row
        for row in with_latest_update(Incident.objects.filter(pk__in=open_ids)).values(
            "pk", "latest_state", "latest_html", "latest_at"
        )
    }
    out = []
    for iid in open_ids:
        incident = collected.incidents[iid]
        row = latest.get(iid)
        if row is None:  # deleted since the first query
            continue
        incident.latest_state = row["latest_state"] or ""
        incident.latest_html = row["latest_html"] or ""
        incident.latest_at = row["latest_at"]
        out.append(incident)
    out.sort(key=lambda i: (i.started_at, i.id), reverse=True)
    return out


def page_data(page: StatusPage | None, *, now: datetime, days: int = PUBLIC_DAYS) -> PageData:
    """A status page (``None``: every public monitor in one section) at ``now``."""
    layout, infos = _layout(page)
    collected = _collect(infos, now=now, days=days)
    rows = collected.rows
    sections = []
    for section, member_ids in layout:
        monitors = [rows[mid] for mid in member_ids]
        sections.append(
            SectionBlock(
                id=section.pk if section else None,
                name=section.name if section else DEFAULT_SECTION,
                description=section.description if section else "",
                position=section.position if section else 0,
                monitors=monitors,
                status=group_status(m.status for m in monitors),
            )
        )
    windows = [w for w, _, _ in collected.windows]
    return PageData(
        page=page,
        sections=sections,
        monitors=rows,
        banner=banner(r.status for r in rows.values()),
        incidents=_open_incidents(collected),
        active_maintenance=[w for w in windows if w.state == "active"],
        upcoming_maintenance=[w for w in windows if w.state == "upcoming"],
        days=day_range(utc_day(now), days),
        now=now,
    )


def sections_of(page: StatusPage) -> list[Section]:
    """A page's sections with their entries (and monitors) for the editor."""
    return list(
        page.sections.order_by("position", "id").prefetch_related(
            Prefetch(
                "entries",
                queryset=SectionMonitor.objects.select_related("monitor").order_by(
                    "position", "id"
                ),
            )
        )
    )


# --- One monitor ---------------------------------------------------------------------


@dataclass(slots=True)
class MonitorPage:
    """A public monitor's page."""

    row: MonitorRow
    incidents: list[PublicIncident]  # those that affected it in the range, newest first
    windows: list[PublicWindow]  # active and upcoming
    uptime_24h: float | None
    uptime_7d: float | None
    uptime_30d: float | None


def _info(monitor: Monitor) -> _Info:
    state = getattr(monitor, "state", None)
    return _Info(
        monitor.pk,
        monitor.tag,
        monitor.name,
        monitor.description,
        monitor.is_active,
        state.status if state else None,
        state.since if state else None,
        state.last_checked_at if state else None,
        monitor.created_at,
        monitor.updated_at,
    )


def monitor_page(monitor: Monitor, *, now: datetime, days: int = PUBLIC_DAYS) -> MonitorPage:
    """A public monitor's status, bars, uptimes, incidents and maintenance."""
    collected = _collect({monitor.pk: _info(monitor)}, now=now, days=days)
    row = collected.rows[monitor.pk]
    since = now - timedelta(hours=24)
    up = degraded = down = 0
    for u, d, dn in HourlyRollup.objects.filter(
        monitor_id=monitor.pk, hour__gt=since - timedelta(hours=1)
    ).values_list("up_count", "degraded_count", "down_count"):
        up, degraded, down = up + u, degraded + d, down + dn
    incidents = sorted(
        collected.incidents.values(), key=lambda i: (i.started_at, i.id), reverse=True
    )
    return MonitorPage(
        row=row,
        incidents=incidents,
        windows=[w for w, _, _ in collected.windows if w.state in ("active", "upcoming")],
        uptime_24h=uptime_percent(up, degraded, down),
        uptime_7d=period_uptime(row.days[-7:]),
        uptime_30d=period_uptime(row.days[-30:]),
    )


@dataclass(slots=True)
class MinuteCell:
    """The worst result seen in one minute of a day (UTC)."""

    minute: int  # 0..1439
    status: str  # UP / DEGRADED / DOWN
    count: int
    latency_ms: float | None  # the slowest in the minute
    message: str


@dataclass(slots=True)
class MonitorDay:
    """One day of one public monitor."""

    bar: DayBar
    hours: list[HourlyRollup]
    minutes: list[MinuteCell] | None  # None: raw results no longer kept for that day
    incidents: list[PublicIncident]
    windows: list[PublicWindow]


_SEVERITY = {"UP": 0, "DEGRADED": 1, "DOWN": 2}


def monitor_day(monitor: Monitor, day: date, *, now: datetime, retention_days: int) -> MonitorDay:
    """The detail of ``day``: its bar, hourly rollups and (while raw results are
    kept) the minute-level results of that one day."""
    start = day_start(day)
    end = start + timedelta(days=1)
    today = utc_day(now)
    span = (today - day).days + 1
    collected = _collect({monitor.pk: _info(monitor)}, now=now, days=max(span, 1))
    row = collected.rows[monitor.pk]
    bar = row.days[0]
    hours = list(
        HourlyRollup.objects.filter(monitor_id=monitor.pk, hour__gte=start, hour__lt=end).order_by(
            "hour"
        )
    )
    minutes: list[MinuteCell] | None = None
    if end > now - timedelta(days=retention_days):
        cells: dict[int, MinuteCell] = {}
        results = (
            CheckResult.objects.filter(monitor_id=monitor.pk, checked_at__gte=start)
            .filter(checked_at__lt=end)
            .order_by("checked_at")
            .values_list("checked_at", "status", "latency_ms", "message")
        )
        for at, status, latency, message in results:
            minute = (at - start) // timedelta(minutes=1)
            cell = cells.get(minute)
            if cell is None:
                cells[minute] = MinuteCell(minute, status, 1, latency, message)
                continue
            cell.count += 1
            if _SEVERITY[status] > _SEVERITY[cell.status]:
                cell.status, cell.message = status, message
            if latency is not None and (cell.latency_ms is None or latency > cell.latency_ms):
                cell.latency_ms = latency
        minutes = [cells[k] for k in sorted(cells)]
    incidents = [
        i
        for i in collected.incidents.values()
        if i.started_at < end and (i.ended_at is None or i.ended_at >= start)
    ]
    incidents.sort(key=lambda i: (i.started_at, i.id))
    windows = [
        w
        for w, intervals, _ in collected.windows
        if any(a < now and any(days_touched(a, min(b, now), day, day)) for a, b in intervals)
    ]
    return MonitorDay(bar=bar, hours=hours, minutes=minutes, incidents=incidents, windows=windows)


# --- Incidents and maintenance -----------------------------------------------------------


@dataclass(slots=True)
class IncidentPage:
    incident: PublicIncident
    updates: list[IncidentUpdate]


def incident_page(pk: int) -> IncidentPage | None:
    """A public incident with its public monitors and its updates (newest first)."""
    incident = (
        public_incidents()
        .filter(pk=pk)
        .prefetch_related(
            Prefetch(
                "affected",
                queryset=IncidentMonitor.objects.filter(monitor__is_public=True)
                .select_related("monitor")
                .only("id", "incident_id", "impact", "monitor__id", "monitor__tag", "monitor__name")
                .order_by("monitor__name"),
                to_attr="public_affected",
            )
        )
        .first()
    )
    if incident is None:
        return None
    updates = list(
        IncidentUpdate.objects.filter(incident=incident)
        .only("id", "state", "html", "created_at")
        .order_by("-created_at", "-id")
    )
    return IncidentPage(_public_incident(incident), updates)


def _public_incident(incident: Incident) -> PublicIncident:
    affected = getattr(incident, "public_affected", [])
    return PublicIncident(
        id=incident.pk,
        key=incident.key,
        title=incident.title,
        state=incident.state,
        started_at=incident.started_at,
        ended_at=incident.ended_at,
        updated_at=incident.updated_at,
        monitors=[
            AffectedMonitor(a.monitor.pk, a.monitor.tag, a.monitor.name, a.impact) for a in affected
        ],
        latest_state=getattr(incident, "latest_state", "") or "",
        latest_html=getattr(incident, "latest_html", "") or "",
        latest_at=getattr(incident, "latest_at", None),
    )


def window_page(pk: int, *, now: datetime) -> PublicWindow | None:
    """A public maintenance window at ``now``."""
    window = public_windows().filter(pk=pk).prefetch_related(_public_monitor_prefetch()).first()
    if window is None:
        return None
    return _window_now(window, now)


def _window_now(window: MaintenanceWindow, now: datetime) -> PublicWindow:
    """A window's state around ``now``: its current, next or last occurrence."""
    duration = window.ends_at - window.starts_at
    horizon = now + timedelta(days=366)
    intervals = occurrences(window, now - duration, horizon)
    pw = _public_window(window, intervals, now, window.public_monitors) if intervals else None
    if pw is None:  # wholly in the past: show its first occurrence
        pw = _public_window(
            window, [(window.starts_at, window.ends_at)], now, window.public_monitors
        )
    assert pw is not None
    return pw


# --- History -------------------------------------------------------------------------------


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(month: date, n: int) -> date:
    total = month.year * 12 + (month.month - 1) + n
    return date(total // 12, total % 12 + 1, 1)


@dataclass(slots=True)
class HistoryMonth:
    month: date
    incidents: list[PublicIncident]
    windows: list[PublicWindow]


@dataclass(slots=True)
class HistoryPage:
    number: int
    num_pages: int
    months: list[HistoryMonth]

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def history_pages(*, now: datetime) -> int:
    """How many pages the history has (at least one)."""
    first_incident = public_incidents().aggregate(first=Min("started_at"))["first"]
    first_window = public_windows().aggregate(first=Min("starts_at"))["first"]
    earliest = min([t for t in (first_incident, first_window) if t is not None], default=None)
    this_month = _month_start(utc_day(now))
    if earliest is None or earliest >= now:
        return 1
    first = _month_start(utc_day(earliest))
    months = (this_month.year - first.year) * 12 + this_month.month - first.month + 1
    return max(1, -(-months // HISTORY_MONTHS_PER_PAGE))


def history_page(number: int, *, now: datetime) -> HistoryPage | None:
    """Page ``number`` (1 = the latest months) of the history; None when out of range.

    A page is ``HISTORY_MONTHS_PER_PAGE`` calendar months (UTC), newest first,
    each with its public incidents and maintenance windows (by start).
    """
    pages = history_pages(now=now)
    if number < 1 or number > pages:
        return None
    this_month = _month_start(utc_day(now))
    newest = _add_months(this_month, -(number - 1) * HISTORY_MONTHS_PER_PAGE)
    oldest = _add_months(newest, -(HISTORY_MONTHS_PER_PAGE - 1))
    start, end = day_start(oldest), day_start(_add_months(newest, 1))
    incidents = [
        _public_incident(i)
        for i in public_incidents()
        .filter(started_at__gte=start, started_at__lt=end)
        .prefetch_related(
            Prefetch(
                "affected",
                queryset=IncidentMonitor.objects.filter(monitor__is_public=True)
                .select_related("monitor")
                .only("id", "incident_id", "impact", "monitor__id", "monitor__tag", "monitor__name")
                .order_by("monitor__name"),
                to_attr="public_affected",
            )
        )
        .order_by("-started_at", "-id")
    ]
    windows = [
        _public_window(w, [(w.starts_at, w.ends_at)], now, w.public_monitors)
        for w in public_windows()
        .filter(starts_at__gte=start, starts_at__lt=end)
        .prefetch_related(_public_monitor_prefetch())
        .order_by("-starts_at", "-id")
    ]
    months = []
    for n in range(HISTORY_MONTHS_PER_PAGE):
        month = _add_months(newest, -n)
        months.append(
            HistoryMonth(
                month=month,
                incidents=[i for i in incidents if _month_start(utc_day(i.started_at)) == month],
                windows=[
                    w for w in windows if w is not None and _month_start(utc_day(w.start)) == month
                ],
            )
        )
    return HistoryPage(number=number, num_pages=pages, months=months)


def last_change(*, now: datetime) -> datetime | None:
    """When anything public last changed (incidents, updates, windows): for
    feeds' ``updated`` and cheap Last-Modified headers."""
    values = [
        public_incidents().aggregate(t=Max("updated_at"))["t"],
        public_windows().aggregate(t=Max("updated_at"))["t"],
    ]
    known = [v for v in values if v is not None and v <= now]
    return max(known, default=None)


__all__ = [
    "HISTORY_MONTHS_PER_PAGE",
    "PUBLIC_DAYS",
    "AffectedMonitor",
    "HistoryMonth",
    "HistoryPage",
    "IncidentPage",
    "MonitorDay",
    "MonitorPage",
    "MonitorRow",
    "PageData",
    "PublicIncident",
    "PublicWindow",
    "SectionBlock",
    "all_pages",
    "daily_counts",
    "history_page",
    "history_pages",
    "home_of",
    "incident_page",
    "last_change",
    "monitor_day",
    "monitor_page",
    "page_data",
    "public_incidents",
    "public_monitor",
    "public_monitors",
    "public_windows",
    "sections_of",
    "window_page",
    "with_latest_update",
]
