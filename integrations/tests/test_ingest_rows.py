"""``integrations.rows``: the hot-path INSERT/UPDATE behave like the ORM's
(primary keys set, ``auto_now`` applied, JSON and times adapted, unique
violations raised as Django's ``IntegrityError``)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from alerting.models import Alert
from integrations import rows
from integrations.models import InboundDelivery

from .helpers import T0, make_integration

pytestmark = pytest.mark.django_db


def _alert(integration: object, fingerprint: str) -> Alert:
    return Alert(
        source="alertmanager",
        integration=integration,
        fingerprint=fingerprint,
        title="Ünïcode ✓ <b>",
        status="TRIGGERED",
        triggered_at=T0,
        labels={"k": "v ✓", "nested": '{"a": 1}'},
        raw={"alerts": [{"x": None, "y": [1, 2.5, True]}], "emoji": "🚨"},
    )


def test_insert_sets_keys_and_stores_what_the_orm_reads_back() -> None:
    integration = make_integration()
    alerts = [_alert(integration, f"fp{i}") for i in range(3)]
    rows.insert(alerts)
    assert all(a.pk for a in alerts) and len({a.pk for a in alerts}) == 3
    stored = Alert.objects.get(pk=alerts[1].pk)
    assert stored.fingerprint == "fp1" and stored.title == "Ünïcode ✓ <b>"
    assert stored.raw == {"alerts": [{"x": None, "y": [1, 2.5, True]}], "emoji": "🚨"}
    assert stored.labels["k"] == "v ✓" and stored.triggered_at == T0
    assert stored.updated_at is not None  # auto_now applied
    assert stored.occurrence_count == 1  # model default


def test_insert_raises_integrity_error_on_a_unique_conflict() -> None:
    integration = make_integration()
    rows.insert([InboundDelivery(integration=integration, key="k", received_at=T0)])
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.insert([InboundDelivery(integration=integration, key="k", received_at=T0)])
    assert InboundDelivery.objects.count() == 1


def test_update_writes_only_the_named_fields() -> None:
    integration = make_integration()
    alert = _alert(integration, "fp")
    rows.insert([alert])
    alert.title = "changed"
    alert.raw = {"new": "ü"}
    alert.occurrence_count = 7
    rows.update([alert], ["raw", "occurrence_count"])
    stored = Alert.objects.get(pk=alert.pk)
    assert stored.raw == {"new": "ü"} and stored.occurrence_count == 7
    assert stored.title == "Ünïcode ✓ <b>"  # not named: unchanged
    rows.update([], ["raw"])
    rows.update([alert], [])
