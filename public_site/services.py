"""Services of the public side's configuration: site settings, status pages,
sections and the monitors in them. The only code that changes these rows.

Each function takes validated input, an explicit ``now`` and the acting user,
runs in one transaction and writes an audit row (``statuspage.audit.record``)
with the change. Markdown fields are rendered once (``incidents.markdown``)
and stored beside their source. A ``SiteError(field, message)`` is raised for
a rule only the database can judge (a slug or monitor taken), before anything
is written. Cached public pages are retired on commit (``cache.bump``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from incidents.markdown import render
from monitors.models import Monitor
from statuspage.audit import diff, record, snapshot

from . import cache
from .models import Section, SectionMonitor, SiteSettings, StatusPage

SITE_FIELDS = (
    "name",
    "logo_url",
    "description",
    "public_url",
    "time_zone",
    "color_up",
    "color_degraded",
    "color_down",
    "color_maintenance",
    "theme",
    "footer",
    "announcement",
)
PAGE_FIELDS = ("slug", "title", "description", "is_home", "position")
SECTION_FIELDS = ("name", "description")
_MARKDOWN = {
    "description": "description_html",
    "footer": "footer_html",
    "announcement": "announcement_html",
}


class SiteError(ValueError):
    """A change refused, naming the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _bump_on_commit() -> None:
    transaction.on_commit(cache.bump)


def update_site(data: dict[str, Any], *, now: datetime, actor: Any = None) -> SiteSettings:
    """Change the site settings given in ``data``."""
    with transaction.atomic():
        SiteSettings.load()
        site = SiteSettings.objects.select_for_update().get(pk=1)
        before = snapshot(site, SITE_FIELDS)
        for name in SITE_FIELDS:
            if name in data:
                setattr(site, name, data[name])
        for source, target in _MARKDOWN.items():
            if source in data:
                setattr(site, target, render(getattr(site, source)))
        site.save()
        changes = diff(before, snapshot(site, SITE_FIELDS))
        if changes:
            record("updated", site, now=now, actor=actor, changes=changes, label="Site settings")
        _bump_on_commit()
    return site


def _slug_free(slug: str, exclude: int | None = None) -> None:
    taken = StatusPage.objects.filter(slug=slug)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise SiteError("slug", "Another page already uses this slug.")


def create_page(data: dict[str, Any], *, now: datetime, actor: Any = None) -> StatusPage:
    """Create a status page; ``is_home`` moves the home mark to it."""
    with transaction.atomic():
        _slug_free(data["slug"])
        if data.get("is_home"):
            StatusPage.objects.filter(is_home=True).update(is_home=False)
        page = StatusPage(**{k: data[k] for k in PAGE_FIELDS if k in data})
        if "position" not in data:
            top = StatusPage.objects.aggregate(m=Max("position"))["m"]
            page.position = 0 if top is None else top + 1
        page.description_html = render(page.description)
        try:
            with transaction.atomic():
                page.save()
        except IntegrityError:
            raise SiteError("slug", "Another page already uses this slug.") from None
        record("created", page, now=now, actor=actor, changes=snapshot(page, PAGE_FIELDS))
        _bump_on_commit()
    return page


def update_page(
    page: StatusPage, data: dict[str, Any], *, now: datetime, actor: Any = None
) -> StatusPage:
    """Change a page's fields."""
    with transaction.atomic():
        page = StatusPage.objects.select_for_update().get(pk=page.pk)
        if "slug" in data:
            _slug_free(data["slug"], exclude=page.pk)
        before = snapshot(page, PAGE_FIELDS)
        if data.get("is_home") and not page.is_home:
            StatusPage.objects.filter(is_home=True).exclude(pk=page.pk).update(is_home=False)
        for name in PAGE_FIELDS:
            if name in data:
                setattr(page, name, data[name])
        if "description" in data:
            page.description_html = render(page.description)
        try:
            with transaction.atomic():
                page.save()
        except IntegrityError:
            raise SiteError("slug", "Another page already uses this slug.") from None
        changes = diff(before, snapshot(page, PAGE_FIELDS))
        if changes:
            record("updated", page, now=now, actor=actor, changes=changes)
        _bump_on_commit()
    return page


def delete_page(page: StatusPage, *, now: datetime, actor: Any = None) -> None:
    """Delete a page with its sections (the monitors stay)."""
    with transaction.atomic():
        state = snapshot(page, PAGE_FIELDS)
        state["sections"] = list(page.sections.values_list("name", flat=True))
        record("deleted", page, now=now, actor=actor, changes=state)
        page.delete()
        _bump_on_commit()


