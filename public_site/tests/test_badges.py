"""Badges: valid SVG documents (parsed as XML: the SVG namespace, width,
height, an accessible title), the words and colours of each status, uptime
and latency from rollups, parameter validation with hostile input, and
caching headers; plus the pure SVG builder."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from incidents import maintenance_services
from incidents import services as incident_services
from monitors import services as monitor_services
from monitors.models import Monitor
from monitors.services import record_results
from monitors.tests.factories import make_monitor, result
from public_site import badge_svg
from public_site.badges import status_word

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def fresh_cache(settings: Any) -> None:
    settings.BEACON_PUBLIC_CACHE_SECONDS = 0
    settings.BEACON_BADGE_CACHE_SECONDS = 60
    cache.clear()


def parse_svg(text: str | bytes) -> ET.Element:
    """The SVG root, checked for what every badge must have."""
    root = ET.fromstring(text)  # noqa: S314 - our own output, parsed to check it
    assert root.tag == f"{SVG}svg"
    width, height = int(root.get("width", "")), int(root.get("height", ""))
    assert width > 0 and height == 20
    title = root.find(f"{SVG}title")
    assert title is not None and title.text
    assert root.get("role") == "img" and root.get("aria-label") == title.text
    for rect in root.iter(f"{SVG}rect"):
        assert int(rect.get("width", "0")) <= width
    return root


def badge(client: Client, url: str) -> tuple[ET.Element, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    return parse_svg(response.content), response


def title_of(root: ET.Element) -> str:
    node = root.find(f"{SVG}title")
    assert node is not None and node.text is not None
    return node.text


def message_fill(root: ET.Element) -> str:
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("fill", "").startswith("#")]
    return rects[-1].get("fill", "") if rects[-1].get("x") else rects[0].get("fill", "")


def checked(monitor: Monitor, *statuses: str, latency: float = 50.0) -> None:
    now = timezone.now()
    results = [
        result(monitor, now - timedelta(minutes=len(statuses) - n), status, latency)
        for n, status in enumerate(statuses)
    ]
    record_results(results, now=now)


# --- status --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("statuses", "word", "colour"),
    [
        ((), "unknown", "#9f9f9f"),
        (("UP",), "up", "#4c1"),
        (("UP", "DEGRADED"), "degraded", "#dfb317"),
        (("UP", "DOWN"), "down", "#e05d44"),
    ],
)
def test_status_badge(client: Client, statuses: tuple[str, ...], word: str, colour: str) -> None:
    monitor = make_monitor(tag="api")
    checked(monitor, *statuses)
    root, response = badge(client, "/badge/api/status")
    assert title_of(root) == f"status: {word}"
    assert message_fill(root) == colour
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["ETag"].startswith('"')


@pytest.mark.django_db
def test_status_badge_follows_maintenance_and_incidents(client: Client) -> None:
    monitor = make_monitor(tag="api")
    checked(monitor, "UP")
    now = timezone.now()
    incident = incident_services.create_incident(
        title="Declared", body="b", now=now, monitors=[(monitor, "DOWN")]
    )
    assert title_of(badge(client, "/badge/api/status")[0]) == "status: down"
    incident_services.resolve(incident, note="ok", classification="Resolved", now=now)
    assert title_of(badge(client, "/badge/api/status")[0]) == "status: up"
    maintenance_services.create_window(
        {
            "title": "Work",
            "starts_at": now - timedelta(minutes=5),
            "ends_at": now + timedelta(hours=1),
            "monitors": [monitor],
        },
        now=now,
    )
    root = badge(client, "/badge/api/status")[0]
    assert title_of(root) == "status: maintenance" and message_fill(root) == "#007ec6"


@pytest.mark.django_db
def test_paused_monitor_reads_paused(client: Client) -> None:
    monitor = make_monitor(tag="api")
    checked(monitor, "DOWN")
    monitor_services.set_active(monitor, False, now=timezone.now())
    # Its last result is stale: the page treats it as unchecked, so does the badge.
    assert title_of(badge(client, "/badge/api/status")[0]) == "status: paused"


def test_status_words() -> None:
    assert status_word(None, "operational") == ("unknown", "lightgrey")
    assert status_word(None, "major_outage") == ("down", "red")  # declared by an incident
    assert status_word("UP", "under_maintenance") == ("maintenance", "blue")
    assert status_word("DOWN", "operational", paused=True) == ("paused", "lightgrey")
    assert status_word(None, "degraded_performance", paused=True) == ("degraded", "yellow")


# --- uptime and latency ----------------------------------------------------------------------


@pytest.mark.django_db
def test_uptime_badge(client: Client) -> None:
    monitor = make_monitor(tag="api")
    now = timezone.now()
    # Today: 3 up, 1 down. Ten days ago: 4 down (outside a 7-day window).
    results = [result(monitor, now - timedelta(minutes=n), "UP") for n in (1, 2, 3)]
    results.append(result(monitor, now - timedelta(minutes=4), "DOWN"))
    results += [result(monitor, now - timedelta(days=10, minutes=n), "DOWN") for n in range(4)]
    record_results(results, now=now)
    root = badge(client, "/badge/api/uptime?days=7")[0]
    assert title_of(root) == "uptime 7d: 75.00%" and message_fill(root) == "#e05d44"
    assert title_of(badge(client, "/badge/api/uptime")[0]) == "uptime 30d: 37.50%"
    assert title_of(badge(client, "/badge/api/uptime?days=1")[0]) == "uptime 1d: 75.00%"


@pytest.mark.django_db
def test_uptime_without_data(client: Client) -> None:
    make_monitor(tag="api")
    root = badge(client, "/badge/api/uptime?days=90")[0]
    assert title_of(root) == "uptime 90d: no data" and message_fill(root) == "#9f9f9f"


@pytest.mark.django_db
def test_latency_badge(client: Client) -> None:
    monitor = make_monitor(tag="api")
    assert title_of(badge(client, "/badge/api/latency")[0]) == "latency: no data"
    now = timezone.now()
    record_results(
        [
            result(monitor, now - timedelta(minutes=2), "UP", 100.0),
            result(monitor, now - timedelta(minutes=1), "UP", 200.0),
            result(monitor, now - timedelta(days=3), "UP", 9000.0),  # older than 24 h
        ],
        now=now,
    )
    root = badge(client, "/badge/api/latency")[0]
    assert title_of(root) == "latency: 150 ms" and message_fill(root) == "#4c1"


# --- parameters ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("days=0", "days"),
        ("days=91", "days"),
        ("days=-1", "days"),
        ("days=1.5", "days"),
        ("days=abc", "days"),
        ("days=", "days"),
        ("days=%D9%A3", "days"),  # an Arabic-Indic 3: int() would take it
        ("days=+7", "days"),
        ("days=99999999999999999999", "days"),
        ("days=7&days=8", "days"),
        ("style=plastic", "style"),
        ("style=", "style"),
        ("label=" + "x" * 41, "label"),
        ("label=a%00b", "label"),
        ("label=a%0Ab", "label"),
        ("label=a&label=b", "label"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(client: Client, query: str, field: str) -> None:
    make_monitor(tag="api")
    response = client.get(f"/badge/api/uptime?{query}")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field] and body[field][0]


@pytest.mark.django_db
def test_days_only_matters_for_uptime(client: Client) -> None:
    make_monitor(tag="api")
    assert client.get("/badge/api/status?days=abc").status_code == 200


@pytest.mark.django_db
def test_label_override_is_escaped(client: Client) -> None:
    make_monitor(tag="api")
    label = '<script>alert("x")</script> Ü&'
    root, response = badge(client, f"/badge/api/status?label={label.replace('&', '%26')}")
    assert title_of(root) == f"{label}: unknown"
    assert b"<script>" not in response.content
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert label in texts


@pytest.mark.django_db
def test_empty_label_makes_a_message_only_badge(client: Client) -> None:
    make_monitor(tag="api")
    root = badge(client, "/badge/api/status?label=")[0]
    assert title_of(root) == "unknown"
    assert [t.text for t in root.iter(f"{SVG}text")] == ["unknown", "unknown"]  # + shadow


@pytest.mark.django_db
def test_styles_differ(client: Client) -> None:
    make_monitor(tag="api")
    flat = badge(client, "/badge/api/status?style=flat")[0]
    square = badge(client, "/badge/api/status?style=flat-square")[0]
    assert flat.find(f"{SVG}linearGradient") is not None
    assert square.find(f"{SVG}linearGradient") is None
    assert square.find(f"{SVG}g").get("shape-rendering") == "crispEdges"  # type: ignore[union-attr]
    assert flat.get("width") == square.get("width")


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["status", "uptime", "latency"])
def test_private_and_unknown_monitors_are_404(client: Client, kind: str) -> None:
    make_monitor(tag="secret", is_public=False)
    for tag in ("secret", "nope", "x%00y", "%F0%9F%9A%80", "a" * 65):
        response = client.get(f"/badge/{tag}/{kind}")
        assert response.status_code == 404
        assert b"secret" not in response.content.lower()


@pytest.mark.django_db
def test_etag_and_304(client: Client) -> None:
    monitor = make_monitor(tag="api")
    checked(monitor, "UP")
    first = client.get("/badge/api/status")
    again = client.get("/badge/api/status", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["Cache-Control"] == "public, max-age=60"
    checked(monitor, "DOWN")
    changed = client.get("/badge/api/status", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert "default-src 'none'" in changed["Content-Security-Policy"]
    assert client.post("/badge/api/status").status_code == 405


@pytest.mark.django_db
def test_cache_seconds_setting(client: Client, settings: Any) -> None:
    settings.BEACON_BADGE_CACHE_SECONDS = 0
    make_monitor(tag="api")
    assert client.get("/badge/api/latency")["Cache-Control"] == "public, max-age=0"


# --- the pure builder ------------------------------------------------------------------------


@pytest.mark.parametrize("style", badge_svg.STYLES)
@pytest.mark.parametrize(
    ("label", "message"),
    [("build", "passing"), ("", "x"), ("ünï 🚀 中文", "ok"), ("a&b<c>\"'", "1 < 2")],
)
def test_render_is_valid_svg(style: str, label: str, message: str) -> None:
    root = parse_svg(badge_svg.render(label, message, "green", style))
    assert title_of(root) == (f"{label}: {message}" if label else message)


def test_width_grows_with_text() -> None:
    short = parse_svg(badge_svg.render("a", "b", "red"))
    long = parse_svg(badge_svg.render("a much longer label", "b", "red"))
    wide = parse_svg(badge_svg.render("WWWW", "b", "red"))
    narrow = parse_svg(badge_svg.render("iiii", "b", "red"))
    assert int(long.get("width", "0")) > int(short.get("width", "0"))
    assert int(wide.get("width", "0")) > int(narrow.get("width", "0"))


def test_text_width_estimates() -> None:
    assert badge_svg.text_width("") == 1
    assert badge_svg.text_width("passing") % 2 == 1
    # Close to shields' Verdana 11px figure for "passing" (~47 px).
    assert 40 <= badge_svg.text_width("passing") <= 50
    assert badge_svg.char_width("中") == 11.0
    assert badge_svg.char_width("\u0301") == 0.0  # combining accent
    assert badge_svg.char_width("é") == 7.0


def test_render_refuses_an_unknown_style() -> None:
    with pytest.raises(ValueError):
        badge_svg.render("a", "b", "red", "plastic")


@pytest.mark.parametrize(
    ("percent", "text", "colour"),
    [
        (None, "no data", "lightgrey"),
        (100.0, "100%", "brightgreen"),
        (99.999, "99.99%", "brightgreen"),
        (99.5, "99.50%", "green"),
        (97.0, "97.00%", "yellowgreen"),
        (95.5, "95.50%", "yellow"),
        (90.0, "90.00%", "orange"),
        (12.345, "12.34%", "red"),
    ],
)
def test_uptime_words_and_colours(percent: float | None, text: str, colour: str) -> None:
    assert badge_svg.format_uptime(percent) == text
    assert badge_svg.uptime_color(percent) == colour


@pytest.mark.parametrize(
    ("ms", "text", "colour"),
    [
        (None, "no data", "lightgrey"),
        (87.4, "87 ms", "brightgreen"),
        (499.0, "499 ms", "green"),
        (999.0, "999 ms", "yellow"),
        (1250.0, "1.25 s", "orange"),
        (4000.0, "4.00 s", "red"),
    ],
)
def test_latency_words_and_colours(ms: float | None, text: str, colour: str) -> None:
    assert badge_svg.format_latency(ms) == text
    assert badge_svg.latency_color(ms) == colour
