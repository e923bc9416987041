"""Problem candidates: the pure grouping (by service, else by title; thresholds;
ordering) and the API over real rows (reopened incidents, alerts persisting
after resolution, repeated NoImpact / FalsePositive resolutions), with filters
and hostile parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from incidents.problems import (
    PERSISTENT_ALERT,
    REOPENED,
    REPEATED_NON_IMPACT,
    PersistRow,
    ReopenRow,
    ResolutionRow,
    problem_candidates,
)

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
DB = ("db", "Database")
API = ("api", "API")


def test_grouping_thresholds_and_order() -> None:
    out = problem_candidates(
        [
            ReopenRow("INC-000001", "DB down", (DB,), 2, T0),
            ReopenRow("INC-000002", "DB slow", (DB, API), 1, T0 + H),
            ReopenRow("INC-000003", "Disk  full", (), 1, T0 - H),
            ReopenRow("INC-000004", "disk full", (), 1, T0 - 2 * H),
        ],
        [
            PersistRow(7, "Replica lag", DB, T0 + 2 * H, "INC-000001"),
            PersistRow(8, "Replica lag 2", DB, T0 + 3 * H, "INC-000001"),
            PersistRow(9, "Cron missed", None, T0, None),
        ],
        [
            ResolutionRow("INC-000010", "Flappy", (API,), "NoImpact", T0 + 4 * H),
            ResolutionRow("INC-000011", "Flappy", (API,), "FalsePositive", T0 + 5 * H),
            ResolutionRow("INC-000012", "Once", (DB,), "NoImpact", T0),
        ],
        min_repeats=2,
    )
    summary = [(c.type, c.subject, c.count) for c in out]
    assert summary == [
        (REPEATED_NON_IMPACT, "API", 2),
        (PERSISTENT_ALERT, "Database", 2),
        (REOPENED, "API", 1),
        (REOPENED, "Database", 3),
        (PERSISTENT_ALERT, "Cron missed", 1),
        (REOPENED, "Disk  full", 2),
    ]
    db_reopen = next(c for c in out if c.type == REOPENED and c.service == "db")
    assert db_reopen.incidents == ("INC-000001", "INC-000002")
    assert db_reopen.reason == "3 reopens across 2 incidents"
    assert (db_reopen.first_at, db_reopen.last_at) == (T0, T0 + H)
    persistent = next(c for c in out if c.type == PERSISTENT_ALERT and c.service == "db")
    assert persistent.alerts == (7, 8) and persistent.incidents == ("INC-000001",)
    noisy = out[0]
    assert noisy.reason == "resolved without impact: 1 FalsePositive, 1 NoImpact"
    assert problem_candidates([], [], [], min_repeats=2) == []


def test_higher_repeat_threshold_drops_the_pair() -> None:
    rows = [ResolutionRow(f"INC-{i}", "x", (API,), "NoImpact", T0) for i in range(2)]
    assert problem_candidates([], [], rows, min_repeats=3) == []
    assert len(problem_candidates([], [], rows, min_repeats=2)) == 1


@pytest.mark.django_db
def test_api_over_real_rows(api_client_for, viewer_user, settings) -> None:
    from alerting.correlation_services import process_alerts
    from catalog.tests.factories import external_alert, make_integration, make_service
    from incidents import services

    settings.BEACON_PROBLEM_LOOKBACK_DAYS = 30
    now = timezone.now()
    dbs = make_service("db", name="Database")
    integration = make_integration("g", min_severity="info")
    alert = external_alert(integration, now - 3 * H, service=dbs, title="Replica lag")
    process_alerts([alert.pk], now - 3 * H)
    alert.refresh_from_db()
    incident = alert.incident
    services.resolve(incident, note="fine", classification="NoImpact", now=now - 2 * H)
    services.reopen(incident, reason="again", now=now - H)
    services.resolve(incident, note="fine", classification="NoImpact", now=now - H / 2)
    for i in range(2):
        noisy = services.create_incident(title="Flappy <b>check</b>", body="x", now=now - H)
        services.resolve(
            noisy, note="noise", classification="FalsePositive", now=now - H / 4 * i - H / 8
        )
    old = services.create_incident(title="Flappy <b>check</b>", body="x", now=now - 60 * 24 * H)
    services.resolve(old, note="noise", classification="FalsePositive", now=now - 59 * 24 * H)

    client = api_client_for(viewer_user)
    rows = client.get("/api/v1/problem-candidates").json()
    kinds = sorted((r["type"], r["subject"], r["count"]) for r in rows)
    assert kinds == [
        ("persistent_alert", "Database", 1),
        ("reopened", "Database", 1),
        ("repeated_non_impact", "Flappy <b>check</b>", 2),  # the 60-day-old one is out
    ]
    persistent = next(r for r in rows if r["type"] == "persistent_alert")
    assert persistent["service"] == "db" and persistent["alerts"] == [alert.pk]
    assert persistent["incidents"] == [incident.key]
    only = client.get("/api/v1/problem-candidates", {"type": "reopened"}).json()
    assert [r["type"] for r in only] == ["reopened"]
    assert len(client.get("/api/v1/problem-candidates", {"limit": 1}).json()) == 1
    for params in (
        {"type": "bogus"},
        {"limit": 0},
        {"limit": 501},
        {"limit": "x"},
        {"type": "<script>"},
    ):
        r = client.get("/api/v1/problem-candidates", params)
        assert r.status_code == 400 and set(r.json()) <= {"type", "limit"}, (params, r.content)
    assert api_client_for(None).get("/api/v1/problem-candidates").status_code in (401, 403)
