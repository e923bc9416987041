"""The public pages in a real headless Chromium (Playwright, sync API) against
the live test server: home, monitor, incident, day and history pages at desktop
(1280x800) and phone (390x844) widths, with a screenshot of each kept under
``var/screenshots/`` (paths printed), no console errors, an axe-core check
(WCAG 2.x A/AA including colour contrast: no serious or critical violation),
a dark theme, popovers, local times, and the pages with JavaScript disabled.

Chromium is Debian's ``/usr/bin/chromium`` (``statuspage/tests/browser.py``).
Nothing here sleeps: every wait is on an event or a selector.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from incidents import services as incident_services
from incidents.maintenance_services import create_window
from public_site.models import SiteSettings
from public_site.tests import pagedata
from statuspage.tests.browser import TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def data(transactional_db: None) -> dict[str, Any]:
    """A page with every kind of state: an outage with an open incident, a
    degraded monitor, one in maintenance, an operational one with gaps in its
    history, and a private monitor that must never show."""
    now = timezone.now()
    api, web, cdn, docs = pagedata.monitors(["API", "Web app", "CDN", "Docs"])
    secret = pagedata.monitors(["Secret billing"], is_public=False)[0]
    pagedata.history(api, now, {d: ["UP", "UP"] for d in range(1, 90)} | {0: ["DOWN", "DOWN"]})
    pagedata.history(web, now, {d: ["UP"] for d in range(1, 60)} | {0: ["UP"]})
    pagedata.history(cdn, now, {3: ["UP", "DEGRADED"], 0: ["DEGRADED"]})
    pagedata.history(docs, now, {d: ["UP"] for d in range(0, 90, 2)})
    pagedata.history(secret, now, {0: ["DOWN"]})
    incident = incident_services.create_incident(
        title="API errors <script>alert(1)</script>",
        body="We are **investigating** elevated errors.\n\n- retries\n- failover",
        now=now - timedelta(minutes=30),
        monitors=[(api, "DOWN"), (secret, "DOWN")],
    )
    create_window(
        {
            "title": "Web app upgrade",
            "description": "New *version*.",
            "starts_at": now - timedelta(minutes=10),
            "ends_at": now + timedelta(hours=1),
            "monitors": [web],
        },
        now=now,
    )
    pagedata.status_page("main", "Main", {"Core": [api, web], "Edge": [cdn, docs]}, is_home=True)
    site = SiteSettings.load()
    site.name = "Acme Status"
    site.announcement = "Planned **upgrade** tonight."
    from incidents.markdown import render

    site.announcement_html = render(site.announcement)
    site.save()
    return {"now": now, "incident": incident, "api": api}


@pytest.fixture
def visit(browser: Browser, live_server: Any) -> Iterator[Any]:
    """Open a path at a named size, failing on console errors and page errors."""
    contexts = []

    def open_(
        path: str, size: str = "desktop", *, js: bool = True, **options: Any
    ) -> tuple[Page, list]:
        width, height = SIZES[size]
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": height},
            java_script_enabled=js,
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        return page, errors

    yield open_
    for context in contexts:
        context.close()


def shoot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def assert_accessible(page: Page) -> None:
    results = Axe().run(
        page,
        options={"resultTypes": ["violations"], "runOnly": {"type": "tag", "values": AXE_TAGS}},
    )
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, bad


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_home_page(visit: Any, data: dict[str, Any], size: str) -> None:
    page, errors = visit("/", size)
    banner = page.locator(".banner")
    expect(banner).to_contain_text("Partial Outage")
    expect(page.get_by_role("heading", name="Active incidents")).to_be_visible()
    expect(page.locator(".incident-item")).to_contain_text("API errors <script>alert(1)</script>")
    expect(page.get_by_text("Maintenance in progress")).to_be_visible()
    expect(page.locator(".announcement")).to_contain_text("Planned upgrade tonight.")
    # Status in words next to every monitor, never colour alone.
    api = page.locator('[data-monitor="api"]')
    expect(api.locator(".status-word")).to_have_text("Major Outage")
    expect(page.locator('[data-monitor="web-app"] .status-word')).to_have_text("Under Maintenance")
    expect(page.locator('[data-monitor="cdn"] .status-word')).to_have_text("Degraded Performance")
    expect(page.locator('[data-monitor="docs"] .status-word')).to_have_text("Operational")
    expect(page.get_by_text("Secret billing")).to_have_count(0)
    # 90 bars on a desktop, the last 30 on a phone (CSS only).
    visible = api.locator(".bars .d:visible")
    expect(visible).to_have_count(90 if size == "desktop" else 30)
    expect(api.locator(".bars .d").last).to_have_class(re.compile(r"\bdown\b"))
    shoot(page, f"home-{size}")
    assert_accessible(page)
    assert errors == []


def test_day_bar_popover_and_local_times(visit: Any, data: dict[str, Any]) -> None:
    page, errors = visit("/", timezone_id="America/New_York")
    last = page.locator('[data-monitor="api"] .bars .d').last
    last.hover()
    popover = page.locator(".popover")
    expect(popover).to_be_visible()
    today = data["now"].date().isoformat()
    expect(popover).to_contain_text(today)
    expect(popover).to_contain_text("Outage")
    expect(popover).to_contain_text(data["incident"].key)
    # A day with no data says so.
    page.locator('[data-monitor="cdn"] .bars .d').first.hover()
    expect(popover).to_contain_text("No data")
    # Times were converted to the reader's zone.
    stamp = page.locator(".banner time .abs")
    expect(stamp).not_to_contain_text("UTC")
    expect(stamp).to_have_text(re.compile(r"(EST|EDT|GMT-[45])$"))
    assert errors == []


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_monitor_page(visit: Any, data: dict[str, Any], size: str) -> None:
    page, errors = visit("/monitors/api", size)
    expect(page.get_by_role("heading", name="API", exact=True)).to_be_visible()
    expect(page.locator(".pagehead .status-word")).to_have_text("Major Outage")
    expect(page.locator(".chart-wrap svg")).to_be_visible()
    expect(page.locator(".bars-links a:visible")).to_have_count(90 if size == "desktop" else 30)
    listed = page.locator("#h-incidents ~ ul").get_by_role("link", name=re.compile("^API errors"))
    expect(listed).to_be_visible()
    shoot(page, f"monitor-{size}")
    assert_accessible(page)
    # A bar leads to that day's detail with its minute-level results.
    page.locator(".bars-links a").last.click()
    expect(page).to_have_url(re.compile(r"/monitors/api/days/\d{4}-\d{2}-\d{2}$"))
    expect(page.locator(".minutes .m.down")).to_have_count(2)
    shoot(page, f"day-{size}")
    assert_accessible(page)
    assert errors == []


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_incident_page(visit: Any, data: dict[str, Any], size: str) -> None:
    key = data["incident"].key
    page, errors = visit(f"/incidents/{key}", size)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "API errors <script>alert(1)</script>"
    )
    expect(page.locator(".updates .md strong")).to_have_text("investigating")
    expect(page.locator(".updates .md li")).to_have_count(2)
    expect(page.get_by_text("Secret billing")).to_have_count(0)
    shoot(page, f"incident-{size}")
    assert_accessible(page)
    page, errors2 = visit("/history", size)
    expect(page.locator(f'[data-incident="{key}"]')).to_be_visible()
    shoot(page, f"history-{size}")
    assert_accessible(page)
    assert errors == [] and errors2 == []


def test_dark_theme_passes_contrast(visit: Any, data: dict[str, Any]) -> None:
    site = SiteSettings.load()
    site.theme = "dark"
    site.save()
    page, errors = visit("/")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 17, 23)"
    shoot(page, "home-dark")
    assert_accessible(page)
    # The reader's own choice wins over the site's: the toggle goes Auto -> Light.
    page.locator("#theme-toggle").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(246, 248, 250)"
    assert errors == []


def test_pages_work_without_javascript(visit: Any, data: dict[str, Any]) -> None:
    page, _ = visit("/", "phone", js=False)
    expect(page.locator(".banner")).to_contain_text("Partial Outage")
    api = page.locator('[data-monitor="api"]')
    expect(api.locator(".status-word")).to_have_text("Major Outage")
    expect(api.locator(".bars .d:visible")).to_have_count(30)
    # Tooltips without JavaScript: the title attribute says the day.
    title = api.locator(".bars .d").last.get_attribute("title")
    assert title is not None and "Outage" in title and data["incident"].key in title
    # Times are still there, in the site's zone.
    expect(page.locator(".banner time .abs")).to_contain_text("UTC")
    expect(page.locator("#theme-toggle")).to_be_hidden()
    shoot(page, "home-phone-nojs")
    page.goto("/monitors/api")
    expect(page.locator(".chart-wrap svg")).to_be_visible()
    expect(page.locator(".pagehead .status-word")).to_have_text("Major Outage")
