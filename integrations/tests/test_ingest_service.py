"""``ingest_services.ingest``: delivery, dedup, occurrences, events, service
matching, deployments, replays, all in one transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerting.models import Alert, AlertEvent, AlertOccurrence
from catalog.models import Service, ServiceAlias
from integrations.dedup import delivery_key
from integrations.ingest_services import IngestOutcome, ingest, service_ids
from integrations.models import Deployment, InboundDelivery, Integration
from integrations.sources import get

from .helpers import T0, am_alert, am_group, make_integration, payload

pytestmark = pytest.mark.django_db


def run(
    integration: Integration, body: dict[str, Any], now: Any = T0, source: str | None = None
) -> IngestOutcome:
    result = get(source or integration.source).parse(body, headers={}, now=now)
    return ingest(integration, result, key=delivery_key(result.delivery_id, now, 60), now=now)


def test_a_group_stores_one_alert_per_fingerprint_with_its_fields() -> None:
    Service.objects.create(name="Checkout", slug="checkout")
    integration = make_integration()
    body = am_group(am_alert("aa1"), am_alert("bb2", severity="warning"), am_alert("cc3"))
    outcome = run(integration, body)
    assert not outcome.replay and len(outcome.alert_ids) == 3
    assert sorted(outcome.changed_ids) == sorted(outcome.alert_ids)
    alert = Alert.objects.get(integration=integration, fingerprint="bb2")
    assert alert.source == "alertmanager"
    assert alert.status == "TRIGGERED" and alert.severity == "WARNING"
    assert alert.title == "HighLatency on checkout"
    assert alert.service.slug == "checkout" and alert.service_name == "checkout"
    assert alert.environment == "production"
    assert alert.labels["instance"] == "checkout-bb2:9100"
    assert alert.raw["fingerprint"] == "bb2"
    assert alert.link.startswith("http://prometheus.example:9090/")
    assert alert.triggered_at == T0 - timedelta(minutes=2)  # the vendor's startsAt
    assert alert.last_seen_at == T0 and alert.occurrence_count == 1
    delivery = InboundDelivery.objects.get()
    assert delivery.alert_count == 3 and not delivery.is_test
    assert AlertOccurrence.objects.filter(delivery=delivery).count() == 3
    assert AlertEvent.objects.filter(status="TRIGGERED", rule=None).count() == 3
    integration.refresh_from_db()
    assert integration.last_received_at == T0


def test_the_same_delivery_twice_is_a_replay_that_changes_nothing() -> None:
    integration = make_integration()
    body = am_group(am_alert("aa1"))
    first = run(integration, body)
    again = run(integration, body, now=T0 + timedelta(seconds=20))
    assert again.replay and again.alert_ids == first.alert_ids and not again.changed_ids
    alert = Alert.objects.get()
    assert alert.occurrence_count == 1 and alert.last_seen_at == T0
    assert InboundDelivery.objects.count() == 1
    assert AlertOccurrence.objects.count() == 1
    assert AlertEvent.objects.count() == 1


def test_an_identical_body_after_the_window_is_a_repeat_not_a_replay() -> None:
    # Alertmanager re-sends an unchanged group on repeat_interval: still firing.
    integration = make_integration()
    body = am_group(am_alert("aa1"))
    run(integration, body)
    later = T0 + timedelta(hours=4)
    outcome = run(integration, body, now=later)
    assert not outcome.replay and outcome.changed_ids == []
    alert = Alert.objects.get()
    assert alert.occurrence_count == 2 and alert.last_seen_at == later
    assert alert.triggered_at == T0 - timedelta(minutes=2)
    assert AlertEvent.objects.count() == 1  # a repeat is not a transition
    assert AlertOccurrence.objects.count() == 2


def test_resolve_then_refire_then_duplicate_resolve() -> None:
    integration = make_integration()
    run(integration, am_group(am_alert("aa1")))
    alert = Alert.objects.get()
    alert.acknowledged_at = T0
    alert.save()
    resolved_body = am_group(am_alert("aa1", "resolved", ends_at="2025-03-01T12:04:00Z"))
    out = run(integration, resolved_body, now=T0 + timedelta(minutes=5))
    alert.refresh_from_db()
    assert out.changed_ids == [alert.pk]
    assert alert.status == "RESOLVED"
    assert alert.resolved_at == T0 + timedelta(minutes=4)
    assert AlertEvent.objects.filter(status="RESOLVED").count() == 1

    # The same resolve again (a new delivery): kept as an occurrence, no event.
    out = run(integration, resolved_body, now=T0 + timedelta(minutes=7))
    assert out.changed_ids == [] and not out.replay
    assert AlertEvent.objects.filter(status="RESOLVED").count() == 1

    refire = am_group(am_alert("aa1", starts_at="2025-03-01T12:10:00Z"))
    out = run(integration, refire, now=T0 + timedelta(minutes=11))
    alert.refresh_from_db()
    assert out.changed_ids == [alert.pk]
    assert alert.status == "TRIGGERED" and alert.resolved_at is None
    assert alert.triggered_at == T0 + timedelta(minutes=10)
    assert alert.occurrence_count == 2
    assert alert.acknowledged_at is None  # a new episode needs a new acknowledgement
    assert list(
        AlertEvent.objects.filter(alert=alert).order_by("at", "id").values_list("status", flat=True)
    ) == ["TRIGGERED", "RESOLVED", "TRIGGERED"]
    assert AlertOccurrence.objects.filter(alert=alert).count() == 4


def test_an_unknown_fingerprint_resolved_is_stored_resolved_and_not_processed() -> None:
    integration = make_integration()
    out = run(integration, am_group(am_alert("zz9", "resolved", ends_at="2025-03-01T11:59:00Z")))
    alert = Alert.objects.get()
    assert alert.status == "RESOLVED" and alert.incident is None
    assert alert.resolved_at == T0 - timedelta(minutes=1)
    assert out.changed_ids == [] and out.alert_ids == [alert.pk]
    event = AlertEvent.objects.get()
    assert event.status == "RESOLVED" and event.message == "resolved when first seen"


def test_fingerprints_are_per_integration() -> None:
    one, two = make_integration(), make_integration()
    run(one, am_group(am_alert("aa1")))
    run(two, am_group(am_alert("aa1")))
    assert Alert.objects.filter(fingerprint="aa1").count() == 2
    assert InboundDelivery.objects.count() == 2  # same body, different integrations


def test_services_match_by_slug_name_or_alias_case_insensitively() -> None:
    pay = Service.objects.create(name="Payment Gateway", slug="payments")
    search = Service.objects.create(name="Search", slug="search-api")
    ServiceAlias.objects.create(service=search, alias="elastic")
    found = service_ids(["PAYMENTS", "payment gateway", "Elastic", " search-api ", "nope", ""])
    assert found == {
        "payments": pay.pk,
        "payment gateway": pay.pk,
        "elastic": search.pk,
        "search-api": search.pk,
    }
    integration = make_integration()
    run(integration, am_group(am_alert("a", service="Payment Gateway"), am_alert("b", service="x")))
    assert Alert.objects.get(fingerprint="a").service == pay
    unmatched = Alert.objects.get(fingerprint="b")
    assert unmatched.service is None and unmatched.service_name == "x"


def test_a_slug_beats_another_services_alias() -> None:
    api = Service.objects.create(name="API", slug="api")
    other = Service.objects.create(name="Gateway", slug="gateway")
    ServiceAlias.objects.create(service=other, alias="api")
    assert service_ids(["api"]) == {"api": api.pk}


def test_queries_per_delivery_do_not_grow_with_the_alerts() -> None:
    for i in range(5):
        Service.objects.create(name=f"S{i}", slug=f"s{i}")
    integration = make_integration()

    def queries(n: int, offset: int) -> int:
        alerts = [am_alert(f"fp{offset + i}", service=f"s{i % 5}") for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            run(integration, am_group(*alerts), now=T0 + timedelta(minutes=offset))
        return len(ctx.captured_queries)

    # New alerts: bulk inserts (SQLite splits one at 999 parameters), so the
    # count is the same for 2 and 50 alerts give or take a batch.
    assert queries(50, 1000) - queries(2, 0) <= 3
    # Repeats of existing alerts: one locked read, one bulk update.
    repeat = [am_alert(f"fp{1000 + i}", service=f"s{i % 5}") for i in range(50)]
    with CaptureQueriesContext(connection) as ctx:
        run(integration, am_group(*repeat), now=T0 + timedelta(hours=5))
    assert len(ctx.captured_queries) <= 12


def test_a_test_notification_is_recorded_and_stores_no_alert() -> None:
    integration = make_integration("grafana")
    out = run(integration, payload("grafana_test"))
    assert out.is_test and not out.alert_ids
    assert InboundDelivery.objects.get().is_test
    assert not Alert.objects.exists()


def test_jenkins_started_then_completed_is_one_deployment() -> None:
    Service.objects.create(name="Checkout", slug="deploy-checkout")
    integration = make_integration("jenkins")
    started = run(integration, payload("jenkins_started"))
    row = Deployment.objects.get()
    assert row.result == "running" and row.started_at is not None and row.finished_at is None
    assert started.deployment_ids == [row.pk]
    run(integration, payload("jenkins_failed"), now=T0 + timedelta(minutes=2))
    row.refresh_from_db()
    assert Deployment.objects.count() == 1
    assert row.result == "failure" and row.finished_at is not None
    assert row.version == "1.4.2" and row.environment == "production"
    assert row.service.slug == "deploy-checkout"
    assert row.received_at == T0 + timedelta(minutes=2)
    # The integration does not open alerts on failed deployments by default.
    assert not Alert.objects.exists()


def test_a_failed_deployment_opens_an_alert_that_a_good_one_resolves() -> None:
    integration = make_integration("jenkins", failed_deployment_opens_alert=True)
    out = run(integration, payload("jenkins_failed"))
    alert = Alert.objects.get()
    assert out.changed_ids == [alert.pk]
    assert alert.status == "TRIGGERED" and alert.source == "jenkins"
    assert "failed" in alert.title
    good = payload("jenkins_failed")
    good["build"].update(number=43, status="SUCCESS", full_url="https://ci.example.com/b/43/")
    run(integration, good, now=T0 + timedelta(minutes=30))
    alert.refresh_from_db()
    assert alert.status == "RESOLVED"
    assert Deployment.objects.count() == 2


def test_a_good_deployment_alone_opens_nothing() -> None:
    integration = make_integration("jenkins", failed_deployment_opens_alert=True)
    good = payload("jenkins_failed")
    good["build"]["status"] = "SUCCESS"
    run(integration, good)
    assert not Alert.objects.exists()
    assert Deployment.objects.get().result == "success"


def test_hostile_text_is_bounded_and_kept_verbatim() -> None:
    integration = make_integration()
    title = "<script>alert('x')</script> " + "é" * 5000 + " 🚨"
    run(integration, am_group(am_alert("h1", summary=title)))
    alert = Alert.objects.get()
    assert len(alert.title) == 300 and alert.title.startswith("<script>alert('x')</script>")
    assert alert.title.endswith("…")


def test_status_changes_are_queued_after_commit(django_capture_on_commit_callbacks: Any) -> None:
    integration = make_integration()

    def ours(callbacks: list[Any]) -> list[Any]:
        return [cb for cb in callbacks if cb.__qualname__.startswith("queue_processing")]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run(integration, am_group(am_alert("a"), am_alert("b")))
    assert len(ours(callbacks)) == 1  # one task per delivery, not per alert
    # The task ran (eagerly, after commit) and correlation put both alerts,
    # same service, in one incident.
    incidents = set(Alert.objects.values_list("incident", flat=True))
    assert len(incidents) == 1 and None not in incidents
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run(integration, am_group(am_alert("a"), am_alert("b")), now=T0 + timedelta(hours=1))
    assert ours(callbacks) == []  # repeats move no status: nothing to correlate
