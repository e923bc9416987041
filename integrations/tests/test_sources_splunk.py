"""Splunk webhook alert action parser (``splunk.py``).

Payloads: ``payloads/splunk_*.json``, from Splunk's "Use a webhook alert
action" docs (see payloads/README.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.sources import PayloadError, get
from integrations.sources.splunk import SplunkSource

from .payloads import NOW, load

splunk = get("splunk")


def test_saved_search_alert() -> None:
    result = splunk.parse(load("splunk_alert"), headers={}, now=NOW)
    (alert,) = result.alerts
    assert result.delivery_id == "scheduler__admin__search__RMD5e4ee8e8fd2c1b2d9_at_1700003600_132"
    assert alert.fingerprint == "search:search:admin:Errors in mongod"
    assert alert.title == "Errors in mongod"
    assert alert.status == "firing"
    assert alert.severity == "critical"  # Splunk severity 4 (error)
    assert (alert.service, alert.environment) == ("orders", "production")
    assert alert.started_at == datetime(2023, 11, 14, 23, 13, 20, tzinfo=UTC)
    assert alert.link.startswith("https://splunk.example.com:8000/app/search/@go?sid=")
    assert "count: 8" in alert.description and "sourcetype: mongod" in alert.description
    assert alert.labels["splunk_app"] == "search" and alert.labels["host"] == "db-3"


def test_documented_example_without_a_search_name() -> None:
    alert = splunk.parse(load("splunk_doc_example"), headers={}, now=NOW).alerts[0]
    # The scheduler's _at_<time>_<n> suffix changes every run; the rest does not.
    assert alert.fingerprint == "sid:scheduler_admin_search_W2"
    assert alert.title == "Splunk alert scheduler_admin_search_W2_at_14232356_132"
    assert alert.severity == "warning"  # no severity field in the row
    assert alert.started_at == NOW


def test_every_run_updates_the_same_alert_as_a_new_delivery() -> None:
    first = load("splunk_alert")
    second = load("splunk_alert")
    second["sid"] = "scheduler__admin__search__RMD5e4ee8e8fd2c1b2d9_at_1700003900_133"
    one = splunk.parse(first, headers={}, now=NOW)
    two = splunk.parse(second, headers={}, now=NOW)
    assert one.alerts[0].fingerprint == two.alerts[0].fingerprint
    assert one.delivery_id != two.delivery_id


@pytest.mark.parametrize(
    ("field", "value", "severity"),
    [
        ("severity", "1", "info"),
        ("severity", "3", "warning"),
        ("urgency", "high", "critical"),
        ("urgency", "informational", "info"),
        ("priority", "medium", "warning"),
    ],
)
def test_row_severity_fields(field: str, value: str, severity: str) -> None:
    payload = load("splunk_doc_example")
    payload["result"][field] = value
    assert splunk.parse(payload, headers={}, now=NOW).alerts[0].severity == severity


def test_unicode_html_and_long_names() -> None:
    payload = load("splunk_alert")
    payload["search_name"] = "<b>Erreurs</b> dans « mongod » " + "ü" * 500
    payload["result"]["message"] = "x" * 20000
    alert = splunk.parse(payload, headers={}, now=NOW).alerts[0]
    assert alert.title.startswith("<b>Erreurs</b> dans « mongod » ü")
    assert len(alert.title) == 300
    assert len(alert.description) <= 10000
    assert len(alert.fingerprint) <= 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"result": ["row"]}, "result"),
        ({"sid": None, "search_name": None}, "sid"),
        ({"search_name": {"a": 1}}, "search_name"),
        ({"results_link": 5.5, "owner": ["me"]}, "owner"),
    ],
)
def test_malformed_fields_are_named(change: dict, field: str) -> None:
    payload = load("splunk_alert")
    payload.update(change)
    with pytest.raises(PayloadError) as caught:
        splunk.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field


def test_splunk_never_resolves() -> None:
    assert SplunkSource.sends_resolve is False
