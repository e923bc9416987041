"""Generic normalised alerts (``generic.py``): Port's alert blueprint plus
service and environment.

Payloads: ``payloads/generic_*.json`` (see payloads/README.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.sources import PayloadError, get

from .payloads import NOW, load

generic = get("generic")


def test_single_alert() -> None:
    (alert,) = generic.parse(load("generic_single"), headers={}, now=NOW).alerts
    assert alert.source == "generic"
    assert alert.fingerprint == "disk-db-1"
    assert (alert.title, alert.status, alert.severity) == (
        "Disk almost full on db-1",
        "firing",
        "warning",
    )
    assert (alert.service, alert.environment) == ("billing", "production")
    assert alert.started_at == datetime(2025, 5, 1, 10, tzinfo=UTC)
    assert alert.link == "https://grafana.example.com/d/disk"
    assert alert.labels == {"host": "db-1", "mount": "/var/lib/postgresql", "source": "cron-check"}
    assert alert.raw["rawPayload"] == {"used_percent": 92, "mount": "/var/lib/postgresql"}


def test_batch_with_epoch_and_offset_times() -> None:
    first, second = generic.parse(load("generic_batch"), headers={}, now=NOW).alerts
    assert first.started_at == datetime(2025, 5, 1, 10, tzinfo=UTC)
    assert (second.status, second.severity) == ("resolved", "info")  # "low"
    assert second.started_at == datetime(2025, 5, 1, 7, 0, 0, 500000, tzinfo=UTC)
    assert second.ended_at == datetime(2025, 5, 1, 7, 30, tzinfo=UTC)


def test_bare_list_body() -> None:
    items = load("generic_batch")["alerts"]
    alerts = generic.parse(items, headers={}, now=NOW).alerts
    assert [a.fingerprint for a in alerts] == ["backlog-orders", "backlog-emails"]


def test_duplicates_in_a_batch_keep_the_last() -> None:
    items = load("generic_batch")["alerts"]
    items.append(dict(items[0], status="resolved"))
    alerts = generic.parse(items, headers={}, now=NOW).alerts
    assert [(a.fingerprint, a.status) for a in alerts] == [
        ("backlog-orders", "resolved"),
        ("backlog-emails", "resolved"),
    ]


def test_resolved_without_end_ends_now() -> None:
    payload = load("generic_single")
    payload["status"] = "closed"
    assert generic.parse(payload, headers={}, now=NOW).alerts[0].ended_at == NOW


def test_html_unicode_and_huge_values_are_kept_as_text_and_bounded() -> None:
    payload = load("generic_single")
    payload["title"] = "<script>alert('pwn')</script> 磁盘 " + "x" * 1000
    payload["description"] = "d" * 50_000
    payload["externalId"] = "id-" + "€" * 400
    alert = generic.parse(payload, headers={}, now=NOW).alerts[0]
    assert alert.title.startswith("<script>alert('pwn')</script> 磁盘 x")
    assert len(alert.title) == 300 and len(alert.description) == 10_000
    assert alert.fingerprint.startswith("sha256:")


@pytest.mark.parametrize(
    "field", ["title", "severity", "status", "source", "externalId", "startedAt"]
)
def test_required_fields(field: str) -> None:
    payload = load("generic_single")
    del payload[field]
    with pytest.raises(PayloadError) as caught:
        generic.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field
    assert str(caught.value) == f"{field} is required"


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("severity", "apocalyptic", "severity"),
        ("status", "snoozed", "status"),
        ("startedAt", "now-ish", "startedAt"),
        ("startedAt", True, "startedAt"),
        ("endedAt", ["2025"], "endedAt"),
        ("rawPayload", "raw", "rawPayload"),
        ("labels", ["a"], "labels"),
        ("title", {"text": "x"}, "title"),
        ("service", 12.5, None),
    ],
)
def test_bad_values_are_named(key: str, value: object, field: str | None) -> None:
    payload = load("generic_single")
    payload[key] = value
    if field is None:  # numbers are accepted where text is expected
        assert generic.parse(payload, headers={}, now=NOW).alerts[0].service == "12.5"
        return
    with pytest.raises(PayloadError) as caught:
        generic.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field


def test_errors_in_a_batch_name_the_item() -> None:
    payload = load("generic_batch")
    payload["alerts"][1]["severity"] = "nope"
    with pytest.raises(PayloadError) as caught:
        generic.parse(payload, headers={}, now=NOW)
    assert caught.value.field == "alerts[1].severity"
    items = payload["alerts"]
    with pytest.raises(PayloadError) as caught:
        generic.parse(items, headers={}, now=NOW)
    assert caught.value.field == "[1].severity"


@pytest.mark.parametrize(
    ("payload", "field"),
    [([], "body"), ({"alerts": []}, "alerts"), ({"alerts": "x"}, "alerts"), ([1], "[0]")],
)
def test_empty_or_wrong_batches(payload: object, field: str) -> None:
    with pytest.raises(PayloadError) as caught:
        generic.parse(payload, headers={}, now=NOW)
    assert caught.value.field == field
