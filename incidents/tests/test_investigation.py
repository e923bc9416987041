"""The investigation summary as a pure function of facts: every section in
order, "None found." when empty, relative times, escaping of outside text,
bounded lines. No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incidents.investigation import (
    NONE_FOUND,
    AlertFact,
    CheckFact,
    CheckMessage,
    DeploymentFact,
    InvestigationFacts,
    MaintenanceFact,
    PastIncidentFact,
    ServiceFact,
    build_markdown,
    summary_line,
)
from incidents.markdown import render

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
SECTIONS = [
    "#### Affected services",
    "#### Deployments in the two hours before the start",
    "#### First failing check",
    "#### Other active alerts on related services",
    "#### Maintenance overlapping the incident",
    "#### Similar past incidents",
]


def empty() -> InvestigationFacts:
    return InvestigationFacts(
        incident_key="INC-000007", title="t", started_at=T0, generated_at=T0 + MIN
    )


def test_empty_facts_say_none_found_in_every_section() -> None:
    text = build_markdown(empty())
    assert text.startswith("### Investigation of INC-000007\n")
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert text.count(NONE_FOUND) == len(SECTIONS)
    assert "does not guess a cause" in text
    assert summary_line(empty()) == (
        "0 deployments, 0 failing checks, 0 other alerts, 0 maintenance windows, "
        "0 similar incidents"
    )


def full() -> InvestigationFacts:
    return InvestigationFacts(
        incident_key="INC-000007",
        title="Checkout failing",
        started_at=T0,
        generated_at=T0 + 5 * MIN,
        services=[
            ServiceFact("db", "Payments DB", (), True),
            ServiceFact("api", "Payments API", ("cache", "db")),
        ],
        deployments=[
            DeploymentFact("Payments DB", "v2.3.1", "prod", "Success", T0 - 35 * MIN, "Jenkins"),
        ],
        checks=[
            CheckFact(
                "DB port",
                "db-port",
                T0 - 2 * MIN,
                "DOWN",
                T0 - 3 * MIN,
                (
                    CheckMessage(T0 - 2 * MIN, "DOWN", "connection refused"),
                    CheckMessage(T0 - MIN, "DOWN", ""),
                ),
            )
        ],
        alerts=[AlertFact("Replica lag", "Payments DB", "Grafana", "WARNING", T0 - MIN, None)],
        maintenance=[
            MaintenanceFact("Nightly vacuum", T0 - 10 * MIN, T0 + 20 * MIN, True, "all monitors")
        ],
        similar=[
            PastIncidentFact(
                "INC-000003",
                "Checkout failing",
                T0 - timedelta(days=3),
                T0 - timedelta(days=3) + 30 * MIN,
                "Resolved",
                "Rolled back v2.2",
                "same service db; same title",
            )
        ],
    )


def test_full_facts_are_listed_with_relative_times() -> None:
    text = build_markdown(full())
    assert NONE_FOUND not in text
    assert "- Payments DB (`db`) — **primary** (most upstream failing); depends on nothing" in text
    assert "depends on cache, db" in text
    assert (
        "2026-05-04 11:25:00 UTC (35 min before the start): "
        "Payments DB v2.3.1 to prod, Success (Jenkins)" in text
    )
    assert (
        "DB port (`db-port`): DOWN at 2026-05-04 11:58:00 UTC (2 min before the start), "
        "last UP 2026-05-04 11:57:00 UTC" in text
    )
    assert "    - 2026-05-04 11:58:00 UTC DOWN: connection refused" in text
    assert "DOWN: (no message)" in text
    assert (
        "Replica lag — Payments DB, Grafana, WARNING, firing since" in text
        and "in no incident" in text
    )
    assert "Nightly vacuum (recurring)" in text
    assert "INC-000003 Checkout failing (same service db; same title)" in text
    assert "Resolved: Rolled back v2.2" in text
    assert summary_line(full()).startswith("1 deployment, 1 failing check, 1 other alert")
    html = render(text)
    assert html.count("<h4>") == 6 and "<li>" in html and "<strong>primary</strong>" in html


def test_outside_text_is_escaped_and_cut() -> None:
    hostile = "<script>alert(1)</script> **bold** [x](javascript:alert(2)) | #"
    facts = InvestigationFacts(
        incident_key="INC-1",
        title=hostile,
        started_at=T0,
        generated_at=T0,
        deployments=[DeploymentFact(hostile, hostile, "", "Failure", T0 + MIN, "CloudBees")],
        checks=[CheckFact(hostile, "x", T0, "DOWN", None, (CheckMessage(T0, "DOWN", "m" * 500),))],
        similar=[
            PastIncidentFact(
                "INC-2", hostile, T0, None, "", "n\n# not a heading\n" * 50, "same title"
            )
        ],
    )
    text = build_markdown(facts)
    html = render(text)
    assert "<script" not in html and 'href="javascript' not in html and "<strong>bold" not in html
    assert "&lt;script&gt;" in html
    assert "1 min after the start" in text
    assert "m" * 199 + "…" in text and "m" * 201 not in text
    assert "<h1>" not in html and "not classified" in text
    assert all(len(line) < 1500 for line in text.splitlines())
