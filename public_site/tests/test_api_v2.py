"""The Statuspage-compatible v2 API against a real database: every endpoint
validated against the published shapes (``test_api_v2_schema``), the mapping
of Beacon's monitors, sections, incidents and maintenance, privacy, the page
parameter, errors, caching, CORS and query counts; plus the pure mapping
functions (``api_v2.shapes``) without a database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from incidents import maintenance_services
from incidents import services as incident_services
from incidents.models import Incident, MaintenanceWindow
from monitors import services as monitor_services
from monitors.models import Monitor
from monitors.services import record_results
from monitors.tests.factories import make_monitor, result
from public_site import cache as public_cache
from public_site import selectors
from public_site.api_v2 import shapes
from public_site.machine_selectors import (
    Occurrence,
    occurrence_status,
    runs_to_show,
)
from public_site.models import Section, SectionMonitor, SiteSettings, StatusPage

from .test_api_v2_schema import SCHEMAS, validate

ENDPOINTS = sorted(SCHEMAS)


@pytest.fixture(autouse=True)
def fresh_cache(settings: Any) -> None:
    """No caching unless a test turns it on; no entry left from another test."""
    settings.BEACON_PUBLIC_CACHE_SECONDS = 0
    cache.clear()


def get(client: Client, endpoint: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v2/{endpoint}", params)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    validate(endpoint, body)
    return body


def checked(monitor: Monitor, status: str, *, ago: timedelta = timedelta(minutes=1)) -> None:
    at = timezone.now() - ago
    record_results([result(monitor, at, status, 50.0)], now=at)


def page_with(*sections: tuple[str, list[Monitor]], slug: str = "main", home: bool = True):
    page = StatusPage.objects.create(slug=slug, title=slug.title(), is_home=home)
    for position, (name, monitors) in enumerate(sections):
        section = Section.objects.create(page=page, name=name, position=position)
        for n, monitor in enumerate(monitors):
            SectionMonitor.objects.create(section=section, monitor=monitor, position=n)
    return page


def window(title: str, start: timedelta, end: timedelta, monitors=(), **fields: Any):
    now = timezone.now()
    return maintenance_services.create_window(
        {
            "title": title,
            "description": fields.pop("description", ""),
            "starts_at": now + start,
            "ends_at": now + end,
            "monitors": list(monitors),
            **fields,
        },
        now=now,
    )


# --- every endpoint, one rich set of data ------------------------------------------------


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    """Two sections, monitors in every state, a private one, open and resolved
    incidents and maintenance in every phase."""
    api = make_monitor(tag="api", name="API")
    web = make_monitor(tag="web", name="Website", description="The <b>site</b> & shop")
    db_ = make_monitor(tag="db", name="Database")
    internal = make_monitor(tag="internal", name="Secret box", is_public=False)
    checked(api, "UP")
    checked(web, "DEGRADED")
    checked(db_, "DOWN")
    checked(internal, "DOWN")
    page_with(("Front", [web, api]), ("Back", [db_, internal, api]))
    now = timezone.now()
    outage = incident_services.create_incident(
        title="Database down",
        body="Looking **into** it",
        now=now - timedelta(minutes=30),
        monitors=[(db_, "DOWN"), (internal, "DOWN")],
    )
    incident_services.post_update(
        outage, state="MONITORING", body="Fix deployed", now=now - timedelta(minutes=10)
    )
    old = incident_services.create_incident(
        title="Slow website",
        body="Slow",
        severity="WARNING",
        now=now - timedelta(days=2),
        monitors=[(web, "DEGRADED")],
    )
    incident_services.resolve(
        old, note="All good", classification="Resolved", now=now - timedelta(days=1)
    )
    window("Upcoming upgrade", timedelta(days=1), timedelta(days=1, hours=2), [api])
    window("Running upgrade", timedelta(hours=-1), timedelta(hours=1), [web])
    window("Finished upgrade", timedelta(days=-3), timedelta(days=-3, hours=1), [db_])
    return {"api": api, "web": web, "db": db_, "internal": internal, "outage": outage}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_endpoint_has_the_published_shape(
    client: Client, world: dict[str, Any], endpoint: str
) -> None:
    body = get(client, endpoint)
    text = json.dumps(body)
    assert "internal" not in text and "Secret box" not in text
    assert body["page"]["id"] == "main"
    assert body["page"]["url"] == "http://testserver"


def test_components_are_monitors_and_sections_are_groups(
    client: Client, world: dict[str, Any]
) -> None:
    components = get(client, "components.json")["components"]
    ids = [c["id"] for c in components]
    groups = [c for c in components if c["group"]]
    assert [g["name"] for g in groups] == ["Front", "Back"]
    front, back = groups
    # The private monitor is never listed; API sits in both sections: listed once, first.
    assert front["components"] == ["web", "api"]
    assert back["components"] == ["db"]
    assert ids.count("api") == 1 and "internal" not in ids
    by_id = {c["id"]: c for c in components}
    assert by_id["web"]["group_id"] == front["id"] and by_id["db"]["group_id"] == back["id"]
    assert by_id["web"]["position"] == 1 and by_id["api"]["position"] == 2
    assert (front["position"], back["position"]) == (1, 2)
    # Statuses: web is degraded but under maintenance; db down (check and incident).
    assert by_id["api"]["status"] == "operational"
    assert by_id["web"]["status"] == "under_maintenance"
    assert by_id["db"]["status"] == "major_outage"
    # A group's status is its section's on the page: Back holds db (down) and api
    # (up; listed under Front in the API, where a component has one group).
    assert front["status"] == "under_maintenance" and back["status"] == "partial_outage"
    assert by_id["web"]["description"] == "The <b>site</b> & shop"
    assert by_id["api"]["description"] is None


def test_api_and_html_page_agree(client: Client, world: dict[str, Any]) -> None:
    data = selectors.page_data(StatusPage.objects.get(), now=timezone.now())
    body = get(client, "summary.json")
    statuses = {c["id"]: c["status"] for c in body["components"] if not c["group"]}
    assert statuses == {row.tag: row.status for row in data.monitors.values()}
    assert body["status"] == {
        "indicator": data.banner.indicator,
        "description": data.banner.description,
    }
    assert body["status"]["indicator"] == "major"  # one of three public monitors down


def test_incidents(client: Client, world: dict[str, Any]) -> None:
    site = SiteSettings.load()
    site.public_url = "https://status.example.com/"
    site.save()
    body = get(client, "incidents.json")
    names = [i["name"] for i in body["incidents"]]
    assert names == ["Database down", "Slow website"]  # newest first
    outage, old = body["incidents"]
    assert outage["id"] == world["outage"].key
    assert outage["status"] == "monitoring" and outage["impact"] == "critical"
    assert outage["shortlink"] == f"https://status.example.com/incidents/{outage['id']}"
    assert outage["monitoring_at"] == outage["incident_updates"][0]["created_at"]
    assert outage["resolved_at"] is None
    assert [u["status"] for u in outage["incident_updates"]] == ["monitoring", "investigating"]
    assert outage["incident_updates"][1]["body"] == "Looking **into** it"
    assert {u["incident_id"] for u in outage["incident_updates"]} == {outage["id"]}
    assert [c["id"] for c in outage["components"]] == ["db"]  # the private one left out
    assert old["status"] == "resolved" and old["impact"] == "minor"  # WARNING + DEGRADED
    assert old["resolved_at"] is not None
    # The resolution note is the final public update; nothing else internal shows.
    assert old["incident_updates"][0]["body"] == "All good"
    assert "Resolved" not in json.dumps(old["incident_updates"][0]["body"])
    unresolved = get(client, "incidents/unresolved.json")["incidents"]
    assert [i["id"] for i in unresolved] == [outage["id"]]
    assert body["page"]["url"] == "https://status.example.com"


def test_internal_notes_and_private_only_incidents_stay_out(client: Client, db: None) -> None:
    public = make_monitor(tag="pub", name="Public")
    private = make_monitor(tag="priv", name="Private thing", is_public=False)
    now = timezone.now()
    shown = incident_services.create_incident(
        title="Shown", body="visible body", now=now, monitors=[(public, "DOWN")]
    )
    incident_services.acknowledge(shown, note="ACK-NOTE-internal", now=now)
    incident_services.create_incident(
        title="Only private", body="hidden", now=now, monitors=[(private, "DOWN")]
    )
    text = json.dumps(get(client, "summary.json"))
    assert "Shown" in text
    assert "Only private" not in text and "ACK-NOTE-internal" not in text
    assert "Private thing" not in text


def test_impact_follows_severity_and_declared_impacts(client: Client, db: None) -> None:
    monitor = make_monitor(tag="svc")
    now = timezone.now()
    cases = [("CRITICAL", "DOWN", "critical"), ("WARNING", "DOWN", "major")]
    cases += [("CRITICAL", "DEGRADED", "major"), ("WARNING", "DEGRADED", "minor")]
    cases += [("CRITICAL", "MAINTENANCE", "minor"), ("WARNING", "MAINTENANCE", "none")]
    expected = {}
    for n, (severity, impact, want) in enumerate(cases):
        incident = incident_services.create_incident(
            title=f"case {n}",
            body="b",
            severity=severity,
            now=now - timedelta(minutes=n),
            monitors=[(monitor, impact)],
        )
        expected[incident.key] = want
    got = {i["id"]: i["impact"] for i in get(client, "incidents.json")["incidents"]}
    assert got == expected


def test_fifty_most_recent_incidents(client: Client, db: None) -> None:
    monitor = make_monitor(tag="svc")
    now = timezone.now()
    for n in range(53):
        incident_services.create_incident(
            title=f"Incident {n}",
            body="b",
            now=now - timedelta(minutes=53 - n),
            monitors=[(monitor, "DEGRADED")],
        )
    incidents = get(client, "incidents.json")["incidents"]
    assert len(incidents) == 50
    assert incidents[0]["name"] == "Incident 52" and incidents[-1]["name"] == "Incident 3"


def test_maintenance_endpoints(client: Client, world: dict[str, Any]) -> None:
    every = get(client, "scheduled-maintenances.json")["scheduled_maintenances"]
    assert [(m["name"], m["status"]) for m in every] == [
        ("Upcoming upgrade", "scheduled"),
        ("Running upgrade", "in_progress"),
        ("Finished upgrade", "completed"),
    ]
    upcoming = get(client, "scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    active = get(client, "scheduled-maintenances/active.json")["scheduled_maintenances"]
    summary = get(client, "summary.json")["scheduled_maintenances"]
    assert [m["name"] for m in upcoming] == ["Upcoming upgrade"]
    assert [m["name"] for m in active] == ["Running upgrade"]
    assert [m["name"] for m in summary] == ["Upcoming upgrade", "Running upgrade"]
    done = every[2]
    assert done["impact"] == "maintenance"
    assert [u["status"] for u in done["incident_updates"]] == [
        "completed",
        "in_progress",
        "scheduled",
    ]
    assert done["resolved_at"] == done["scheduled_until"]
    running = every[1]
    assert [c["id"] for c in running["components"]] == ["web"]
    assert running["components"][0]["status"] == "under_maintenance"
    window_id = MaintenanceWindow.objects.get(title="Running upgrade").pk
    assert running["id"] == f"MW-{window_id:06d}"
    assert running["shortlink"] == f"http://testserver/maintenance/{window_id}"


def test_recurring_maintenance_shows_its_current_and_next_run(client: Client, db: None) -> None:
    monitor = make_monitor(tag="svc")
    # Every day for an hour, started 2 days and 30 minutes ago: running now.
    window(
        "Nightly",
        timedelta(days=-2, minutes=-30),
        timedelta(days=-2, minutes=30),
        [monitor],
        rrule="FREQ=DAILY",
    )
    runs = get(client, "scheduled-maintenances.json")["scheduled_maintenances"]
    assert [r["status"] for r in runs] == ["scheduled", "in_progress"]
    assert runs[0]["id"] != runs[1]["id"] and runs[0]["id"].startswith("MW-")
    start = datetime.fromisoformat(runs[1]["scheduled_for"].replace("Z", "+00:00"))
    nxt = datetime.fromisoformat(runs[0]["scheduled_for"].replace("Z", "+00:00"))
    assert nxt - start == timedelta(days=1)
    assert get(client, "status.json")["status"]["indicator"] == "maintenance"


def test_times_are_in_the_page_zone(client: Client, world: dict[str, Any]) -> None:
    site = SiteSettings.load()
    site.time_zone = "Asia/Kolkata"
    site.save()
    body = get(client, "summary.json")
    assert body["page"]["time_zone"] == "Asia/Kolkata"
    assert body["page"]["updated_at"].endswith("+05:30")
    assert body["incidents"][0]["started_at"].endswith("+05:30")
    site.time_zone = "UTC"
    site.save()
    assert get(client, "summary.json")["page"]["updated_at"].endswith("Z")


def test_without_a_status_page_every_public_monitor_is_listed(client: Client, db: None) -> None:
    make_monitor(tag="b-mon", name="Bravo")
    make_monitor(tag="a-mon", name="Alpha")
    make_monitor(tag="hidden", name="Hidden", is_public=False)
    body = get(client, "components.json")
    assert body["page"]["id"] == "home"
    assert [(c["id"], c["position"], c["group_id"]) for c in body["components"]] == [
        ("a-mon", 1, None),
        ("b-mon", 2, None),
    ]
    # Never checked: nothing known to be wrong.
    assert {c["status"] for c in body["components"]} == {"operational"}
    assert get(client, "status.json")["status"] == {
        "indicator": "none",
        "description": "All Systems Operational",
    }


def test_page_parameter(client: Client, world: dict[str, Any]) -> None:
    other = make_monitor(tag="other", name="Other")
    checked(other, "DOWN")
    page_with(("Only", [other]), slug="partners", home=False)
    incident_services.create_incident(
        title="Partner trouble", body="b", now=timezone.now(), monitors=[(other, "DOWN")]
    )
    body = get(client, "summary.json", page="partners")
    assert body["page"]["id"] == "partners" and body["page"]["name"] == "Partners"
    assert body["page"]["url"] == "http://testserver/pages/partners"
    assert [c["id"] for c in body["components"] if not c["group"]] == ["other"]
    assert body["status"]["indicator"] == "critical"  # its only monitor is down
    assert [i["name"] for i in body["incidents"]] == ["Partner trouble"]
    home = get(client, "summary.json")
    assert "other" not in {c["id"] for c in home["components"]}
    assert {i["name"] for i in home["incidents"]} == {"Database down", "Partner trouble"}


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("?page=nope", 404, "page"),
        ("?page=NOPE", 400, "page"),
        ("?page=" + "a" * 65, 400, "page"),
        ("?page=%3Cscript%3E", 400, "page"),
        ("?page=main&page=other", 400, "page"),
        ("?page=%E2%9C%93", 400, "page"),
    ],
)
def test_bad_page_parameter(
    client: Client, world: dict[str, Any], query: str, status: int, field: str
) -> None:
    response = client.get(f"/api/v2/summary.json{query}")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert list(response.json()) == [field]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/",
        "/api/v2",
        "/api/v2/nope.json",
        "/api/v2/summary.json/",
        "/api/v2/incidents/INC-000001.json",
        "/api/v2/components.xml",
    ],
)
def test_unknown_paths_are_json_404(client: Client, db: None, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "Not found"
    assert response["Access-Control-Allow-Origin"] == "*"


def test_only_reads(client: Client, db: None) -> None:
    assert client.post("/api/v2/summary.json").status_code == 405
    assert client.delete("/api/v2/components.json").status_code == 405
    assert client.head("/api/v2/status.json").status_code == 200


def test_answers_are_cached_briefly(client: Client, db: None, settings: Any) -> None:
    settings.BEACON_PUBLIC_CACHE_SECONDS = 60
    monitor = make_monitor(tag="svc", name="Before")
    first = client.get("/api/v2/components.json")
    assert first["Cache-Control"] == "public, max-age=60"
    monitor_services.update_monitor(monitor, {"name": "After"}, now=timezone.now())
    assert client.get("/api/v2/components.json").content == first.content
    again = client.get("/api/v2/components.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again["Access-Control-Allow-Origin"] == "*"
    public_cache.bump()  # what a public change does: every cached answer retires
    assert get(client, "components.json")["components"][0]["name"] == "After"
    changed = client.get("/api/v2/components.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_query_count_does_not_grow_with_monitors(
    client: Client, db: None, django_assert_max_num_queries: Any
) -> None:
    def fill(count: int) -> None:
        monitors = [make_monitor(tag=f"m{Monitor.objects.count()}-{n}") for n in range(count)]
        for monitor in monitors:
            checked(monitor, "UP")
        section = Section.objects.first()
        for n, monitor in enumerate(monitors):
            SectionMonitor.objects.create(section=section, monitor=monitor, position=n + 100)
        now = timezone.now()
        incident = incident_services.create_incident(
            title="x", body="b", now=now, monitors=[(m, "DEGRADED") for m in monitors[:3]]
        )
        incident_services.post_update(incident, state="IDENTIFIED", body="c", now=now)
        window("w", timedelta(hours=-1), timedelta(hours=1), monitors[:3])

    page_with(("All", []))
    SiteSettings.load()
    fill(3)
    counts = []
    for _ in range(2):
        for endpoint in ("summary.json", "incidents.json", "scheduled-maintenances.json"):
            with django_assert_max_num_queries(22) as captured:
                get(client, endpoint)
            counts.append(len(captured))
        fill(25)
    assert counts[:3] == counts[3:], counts


def test_hostile_names_round_trip_as_plain_json(client: Client, db: None) -> None:
    name = 'Ünïcødé <script>alert("x")</script> & 🚀'
    monitor = make_monitor(tag="svc", name=name)
    incident_services.create_incident(
        title=name,
        body="**b** <img src=x onerror=alert(1)>",
        now=timezone.now(),
        monitors=[(monitor, "DOWN")],
    )
    body = get(client, "summary.json")
    assert body["components"][0]["name"] == name
    assert body["incidents"][0]["name"] == name
    raw = client.get("/api/v2/summary.json").content.decode()
    assert "🚀" in raw  # UTF-8, not \\u escapes: as Statuspage answers


# --- pure mapping -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "impacts", "expected"),
    [
        ("CRITICAL", ["DOWN"], "critical"),
        ("CRITICAL", ["DEGRADED", "DOWN"], "critical"),
        ("WARNING", ["DOWN"], "major"),
        ("CRITICAL", ["DEGRADED"], "major"),
        ("WARNING", ["DEGRADED", "MAINTENANCE"], "minor"),
        ("CRITICAL", [], "minor"),
        ("WARNING", [], "none"),
        ("WARNING", ["MAINTENANCE"], "none"),
    ],
)
def test_incident_impact(severity: str, impacts: list[str], expected: str) -> None:
    assert shapes.incident_impact(severity, impacts) == expected


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", "2026-01-15T08:05:09.123Z"),
        ("Etc/UTC", "2026-01-15T08:05:09.123Z"),
        ("America/Los_Angeles", "2026-01-15T00:05:09.123-08:00"),
        ("Asia/Kathmandu", "2026-01-15T13:50:09.123+05:45"),
        ("Europe/London", "2026-01-15T08:05:09.123+00:00"),
        ("Not/AZone", "2026-01-15T08:05:09.123Z"),
    ],
)
def test_times_like_statuspage(zone: str, expected: str) -> None:
    moment = datetime(2026, 1, 15, 8, 5, 9, 123456, tzinfo=UTC)
    assert shapes.iso(moment, zone) == expected
    assert shapes.iso(None, zone) is None


def test_occurrence_status() -> None:
    start = datetime(2026, 1, 1, 10, tzinfo=UTC)
    end = start + timedelta(hours=1)
    assert occurrence_status(start, end, start - timedelta(seconds=1)) == "scheduled"
    assert occurrence_status(start, end, start) == "in_progress"
    assert occurrence_status(start, end, end) == "completed"


def test_runs_of_windows() -> None:
    start = datetime(2026, 1, 5, 2, tzinfo=UTC)  # a Monday
    once = MaintenanceWindow(title="x", starts_at=start, ends_at=start + timedelta(hours=2))
    now = start + timedelta(days=10)
    assert runs_to_show(once, now) == [(start, start + timedelta(hours=2))]
    weekly = MaintenanceWindow(
        title="w", starts_at=start, ends_at=start + timedelta(hours=2), rrule="FREQ=WEEKLY"
    )
    assert runs_to_show(weekly, now) == [
        (start + timedelta(days=7), start + timedelta(days=7, hours=2)),
        (start + timedelta(days=14), start + timedelta(days=14, hours=2)),
    ]
    assert runs_to_show(weekly, start - timedelta(days=1)) == [(start, start + timedelta(hours=2))]
    ended = MaintenanceWindow(
        title="e", starts_at=start, ends_at=start + timedelta(hours=2), rrule="FREQ=DAILY;COUNT=2"
    )
    assert runs_to_show(ended, now) == [
        (start + timedelta(days=1), start + timedelta(days=1, hours=2))
    ]
    broken = MaintenanceWindow(title="b", starts_at=start, ends_at=now, rrule="FREQ=SOMETIMES")
    with pytest.raises(ValueError):
        runs_to_show(broken, now)


def test_maintenance_ids() -> None:
    start = datetime(2026, 1, 5, 2, tzinfo=UTC)
    window_ = MaintenanceWindow(pk=7, title="x", starts_at=start, ends_at=start)
    assert shapes.maintenance_id(Occurrence(window_, start, start, "scheduled")) == "MW-000007"
    window_.rrule = "FREQ=DAILY"
    run = Occurrence(window_, start, start, "scheduled")
    assert shapes.maintenance_id(run) == "MW-000007-20260105T0200Z"


def test_broken_rrule_does_not_break_the_api(client: Client, db: None) -> None:
    monitor = make_monitor(tag="svc")
    good = window("Good", timedelta(hours=1), timedelta(hours=2), [monitor])
    bad = window("Bad", timedelta(hours=1), timedelta(hours=2), [monitor])
    # A rule saved before validation existed (rows written by hand or old versions).
    MaintenanceWindow.objects.filter(pk=bad.pk).update(rrule="FREQ=NEVER")
    names = [
        m["name"] for m in get(client, "scheduled-maintenances.json")["scheduled_maintenances"]
    ]
    assert names == [good.title]
    assert Incident.objects.count() == 0
