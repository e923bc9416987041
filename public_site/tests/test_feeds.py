"""RSS and Atom feeds, parsed by a real feed parser (feedparser): entries,
order, absolute links, stable GUIDs, dates, escaping, per-monitor filtering
and privacy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import feedparser
import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from incidents import maintenance_services
from incidents import services as incident_services
from monitors.tests.factories import make_monitor
from public_site.models import SiteSettings

pytestmark = pytest.mark.django_db

FEEDS = ["/feed.rss", "/feed.atom"]


@pytest.fixture(autouse=True)
def fresh_cache(settings: Any) -> None:
    settings.BEACON_PUBLIC_CACHE_SECONDS = 0
    cache.clear()


def parse(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    expected = "application/atom+xml" if url.endswith(".atom") else "application/rss+xml"
    assert response["Content-Type"] == f"{expected}; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


@pytest.fixture
def story() -> dict[str, Any]:
    api = make_monitor(tag="api", name="API")
    web = make_monitor(tag="web", name="Website")
    secret = make_monitor(tag="secret", name="Secret box", is_public=False)
    now = timezone.now()
    first = incident_services.create_incident(
        title="API errors",
        body="Investigating errors",
        now=now - timedelta(hours=3),
        monitors=[(api, "DOWN"), (secret, "DOWN")],
    )
    incident_services.post_update(
        first, state="IDENTIFIED", body="Found the **bad** deploy", now=now - timedelta(hours=2)
    )
    second = incident_services.create_incident(
        title="Website slow",
        body="Slow pages",
        now=now - timedelta(hours=1),
        monitors=[(web, "DEGRADED")],
    )
    incident_services.create_incident(
        title="Secret trouble", body="hidden", now=now, monitors=[(secret, "DOWN")]
    )
    window = maintenance_services.create_window(
        {
            "title": "DB upgrade",
            "description": "Upgrading *Postgres*",
            "starts_at": now + timedelta(days=1),
            "ends_at": now + timedelta(days=1, hours=1),
            "monitors": [api],
        },
        now=now - timedelta(minutes=30),
    )
    return {"first": first, "second": second, "window": window, "api": api}


@pytest.mark.parametrize("url", FEEDS)
def test_site_feed(client: Client, story: dict[str, Any], url: str) -> None:
    feed = parse(client, url)
    assert feed.feed.title == "Beacon status"
    if url.endswith(".atom"):
        assert feed.feed.author == "Beacon"  # required by RFC 4287 for the feed
    titles = [e.title for e in feed.entries]
    # Newest first by publication: the window was announced 30 min ago.
    assert titles == [
        "Maintenance: DB upgrade",
        "[Investigating] Website slow",
        "[Identified] API errors",
    ]
    maintenance, second, first = feed.entries
    assert second.link.endswith(f"/incidents/{story['second'].key}")
    assert first.link == f"http://testserver/incidents/{story['first'].key}"
    assert maintenance.link == f"http://testserver/maintenance/{story['window'].pk}"
    assert first.id == f"urn:beacon:incident:{story['first'].key}"
    # The latest update is the text; the first one is not repeated.
    assert "<strong>bad</strong>" in first.summary and "Investigating errors" not in first.summary
    assert "Affected: API" in first.summary
    assert "Upgrading <em>Postgres</em>" in maintenance.summary
    assert first.published_parsed is not None
    if url.endswith(".atom"):  # RSS 2.0 has no element for it
        assert first.updated_parsed > first.published_parsed  # the update came later
    for entry in feed.entries:
        assert entry.link.startswith("http://testserver/")
    text = str(feed)
    assert "Secret" not in text  # private monitor, private-only incident


@pytest.mark.parametrize("url", FEEDS)
def test_links_use_the_public_url_and_guids_never_change(
    client: Client, story: dict[str, Any], url: str
) -> None:
    before = {e.id for e in parse(client, url).entries}
    site = SiteSettings.load()
    site.public_url = "https://status.example.com/"
    site.save()
    incident_services.post_update(
        story["first"], state="MONITORING", body="Watching", now=timezone.now()
    )
    feed = parse(client, url)
    assert {e.id for e in feed.entries} == before
    assert all(e.link.startswith("https://status.example.com/") for e in feed.entries)
    assert feed.feed.link == "https://status.example.com/"
    first = next(e for e in feed.entries if e.id.endswith(story["first"].key))
    assert first.title == "[Monitoring] API errors" and "Watching" in first.summary


@pytest.mark.parametrize("suffix", ["rss", "atom"])
def test_monitor_feed_lists_only_what_touches_it(
    client: Client, story: dict[str, Any], suffix: str
) -> None:
    feed = parse(client, f"/monitors/api/feed.{suffix}")
    assert [e.title for e in feed.entries] == [
        "Maintenance: DB upgrade",
        "[Identified] API errors",
    ]
    assert feed.feed.title == "API · Beacon status"
    web = parse(client, f"/monitors/web/feed.{suffix}")
    assert [e.title for e in web.entries] == ["[Investigating] Website slow"]


def test_global_maintenance_reaches_every_monitor_feed(client: Client, db: None) -> None:
    make_monitor(tag="solo", name="Solo")
    now = timezone.now()
    maintenance_services.create_window(
        {
            "title": "Everything",
            "starts_at": now + timedelta(hours=1),
            "ends_at": now + timedelta(hours=2),
            "is_global": True,
        },
        now=now,
    )
    feed = parse(client, "/monitors/solo/feed.rss")
    assert [e.title for e in feed.entries] == ["Maintenance: Everything"]
    assert "all services" in feed.entries[0].summary


@pytest.mark.parametrize(
    "url", ["/monitors/secret/feed.rss", "/monitors/nope/feed.atom", "/monitors/x%00/feed.rss"]
)
def test_private_or_unknown_monitor_feed_is_404(
    client: Client, story: dict[str, Any], url: str
) -> None:
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", FEEDS)
def test_hostile_titles_are_escaped_not_executed(client: Client, url: str) -> None:
    monitor = make_monitor(tag="svc", name="Svc <i>")
    title = 'Ünïcødé & <script>alert("x")</script> — 🚀'
    incident_services.create_incident(
        title=title,
        body="<script>bad()</script>**ok** [link](javascript:alert(1))",
        now=timezone.now(),
        monitors=[(monitor, "DOWN")],
    )
    raw = client.get(url).content.decode()
    assert "<script>" not in raw  # escaped as text inside the XML
    feed = parse(client, url)
    entry = feed.entries[0]
    assert "Ünïcødé" in entry.title and "🚀" in entry.title
    assert "script" not in entry.summary.lower() and "javascript:" not in entry.summary
    assert "<strong>ok</strong>" in entry.summary
    assert "Svc &lt;i&gt;" in entry.summary  # a monitor name is text, not markup


def test_at_most_fifty_items(client: Client, db: None) -> None:
    monitor = make_monitor(tag="svc")
    now = timezone.now()
    for n in range(45):
        incident_services.create_incident(
            title=f"Incident {n}",
            body="b",
            now=now - timedelta(hours=60 - n),
            monitors=[(monitor, "DEGRADED")],
        )
    for n in range(10):
        maintenance_services.create_window(
            {
                "title": f"Window {n}",
                "starts_at": now + timedelta(days=n + 1),
                "ends_at": now + timedelta(days=n + 1, hours=1),
                "monitors": [monitor],
            },
            now=now - timedelta(minutes=n),
        )
    feed = parse(client, "/feed.atom")
    assert len(feed.entries) == 50
    # Windows are published when announced (created): the last one created is newest.
    assert feed.entries[0].title == "Maintenance: Window 9"
    assert feed.entries[-1].title == "[Investigating] Incident 5"
    published = [e.published_parsed for e in feed.entries]
    assert published == sorted(published, reverse=True)


def test_feed_headers(client: Client, db: None, settings: Any) -> None:
    settings.BEACON_PUBLIC_CACHE_SECONDS = 15
    response = client.get("/feed.rss")
    assert response["Cache-Control"] == "public, max-age=15"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert not response.cookies
