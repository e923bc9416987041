"""Quiet-period close: alerts of sources that never send a resolve close
after their integration's quiet period without a notification."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction

from alerting.models import Alert, AlertEvent
from integrations import services
from integrations.ingest_services import close_quiet_alerts, ingest
from integrations.sources import get
from integrations.tasks import close_quiet_alerts as close_task

from .helpers import T0, am_alert, am_group, make_integration, payload

MIN = timedelta(minutes=1)


def receive(integration: object, body: dict, now: object) -> None:
    result = get(integration.source).parse(body, headers={}, now=now)
    ingest(integration, result, key=f"{result.delivery_id}@{now.isoformat()}", now=now)


@pytest.mark.django_db
def test_splunk_and_datadog_default_to_a_60_minute_quiet_period() -> None:
    for source, minutes in (("splunk", 60), ("datadog", 60), ("grafana", 0), ("jenkins", 0)):
        integration = services.create_integration(
            {"name": f"{source} prod", "source": source}, now=T0
        )
        assert integration.quiet_resolve_minutes == minutes, source
    explicit = services.create_integration(
        {"name": "splunk two", "source": "splunk", "quiet_resolve_minutes": 5}, now=T0
    )
    assert explicit.quiet_resolve_minutes == 5


@pytest.mark.django_db
def test_an_alert_closes_after_the_quiet_period_and_not_before() -> None:
    splunk = make_integration("splunk", quiet_resolve_minutes=60)
    receive(splunk, payload("splunk_alert"), T0)
    alert = Alert.objects.get()
    assert close_quiet_alerts(now=T0 + 59 * MIN) == []
    # A repeat restarts the quiet period.
    body = payload("splunk_alert")
    body["sid"] = "scheduler__admin__search__RMD5_at_1700003600_2"
    receive(splunk, body, T0 + 30 * MIN)
    assert close_quiet_alerts(now=T0 + 61 * MIN) == []
    assert close_quiet_alerts(now=T0 + 91 * MIN) == [alert.pk]
    alert.refresh_from_db()
    assert alert.status == "RESOLVED" and alert.resolved_at == T0 + 91 * MIN
    event = AlertEvent.objects.get(status="RESOLVED")
    assert event.message == "closed after 60 min without a notification"
    assert close_quiet_alerts(now=T0 + 200 * MIN) == []  # closed once


@pytest.mark.django_db
def test_integrations_without_a_quiet_period_keep_their_alerts_open() -> None:
    am = make_integration("alertmanager")
    receive(am, am_group(am_alert("a")), T0)
    assert close_quiet_alerts(now=T0 + timedelta(days=30)) == []
    assert Alert.objects.get().status == "TRIGGERED"


@pytest.mark.django_db
def test_a_notification_after_the_close_fires_the_alert_again() -> None:
    splunk = make_integration("splunk", quiet_resolve_minutes=10)
    receive(splunk, payload("splunk_alert"), T0)
    close_quiet_alerts(now=T0 + 11 * MIN)
    body = payload("splunk_alert")
    body["sid"] = "another-run"
    receive(splunk, body, T0 + 20 * MIN)
    alert = Alert.objects.get()
    assert alert.status == "TRIGGERED" and alert.occurrence_count == 2
    assert list(AlertEvent.objects.order_by("at", "id").values_list("status", flat=True)) == [
        "TRIGGERED",
        "RESOLVED",
        "TRIGGERED",
    ]


@pytest.mark.django_db
def test_each_integration_uses_its_own_period_and_batches_are_bounded() -> None:
    short = make_integration("alertmanager", quiet_resolve_minutes=5)
    long = make_integration("alertmanager", quiet_resolve_minutes=120)
    receive(short, am_group(*[am_alert(f"s{i}") for i in range(5)]), T0)
    receive(long, am_group(am_alert("l")), T0)
    first = close_quiet_alerts(now=T0 + 10 * MIN, batch=3)
    assert len(first) == 3
    assert len(close_quiet_alerts(now=T0 + 10 * MIN, batch=3)) == 2
    assert Alert.objects.get(integration=long).status == "TRIGGERED"


@pytest.mark.django_db
def test_the_beat_task_closes_quiet_alerts() -> None:
    splunk = make_integration("splunk", quiet_resolve_minutes=1)
    receive(splunk, payload("splunk_alert"), T0)  # T0 is long past: already quiet
    assert close_task.delay().get() == 1
    assert Alert.objects.get().status == "RESOLVED"


@pytest.mark.django_db(transaction=True)
def test_an_alert_locked_by_an_ingest_is_skipped_not_waited_for() -> None:
    if connection.vendor == "sqlite":
        # SQLite has no row locks: its writers queue on the database lock,
        # so the question of skipping a locked row does not arise.
        assert Alert.objects.count() == 0
        return
    splunk = make_integration("splunk", quiet_resolve_minutes=1)
    receive(splunk, payload("splunk_alert"), T0)
    alert = Alert.objects.get()
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            Alert.objects.select_for_update().get(pk=alert.pk)
            locked.set()
            release.wait(30)
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(30)
    try:
        assert close_quiet_alerts(now=T0 + 10 * MIN) == []
    finally:
        release.set()
        holder.join()
    assert close_quiet_alerts(now=T0 + 10 * MIN) == [alert.pk]
