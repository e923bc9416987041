"""Dynatrace problem notification parser (``dynatrace.py``).

Payloads: ``payloads/dynatrace_*.json``, from Dynatrace's webhook integration
docs (the example payload is also the test notification) and the template in
docs/integrations.md (see payloads/README.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.sources import PayloadError, get
from integrations.sources.dynatrace import html_text

from .payloads import NOW, load

dt = get("dynatrace")


def test_test_notification_is_acknowledged() -> None:
    result = dt.parse(load("dynatrace_test"), headers={}, now=NOW)
    assert result.is_test and result.alerts == []


def test_open_problem() -> None:
    (alert,) = dt.parse(load("dynatrace_open"), headers={}, now=NOW).alerts
    assert alert.fingerprint == "-5827441012638462093_1700000000000V2"
    assert alert.status == "firing"
    assert alert.severity == "warning"  # PERFORMANCE
    assert alert.title == "Response time degradation"
    assert alert.description.startswith("Response time degradation\nThe current response time")
    # The service tag (after its [Kubernetes] context) wins over the entity name.
    assert (alert.service, alert.environment) == ("checkout", "production")
    assert alert.started_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert alert.ended_at is None  # endTime -1: still open
    assert alert.link.startswith("https://abc12345.live.dynatrace.com/#problems/")
    assert alert.labels["impacted_entities"] == "checkout-service, ip-10-0-1-23"
    assert alert.labels["problem_id"] == "P-2311042"
    assert alert.labels["team"] == "shop"


def test_resolved_problem_closes_it() -> None:
    opened = dt.parse(load("dynatrace_open"), headers={}, now=NOW).alerts[0]
    (alert,) = dt.parse(load("dynatrace_resolved"), headers={}, now=NOW).alerts
    assert alert.fingerprint == opened.fingerprint
    assert alert.status == "resolved"
    assert alert.ended_at == datetime(2023, 11, 14, 22, 43, 20, tzinfo=UTC)
    # Documented default payload key with a space.
    assert alert.link.startswith("https://abc12345.live.dynatrace.com/")
    # No service tag: the SERVICE entity names the service.
    assert alert.service == "checkout-service"


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("AVAILABILITY", "critical"),
        ("ERROR", "critical"),
        ("RESOURCE_CONTENTION", "warning"),
        ("CUSTOM_ALERT", "warning"),
        ("MONITORING_UNAVAILABLE", "warning"),
        ("INFO", "info"),
        ("{ProblemSeverity}", "warning"),
    ],
)
def test_severity_mapping(severity: str, expected: str) -> None:
    payload = load("dynatrace_open")
    payload["ProblemSeverity"] = severity
    payload["ProblemDetailsJSON"].pop("severityLevel")
    assert dt.parse(payload, headers={}, now=NOW).alerts[0].severity == expected


def test_merged_problem_is_resolved() -> None:
    payload = load("dynatrace_open")
    payload["State"] = "MERGED"
    assert dt.parse(payload, headers={}, now=NOW).alerts[0].status == "resolved"


def test_html_details_become_text_and_scripts_vanish() -> None:
    payload = load("dynatrace_open")
    del payload["ProblemDetailsText"]
    alert = dt.parse(payload, headers={}, now=NOW).alerts[0]
    assert alert.description == (
        "Response time degradation\n"
        "The current response time (2,3 s) exceeds the auto-detected baseline (450 ms) by 411 %"
    )
    assert "alert(1)" not in alert.description
    assert html_text("<p>a &amp; b</p><br>c") == "a & b\nc"


def test_minimal_payload_and_quoted_entities_placeholder() -> None:
    payload = {"PID": "42", "State": "OPEN", "ImpactedEntities": "{ImpactedEntities}"}
    alert = dt.parse(payload, headers={}, now=NOW).alerts[0]
    assert (alert.title, alert.severity, alert.service) == ("Dynatrace problem 42", "warning", "")


def test_unicode_and_long_titles() -> None:
    payload = load("dynatrace_open")
    payload["ProblemTitle"] = "Dégradation du temps de réponse — « checkout » " + "ß" * 400
    alert = dt.parse(payload, headers={}, now=NOW).alerts[0]
    assert alert.title.startswith("Dégradation du temps de réponse — « checkout » ß")
    assert len(alert.title) == 300


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"PID": None, "ProblemID": None}, "PID"),
        ({"State": "SNOOZED"}, "State"),
        ({"State": None}, "State"),
        ({"ImpactedEntities": {"type": "HOST"}}, "ImpactedEntities"),
        ({"ImpactedEntities": [["HOST"]]}, "ImpactedEntities[0]"),
        ({"ProblemDetailsJSON": "details"}, "ProblemDetailsJSON"),
        ({"Tags": 7}, "Tags"),
    ],
)
def test_malformed_fields_are_named(change: dict, field: str) -> None:
    payload = load("dynatrace_open")
    for key, value in change.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    with pytest.raises(PayloadError) as caught:
        dt.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field
