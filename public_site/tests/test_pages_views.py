"""The public pages through Django's test client: banners for each state,
sections in order, private monitors never shown, hostile content escaped or
sanitised, 404s for unknown slugs/tags/keys/ids/days, history paging with bad
page numbers, and a fixed number of queries whatever the number of monitors.
Caching is off here (``test_cache.py`` covers it)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from incidents import services as incident_services
from incidents.maintenance_services import create_window
from incidents.models import Incident
from public_site.tests import pagedata

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cache(settings: Any) -> None:
    settings.BEACON_PUBLIC_CACHE_SECONDS = 0


def get(client: Client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.content.decode()


def banner_of(html: str) -> str:
    match = re.search(r'<p class="banner-text">([^<]*)</p>', html)
    assert match, "no banner"
    return match.group(1)


def statuses(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-monitor="([^"]+)" data-status="([^"]+)"', html))


def test_fresh_install_has_a_useful_home_page(client: Client) -> None:
    html = get(client, "/")
    assert banner_of(html) == "All Systems Operational"
    assert "Nothing is monitored publicly yet." in html
    assert "/console/" not in html


def test_without_pages_every_public_monitor_shows_in_one_section(client: Client) -> None:
    pagedata.monitors(["Zeta", "Alpha"])
    pagedata.monitors(["Hidden thing"], is_public=False)
    html = get(client, "/")
    assert '<h2 id="g-1">Services</h2>' in html
    assert html.index('data-monitor="alpha"') < html.index('data-monitor="zeta"')
    assert "Hidden thing" not in html and "hidden-thing" not in html


@pytest.mark.parametrize(
    ("checks", "words", "expected"),
    [
        ({"a": "UP", "b": "UP"}, "All Systems Operational", {"a": "operational"}),
        ({"a": "UP", "b": "DEGRADED"}, "Degraded Performance", {"b": "degraded_performance"}),
        ({"a": "UP", "b": "DOWN"}, "Partial Outage", {"b": "major_outage"}),
        ({"a": "DOWN", "b": "DOWN"}, "Major Outage", {"a": "major_outage"}),
        ({"a": "DEGRADED", "b": "DOWN"}, "Partial Outage", {"a": "degraded_performance"}),
    ],
)
def test_banner_for_each_check_state(
    client: Client, checks: dict[str, str], words: str, expected: dict[str, str]
) -> None:
    now = timezone.now()
    for tag, status in checks.items():
        monitor = pagedata.monitors([tag])[0]
        pagedata.history(monitor, now, {0: [status]})
    html = get(client, "/")
    assert banner_of(html) == words
    assert expected.items() <= statuses(html).items()
    # Words beside the colour, always.
    for label in ("Operational", "Degraded Performance", "Major Outage"):
        if label.lower().replace(" ", "_") in str(expected.values()):
            assert f'<span class="status-word">{label}</span>' in html


def test_banner_under_maintenance_and_declared_incidents(client: Client) -> None:
    now = timezone.now()
    a, b = pagedata.monitors(["a", "b"])
    pagedata.history(a, now, {0: ["DOWN"]})
    pagedata.history(b, now, {0: ["UP"]})
    create_window(
        {
            "title": "Planned",
            "starts_at": now - timedelta(minutes=5),
            "ends_at": now + timedelta(hours=1),
            "monitors": [a],
        },
        now=now,
    )
    html = get(client, "/")
    assert banner_of(html) == "Under Maintenance"  # the failure is expected
    assert statuses(html) == {"a": "under_maintenance", "b": "operational"}
    assert "Maintenance in progress" in html
    # An operator declaring b degraded counts as much as a failing check.
    incident_services.create_incident(
        title="Slow pages", body="Looking.", now=now, monitors=[(b, "DEGRADED")]
    )
    html = get(client, "/")
    assert banner_of(html) == "Degraded Performance"
    assert statuses(html)["b"] == "degraded_performance"
    assert "Active incidents" in html and "Slow pages" in html


def test_upcoming_maintenance_is_announced(client: Client) -> None:
    now = timezone.now()
    pagedata.monitors(["a"])
    create_window(
        {
            "title": "Network work",
            "starts_at": now + timedelta(days=2),
            "ends_at": now + timedelta(days=2, hours=2),
            "is_global": True,
        },
        now=now,
    )
    html = get(client, "/")
    assert "Scheduled maintenance" in html and "Network work" in html
    assert "Affects all services" in html
    assert banner_of(html) == "All Systems Operational"


def test_status_pages_sections_in_order_and_private_monitors_hidden(client: Client) -> None:
    a, b, c = pagedata.monitors(["Api", "Billing", "Cdn"])
    (secret,) = pagedata.monitors(["Secret"], is_public=False)
    pagedata.status_page("ops", "Operations", {"Second": [c], "First": [b, secret, a]})
    pagedata.status_page("home", "Home", {"All": [a]}, is_home=True)
    html = get(client, "/pages/ops")
    assert html.index(">Second</h2>") < html.index(">First</h2>")
    first = html[html.index(">First</h2>") :]
    assert first.index('data-monitor="billing"') < first.index('data-monitor="api"')
    assert "Secret" not in html and "secret" not in statuses(html)
    # Menu of pages, current one marked.
    assert '<a href="/pages/ops" aria-current="page">Operations</a>' in html
    home = get(client, "/")
    assert set(statuses(home)) == {"api"}
    get(client, "/pages/nope", 404)
    get(client, "/pages/UPPER", 404)


def test_hostile_names_titles_and_updates_are_escaped_or_sanitised(client: Client) -> None:
    now = timezone.now()
    monitor = pagedata.monitors(["x"])[0]
    monitor.name = '<img src=x onerror="alert(1)">Ünïcode ✓'
    monitor.save()
    incident = incident_services.create_incident(
        title="<script>alert('t')</script> outage",
        body="Hello <script>alert('b')</script> [link](javascript:alert(1)) **bold**",
        now=now,
        monitors=[(monitor, "DOWN")],
    )
    Incident.objects.filter(pk=incident.pk).update(
        resolve_note="INTERNAL-NOTE-123", acknowledge_note="INTERNAL-ACK-456"
    )
    for path in ("/", "/monitors/x", f"/incidents/{incident.key}", "/history"):
        html = get(client, path)
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
        assert "javascript:" not in html, path
        assert "INTERNAL-" not in html, path
        assert "/console/" not in html, path
    html = get(client, f"/incidents/{incident.key}")
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt; outage" in html
    assert "<strong>bold</strong>" in html
    assert "Ünïcode ✓" in html


def test_monitor_page_404s_and_ranges(client: Client) -> None:
    now = timezone.now()
    (api,) = pagedata.monitors(["api"])
    pagedata.monitors(["private"], is_public=False)
    pagedata.history(api, now, {0: ["UP", "DOWN"], 1: ["UP"]})
    html = get(client, "/monitors/api")
    assert html.count('class="d ') == 90
    assert "Response time" in html and "<svg" in html
    for value in ("7d", "30d", "bogus", "<script>", "9" * 500):
        page = get(client, f"/monitors/api?range={value}")
        assert "<script>" not in page
    get(client, "/monitors/private", 404)
    get(client, "/monitors/nope", 404)
    get(client, "/monitors/" + "a" * 300, 404)


def test_day_detail(client: Client) -> None:
    now = timezone.now()
    (api,) = pagedata.monitors(["api"])
    pagedata.history(api, now, {0: ["UP", "DEGRADED", "DOWN"], 3: ["UP"]})
    today = now.astimezone(UTC).date()
    html = get(client, f"/monitors/api/days/{today.isoformat()}")
    assert html.count('class="m down"') == 1
    assert html.count('class="m degraded"') == 1
    assert html.count('class="m up"') == 1
    assert html.count('class="m none"') == 1440 - 3
    old = get(client, f"/monitors/api/days/{(today - timedelta(days=3)).isoformat()}")
    assert old.count('class="m up"') == 1
    for bad in ("2026-02-30", "yesterday", "2026-1-1", "<x>", (today + timedelta(days=1))):
        get(client, f"/monitors/api/days/{bad}", 404)
    get(client, f"/monitors/api/days/{(today - timedelta(days=90)).isoformat()}", 404)
    get(client, f"/monitors/api/days/{(today - timedelta(days=89)).isoformat()}")


def test_day_detail_beyond_retention_says_so(client: Client, settings: Any) -> None:
    settings.BEACON_RESULT_RETENTION_DAYS = 2
    now = timezone.now()
    (api,) = pagedata.monitors(["api"])
    pagedata.history(api, now, {5: ["UP"]})
    day = (now.astimezone(UTC) - timedelta(days=5)).date()
    html = get(client, f"/monitors/api/days/{day.isoformat()}")
    assert "Minute-level results are kept for 2 days" in html
    assert 'class="m ' not in html
    assert "12:00" in html  # the hourly rollup still shows


def test_incident_page_keys_and_visibility(client: Client) -> None:
    now = timezone.now()
    (api,) = pagedata.monitors(["api"])
    (secret,) = pagedata.monitors(["secret"], is_public=False)
    public = incident_services.create_incident(
        title="API slow", body="Investigating.", now=now, monitors=[(api, "DEGRADED")]
    )
    private = incident_services.create_incident(
        title="Private only", body="x", now=now, monitors=[(secret, "DOWN")]
    )
    html = get(client, f"/incidents/{public.key}")
    assert "API slow" in html and "Investigating." in html and "Ongoing for" in html
    get(client, f"/incidents/{private.key}", 404)
    get(client, "/incidents/INC-999999", 404)
    get(client, "/incidents/INC-" + "9" * 12, 404)
    get(client, "/incidents/INC-000000", 404)
    get(client, "/incidents/nonsense", 404)
    response = client.get(f"/incidents/inc-{public.pk}")
    assert response.status_code == 301
    assert response["Location"] == f"/incidents/{public.key}"
    incident_services.post_update(public, state="RESOLVED", body="Fixed.", now=now)
    html = get(client, f"/incidents/{public.key}")
    assert "Resolved" in html and "Duration" in html and "Fixed." in html


def test_maintenance_page_visibility(client: Client) -> None:
    now = timezone.now()
    (api,) = pagedata.monitors(["api"])
    (secret,) = pagedata.monitors(["secret"], is_public=False)
    shared = create_window(
        {
            "title": "Upgrade",
            "description": "**Short** <script>x</script>",
            "starts_at": now + timedelta(hours=1),
            "ends_at": now + timedelta(hours=2),
            "monitors": [api, secret],
        },
        now=now,
    )
    hidden = create_window(
        {
            "title": "Hidden",
            "starts_at": now + timedelta(hours=1),
            "ends_at": now + timedelta(hours=2),
            "monitors": [secret],
        },
        now=now,
    )
    html = get(client, f"/maintenance/{shared.pk}")
    assert "Upgrade" in html and "<strong>Short</strong>" in html and "<script>" not in html
    assert "Scheduled" in html and "secret" not in html
    get(client, f"/maintenance/{hidden.pk}", 404)
    get(client, "/maintenance/999999", 404)
    get(client, "/maintenance/" + "9" * 30, 404)
    get(client, "/maintenance/-1", 404)


def test_history_paging(client: Client) -> None:
    now = timezone.now()
    (api,) = pagedata.monitors(["api"])
    recent = incident_services.create_incident(
        title="Recent one", body="x", now=now, monitors=[(api, "DOWN")]
    )
    old_start = now - timedelta(days=200)
    old = incident_services.create_incident(
        title="Old one", body="x", now=old_start, started_at=old_start, monitors=[(api, "DOWN")]
    )
    first = get(client, "/history")
    assert "Recent one" in first and "Old one" not in first
    assert 'rel="next"' in first
    pages = int(re.search(r"Page 1 of (\d+)", first).group(1))
    assert pages == 3  # 7 or 8 months back, 3 months a page
    found = [get(client, f"/history?page={n}") for n in range(1, pages + 1)]
    assert sum("Old one" in html for html in found) == 1
    assert f'data-incident="{old.key}"' in "".join(found)
    assert f'data-incident="{recent.key}"' in found[0]
    for bad in ("abc", "", "1.5", "9" * 40):
        assert "Recent one" in get(client, f"/history?page={bad}")
    for out in ("0", "-1", str(pages + 1), "999999"):
        get(client, f"/history?page={out}", 404)


def test_history_months_without_anything_say_so(client: Client) -> None:
    html = get(client, "/history")
    assert html.count("No incidents or maintenance this month.") == 3
    assert 'rel="next"' not in html


def test_only_get_and_head(client: Client) -> None:
    assert client.post("/").status_code == 405
    assert client.head("/").status_code == 200
    assert client.delete("/history").status_code == 405


def test_public_404_uses_the_public_frame(client: Client) -> None:
    html = get(client, "/no/such/page", 404)
    assert "This page does not exist, or is not public." in html
    assert "/console/" not in html
    console = client.get("/console/nope/")
    assert console.status_code == 404
    assert b"This page does not exist, or is not public." not in console.content


@pytest.mark.parametrize(
    "path",
    ["/api/v1/monitors/UPPER", "/api/v1/monitors/a.b/history", "/api/v1/no-such", "/api/nope"],
)
def test_api_paths_no_route_matches_answer_json(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "path": path}


def _many(count: int, now: datetime) -> None:
    ms = pagedata.monitors([f"m{n}" for n in range(count)])
    half = count // 2
    pagedata.status_page("home", "Home", {"One": ms[:half], "Two": ms[half:]}, is_home=True)
    for m in ms:
        pagedata.history(m, now, {0: ["UP"], 3: ["DOWN"], 40: ["DEGRADED"]})
    incident_services.create_incident(
        title="Trouble", body="x", now=now, monitors=[(m, "DOWN") for m in ms[:3]]
    )
    create_window(
        {
            "title": "Weekly",
            "starts_at": now - timedelta(days=60),
            "ends_at": now - timedelta(days=60) + timedelta(hours=1),
            "rrule": "FREQ=WEEKLY",
            "monitors": ms[:4],
        },
        now=now,
    )


@pytest.mark.parametrize("count", [4, 40])
def test_home_page_queries_do_not_grow_with_monitors(
    client: Client, django_assert_max_num_queries: Any, count: int
) -> None:
    _many(count, timezone.now())
    with django_assert_max_num_queries(12):
        html = get(client, "/")
    assert html.count('class="monitor"') == count
    assert banner_of(html) == "Partial Outage"


def test_other_pages_have_bounded_queries(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()
    _many(4, now)
    incident = Incident.objects.get()
    today = now.astimezone(UTC).date().isoformat()
    for path, limit in (
        ("/monitors/m0", 12),
        (f"/monitors/m0/days/{today}", 14),
        (f"/incidents/{incident.key}", 8),
        ("/history", 12),
        ("/pages/home", 12),
    ):
        with django_assert_max_num_queries(limit):
            get(client, path)
