"""History and actions of the monitors API: results, daily rollups, check now,
pause and resume, with real rows written through ``record_results``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from monitors.models import CheckResult, DailyRollup, Monitor, MonitorEvent
from monitors.services import record_results
from monitors.tests.factories import make_monitor, result
from monitors.tests.servers import Reply, serve_http

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(api_client_for, admin_user):
    return api_client_for(admin_user)


@pytest.fixture
def viewer(api_client_for, viewer_user):
    return api_client_for(viewer_user)


@pytest.fixture
def operator(api_client_for, operator_user):
    return api_client_for(operator_user)


# --- results --------------------------------------------------------------------------

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def history() -> Monitor:
    monitor = make_monitor(tag="db")
    record_results(
        [result(monitor, T0 + timedelta(minutes=i), "UP" if i % 3 else "DOWN") for i in range(10)],
        now=T0 + timedelta(minutes=10),
    )
    return monitor


def checked(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["checked_at"] for row in response.json()]


def test_results_newest_first_with_default_limit(viewer, history) -> None:
    response = viewer.get("/api/v1/monitors/db/results")

    rows = response.json()
    assert len(rows) == 10
    assert rows[0]["checked_at"] == "2024-05-01T12:09:00Z"
    assert rows[-1]["checked_at"] == "2024-05-01T12:00:00Z"
    assert rows[-1]["status"] == "DOWN"
    assert {"id", "status", "source", "due_at", "latency_ms", "lag_ms", "message"} <= set(rows[0])


def test_results_window_and_limit(viewer, history) -> None:
    times = checked(
        viewer.get(
            "/api/v1/monitors/db/results",
            {"from": "2024-05-01T12:02:00Z", "to": "2024-05-01T14:05:00+02:00", "limit": 2},
        )
    )
    assert times == ["2024-05-01T12:05:00Z", "2024-05-01T12:04:00Z"]


def test_results_naive_time_is_utc_and_unencoded_plus_is_accepted(viewer, history) -> None:
    assert (
        len(checked(viewer.get("/api/v1/monitors/db/results", {"from": "2024-05-01T12:08:00"})))
        == 2
    )
    # "+02:00" sent without URL encoding arrives as " 02:00".
    response = viewer.get("/api/v1/monitors/db/results?to=2024-05-01T14:00:30+02:00")
    assert checked(response) == ["2024-05-01T12:00:00Z"]


def test_results_only_for_that_monitor(viewer, history) -> None:
    other = make_monitor(tag="other")
    record_results([result(other, T0)], now=T0)
    assert len(checked(viewer.get("/api/v1/monitors/other/results"))) == 1


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "2024-13-01T00:00:00Z"}, "from"),
        ({"to": "2024-05-01T25:00:00Z"}, "to"),
        ({"to": "\x00"}, "to"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1e3"}, "limit"),
        ({"from": "2024-05-02T00:00:00Z", "to": "2024-05-01T00:00:00Z"}, "from"),
    ],
)
def test_results_bad_parameters_are_400(viewer, history, params: dict[str, str], name: str) -> None:
    response = viewer.get("/api/v1/monitors/db/results", params)

    assert response.status_code == 400
    assert name in response.json()


# --- daily ----------------------------------------------------------------------------


def test_daily_reads_rollups_with_empty_days(viewer) -> None:
    monitor = make_monitor(tag="db")
    now = timezone.now()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    two_days_ago = today - timedelta(days=2)
    record_results(
        [
            result(monitor, two_days_ago + timedelta(hours=1), "UP", 10.0),
            result(monitor, two_days_ago + timedelta(hours=2), "UP", 30.0),
            result(monitor, two_days_ago + timedelta(hours=3), "DEGRADED", 50.0),
            result(monitor, two_days_ago + timedelta(hours=4), "DOWN", None),
            result(monitor, today, "UP", 20.0),
        ],
        now=now,
    )
    assert DailyRollup.objects.filter(monitor=monitor).count() == 2

    response = viewer.get("/api/v1/monitors/db/daily", {"days": 3})

    assert response.status_code == 200
    days = response.json()
    assert [d["date"] for d in days] == [
        (today - timedelta(days=n)).date().isoformat() for n in (2, 1, 0)
    ]
    old, empty, current = days
    assert old == {
        "date": old["date"],
        "up": 2,
        "degraded": 1,
        "down": 1,
        "total": 4,
        "uptime_percent": 75.0,
        "avg_latency_ms": 30.0,
        "min_latency_ms": 10.0,
        "max_latency_ms": 50.0,
    }
    assert empty["total"] == 0
    assert empty["up"] == empty["down"] == empty["degraded"] == 0
    assert empty["uptime_percent"] is None
    assert empty["avg_latency_ms"] is None
    assert current["total"] == 1
    assert current["uptime_percent"] == 100.0


def test_daily_reads_rollups_not_raw_results(viewer) -> None:
    monitor = make_monitor(tag="db")
    now = timezone.now()
    record_results([result(monitor, now, "UP", 5.0)], now=now)
    CheckResult.objects.all().delete()  # pruned raw rows; rollups are kept

    day = viewer.get("/api/v1/monitors/db/daily", {"days": 1}).json()

    assert len(day) == 1
    assert day[0]["up"] == 1


def test_daily_default_is_90_days(viewer) -> None:
    make_monitor(tag="db")
    assert len(viewer.get("/api/v1/monitors/db/daily").json()) == 90


@pytest.mark.parametrize("days", ["0", "366", "-1", "many", "1.5"])
def test_daily_bad_days_is_400(viewer, days: str) -> None:
    make_monitor(tag="db")

    response = viewer.get("/api/v1/monitors/db/daily", {"days": days})

    assert response.status_code == 400
    assert "days" in response.json()


# --- check now ------------------------------------------------------------------------


def test_check_runs_against_a_real_server_and_records(operator) -> None:
    with serve_http({"/health": Reply(200, "ok")}) as base:
        make_monitor(tag="site", kind="http", config={"url": f"{base}/health"})
        response = operator.post("/api/v1/monitors/site/check")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["result"]["status"] == "UP"
    assert body["result"]["source"] == "manual"
    row = CheckResult.objects.get()
    assert row.id == body["result"]["id"]
    assert Monitor.objects.get(tag="site").state.status == "UP"


def test_check_records_a_failure(operator) -> None:
    with serve_http({"/health": Reply(503, "down")}) as base:
        make_monitor(tag="site", kind="http", config={"url": f"{base}/health"})
        response = operator.post("/api/v1/monitors/site/check/")

    assert response.status_code == 201
    assert response.json()["result"]["status"] == "DOWN"
    assert "503" in response.json()["result"]["message"]


def test_check_with_nothing_to_record_is_200_null(operator) -> None:
    make_monitor(tag="beat", kind="heartbeat", config={})  # just created: nothing overdue

    response = operator.post("/api/v1/monitors/beat/check")

    assert response.status_code == 200
    assert response.json()["result"] is None
    assert response.json()["detail"]
    assert not CheckResult.objects.exists()


def test_check_unknown_monitor_is_404(operator) -> None:
    assert operator.post("/api/v1/monitors/nope/check").status_code == 404


# --- pause / resume -------------------------------------------------------------------


def test_pause_and_resume(admin, admin_user) -> None:
    monitor = make_monitor(tag="db")

    paused = admin.post("/api/v1/monitors/db/pause")

    assert paused.status_code == 200
    assert paused.json()["is_active"] is False
    monitor.refresh_from_db()
    assert monitor.is_active is False
    assert monitor.state.next_check_at is None
    assert MonitorEvent.objects.get(type="paused").actor == admin_user

    resumed = admin.post("/api/v1/monitors/db/resume")

    assert resumed.status_code == 200
    assert resumed.json()["is_active"] is True
    monitor.refresh_from_db()
    assert monitor.is_active is True
    assert monitor.state.next_check_at is not None
    assert MonitorEvent.objects.filter(type="resumed").exists()
