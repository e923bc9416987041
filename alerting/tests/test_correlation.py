"""Correlation as a pure function: same service, one hop, two hops, the
window, the severity threshold, alerts without a service, ties; and the
Markdown of the automatic updates (escaped vendor text). No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerting.correlation import (
    AlertFacts,
    AlertLine,
    Candidate,
    Join,
    Open,
    Store,
    decide,
    opened_body,
    reaches,
    recovered_body,
    severity_of,
    title_key,
)
from catalog.graph import Graph
from incidents.markdown import render

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
WINDOW = 15 * MIN
# web -> api -> db; worker -> db; unrelated: billing.
WEB, API, DB, WORKER, BILLING = 1, 2, 3, 4, 5
GRAPH = Graph.from_edges([(WEB, API), (API, DB), (WORKER, DB)])


def alert(service: int | None = DB, *, at: datetime = T0, severity: str = "CRITICAL", title="x"):
    return AlertFacts(id=1, service_id=service, severity=severity, title=title, at=at)


def incident(pk: int, *services: int, last: datetime | None = T0, started=T0 - 5 * MIN, titles=()):
    return Candidate(
        incident_id=pk,
        service_ids=frozenset(services),
        started_at=started,
        last_correlated_at=last,
        titles=frozenset(title_key(t) for t in titles),
    )


def run(a: AlertFacts, candidates, min_severity: str | None = "warning", **kw):
    return decide(a, candidates, GRAPH, window=WINDOW, min_severity=min_severity, **kw)


def test_same_service_joins() -> None:
    assert run(alert(DB), [incident(7, DB)]) == Join(7)


def test_one_hop_joins_in_both_directions() -> None:
    # api depends on db: an api alert joins a db incident, and a db alert an api incident.
    assert run(alert(API), [incident(7, DB)]) == Join(7)
    assert run(alert(DB), [incident(8, API)]) == Join(8)
    assert run(alert(WORKER), [incident(9, DB)]) == Join(9)


def test_two_hops_do_not_join() -> None:
    # web -> api -> db: web and db are two hops apart; worker and api too (via db).
    assert run(alert(WEB), [incident(7, DB)]) == Open()
    assert run(alert(WORKER), [incident(7, API)]) == Open()


def test_an_incident_grows_hop_by_hop_through_its_services() -> None:
    # Once api joined the db incident, a web alert is one hop from it.
    assert run(alert(WEB), [incident(7, DB, API)]) == Join(7)


def test_unrelated_services_do_not_join() -> None:
    assert run(alert(BILLING), [incident(7, DB, API, WEB)]) == Open()


def test_the_window_counts_from_the_last_correlated_alert() -> None:
    old = incident(7, DB, last=T0 - 20 * MIN, started=T0 - 60 * MIN)
    assert run(alert(DB), [old]) == Open()
    edge = incident(7, DB, last=T0 - WINDOW, started=T0 - 60 * MIN)
    assert run(alert(DB), [edge]) == Join(7)
    beyond = incident(7, DB, last=T0 - WINDOW - timedelta(seconds=1), started=T0 - 60 * MIN)
    assert run(alert(DB), [beyond]) == Open()
    # Long-running incident, but an alert joined 2 minutes ago: still within the window.
    busy = incident(7, DB, last=T0 - 2 * MIN, started=T0 - 300 * MIN)
    assert run(alert(DB), [busy]) == Join(7)


def test_without_correlated_alerts_the_window_counts_from_the_start() -> None:
    assert run(alert(DB), [incident(7, DB, last=None, started=T0 - 10 * MIN)]) == Join(7)
    assert run(alert(DB), [incident(7, DB, last=None, started=T0 - 16 * MIN)]) == Open()


def test_an_alert_processed_late_still_joins_a_later_correlation() -> None:
    late = alert(DB, at=T0 - 3 * MIN)
    assert run(late, [incident(7, DB, last=T0 + 5 * MIN)]) == Join(7)


def test_below_the_threshold_the_alert_is_stored_but_may_still_join() -> None:
    info = alert(DB, severity="INFO")
    assert run(info, [], min_severity="warning") == Store("severity INFO is below warning")
    assert run(info, [incident(7, DB)], min_severity="critical") == Join(7)
    assert run(alert(DB, severity="WARNING"), [], min_severity="critical") == Store(
        "severity WARNING is below critical"
    )
    assert run(alert(DB, severity="WARNING"), [], min_severity="warning") == Open()
    assert run(info, [], min_severity="info") == Open()
    assert run(info, [], min_severity=None) == Open()


def test_a_rule_that_opens_no_incident_stores_but_joins() -> None:
    assert isinstance(run(alert(DB), [], may_open=False), Store)
    assert run(alert(DB), [incident(7, API)], may_open=False) == Join(7)


def test_ties_pick_the_most_recent_then_the_own_service_then_the_oldest() -> None:
    a, b = incident(7, DB, last=T0 - 5 * MIN), incident(8, API, last=T0 - 1 * MIN)
    assert run(alert(DB), [a, b]) == Join(8)  # most recently correlated wins
    assert run(alert(DB), [b, a]) == Join(8)  # whatever the order
    same, near = incident(9, API, last=T0), incident(3, DB, last=T0)
    assert run(alert(DB), [same, near]) == Join(3)  # own service over a neighbour's
    assert run(alert(DB), [near, same]) == Join(3)
    twin1, twin2 = incident(12, DB, last=T0), incident(11, DB, last=T0)
    assert run(alert(DB), [twin1, twin2]) == Join(11)  # then the oldest incident
    assert run(alert(DB), [twin2, twin1]) == Join(11)


def test_alerts_without_a_service_join_by_title() -> None:
    c = incident(7, DB, titles=["Disk  full on host-1"])
    assert run(alert(None, title="disk full on HOST-1"), [c]) == Join(7)
    assert run(alert(None, title="Disk full on host-2"), [c]) == Open()
    assert run(alert(None, title=""), [incident(8, titles=[""])]) == Open()
    far = incident(9, last=T0 - 30 * MIN, titles=["Disk full on host-1"])
    assert run(alert(None, title="Disk full on host-1"), [far]) == Open()


def test_severity_threshold_helper() -> None:
    assert reaches("CRITICAL", "critical") and reaches("CRITICAL", "info")
    assert not reaches("INFO", "warning") and reaches("WARNING", "WARNING")
    assert reaches("", "info") and not reaches("", "warning")
    assert reaches("bogus", None)
    assert severity_of({"WARNING": 2, "INFO": 1}) == "WARNING"
    assert severity_of({}) == "CRITICAL"


HOSTILE = "db | down <script>alert(1)</script> **x** [y](javascript:alert(2)) `z` ünï 🚨"


def test_opened_body_escapes_vendor_text_into_a_table() -> None:
    body = opened_body(
        AlertLine(
            title=HOSTILE,
            service="pay|ments",
            source="Grafana",
            severity="CRITICAL",
            started_at=T0,
            link="javascript:alert(3)",
        ),
        description="line one\n\n# heading <img src=x onerror=alert(4)>",
    )
    assert body.startswith("Alert triggered\n\n| Setting ")
    assert "| **Service**  " in body and "pay\\|ments" in body
    assert "javascript:alert(3)" not in body  # only http(s) links are listed
    html = render(body)
    assert "<table>" in html and "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text
    assert "**x**" in html and "<h1>" not in html  # '**' and '#' are literal
    assert 'href="javascript' not in html
    assert "ünï 🚨" in html
    for line in body.splitlines()[2:8]:
        assert line.count("|") - line.count("\\|") == 3  # two cells each, pipes escaped


def test_recovered_body_lists_every_alert_with_its_duration() -> None:
    lines = [
        AlertLine("DB down", "Database", "Grafana", "CRITICAL", T0, T0 + 12 * MIN),
        AlertLine(HOSTILE, "", "Datadog", "", T0 + 2 * MIN, None),
    ]
    body = recovered_body(lines, T0 + 30 * MIN, T0)
    assert body.startswith("All alerts have recovered, Total duration: 30 minutes\n\n")
    assert "#### Recovered alerts" in body
    assert "| DB down " in body and "| 12 min   |" in body
    assert "| 28 min   |" in body  # still open at 'now': counted up to now
    html = render(body)
    assert html.count("<tr>") == 3 and "<script" not in html


def test_recovered_body_is_bounded() -> None:
    lines = [AlertLine(f"a{i}", "s", "Generic", "INFO", T0, T0) for i in range(60)]
    body = recovered_body(lines, T0, T0)
    assert "…and 10 more." in body
    assert body.count("\n| a") == 50
