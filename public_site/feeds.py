"""RSS 2.0 and Atom feeds of public incidents and maintenance windows.

``/feed.rss`` and ``/feed.atom`` list the whole site; ``/monitors/<tag>/feed.rss``
and ``.atom`` only what touches that public monitor (404 for a private or
unknown tag). Built on Django's syndication framework.

Items, newest first, at most ``FEED_ITEMS`` together:

- an incident: title ``[State] Title``, its latest update (sanitised HTML,
  rendered once when posted) and the public monitors it affects; published
  when it started, updated with its latest update;
- a maintenance window: title ``Maintenance: Title``, its schedule (in the
  site's time zone) and description; published when it was announced.

Links are absolute, on the site's public URL (Site settings) or else the
request's host. GUIDs never change for an item (``urn:beacon:incident:<key>``,
``urn:beacon:maintenance:<id>``), whatever host the feed is read through.
What is public follows ``machine_selectors`` (public monitors only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from incidents.models import MaintenanceWindow, State
from monitors.models import Monitor

from . import machine_selectors as sel
from .api_v2.shapes import incident_impact, zone
from .models import SiteSettings

FEED_ITEMS = 50


@dataclass(frozen=True)
class Item:
    guid: str
    title: str
    link: str
    description: str
    published: datetime
    updated: datetime
    categories: tuple[str, ...] = ()


@dataclass
class Context:
    """Everything one feed response needs (feeds are shared objects: no state
    may live on ``self`` between requests)."""

    site: SiteSettings
    base: str
    monitor: Monitor | None
    items: list[Item] = field(default_factory=list)


def _when(value: datetime, tz_name: str) -> str:
    return value.astimezone(zone(tz_name)).strftime("%Y-%m-%d %H:%M %Z")


def incident_item(view: sel.IncidentView, base: str) -> Item:
    incident = view.incident
    state = State(incident.state).label
    latest = view.latest
    names = [c.name for c in view.components]
    body = format_html(
        "<p><strong>{}</strong> · impact: {}</p>",
        state,
        incident_impact(incident.severity, view.impacts),
    )
    if latest is not None:
        # Stored HTML was sanitised by incidents.markdown.render when posted.
        body += format_html("<div>{}</div>", _trusted(latest.html))
    if names:
        body += format_html(
            "<p>Affected: {}</p>", format_html_join(", ", "{}", ((n,) for n in names))
        )
    link = f"{base}/incidents/{incident.key}"
    return Item(
        guid=f"urn:beacon:incident:{incident.key}",
        title=f"[{state}] {incident.title}",
        link=link,
        description=body,
        published=incident.started_at,
        updated=view.updated_at,
        categories=("incident", state.lower()),
    )


def window_item(window: MaintenanceWindow, base: str, tz_name: str) -> Item:
    schedule = format_html(
        "<p>Scheduled: {} to {}{}</p>",
        _when(window.starts_at, tz_name),
        _when(window.ends_at, tz_name),
        f" (repeats: {window.rrule})" if window.rrule else "",
    )
    names = [m.name for m in window.monitors.all()]
    body = schedule
    if window.description_html:
        body += format_html("<div>{}</div>", _trusted(window.description_html))
    if window.is_global:
        body += format_html("<p>Affected: {}</p>", "all services")
    elif names:
        body += format_html(
            "<p>Affected: {}</p>", format_html_join(", ", "{}", ((n,) for n in names))
        )
    return Item(
        guid=f"urn:beacon:maintenance:{window.pk}",
        title=f"Maintenance: {window.title}",
        link=f"{base}/maintenance/{window.pk}",
        description=body,
        published=window.created_at,
        updated=max(window.updated_at, window.created_at),
        categories=("maintenance",),
    )


def _trusted(html: str) -> SafeString:
    return mark_safe(html)  # noqa: S308 - sanitised with nh3 (allow-list) when it was stored


def collect(site: SiteSettings, base: str, monitor: Monitor | None, now: datetime) -> list[Item]:
    """Incidents and windows, newest first (by publication), at most FEED_ITEMS."""
    inputs = sel.status_inputs(now)
    items = [
        incident_item(view, base)
        for view in sel.incidents(inputs=inputs, limit=FEED_ITEMS, monitor=monitor)
    ]
    items += [
        window_item(w, base, site.time_zone)
        for w in sel.recent_windows(limit=FEED_ITEMS, monitor=monitor)
    ]
    items.sort(key=lambda i: (i.published, i.guid), reverse=True)
    return items[:FEED_ITEMS]


class SiteFeed(Feed):
    """The whole site's feed (RSS 2.0)."""

    feed_type = Rss201rev2Feed

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().__call__(request, *args, **kwargs)
        seconds = int(getattr(settings, "BEACON_PUBLIC_CACHE_SECONDS", 5))
        response["Cache-Control"] = f"public, max-age={seconds}"
        response["Access-Control-Allow-Origin"] = "*"
        return response

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Context:
        site = SiteSettings.load()
        base = sel.base_url(site, request.build_absolute_uri("/"))
        monitor = self.monitor(kwargs)
        return Context(site, base, monitor, collect(site, base, monitor, timezone.now()))

    def monitor(self, kwargs: dict[str, Any]) -> Monitor | None:
        return None

    def title(self, obj: Context) -> str:
        if obj.monitor is not None:
            return f"{obj.monitor.name} · {obj.site.name} status"
        return f"{obj.site.name} status"

    def link(self, obj: Context) -> str:
        if obj.monitor is not None:
            return f"{obj.base}/monitors/{obj.monitor.tag}"
        return f"{obj.base}/"

    def description(self, obj: Context) -> str:
        if obj.monitor is not None:
            return f"Incidents and maintenance affecting {obj.monitor.name}."
        return f"Incidents and maintenance of {obj.site.name}."

    subtitle = description  # Atom's name for it

    def author_name(self, obj: Context) -> str:
        # Atom requires an author for the feed (or every entry): the site.
        return obj.site.name

    def feed_url(self, obj: Context) -> str:
        suffix = "atom" if self.feed_type is Atom1Feed else "rss"
        if obj.monitor is not None:
            return f"{obj.base}/monitors/{obj.monitor.tag}/feed.{suffix}"
        return f"{obj.base}/feed.{suffix}"

    def items(self, obj: Context) -> list[Item]:
        return obj.items

    def item_title(self, item: Item) -> str:
        return item.title

    def item_description(self, item: Item) -> str:
        return item.description

    def item_link(self, item: Item) -> str:
        return item.link

    def item_guid(self, item: Item) -> str:
        return item.guid

    item_guid_is_permalink = False

    def item_pubdate(self, item: Item) -> datetime:
        return item.published

    def item_updateddate(self, item: Item) -> datetime:
        return item.updated

    def item_categories(self, item: Item) -> tuple[str, ...]:
        return item.categories


class SiteAtomFeed(SiteFeed):
    feed_type = Atom1Feed


class MonitorFeed(SiteFeed):
    """One public monitor's feed (RSS 2.0); 404 for a private or unknown tag."""

    def monitor(self, kwargs: dict[str, Any]) -> Monitor | None:
        monitor = sel.public_monitor(kwargs["tag"])
        if monitor is None:
            raise Monitor.DoesNotExist
        return monitor


class MonitorAtomFeed(MonitorFeed):
    feed_type = Atom1Feed
