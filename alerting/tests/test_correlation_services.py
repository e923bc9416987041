"""Correlation against the real database: external alerts open and join
incidents (same service, one hop, not two hops, the window, the threshold,
alerts without a service), counters, primary service, timeline, resolves with
the recovered table, the post-resolution watch, maintenance, monitor-rule
alerts taking part through their monitor's service, replays, the tick's sweep,
and concurrent workers never opening two incidents for one group."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import close_old_connections, connection

from alerting.correlation_services import process_alerts, sweep
from alerting.models import Alert, AlertRule
from catalog.tests.factories import (
    chain,
    external_alert,
    make_integration,
    make_service,
    resolve_external,
)
from incidents import services as incident_services
from incidents.models import Incident, IncidentService, MaintenanceWindow
from monitors.services import record_results
from monitors.tests.factories import make_monitor, result

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.fixture
def grafana():
    return make_integration("grafana-prod", source="grafana", min_severity="warning")


@pytest.fixture
def svc(db):
    web, api, dbs = chain("web", "api", "db")
    billing = make_service("billing")
    return {"web": web, "api": api, "db": dbs, "billing": billing}


def types(incident: Incident) -> list[str]:
    return list(incident.timeline.values_list("type", flat=True))


def test_first_alert_opens_an_incident_with_its_service(
    grafana, svc, django_capture_on_commit_callbacks
) -> None:
    a = external_alert(
        grafana, T0, service=svc["db"], title="DB down | primary", severity="WARNING"
    )
    with django_capture_on_commit_callbacks() as callbacks:
        process_alerts([a.pk], T0 + MIN)
    incident = Incident.objects.get()
    a.refresh_from_db()
    assert a.incident == incident
    assert (incident.title, incident.source, incident.severity, incident.state) == (
        "DB down | primary",
        "INTEGRATION",
        "WARNING",
        "INVESTIGATING",
    )
    assert incident.started_at == T0 and incident.last_correlated_at == T0
    assert incident.primary_service == svc["db"] and incident.correlated_alert_count == 0
    link = IncidentService.objects.get(incident=incident)
    assert (link.service, link.source) == (svc["db"], "alert")
    assert types(incident) == ["Created", "AlertTriggered"]
    assert incident.timeline.get(type="AlertTriggered").data["opened"] is True
    body = incident.updates.get().body
    assert body.startswith("Alert triggered\n\n| Setting ")
    assert "DB down \\| primary" in body and "| **Source**  " in body
    queued = [c for c in callbacks if c.__name__ == "queue_investigation"]
    assert len(queued) == 1  # the investigation is queued on commit


def test_same_service_and_one_hop_join_two_hops_do_not(grafana, svc) -> None:
    first = external_alert(grafana, T0, service=svc["db"])
    again = external_alert(grafana, T0 + MIN, service=svc["db"])
    hop = external_alert(grafana, T0 + 2 * MIN, service=svc["api"])
    process_alerts([first.pk, again.pk, hop.pk], T0 + 3 * MIN)
    incident = Incident.objects.get()
    assert set(Alert.objects.values_list("incident_id", flat=True)) == {incident.pk}
    assert incident.correlated_alert_count == 2
    assert incident.last_correlated_at == T0 + 2 * MIN
    assert set(incident.services.values_list("slug", flat=True)) == {"db", "api"}
    assert incident.primary_service == svc["db"]  # most upstream failing
    assert types(incident).count("AlertCorrelated") == 2
    # web is two hops from db but one from api, which is in the incident now.
    web = external_alert(grafana, T0 + 4 * MIN, service=svc["web"])
    process_alerts([web.pk], T0 + 4 * MIN)
    assert Alert.objects.get(pk=web.pk).incident == incident


def test_two_hops_open_a_second_incident(grafana, svc) -> None:
    db_alert = external_alert(grafana, T0, service=svc["db"])
    web_alert = external_alert(grafana, T0 + MIN, service=svc["web"])
    process_alerts([db_alert.pk, web_alert.pk], T0 + 2 * MIN)
    assert Incident.objects.count() == 2
    # api's alert (one hop from both) joins the most recently correlated: web's.
    api_alert = external_alert(grafana, T0 + 2 * MIN, service=svc["api"])
    process_alerts([api_alert.pk], T0 + 2 * MIN)
    web_incident = Alert.objects.get(pk=web_alert.pk).incident
    assert Alert.objects.get(pk=api_alert.pk).incident == web_incident


def test_unrelated_service_opens_its_own_incident(grafana, svc) -> None:
    process_alerts(
        [
            external_alert(grafana, T0, service=svc["db"]).pk,
            external_alert(grafana, T0, service=svc["billing"]).pk,
        ],
        T0 + MIN,
    )
    assert Incident.objects.count() == 2


def test_outside_the_window_opens_a_new_incident(grafana, svc) -> None:
    process_alerts([external_alert(grafana, T0, service=svc["db"]).pk], T0)
    late = external_alert(grafana, T0 + 16 * MIN, service=svc["db"])
    process_alerts([late.pk], T0 + 16 * MIN)
    assert Incident.objects.count() == 2


def test_the_window_follows_the_last_correlated_alert(grafana, svc) -> None:
    for minute in (0, 10, 20, 30):
        process_alerts([external_alert(grafana, T0 + minute * MIN, service=svc["db"]).pk], T0)
    assert Incident.objects.count() == 1
    assert Incident.objects.get().correlated_alert_count == 3


def test_the_window_uses_the_receipt_not_an_old_vendor_start(grafana, svc) -> None:
    process_alerts([external_alert(grafana, T0 + 60 * MIN, service=svc["db"]).pk], T0)
    old_start = external_alert(
        grafana,
        T0 + 61 * MIN,
        service=svc["db"],
        triggered_at=T0 - 300 * MIN,  # the vendor says it started hours ago
    )
    process_alerts([old_start.pk], T0 + 61 * MIN)
    assert Incident.objects.count() == 1


def test_below_the_threshold_stored_without_incident_but_joins_one(grafana, svc) -> None:
    info = external_alert(grafana, T0, service=svc["db"], severity="INFO")
    process_alerts([info.pk], T0)
    info.refresh_from_db()
    assert info.incident is None and not Incident.objects.exists()
    process_alerts([external_alert(grafana, T0 + MIN, service=svc["db"]).pk], T0 + MIN)
    later_info = external_alert(grafana, T0 + 2 * MIN, service=svc["api"], severity="INFO")
    process_alerts([later_info.pk], T0 + 2 * MIN)
    later_info.refresh_from_db()
    assert later_info.incident == Incident.objects.get()


def test_min_severity_critical_and_info(svc) -> None:
    strict = make_integration("strict", min_severity="critical")
    loose = make_integration("loose", min_severity="info")
    warning = external_alert(strict, T0, service=svc["billing"], severity="WARNING")
    unknown = external_alert(loose, T0, service=svc["db"], severity="")
    process_alerts([warning.pk, unknown.pk], T0)
    warning.refresh_from_db()
    unknown.refresh_from_db()
    assert warning.incident is None
    assert unknown.incident is not None and unknown.incident.severity == "WARNING"


def test_alerts_without_a_service_join_by_title(grafana) -> None:
    a = external_alert(grafana, T0, title="Disk full on host-1")
    b = external_alert(grafana, T0 + MIN, title="disk  FULL on host-1")
    c = external_alert(grafana, T0 + MIN, title="Disk full on host-2")
    process_alerts([a.pk, b.pk, c.pk], T0 + 2 * MIN)
    a.refresh_from_db()
    b.refresh_from_db()
    c.refresh_from_db()
    assert a.incident == b.incident and c.incident != a.incident
    assert Incident.objects.count() == 2
    assert not IncidentService.objects.exists()


def test_a_more_severe_alert_raises_the_incident_severity(grafana, svc) -> None:
    process_alerts([external_alert(grafana, T0, service=svc["db"], severity="WARNING").pk], T0)
    process_alerts([external_alert(grafana, T0, service=svc["db"], severity="CRITICAL").pk], T0)
    incident = Incident.objects.get()
    assert incident.severity == "CRITICAL"
    assert incident.timeline.filter(type="Edited", message__contains="WARNING -> CRITICAL").exists()


def test_replays_change_nothing(grafana, svc) -> None:
    a = external_alert(grafana, T0, service=svc["db"])
    b = external_alert(grafana, T0, service=svc["db"])
    for _ in range(3):
        process_alerts([a.pk, b.pk, b.pk], T0 + MIN)
    incident = Incident.objects.get()
    assert incident.correlated_alert_count == 1
    assert types(incident) == ["Created", "AlertTriggered", "AlertCorrelated"]
    process_alerts([999_999, -1], T0)  # unknown ids are skipped
    rule_alert_ids = list(Alert.objects.filter(source="rule").values_list("pk", flat=True))
    assert rule_alert_ids == []


def test_resolves_update_the_incident_and_the_last_one_resolves_it(grafana, svc) -> None:
    a = external_alert(grafana, T0, service=svc["db"], title="DB <down>")
    b = external_alert(grafana, T0 + MIN, service=svc["api"], title="API 5xx")
    process_alerts([a.pk, b.pk], T0 + MIN)
    incident = Incident.objects.get()
    process_alerts([resolve_external(a, T0 + 10 * MIN).pk], T0 + 10 * MIN)
    incident.refresh_from_db()
    assert incident.state == "INVESTIGATING"
    assert types(incident)[-1] == "AlertResolved"
    process_alerts([resolve_external(b, T0 + 20 * MIN).pk], T0 + 20 * MIN)
    process_alerts([b.pk], T0 + 21 * MIN)  # replayed: nothing more
    incident.refresh_from_db()
    assert incident.state == "RESOLVED" and incident.ended_at == T0 + 20 * MIN
    last = incident.updates.order_by("-created_at", "-pk").first()
    assert last.state == "RESOLVED"
    assert last.body.startswith("All alerts have recovered, Total duration: 20 minutes")
    assert "DB &lt;down&gt;" in last.body and "| 10 min" in last.body
    assert "<table>" in last.html and "&lt;down&gt;" in last.html
    assert types(incident).count("AlertResolved") == 2


def test_a_manual_resolution_keeps_the_incident_resolved_when_alerts_recover(grafana, svc) -> None:
    a = external_alert(grafana, T0, service=svc["db"])
    process_alerts([a.pk], T0)
    incident = Incident.objects.get()
    incident_services.resolve(incident, note="fixed", classification="Resolved", now=T0 + MIN)
    a.refresh_from_db()
    assert a.post_resolution_watch_since == T0 + MIN
    process_alerts([resolve_external(a, T0 + 2 * MIN).pk], T0 + 2 * MIN)
    a.refresh_from_db()
    incident.refresh_from_db()
    assert a.post_resolution_watch_since is None
    assert incident.updates.count() == 2  # no automatic update after the operator's


def test_watch_reopens_within_the_horizon_via_the_tick(grafana, svc, settings) -> None:
    settings.BEACON_REOPEN_HORIZON_MINUTES = 30
    a = external_alert(grafana, T0, service=svc["db"])
    process_alerts([a.pk], T0)
    incident = Incident.objects.get()
    incident_services.resolve(incident, note="restarted", classification="Resolved", now=T0 + MIN)
    assert sweep(T0 + 2 * MIN) == 0  # nothing received since: nothing to decide yet
    Alert.objects.filter(pk=a.pk).update(last_seen_at=T0 + 5 * MIN)  # a repeat receipt
    sweep(T0 + 6 * MIN)
    incident.refresh_from_db()
    assert incident.state == "INVESTIGATING" and incident.reopen_count == 1
    assert "still firing" in incident.reopen_reason


def test_watch_opens_a_follow_up_after_the_horizon(grafana, svc, settings) -> None:
    settings.BEACON_REOPEN_HORIZON_MINUTES = 30
    a = external_alert(grafana, T0, service=svc["db"], title="Replica lag")
    process_alerts([a.pk], T0)
    incident = Incident.objects.get()
    incident_services.resolve(incident, note="accepted", classification="NoImpact", now=T0 + MIN)
    sweep(T0 + 40 * MIN)
    follow_up = Incident.objects.exclude(pk=incident.pk).get()
    a.refresh_from_db()
    assert follow_up.follow_up_of == incident and a.incident == follow_up
    assert follow_up.title == "Replica lag" and follow_up.source == "INTEGRATION"
    assert follow_up.primary_service == svc["db"]
    assert "still active 30 minutes after" in follow_up.updates.get().body
    assert incident.timeline.filter(type="FollowUpCreated").exists()


def test_a_refire_after_the_incident_ended_correlates_afresh(grafana, svc) -> None:
    a = external_alert(grafana, T0, service=svc["db"])
    process_alerts([a.pk], T0)
    first = Incident.objects.get()
    process_alerts([resolve_external(a, T0 + 5 * MIN).pk], T0 + 5 * MIN)
    Alert.objects.filter(pk=a.pk).update(
        status="TRIGGERED", triggered_at=T0 + 60 * MIN, last_seen_at=T0 + 60 * MIN, resolved_at=None
    )
    process_alerts([a.pk], T0 + 60 * MIN)
    a.refresh_from_db()
    assert a.incident is not None and a.incident != first
    assert Incident.objects.count() == 2


def test_global_maintenance_suppresses_opening(grafana, svc) -> None:
    MaintenanceWindow.objects.create(
        title="upgrade", starts_at=T0 - MIN, ends_at=T0 + 60 * MIN, is_global=True
    )
    a = external_alert(grafana, T0, service=svc["db"])
    b = external_alert(grafana, T0, title="no service")
    process_alerts([a.pk, b.pk], T0)
    assert not Incident.objects.exists()
    assert set(Alert.objects.values_list("suppressed_by_maintenance", flat=True)) == {True}
    assert sweep(T0 + 10 * MIN) == 0  # suppressed alerts are not "pending"


def test_maintenance_of_every_monitor_of_the_service_suppresses(grafana, svc) -> None:
    m1 = make_monitor(tag="db-1", service=svc["db"])
    m2 = make_monitor(tag="db-2", service=svc["db"])
    window = MaintenanceWindow.objects.create(title="db", starts_at=T0 - MIN, ends_at=T0 + 60 * MIN)
    window.monitors.set([m1])
    process_alerts([external_alert(grafana, T0, service=svc["db"]).pk], T0)
    assert Incident.objects.count() == 1  # one monitor of two: not suppressed
    window.monitors.add(m2)
    process_alerts([external_alert(grafana, T0 + 30 * MIN, service=svc["db"]).pk], T0)
    assert Incident.objects.count() == 1
    assert Alert.objects.filter(suppressed_by_maintenance=True).count() == 1


def test_the_sweep_correlates_alerts_a_lost_message_left_behind(grafana, svc, settings) -> None:
    settings.BEACON_CORRELATION_RETRY_SECONDS = 60
    a = external_alert(grafana, T0, service=svc["db"])
    below = external_alert(grafana, T0, service=svc["billing"], severity="INFO")
    assert sweep(T0 + 30 * 1000 * timedelta(microseconds=1)) == 0  # too recent
    assert sweep(T0 + 2 * MIN) == 1  # the INFO one is not expected to open anything
    a.refresh_from_db()
    below.refresh_from_db()
    assert a.incident is not None and below.incident is None
    assert sweep(T0 + 3 * MIN) == 0


def feed(monitor, statuses: list[str], start: datetime) -> datetime:
    at = start
    for status in statuses:
        record_results([result(monitor, at, status)], now=at)
        at += MIN
    return at


def test_a_rule_alert_joins_an_incident_of_its_monitors_service(grafana, svc) -> None:
    process_alerts([external_alert(grafana, T0, service=svc["db"], severity="WARNING").pk], T0)
    incident = Incident.objects.get()
    api_monitor = make_monitor(name="API health", tag="api-health", service=svc["api"])
    rule = AlertRule.objects.create(kind="STATUS", value="DOWN", failure_threshold=2)
    rule.monitors.add(api_monitor)
    t = feed(api_monitor, ["DOWN", "DOWN"], T0 + MIN)
    assert Incident.objects.count() == 1
    rule_alert = Alert.objects.get(rule=rule)
    assert rule_alert.incident == incident
    incident.refresh_from_db()
    assert incident.severity == "CRITICAL"  # the rule's severity is higher
    assert incident.affected.get().monitor == api_monitor
    link = IncidentService.objects.get(incident=incident, service=svc["api"])
    assert link.source == "monitor"
    assert incident.timeline.filter(type="AlertCorrelated", data__alert=rule_alert.pk).exists()
    # The rule alert recovers while the external one is still firing: the incident stays open.
    feed(api_monitor, ["UP", "UP"], t)
    incident.refresh_from_db()
    assert incident.state == "INVESTIGATING"
    assert incident.affected.get().impact_removed_at is not None


def test_a_rule_alert_opens_and_an_external_alert_joins_it(grafana, svc) -> None:
    db_monitor = make_monitor(name="DB", tag="db-check", service=svc["db"])
    rule = AlertRule.objects.create(kind="STATUS", value="DOWN", failure_threshold=1)
    rule.monitors.add(db_monitor)
    feed(db_monitor, ["DOWN"], T0)
    incident = Incident.objects.get()
    assert incident.source == "ALERT" and incident.primary_service == svc["db"]
    assert incident.timeline.get(type="AlertTriggered").data["opened"] is True
    ext = external_alert(grafana, T0 + MIN, service=svc["api"])
    process_alerts([ext.pk], T0 + MIN)
    ext.refresh_from_db()
    assert ext.incident == incident
    incident.refresh_from_db()
    assert incident.correlated_alert_count == 1  # the rule alert opened it


def test_rule_alerts_without_a_service_behave_as_before(db) -> None:
    monitor = make_monitor(name="Plain", tag="plain")
    rule = AlertRule.objects.create(kind="STATUS", value="DOWN", failure_threshold=1)
    rule.monitors.add(monitor)
    feed(monitor, ["DOWN", "UP", "UP"], T0)
    incident = Incident.objects.get()
    assert incident.state == "RESOLVED"
    assert not incident.service_links.exists() and incident.primary_service is None


def test_a_rule_that_opens_nothing_still_joins(grafana, svc) -> None:
    process_alerts([external_alert(grafana, T0, service=svc["db"]).pk], T0)
    quiet = make_monitor(tag="db-quiet", service=svc["db"])
    rule = AlertRule.objects.create(
        kind="STATUS", value="DOWN", failure_threshold=1, create_incident=False
    )
    rule.monitors.add(quiet)
    feed(quiet, ["DOWN"], T0 + MIN)
    assert Alert.objects.get(rule=rule).incident == Incident.objects.get()
    other = make_monitor(tag="billing-quiet", service=svc["billing"])
    rule.monitors.add(other)
    feed(other, ["DOWN"], T0 + 2 * MIN)
    assert Alert.objects.get(rule=rule, monitor=other).incident is None


# --- concurrency -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_open_two_incidents_for_one_group() -> None:
    integration = make_integration("storm", min_severity="info")
    web, api, dbs = chain("web", "api", "db")
    cache = make_service("cache")
    make_service("edge", depends_on=("web",))
    # Alerts on db, api and cache (all one hop from api or db) arrive together.
    services = [dbs, api, dbs, api, dbs, api]
    alerts = [external_alert(integration, T0, service=s) for s in services]
    lone = [external_alert(integration, T0, service=cache) for _ in range(3)]
    barrier = threading.Barrier(len(alerts) + len(lone))
    errors: list[BaseException] = []

    def work(alert_id: int) -> None:
        try:
            barrier.wait(timeout=30)
            process_alerts([alert_id], T0 + MIN)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work, args=(a.pk,)) for a in [*alerts, *lone]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    # db and api are one hop apart: one incident; cache is unrelated: its own.
    incidents = {a.incident_id for a in Alert.objects.filter(pk__in=[a.pk for a in alerts])}
    lone_incidents = {a.incident_id for a in Alert.objects.filter(pk__in=[a.pk for a in lone])}
    assert len(incidents) == 1 and None not in incidents
    assert len(lone_incidents) == 1 and None not in lone_incidents
    assert Incident.objects.count() == 2
    group = Incident.objects.get(pk=incidents.pop())
    assert group.correlated_alert_count == len(alerts) - 1
    assert group.timeline.filter(type="AlertCorrelated").count() == len(alerts) - 1
    assert group.primary_service == dbs
    assert web.pk  # (web never fired)
