"""alerting.rule_services: validation and normalisation of rule input."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerting import rule_services
from alerting.models import AlertRule
from monitors.tests.factories import make_monitor

pytestmark = pytest.mark.django_db


def _data(**changes):
    return {
        "monitors": [make_monitor(name="API")],
        "kind": "STATUS",
        "value": "DOWN",
        "failure_threshold": 3,
        "success_threshold": 2,
        "severity": "CRITICAL",
        "create_incident": True,
        "is_active": True,
        "description": "",
        **changes,
    }


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("STATUS", "DOWN", "DOWN"),
        ("STATUS", "DEGRADED", "DEGRADED"),
        ("LATENCY", "1000.0", "1000"),
        ("LATENCY", " 250.50 ", "250.5"),
        ("LATENCY", 1e3, "1000"),
        ("UPTIME", "99.90", "99.9"),
        ("UPTIME", "100", "100"),
        ("UPTIME", "0", "0"),
    ],
)
def test_value_normalised(kind: str, value: object, stored: str) -> None:
    rule = rule_services.create_rule(_data(kind=kind, value=value), now=timezone.now())
    assert rule.value == stored


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("STATUS", "UP"),
        ("STATUS", "down"),
        ("STATUS", ""),
        ("LATENCY", "0.0001"),
        ("LATENCY", "3600001"),
        ("LATENCY", True),
        ("LATENCY", "0"),
        ("LATENCY", "-5"),
        ("LATENCY", "fast"),
        ("LATENCY", "NaN"),
        ("UPTIME", "100.1"),
        ("UPTIME", "-1"),
        ("UPTIME", "Infinity"),
    ],
)
def test_invalid_values(kind: str, value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        rule_services.create_rule(_data(kind=kind, value=value), now=timezone.now())
    assert "value" in exc.value.message_dict
    assert not AlertRule.objects.exists()


def test_all_errors_at_once() -> None:
    with pytest.raises(ValidationError) as exc:
        rule_services.create_rule(
            _data(
                monitors=[], kind="NOPE", failure_threshold=0, success_threshold="x", severity="LOW"
            ),
            now=timezone.now(),
        )
    assert set(exc.value.message_dict) == {
        "monitors",
        "kind",
        "failure_threshold",
        "success_threshold",
        "severity",
    }


def test_update_is_partial_and_delete() -> None:
    rule = rule_services.create_rule(_data(), now=timezone.now())
    other = make_monitor(name="Other")
    rule = rule_services.update_rule(
        rule, {"kind": "LATENCY", "value": "800.00", "monitors": [other]}, now=timezone.now()
    )
    rule.refresh_from_db()
    assert (rule.kind, rule.value, rule.failure_threshold) == ("LATENCY", "800", 3)
    assert list(rule.monitors.all()) == [other]
    with pytest.raises(ValidationError):
        rule_services.update_rule(rule, {"value": "abc"}, now=timezone.now())
    rule.refresh_from_db()
    assert rule.value == "800"
    rule_services.delete_rule(rule, now=timezone.now())
    assert not AlertRule.objects.exists()
