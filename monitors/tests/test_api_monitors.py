"""The monitors API: CRUD through the services, lookup by tag, filters,
ordering, pagination, optional trailing slash, and the OpenAPI schema."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from monitors.models import Monitor, MonitorEvent, MonitorState
from monitors.services import record_results
from monitors.tests.factories import make_monitor, result

pytestmark = pytest.mark.django_db

HTTP_MONITOR: dict[str, Any] = {
    "name": "Website",
    "tag": "website",
    "description": "The public site",
    "kind": "http",
    "config": {"url": "https://example.com/health"},
    "interval_seconds": 60,
    "timeout_seconds": 10,
}


@pytest.fixture
def admin(api_client_for, admin_user):
    return api_client_for(admin_user)


@pytest.fixture
def viewer(api_client_for, viewer_user):
    return api_client_for(viewer_user)


def test_create_goes_through_the_service(admin, admin_user) -> None:
    response = admin.post("/api/v1/monitors", HTTP_MONITOR, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tag"] == "website"
    assert body["config"]["url"] == "https://example.com/health"
    assert body["config"]["method"] == "GET"  # normalised by the kind
    assert body["state"]["status"] is None
    monitor = Monitor.objects.get(tag="website")
    state = MonitorState.objects.get(monitor=monitor)
    assert state.next_check_at is not None  # first check due at once
    event = MonitorEvent.objects.get(monitor=monitor)
    assert event.type == MonitorEvent.Type.CREATED
    assert event.actor == admin_user


def test_retrieve_by_tag_with_state(viewer) -> None:
    monitor = make_monitor(tag="db", name="Database")
    now = timezone.now()
    record_results([result(monitor, now, "DOWN", 12.5, message="refused")], now=now)

    response = viewer.get("/api/v1/monitors/db")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Database"
    state = body["state"]
    assert state["status"] == "DOWN"
    assert state["last_latency_ms"] == 12.5
    assert state["last_message"] == "refused"
    assert state["since"] is not None
    assert state["last_checked_at"] is not None


def test_trailing_slash_is_optional(viewer) -> None:
    make_monitor(tag="db")
    for url in (
        "/api/v1/monitors",
        "/api/v1/monitors/",
        "/api/v1/monitors/db",
        "/api/v1/monitors/db/",
    ):
        assert viewer.get(url).status_code == 200, url


def test_unknown_tag_is_404(viewer) -> None:
    assert viewer.get("/api/v1/monitors/nope").status_code == 404
    assert viewer.get("/api/v1/monitors/nope/results").status_code == 404


def test_patch_updates_through_the_service(admin, admin_user) -> None:
    monitor = make_monitor(tag="db", interval_seconds=60)

    response = admin.patch(
        "/api/v1/monitors/db", {"interval_seconds": 120, "description": "<b>x</b>"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["interval_seconds"] == 120
    monitor.refresh_from_db()
    assert monitor.interval_seconds == 120
    assert monitor.description == "<b>x</b>"
    event = MonitorEvent.objects.filter(monitor=monitor, type="updated").get()
    assert "interval_seconds" in event.message
    assert event.actor == admin_user


def test_patch_can_rename_the_tag(admin) -> None:
    make_monitor(tag="old-tag")

    response = admin.patch("/api/v1/monitors/old-tag", {"tag": "new-tag"}, format="json")

    assert response.status_code == 200, response.json()
    assert list(Monitor.objects.values_list("tag", flat=True)) == ["new-tag"]
    assert admin.get("/api/v1/monitors/new-tag").status_code == 200


def test_put_replaces_the_monitor(admin) -> None:
    make_monitor(tag="db", description="old")
    body = {**HTTP_MONITOR, "tag": "db", "name": "Replaced"}
    del body["description"]

    response = admin.put("/api/v1/monitors/db", body, format="json")

    assert response.status_code == 200, response.json()
    monitor = Monitor.objects.get(tag="db")
    assert monitor.name == "Replaced"
    assert monitor.kind == "http"
    assert monitor.description == ""  # PUT resets what it leaves out


def test_get_body_can_be_put_back(admin) -> None:
    admin.post("/api/v1/monitors", HTTP_MONITOR, format="json")
    body = admin.get("/api/v1/monitors/website").json()
    body["name"] = "Round trip"

    response = admin.put("/api/v1/monitors/website", body, format="json")

    assert response.status_code == 200, response.json()
    assert Monitor.objects.get(tag="website").name == "Round trip"


def test_delete_goes_through_the_service(admin) -> None:
    monitor = make_monitor(tag="db")
    now = timezone.now()
    record_results([result(monitor, now)], now=now)

    response = admin.delete("/api/v1/monitors/db")

    assert response.status_code == 204
    assert not Monitor.objects.exists()
    event = MonitorEvent.objects.get(type="deleted")
    assert event.monitor_tag == "db"
    assert admin.get("/api/v1/monitors/db").status_code == 404


def test_html_is_stored_and_returned_as_text(admin) -> None:
    payload = {
        **HTTP_MONITOR,
        "name": "<script>alert(1)</script>",
        "description": "<img onerror=x>",
    }

    response = admin.post("/api/v1/monitors", payload, format="json")

    assert response.status_code == 201
    assert response.json()["name"] == "<script>alert(1)</script>"
    assert Monitor.objects.get().description == "<img onerror=x>"


@pytest.mark.parametrize(
    "name",
    ["Café ☕ 🚦", "מוניטור ראשי", "‮RTL override", "名前"],
    ids=["emoji", "rtl", "bidi", "cjk"],
)
def test_unicode_names_round_trip(admin, name: str) -> None:
    response = admin.post("/api/v1/monitors", {**HTTP_MONITOR, "name": name}, format="json")

    assert response.status_code == 201, response.json()
    assert Monitor.objects.get().name == name
    assert admin.get("/api/v1/monitors/website").json()["name"] == name


# --- list, filters, ordering ----------------------------------------------------------


@pytest.fixture
def fleet() -> dict[str, Monitor]:
    now = timezone.now()
    up = make_monitor(tag="api-up", name="Alpha API", description="payments backend")
    down = make_monitor(tag="db-down", name="Bravo DB")
    degraded = make_monitor(tag="cdn-slow", name="Charlie CDN", is_public=False)
    pending = make_monitor(tag="new-one", name="Delta", kind="heartbeat", config={})
    paused = make_monitor(tag="paused-one", name="Echo", is_active=False)
    record_results(
        [
            result(up, now, "UP"),
            result(down, now, "DOWN"),
            result(degraded, now, "DEGRADED"),
            result(paused, now, "UP"),
        ],
        now=now,
    )
    return {"up": up, "down": down, "degraded": degraded, "pending": pending, "paused": paused}


def tags(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [item["tag"] for item in response.json()["results"]]


def test_list_is_paginated_with_results(viewer, fleet) -> None:
    response = viewer.get("/api/v1/monitors", {"page_size": 2})

    body = response.json()
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert body["results"][0]["state"]["status"] == "UP"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "UP"}, {"api-up", "paused-one"}),
        ({"status": "DOWN"}, {"db-down"}),
        ({"status": "DEGRADED"}, {"cdn-slow"}),
        ({"status": "PENDING"}, {"new-one"}),
        ({"status": "PAUSED"}, {"paused-one"}),
        ({"kind": "heartbeat"}, {"new-one"}),
        ({"is_active": "false"}, {"paused-one"}),
        ({"is_active": "true", "status": "UP"}, {"api-up"}),
        ({"is_public": "false"}, {"cdn-slow"}),
        ({"q": "PAYMENTS"}, {"api-up"}),
        ({"q": "db-d"}, {"db-down"}),
        ({"q": "charlie"}, {"cdn-slow"}),
    ],
)
def test_list_filters(viewer, fleet, params: dict[str, str], expected: set[str]) -> None:
    assert set(tags(viewer.get("/api/v1/monitors", params))) == expected


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "BROKEN"),
        ("kind", "smtp"),
        ("is_active", "maybe"),
        ("is_public", "yes please"),
        ("ordering", "password"),
        ("q", "nul\x00byte"),
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(
    viewer, fleet, param: str, value: str
) -> None:
    response = viewer.get("/api/v1/monitors", {param: value})

    assert response.status_code == 400
    assert param in response.json()


def test_ordering(viewer, fleet) -> None:
    assert tags(viewer.get("/api/v1/monitors", {"ordering": "-name"})) == [
        "paused-one",
        "new-one",
        "cdn-slow",
        "db-down",
        "api-up",
    ]
    assert tags(viewer.get("/api/v1/monitors", {"ordering": "tag"}))[0] == "api-up"
    by_status = tags(viewer.get("/api/v1/monitors", {"ordering": "status", "is_active": "true"}))
    known = [t for t in by_status if t != "new-one"]  # NULLs sort differently per database
    assert known == ["cdn-slow", "db-down", "api-up"]  # DEGRADED < DOWN < UP
    created = tags(viewer.get("/api/v1/monitors", {"ordering": "-created_at"}))
    assert created[0] == "paused-one"


# --- schema ---------------------------------------------------------------------------


def test_schema_and_docs_are_served(viewer) -> None:
    response = viewer.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/monitors/{tag}/results/" in paths
    params = {p["name"] for p in paths["/api/v1/monitors/{tag}/results/"]["get"]["parameters"]}
    assert {"from", "to", "limit"} <= params
    assert viewer.get("/api/docs/").status_code == 200
