"""Public URLs for machines: feeds, badges, the embed widget and the
Statuspage-compatible v2 API. Included at the site root before the HTML
pages' URLs (``public_site.urls``), so ``/monitors/<tag>/feed.rss`` is
answered here and ``/monitors/<tag>`` there."""

from django.urls import path, re_path

from . import badges, embed, feeds
from .api_v2 import views as v2

app_name = "machine"

urlpatterns = [
    path("feed.rss", feeds.SiteFeed(), name="feed-rss"),
    path("feed.atom", feeds.SiteAtomFeed(), name="feed-atom"),
    path("monitors/<str:tag>/feed.rss", feeds.MonitorFeed(), name="monitor-feed-rss"),
    path("monitors/<str:tag>/feed.atom", feeds.MonitorAtomFeed(), name="monitor-feed-atom"),
    path("badge/<str:tag>/status", badges.status_badge, name="badge-status"),
    path("badge/<str:tag>/uptime", badges.uptime_badge, name="badge-uptime"),
    path("badge/<str:tag>/latency", badges.latency_badge, name="badge-latency"),
    path("embed/<str:tag>", embed.embed, name="embed"),
    path("api/v2/summary.json", v2.summary, name="v2-summary"),
    path("api/v2/status.json", v2.status, name="v2-status"),
    path("api/v2/components.json", v2.components, name="v2-components"),
    path("api/v2/incidents.json", v2.incidents, name="v2-incidents"),
    path(
        "api/v2/incidents/unresolved.json",
        v2.incidents_unresolved,
        name="v2-incidents-unresolved",
    ),
    path(
        "api/v2/scheduled-maintenances.json",
        v2.scheduled_maintenances,
        name="v2-scheduled-maintenances",
    ),
    path(
        "api/v2/scheduled-maintenances/upcoming.json",
        v2.scheduled_maintenances_upcoming,
        name="v2-scheduled-maintenances-upcoming",
    ),
    path(
        "api/v2/scheduled-maintenances/active.json",
        v2.scheduled_maintenances_active,
        name="v2-scheduled-maintenances-active",
    ),
    # Anything else under /api/v2 is a JSON 404, not the HTML pages' 404.
    re_path(r"^api/v2(?:/.*)?$", v2.not_found, name="v2-not-found"),
]
