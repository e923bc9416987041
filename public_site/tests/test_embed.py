"""The embeddable widget: a standalone document that may be framed (and only
it), sets no cookie, runs no script, shows the monitor page's numbers, and
escapes what it shows. The last test frames it from another origin in a real
headless Chromium."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from monitors.services import record_results
from monitors.tests.factories import make_monitor, result
from monitors.tests.servers import Reply, serve_http
from public_site import selectors
from public_site.models import SiteSettings


@pytest.fixture(autouse=True)
def fresh_cache(settings: Any) -> None:
    settings.BEACON_PUBLIC_CACHE_SECONDS = 0
    cache.clear()


def history(monitor: Any) -> None:
    """Today: 3 up and 1 down; 5 days ago: 2 up."""
    now = timezone.now()
    results = [result(monitor, now - timedelta(minutes=n), "UP") for n in (2, 3, 4)]
    results.append(result(monitor, now - timedelta(minutes=1), "DOWN"))
    results += [result(monitor, now - timedelta(days=5, minutes=n), "UP") for n in (1, 2)]
    record_results(results, now=now)


@pytest.mark.django_db
def test_embed_shows_status_uptime_and_thirty_days(client: Client) -> None:
    monitor = make_monitor(tag="api", name="Payments API")
    history(monitor)
    response = client.get("/embed/api")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Payments API" in html and "Major Outage" in html
    assert "level-down" in html and 'class="theme-light"' in html
    assert html.count('<rect class="d ') == 30
    assert html.count('<rect class="d nodata"') == 28
    assert '<rect class="d down"' in html and '<rect class="d up"' in html
    # The same 30-day uptime the monitor page shows: 5 of 6 results up.
    page = selectors.monitor_page(monitor, now=timezone.now())
    assert page.uptime_30d == pytest.approx(100 * 5 / 6)
    assert "83.33% uptime" in html
    assert 'href="http://testserver/monitors/api"' in html
    assert 'target="_blank" rel="noopener"' in html


@pytest.mark.django_db
def test_embed_may_be_framed_and_keeps_nothing(client: Client) -> None:
    make_monitor(tag="api")
    response = client.get("/embed/api?theme=dark")
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert not response.cookies
    html = response.content.decode()
    assert "<script" not in html and "<form" not in html and "csrf" not in html.lower()
    assert 'class="theme-dark"' in html
    # Framing stays denied everywhere else.
    assert client.get("/feed.rss")["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_embed_escapes_names(client: Client) -> None:
    make_monitor(tag="api", name='<img src=x onerror="alert(1)"> Ü & 🚀')
    site = SiteSettings.load()
    site.name = "<b>Acme</b>"
    site.save()
    html = client.get("/embed/api").content.decode()
    assert "<img" not in html and "<b>Acme" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; Ü &amp; 🚀" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["?theme=blue", "?theme=", "?theme=DARK", "?theme=dark&theme=light", "?theme=%00"]
)
def test_bad_theme_is_400(client: Client, query: str) -> None:
    make_monitor(tag="api")
    response = client.get(f"/embed/api{query}")
    assert response.status_code == 400
    assert list(response.json()) == ["theme"]


@pytest.mark.django_db
@pytest.mark.parametrize("tag", ["secret", "nope", "a" * 300, "x%00", "%E2%9C%93", "Secret"])
def test_private_or_unknown_monitor_is_404(client: Client, tag: str) -> None:
    make_monitor(tag="secret", is_public=False)
    response = client.get(f"/embed/{tag}")
    assert response.status_code == 404
    assert "secret" not in response.content.decode().lower()


@pytest.mark.django_db
def test_only_reads(client: Client) -> None:
    make_monitor(tag="api")
    assert client.post("/embed/api").status_code == 405


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_embed_in_an_iframe_on_another_site(page: Page, live_server: Any) -> None:
    monitor = make_monitor(tag="api", name="Payments API")
    history(monitor)
    host = (
        "<!doctype html><title>Customer site</title>"
        f'<iframe id="w" title="status" src="{live_server.url}/embed/api?theme=dark" '
        'width="360" height="130"></iframe>'
    )
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    routes = {"/": Reply(200, host, {"Content-Type": "text/html; charset=utf-8"})}
    with serve_http(routes) as other_site:
        page.goto(other_site + "/")
        frame = page.frame_locator("#w")
        card = frame.get_by_role("link", name=re.compile("Payments API"))
        expect(card).to_be_visible()
        expect(card).to_contain_text("Major Outage")
        expect(card).to_contain_text("83.33% uptime")
        expect(card).to_have_attribute("target", "_blank")
        # The dark theme and the site's status colour come from the stylesheet.
        background = frame.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
        assert background == "rgb(17, 24, 39)"
        icon = frame.locator(".embed-ico").evaluate("e => getComputedStyle(e).backgroundColor")
        assert icon == "rgb(220, 38, 38)"  # the default "down" colour, #dc2626
        bars = frame.locator("svg.embed-bars rect")
        expect(bars).to_have_count(30)
        fill = bars.nth(29).evaluate("r => getComputedStyle(r).fill")
        assert fill == "rgb(220, 38, 38)"
    assert not [e for e in errors if "Content Security Policy" in e or "frame" in e.lower()]