def create_section(
    page: StatusPage, data: dict[str, Any], *, now: datetime, actor: Any = None
) -> Section:
    """Add a section at the end of ``page``."""
    with transaction.atomic():
        top = page.sections.aggregate(m=Max("position"))["m"]
        section = Section.objects.create(
            page=page,
            name=data["name"],
            description=data.get("description", ""),
            position=0 if top is None else top + 1,
        )
        record(
            "created",
            section,
            now=now,
            actor=actor,
            changes={"page": page.slug, **snapshot(section, SECTION_FIELDS)},
        )
        _bump_on_commit()
    return section


def update_section(
    section: Section, data: dict[str, Any], *, now: datetime, actor: Any = None
) -> Section:
    with transaction.atomic():
        section = Section.objects.select_for_update().get(pk=section.pk)
        before = snapshot(section, SECTION_FIELDS)
        for name in SECTION_FIELDS:
            if name in data:
                setattr(section, name, data[name])
        section.save()
        changes = diff(before, snapshot(section, SECTION_FIELDS))
        if changes:
            record("updated", section, now=now, actor=actor, changes=changes)
        _bump_on_commit()
    return section


def delete_section(section: Section, *, now: datetime, actor: Any = None) -> None:
    with transaction.atomic():
        state = snapshot(section, SECTION_FIELDS)
        state["monitors"] = list(section.entries.values_list("monitor__tag", flat=True))
        record("deleted", section, now=now, actor=actor, changes=state)
        section.delete()
        _bump_on_commit()


def _renumber(rows: Sequence[Any]) -> None:
    """Positions 0..n-1 in the given order (only rows whose position changed)."""
    for index, row in enumerate(rows):
        if row.position != index:
            row.position = index
            row.save(update_fields=["position"])


def _move(rows: list[Any], target: Any, direction: str) -> bool:
    index = next(i for i, row in enumerate(rows) if row.pk == target.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rows):
        return False
    rows[index], rows[other] = rows[other], rows[index]
    _renumber(rows)
    return True


def move_section(section: Section, direction: str, *, now: datetime, actor: Any = None) -> bool:
    """Move a section one place ``up`` or ``down`` on its page; False at an end."""
    if direction not in ("up", "down"):
        raise SiteError("direction", "Must be up or down.")
    with transaction.atomic():
        rows = list(
            Section.objects.select_for_update()
            .filter(page_id=section.page_id)
            .order_by("position", "id")
        )
        moved = _move(rows, section, direction)
        if moved:
            record("updated", section, now=now, actor=actor, changes={"moved": direction})
            _bump_on_commit()
    return moved


def add_monitors(
    section: Section, monitors: Sequence[Monitor], *, now: datetime, actor: Any = None
) -> list[SectionMonitor]:
    """Append monitors to a section (each at most once per section)."""
    with transaction.atomic():
        section = Section.objects.select_for_update().get(pk=section.pk)
        present = set(section.entries.values_list("monitor_id", flat=True))
        for monitor in monitors:
            if monitor.pk in present:
                raise SiteError("monitors", f"{monitor.name} is already in this section.")
        top = section.entries.aggregate(m=Max("position"))["m"]
        start = 0 if top is None else top + 1
        entries = [
            SectionMonitor.objects.create(section=section, monitor=m, position=start + n)
            for n, m in enumerate(monitors)
        ]
        if entries:
            record(
                "updated",
                section,
                now=now,
                actor=actor,
                changes={"monitors_added": [m.tag for m in monitors]},
            )
            _bump_on_commit()
    return entries


def remove_entry(entry: SectionMonitor, *, now: datetime, actor: Any = None) -> None:
    """Take a monitor out of a section (the monitor itself stays)."""
    with transaction.atomic():
        section = entry.section
        tag = entry.monitor.tag
        entry.delete()
        _renumber(list(section.entries.order_by("position", "id")))
        record("updated", section, now=now, actor=actor, changes={"monitor_removed": tag})
        _bump_on_commit()


def move_entry(entry: SectionMonitor, direction: str, *, now: datetime, actor: Any = None) -> bool:
    """Move a monitor one place ``up`` or ``down`` in its section; False at an end."""
    if direction not in ("up", "down"):
        raise SiteError("direction", "Must be up or down.")
    with transaction.atomic():
        rows = list(
            SectionMonitor.objects.select_for_update()
            .filter(section_id=entry.section_id)
            .order_by("position", "id")
        )
        moved = _move(rows, entry, direction)
        if moved:
            record(
                "updated",
                entry.section,
                now=now,
                actor=actor,
                changes={"monitor_moved": [entry.monitor.tag, direction]},
            )
            _bump_on_commit()
    return moved
