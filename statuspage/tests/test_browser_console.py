"""The console in a real headless Chromium (Playwright, sync API) against the
live test server: sign in, create an HTTP monitor through the form (a bad URL
first), "Check now" through htmx without a reload, pause/resume, delete with
confirmation, filter the list by status, keyboard shortcuts, and times shown in
the reader's zone.

Chromium is Debian's ``/usr/bin/chromium``. Without it these tests are
skipped, except when ``CI=true``, where a missing browser is a failure.
Nothing here sleeps: every wait is on an event or a selector.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from monitors import services
from monitors.models import Monitor
from monitors.services import NewResult
from statuspage.tests.browser import PASSWORD, TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin(transactional_db: None) -> User:
    return User.objects.create_user(username="admin", password=PASSWORD, role="admin")


@pytest.fixture
def http_server() -> Iterator[str]:
    """A real local HTTP server answering ``/health`` with 200 "ok"."""
    try:
        from monitors.tests.servers import Reply, serve_http
    except ImportError:  # pragma: no cover - the helper module is optional
        yield from _own_http_server()
        return
    with serve_http({"/health": Reply(200, "ok")}) as base:
        yield base


def _own_http_server() -> Iterator[str]:  # pragma: no cover - fallback only
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def sign_in(page: Page, username: str = "admin", password: str = PASSWORD) -> None:
    page.goto("/console/monitors/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/monitors/$"))
    expect(page.get_by_role("heading", name=re.compile("^Monitors"))).to_be_visible()


def test_sign_in_create_http_monitor_and_check_now(
    page: Page, admin: User, http_server: str
) -> None:
    sign_in(page)
    expect(page.get_by_text("No monitors yet")).to_be_visible()
    page.get_by_role("link", name="Create monitor").click()
    expect(page.get_by_role("heading", name="New monitor")).to_be_visible()

    page.get_by_label("Name").first.fill("Local health")
    page.get_by_label("Tag").fill("local-health")
    page.get_by_label("Kind").select_option("http")
    # Only the selected kind's settings are shown.
    expect(page.locator('[data-kind-fieldset="http"]')).to_be_visible()
    expect(page.locator('[data-kind-fieldset="tcp"]')).to_be_hidden()
    page.get_by_label("Kind").select_option("tcp")
    expect(page.locator('[data-kind-fieldset="tcp"]')).to_be_visible()
    expect(page.locator('[data-kind-fieldset="http"]')).to_be_hidden()
    page.get_by_label("Kind").select_option("http")

    url = page.locator("#id_http__url")
    url.fill("ftp://not-a-web-url")
    page.get_by_role("button", name="Create monitor").click()
    error = page.locator('[data-field="http__url"] .errors')
    expect(error).to_be_visible()
    expect(error).to_contain_text("http")
    expect(url).to_have_attribute("aria-invalid", "true")
    assert not Monitor.objects.filter(tag="local-health").exists()

    url.fill(f"{http_server}/health")
    page.get_by_role("button", name="Create monitor").click()
    expect(page).to_have_url(re.compile(r"/console/monitors/local-health/$"))
    expect(page.get_by_role("heading", name="Local health")).to_be_visible()
    expect(page.locator("#live")).to_contain_text("Pending")

    page.evaluate("window.__noReload = 'still here'")
    page.get_by_role("button", name="Check now").click()
    expect(page.locator('#live [data-result-status="UP"]')).to_be_visible()
    expect(page.locator("#live")).to_contain_text("Checked just now")
    assert page.evaluate("window.__noReload") == "still here"
    assert Monitor.objects.get(tag="local-health").state.status == "UP"


def test_pause_resume_and_delete_with_confirmation(page: Page, admin: User) -> None:
    services.create_monitor(
        {
            "name": "Mail relay",
            "tag": "mail",
            "kind": "tcp",
            "config": {"host": "127.0.0.1", "port": 9},
        },
        now=timezone.now(),
    )
    sign_in(page)
    page.get_by_role("link", name="Mail relay").click()
    expect(page).to_have_url(re.compile(r"/console/monitors/mail/$"))

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("Mail relay paused.")).to_be_visible()
    expect(page.locator("#live .badge-paused")).to_contain_text("Paused")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    assert not Monitor.objects.get(tag="mail").is_active

    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text("Mail relay resumed.")).to_be_visible()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    assert Monitor.objects.get(tag="mail").is_active

    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name=re.compile("Delete .Mail relay.?"))).to_be_visible()
    confirm = page.get_by_role("button", name="Delete monitor")
    expect(confirm).to_have_class(re.compile("btn-danger"))
    assert Monitor.objects.filter(tag="mail").exists()
    confirm.click()
    expect(page).to_have_url(re.compile(r"/console/monitors/$"))
    expect(page.get_by_text("Monitor Mail relay deleted.")).to_be_visible()
    assert not Monitor.objects.filter(tag="mail").exists()


def test_filter_by_status_and_keyboard_shortcuts(page: Page, admin: User) -> None:
    now = timezone.now()
    up = services.create_monitor(
        {
            "name": "Green API",
            "tag": "green",
            "kind": "tcp",
            "config": {"host": "a.test", "port": 1},
        },
        now=now,
    )
    down = services.create_monitor(
        {"name": "Red DB", "tag": "red", "kind": "tcp", "config": {"host": "b.test", "port": 1}},
        now=now,
    )
    at = now - timedelta(minutes=1)
    services.record_results(
        [
            NewResult(up.pk, at, at, "UP", 12.0, "port 1 open"),
            NewResult(down.pk, at, at, "DOWN", None, "connection refused"),
        ],
        now=now,
    )
    sign_in(page)
    rows = page.locator("table.monitors tbody tr")
    expect(rows).to_have_count(2)

    page.locator("body").press("/")
    expect(page.locator("#id_q")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#id_q")).not_to_be_focused()

    page.get_by_label("Status").select_option("DOWN")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"status=DOWN"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Red DB")
    expect(rows.first.locator(".badge-down")).to_contain_text("Down")

    # "?" lists the shortcuts; "g m" goes to the monitors list from any page.
    page.locator("body").press("?")
    dialog = page.locator("dialog#shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Focus search")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("link", name="Red DB").click()
    expect(page).to_have_url(re.compile(r"/console/monitors/red/$"))
    page.locator("body").press("g")
    page.locator("body").press("m")
    expect(page).to_have_url(re.compile(r"/console/monitors/$"))
    expect(rows).to_have_count(2)


def test_theme_toggle_is_remembered(page: Page, admin: User) -> None:
    sign_in(page)
    html = page.locator("html")
    toggle = page.locator("#theme-toggle")
    expect(toggle).to_contain_text("Auto")
    toggle.click()
    expect(html).to_have_attribute("data-theme", "light")
    toggle.click()
    expect(html).to_have_attribute("data-theme", "dark")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.locator("#theme-toggle")).to_contain_text("Dark")


def test_times_are_shown_in_the_readers_zone(
    browser: Browser, live_server: Any, admin: User
) -> None:
    monitor = services.create_monitor(
        {
            "name": "Tokyo API",
            "tag": "tokyo",
            "kind": "tcp",
            "config": {"host": "t.test", "port": 1},
        },
        now=timezone.now(),
    )
    # A fixed instant long ago, so the date is always shown: 20:30:15 UTC is
    # 05:30:15 the next morning in Tokyo (UTC+9, no daylight saving).
    at = datetime(2026, 3, 4, 20, 30, 15, tzinfo=UTC)
    services.record_results([NewResult(monitor.pk, at, at, "UP", 12.0, "port 1 open")], now=at)
    context = browser.new_context(
        base_url=live_server.url, timezone_id="Asia/Tokyo", locale="en-US"
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in(page)
        page.goto("/console/monitors/tokyo/")
        expect(page.get_by_role("heading", name="Tokyo API")).to_be_visible()
        stamp = page.locator('#live time[datetime="2026-03-04T20:30:15+00:00"]').first
        expect(stamp).to_have_attribute("data-local", "")
        # The visible absolute time is Tokyo's, the relative hint stays ...
        expect(stamp.locator(".abs")).to_have_text("2026-03-05 05:30:15 GMT+9, ")
        expect(stamp.locator(".rel")).to_contain_text("ago")
        expect(stamp).not_to_contain_text("20:30:15")
        # ... and the UTC instant is still there for tools and tooltips.
        expect(stamp).to_have_attribute("title", re.compile(r"^2026-03-04 20:30:15 UTC \u00b7 "))
        assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Asia/Tokyo"
    finally:
        context.close()
