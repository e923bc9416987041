"""Storing what an inbound request carried: the delivery, alerts, deployments.

``ingest(integration, result, key=, now=)`` runs in ONE transaction:

1. the ``InboundDelivery`` row (unique per integration and ``key``): an
   ``IntegrityError`` there means the delivery was already stored, so the
   request is a replay and nothing else changes;
2. each normalised alert is upserted by (integration, fingerprint) following
   ``integrations.dedup.decide``; every receipt is an ``AlertOccurrence`` and
   every status change an ``AlertEvent`` (external alerts have no trigger to
   notify, so the outbox is not called: ``notifications.outbox.alert_event``
   ignores rule-less events anyway);
3. deployments are upserted by (integration, external_id); a failed one opens
   an alert when ``integration.failed_deployment_opens_alert`` (a later
   successful deployment of the same service and environment resolves it);
4. service names are matched to ``catalog.Service`` by slug, name or alias,
   case-insensitively, in one query per delivery;
5. ``integration.last_received_at`` moves forward.

Concurrency: existing alerts are locked in fingerprint order
(``select_for_update``), so two deliveries sharing alerts wait for each other
instead of deadlocking. The first attempt inserts the delivery and the new
alerts without savepoints (the common case pays for no extra round trips): a
unique-key conflict on the delivery means a replay; one on a new alert means
a concurrent delivery inserted it first, and the whole transaction is retried
on the safe path, where each new alert is inserted inside its own savepoint
and the loser of a race re-reads (and locks) the winner's row. Two
concurrent identical deliveries therefore store one delivery and one alert;
different deliveries of one new alert store one alert and count every
receipt. A deadlock or serialisation failure reported by the database
retries the whole transaction as well. Hot-path rows are written with
``integrations.rows`` (plain INSERT/UPDATE built from the model fields).

After commit, the alerts whose status changed are handed to correlation
(``integrations.tasks.process_alerts``).

``close_quiet_alerts(now)`` closes external alerts not seen for their
integration's quiet period (sources that never send a resolve).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q

from alerting.models import Alert, AlertEvent, AlertOccurrence, AlertStatus
from catalog.models import Service, ServiceAlias
from integrations.sources.base import Deployment as ParsedDeployment
from integrations.sources.base import NormalizedAlert, ParseResult
from integrations.sources.jenkins import deployment_alert

from . import rows
from .dedup import TRANSITIONS, Change, decide, quiet_cutoff, resolve_time, trigger_time
from .models import Deployment, InboundDelivery, Integration

log = logging.getLogger(__name__)

# SQLSTATEs worth retrying the whole transaction for.
_RETRYABLE = {"40P01", "40001"}  # deadlock detected, serialization failure
_ATTEMPTS = 3
# last_received_at is moved at most this often per integration, so concurrent
# deliveries rarely queue on the integration row's lock.
_LAST_RECEIVED_STEP = timedelta(seconds=1)

_SEVERITY = {"critical": "CRITICAL", "warning": "WARNING", "info": "INFO"}


@dataclass(frozen=True)
class Incoming:
    """One alert to upsert; ``only_existing``: skip it when the fingerprint is
    unknown (a successful deployment resolving a failed-deployment alert)."""

    alert: NormalizedAlert
    only_existing: bool = False


@dataclass
class IngestOutcome:
    """What a request did: ``alert_ids`` in payload order, ``changed_ids``
    the alerts whose status changed (handed to correlation)."""

    replay: bool
    is_test: bool = False
    delivery_id: int | None = None
    alert_ids: list[int] = field(default_factory=list)
    deployment_ids: list[int] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)
    changes: dict[int, str] = field(default_factory=dict)


# ------------------------------------------------------------------ services


def _norm(name: str) -> str:
    return name.strip().lower()


def _service_sql(count: int) -> str:
    """One portable statement (PostgreSQL and SQLite) for ``service_ids``.

    Written as SQL rather than with the ORM because it runs on every delivery
    and compiling the equivalent queryset costs more than running it."""
    q = connection.ops.quote_name
    service, alias = Service._meta.db_table, ServiceAlias._meta.db_table
    marks = ", ".join(["%s"] * count)
    # Identifiers come from the models, values are parameters: no injection.
    return (
        f"SELECT s.{q('id')}, s.{q('slug')}, LOWER(s.{q('name')}), a.{q('alias')} "  # noqa: S608
        f"FROM {q(service)} s LEFT JOIN {q(alias)} a ON a.{q('service_id')} = s.{q('id')} "
        f"WHERE s.{q('slug')} IN ({marks}) OR LOWER(s.{q('name')}) IN ({marks}) "
        f"OR a.{q('alias')} IN ({marks})"
    )


def service_ids(names: Iterable[str]) -> dict[str, int]:
    """``{lower-case name: service id}`` for names matching a service's slug,
    name or alias, case-insensitively; one query. Slug beats name beats alias
    when one name matches several services."""
    wanted = sorted({_norm(n) for n in names if n and n.strip()})
    if not wanted:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_service_sql(len(wanted)), wanted * 3)
        matches = cursor.fetchall()
    found: dict[str, tuple[int, int]] = {}  # name -> (rank, id); lower rank wins
    keys = set(wanted)
    for pk, slug, lname, alias in matches:
        for rank, candidate in ((0, slug), (1, lname), (2, alias)):
            if candidate in keys and (candidate not in found or found[candidate][0] > rank):
                found[candidate] = (rank, pk)
    return {name: pk for name, (_, pk) in found.items()}


# -------------------------------------------------------------------- ingest


class _Replay(Exception):
    """The delivery key is already stored: the whole request is a replay."""


class _Conflict(Exception):
    """A concurrent delivery inserted one of our new alerts first."""


def ingest(
    integration: Integration, result: ParseResult, *, key: str, now: datetime, note: str = ""
) -> IngestOutcome:
    """Store ``result`` for ``integration`` under the replay key ``key``;
    ``note`` is kept on the delivery (e.g. Netdata's verification token).

    The first attempt takes the fast path: no savepoints, so a unique-key
    conflict aborts the transaction; a conflict on the delivery key is a
    replay, one on a new alert's fingerprint retries the whole transaction
    on the safe path (one savepoint per new alert), where it is an update.
    """
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return _ingest_once(integration, result, key=key, now=now, note=note, safe=attempt > 1)
        except _Replay:
            return _replay(integration, result)
        except _Conflict:
            log.info("ingest of integration %s met a concurrent insert; retrying", integration.pk)
        except DatabaseError as exc:
            if attempt == _ATTEMPTS or getattr(exc.__cause__, "sqlstate", None) not in _RETRYABLE:
                raise
            log.info("ingest retry %d for integration %s: %s", attempt, integration.pk, exc)
    raise DatabaseError(f"ingest gave up after {_ATTEMPTS} attempts")  # pragma: no cover


def _ingest_once(
    integration: Integration,
    result: ParseResult,
    *,
    key: str,
    now: datetime,
    note: str,
    safe: bool,
) -> IngestOutcome:
    with transaction.atomic():
        delivery = InboundDelivery(
            integration=integration,
            key=key,
            received_at=now,
            is_test=result.is_test,
            alert_count=len(result.alerts),
            deployment_count=len(result.deployments),
            note=note[:1000],
        )
        try:
            rows.insert([delivery])
        except IntegrityError:
            # Leaving the block rolls the (now aborted) transaction back.
            raise _Replay from None
        outcome = IngestOutcome(replay=False, is_test=result.is_test, delivery_id=delivery.pk)
        if not result.is_test:
            names = [a.service for a in result.alerts] + [d.service for d in result.deployments]
            services = service_ids(names)
            incoming = [Incoming(a) for a in result.alerts]
            if result.deployments:
                outcome.deployment_ids = _upsert_deployments(
                    integration, result.deployments, services, now=now
                )
                if integration.failed_deployment_opens_alert:
                    incoming += deployment_alerts(result.deployments)
            _upsert_alerts(
                integration, incoming, services, delivery, now=now, outcome=outcome, safe=safe
            )
        last = integration.last_received_at
        # The row read at authentication says whether it is worth an UPDATE
        # (and a lock on the integration row) at all.
        if last is None or last <= now - _LAST_RECEIVED_STEP:
            Integration.objects.filter(pk=integration.pk).filter(
                Q(last_received_at__isnull=True)
                | Q(last_received_at__lte=now - _LAST_RECEIVED_STEP)
            ).update(last_received_at=now)
        if outcome.changed_ids:
            queue_processing(outcome.changed_ids)
    return outcome


def _replay(integration: Integration, result: ParseResult) -> IngestOutcome:
    """A replay changes nothing; it reports the alerts it names as they are."""
    fingerprints = [a.fingerprint for a in result.alerts]
    ids = dict(
        Alert.objects.filter(integration=integration, fingerprint__in=fingerprints).values_list(
            "fingerprint", "pk"
        )
    )
    return IngestOutcome(
        replay=True,
        is_test=result.is_test,
        alert_ids=[ids[f] for f in fingerprints if f in ids],
    )


def queue_processing(alert_ids: Sequence[int]) -> None:
    """After commit: correlation of the alerts whose status changed."""
    from .tasks import process_alerts

    ids = sorted(set(alert_ids))
    transaction.on_commit(lambda: process_alerts.delay(ids))


def _apply(
    alert: Alert,
    incoming: NormalizedAlert,
    change: Change,
    services: dict[str, int],
    now: datetime,
) -> set[str]:
    """Copy the receipt's content onto ``alert`` (the latest receipt wins) and
    move its status; returns the names of the fields that changed, so the
    UPDATE writes only those (a repeat usually moves three)."""
    values: dict[str, Any] = {
        "title": incoming.title,
        "description": incoming.description,
        "severity": _SEVERITY[incoming.severity],
        "service_name": incoming.service,
        "service_id": services.get(_norm(incoming.service)) if incoming.service else None,
        "environment": incoming.environment,
        "link": incoming.link,
        "labels": incoming.labels,
        "raw": incoming.raw,
        "last_seen_at": now,
    }
    if change in (Change.NEW_TRIGGERED, Change.REFIRE):
        previous_end = alert.resolved_at if change == Change.REFIRE else None
        values.update(
            status=AlertStatus.TRIGGERED,
            triggered_at=trigger_time(incoming.started_at, now, previous_end),
            resolved_at=None,
            # A new episode: correlation decides its incident afresh.
            incident_id=None,
            acknowledged_at=None,
            acknowledged_by_id=None,
            post_resolution_watch_since=None,
        )
    if change in (Change.REPEAT, Change.REFIRE):
        values["occurrence_count"] = alert.occurrence_count + 1
    if change == Change.NEW_RESOLVED:
        triggered = trigger_time(incoming.started_at, now)
        values.update(
            status=AlertStatus.RESOLVED,
            triggered_at=triggered,
            resolved_at=resolve_time(incoming.ended_at, triggered, now),
        )
    if change == Change.RESOLVE:
        values.update(
            status=AlertStatus.RESOLVED,
            resolved_at=resolve_time(incoming.ended_at, alert.triggered_at, now),
        )
    changed = set()
    for name, value in values.items():
        if getattr(alert, name, None) != value:
            setattr(alert, name, value)
            changed.add(name)
    if changed:
        alert.updated_at = now  # bulk_update does not apply auto_now
        changed.add("updated_at")
    return changed


def _new_alert(
    integration: Integration, incoming: NormalizedAlert, services: dict[str, int], now: datetime
) -> tuple[Alert, Change]:
    change = decide(None, incoming.status)
    alert = Alert(
        source=integration.source,
        integration=integration,
        fingerprint=incoming.fingerprint,
        occurrence_count=1,
    )
    _apply(alert, incoming, change, services, now)
    return alert, change


def _event_for(alert: Alert, *, at: datetime, message: str = "") -> AlertEvent:
    status = AlertStatus.RESOLVED if alert.status == AlertStatus.RESOLVED else AlertStatus.TRIGGERED
    return AlertEvent(
        alert=alert,
        status=status,
        at=at,
        incident_id=alert.incident_id,
        message=message[:500],
    )


def _upsert_alerts(
    integration: Integration,
    incoming: list[Incoming],
    services: dict[str, int],
    delivery: InboundDelivery,
    *,
    now: datetime,
    outcome: IngestOutcome,
    safe: bool,
) -> None:
    if not incoming:
        return
    # Locks are taken in fingerprint order so two deliveries sharing alerts
    # wait for each other instead of deadlocking.
    by_fp = {item.alert.fingerprint: item for item in incoming}
    fingerprints = sorted(by_fp)
    stored = {
        a.fingerprint: a
        for a in Alert.objects.select_for_update()
        .filter(integration=integration, fingerprint__in=fingerprints)
        .order_by("fingerprint")
    }
    results: dict[str, tuple[Alert, Change]] = {}
    updated: list[Alert] = []
    dirty: set[str] = set()  # fields some updated alert changed
    for fp in fingerprints:
        item = by_fp[fp]
        if fp in stored:
            alert = stored[fp]
            change = decide(alert.status, item.alert.status)
            dirty |= _apply(alert, item.alert, change, services, now)
            results[fp] = (alert, change)
            updated.append(alert)
    fresh = [
        _new_alert(integration, by_fp[fp].alert, services, now)
        for fp in fingerprints
        if fp not in stored and not by_fp[fp].only_existing
    ]
    if fresh and not safe:
        try:
            rows.insert([a for a, _ in fresh])
        except IntegrityError:
            raise _Conflict from None
        for alert, change in fresh:
            results[alert.fingerprint] = (alert, change)
    for alert, change in fresh if safe else []:
        # One savepoint each: the loser of a race re-reads (and locks) the
        # winner's row and applies the receipt to it.
        try:
            with transaction.atomic():
                alert.save(force_insert=True)
            results[alert.fingerprint] = (alert, change)
        except IntegrityError:
            winner = Alert.objects.select_for_update().get(
                integration=integration, fingerprint=alert.fingerprint
            )
            again = decide(winner.status, by_fp[alert.fingerprint].alert.status)
            dirty |= _apply(winner, by_fp[alert.fingerprint].alert, again, services, now)
            results[alert.fingerprint] = (winner, again)
            updated.append(winner)
    rows.update(updated, sorted(dirty))
    events: list[AlertEvent] = []
    occurrences: list[AlertOccurrence] = []
    for fp in fingerprints:
        if fp not in results:
            continue
        alert, change = results[fp]
        item = by_fp[fp].alert
        occurrences.append(
            AlertOccurrence(
                alert=alert,
                delivery=delivery,
                status=AlertStatus.RESOLVED if item.status == "resolved" else AlertStatus.TRIGGERED,
                received_at=now,
                raw=item.raw,
            )
        )
        if change in TRANSITIONS:
            at = alert.resolved_at if change == Change.RESOLVE else alert.triggered_at
            events.append(_event_for(alert, at=at or now))
        elif change == Change.NEW_RESOLVED:
            events.append(
                _event_for(alert, at=alert.resolved_at or now, message="resolved when first seen")
            )
    rows.insert(occurrences)
    rows.insert(events)
    for item in incoming:
        fp = item.alert.fingerprint
        if fp in results and results[fp][0].pk not in outcome.changes:
            alert, change = results[fp]
            outcome.alert_ids.append(alert.pk)
            outcome.changes[alert.pk] = change.value
            if change in TRANSITIONS:
                outcome.changed_ids.append(alert.pk)


# --------------------------------------------------------------- deployments


def deployment_alerts(deployments: Sequence[ParsedDeployment]) -> list[Incoming]:
    """The alerts deployments open or resolve (``sources.jenkins.deployment_alert``):
    a failure fires one alert per service and environment; a success resolves
    it, but never creates one. Other results change nothing."""
    out: list[Incoming] = []
    for dep in deployments:
        alert = deployment_alert(dep)
        if alert is not None:
            out.append(Incoming(alert, only_existing=alert.status == "resolved"))
    return out


def _deployment_values(dep: ParsedDeployment, services: dict[str, int]) -> dict[str, Any]:
    return {
        "service_id": services.get(_norm(dep.service)) if dep.service else None,
        "service_name": dep.service,
        "environment": dep.environment,
        "version": dep.version,
        "url": dep.url,
        "started_at": dep.started_at,
        "finished_at": dep.finished_at,
        "raw": dep.raw,
    }


def _upsert_deployments(
    integration: Integration,
    deployments: Sequence[ParsedDeployment],
    services: dict[str, int],
    *,
    now: datetime,
) -> list[int]:
    ids: list[int] = []
    # One row per external id: Jenkins reports STARTED, then COMPLETED and
    # FINALIZED for the same build; the latest report wins, keeping the start.
    for dep in sorted(
        {d.external_id: d for d in deployments}.values(), key=lambda d: d.external_id
    ):
        row = (
            Deployment.objects.select_for_update()
            .filter(integration=integration, external_id=dep.external_id)
            .first()
        )
        if row is None:
            try:
                with transaction.atomic():
                    row = Deployment.objects.create(
                        integration=integration,
                        external_id=dep.external_id,
                        source=integration.source,
                        received_at=now,
                        result=dep.result,
                        **_deployment_values(dep, services),
                    )
                ids.append(row.pk)
                continue
            except IntegrityError:
                row = Deployment.objects.select_for_update().get(
                    integration=integration, external_id=dep.external_id
                )
        row.result = dep.result
        row.received_at = now
        for name, value in _deployment_values(dep, services).items():
            # A later report that leaves a field out does not erase it; the
            # first report's start time stays.
            if value in ("", None, {}) or (name == "started_at" and row.started_at):
                continue
            setattr(row, name, value)
        row.save()
        ids.append(row.pk)
    return ids


# --------------------------------------------------------------- quiet close


def close_quiet_alerts(*, now: datetime, batch: int | None = None) -> list[int]:
    """Resolve external alerts of integrations with a quiet period that have
    not been seen for that long. Rows are claimed with ``skip_locked`` so two
    beat ticks (or a tick racing an ingest) never close one alert twice; at
    most ``batch`` per integration per call. Returns the closed ids."""
    batch = batch or settings.BEACON_QUIET_CLOSE_BATCH
    closed: list[int] = []
    for integration in Integration.objects.filter(quiet_resolve_minutes__gt=0).only(
        "pk", "quiet_resolve_minutes"
    ):
        cutoff = quiet_cutoff(now, integration.quiet_resolve_minutes)
        with transaction.atomic():
            alerts = list(
                Alert.objects.select_for_update(skip_locked=True)
                .filter(
                    integration=integration,
                    status=AlertStatus.TRIGGERED,
                    last_seen_at__lt=cutoff,
                )
                .order_by("last_seen_at", "pk")[:batch]
            )
            if not alerts:
                continue
            message = f"closed after {integration.quiet_resolve_minutes} min without a notification"
            for alert in alerts:
                alert.status = AlertStatus.RESOLVED
                alert.resolved_at = now
                alert.updated_at = now
            Alert.objects.bulk_update(alerts, ["status", "resolved_at", "updated_at"])
            AlertEvent.objects.bulk_create([_event_for(a, at=now, message=message) for a in alerts])
            ids = [a.pk for a in alerts]
            queue_processing(ids)
        closed += ids
    return closed
