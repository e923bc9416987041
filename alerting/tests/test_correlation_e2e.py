"""End to end with two real Celery workers and a real beat: alerts an
integration stored without a correlation message (a lost queue message) are
picked up by the correlation tick (an INFO alert below the threshold is
not: nothing expects it in an incident), folded into one incident per unrelated
group of services, joined by a monitor-rule alert of a real HTTP check on a
service of that group, and investigated by a worker (status idle -> done,
the first failing check with its message in the summary)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerting.models import Alert, AlertRule
from catalog.tests.factories import chain, external_alert, make_integration, make_service
from incidents.models import Incident
from monitors.tests.factories import make_monitor
from monitors.tests.servers import Reply, serve_http
from monitors.tests.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_storm_folds_into_one_incident_per_group_and_is_investigated(
    start_celery, celery_env
) -> None:
    now = timezone.now()
    web, api, dbs = chain("web", "api", "db")
    billing = make_service("billing")
    ledger = make_service("ledger", depends_on=("billing",))
    integration = make_integration("grafana", source="grafana", min_severity="warning")
    earlier = now - timedelta(minutes=2)
    group_one = [
        external_alert(integration, earlier, service=dbs, title="DB down"),
        external_alert(integration, earlier, service=api, title="API 5xx"),
        external_alert(integration, earlier, service=api, title="API latency"),
        external_alert(integration, earlier, service=web, title="Web errors"),
    ]
    group_two = [
        external_alert(integration, earlier, service=billing, title="Billing down"),
        external_alert(integration, earlier, service=ledger, title="Ledger lag"),
    ]
    quiet = external_alert(integration, earlier, service=billing, severity="INFO", title="info")

    with serve_http({"/health": Reply(503, "upstream unavailable")}) as base:
        monitor = make_monitor(
            "http",
            {"url": f"{base}/health"},
            name="API health",
            tag="api-health",
            service=api,
            interval_seconds=10,
            timeout_seconds=5,
            now=now,
        )
        rule = AlertRule.objects.create(kind="STATUS", value="DOWN", failure_threshold=1)
        rule.monitors.add(monitor)
        env = {
            **celery_env,
            "BEACON_CORRELATION_TICK_SECONDS": "1",
            "BEACON_CORRELATION_RETRY_SECONDS": "5",
            "BEACON_INVESTIGATION_DEBOUNCE_SECONDS": "0",
        }
        procs = [
            start_celery("worker", env=env),
            start_celery("worker", env=env),
            start_celery("beat", env=env),
        ]
        ids = [a.pk for a in [*group_one, *group_two]]
        wait_for(
            lambda: (
                not Alert.objects.filter(pk__in=ids, incident__isnull=True).exists()
                and Alert.objects.filter(rule=rule, status="TRIGGERED").exists()
            ),
            procs,
            timeout=90,
        )
        first = {a.incident_id for a in Alert.objects.filter(pk__in=[a.pk for a in group_one])}
        second = {a.incident_id for a in Alert.objects.filter(pk__in=[a.pk for a in group_two])}
        assert len(first) == 1 and len(second) == 1 and first != second
        assert Alert.objects.get(rule=rule).incident_id in first
        assert Incident.objects.count() == 2
        # Below the threshold and never handed over: the tick does not pick it up.
        assert Alert.objects.get(pk=quiet.pk).incident_id is None

        incident = Incident.objects.get(pk=first.pop())
        assert incident.primary_service == dbs
        assert set(incident.services.values_list("slug", flat=True)) == {"web", "api", "db"}
        wait_for(
            lambda: Incident.objects.filter(
                pk=incident.pk,
                investigation_status="done",
                investigation__contains="API health",
            ).exists(),
            procs,
            timeout=60,
        )
        incident.refresh_from_db()
        assert "503" in incident.investigation, incident.investigation
        assert incident.timeline.filter(type="Investigation").count() >= 1
        wait_for(
            lambda: Incident.objects.filter(investigation_status="done").count() == 2,
            procs,
            timeout=60,
        )
