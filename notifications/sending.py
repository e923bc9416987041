"""Sending: claim due deliveries, hand them to their channel's sender, record
every try.

A delivery is due when it is ``pending`` or ``retrying``, its
``next_attempt_at`` has come and its lease (``claimed_until``) is empty or
expired. ``claim`` takes up to ``limit`` of them in one transaction
(``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so parallel workers
share the work; on SQLite the IMMEDIATE transaction holds the write lock) and
sets a lease. The lease value is also the claim's fencing token: before each
``send_batch`` call it is renewed to cover the call's worst case, and a try
is recorded only while the row still holds our lease. A worker that dies
mid-send leaves the lease to expire; the delivery is then claimed again (the
receiver may see the same ``X-Beacon-Delivery`` twice and drop one).

Each try writes a ``DeliveryAttempt`` and updates the delivery (status,
attempts, next attempt from ``backoff.decide``, last status code / error /
duration) in one transaction per chunk, with bulk statements so 10,000
subscriber deliveries cost a few hundred queries, not 20,000.

``retry_now`` is the console's and the API's "retry now": a failed or
retrying delivery becomes pending and due now, audited, and is sent by a
queued task after commit.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from statuspage.audit import record

from . import backoff
from .models import Delivery, DeliveryAttempt, DeliveryStatus, Event
from .notifiers import Outcome, get_sender

log = logging.getLogger(__name__)

DUE = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
_RECORDED = (
    "status",
    "attempts",
    "next_attempt_at",
    "claimed_until",
    "last_status_code",
    "last_error",
    "last_duration_ms",
    "sent_at",
    "updated_at",
)

Clock = Callable[[], datetime]


class DeliveryError(Exception):
    """A delivery that cannot do what was asked (retry now), with the reason."""


def clock_from(now: datetime) -> Clock:
    """A clock that reads ``now`` at first and then advances with real time."""
    start = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - start)


def _lease_until(at: datetime, seconds: float) -> datetime:
    # A few random microseconds make each lease value unique to its owner.
    return at + timedelta(seconds=seconds, microseconds=secrets.randbelow(1000))


def new_lease(now: datetime) -> datetime:
    """A lease for deliveries created already claimed (then ``send_claimed`` them)."""
    return _lease_until(now, settings.BEACON_DELIVERY_LEASE_SECONDS)


@dataclass
class Report:
    """What one sending pass did; ``outcomes`` by delivery id."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    lost: int = 0  # tries not recorded: the lease passed to another worker
    outcomes: dict[int, Outcome] = field(default_factory=dict)

    def add(self, other: Report) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.lost += other.lost
        self.outcomes.update(other.outcomes)


def _due(now: datetime) -> Any:
    return Delivery.objects.filter(status__in=DUE, next_attempt_at__lte=now).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )


def count_due(now: datetime, limit: int) -> int:
    """How many deliveries are due now (counted up to ``limit``)."""
    return len(_due(now).values_list("id", flat=True)[:limit])


def claim(
    now: datetime,
    limit: int,
    *,
    notification_id: int | None = None,
    delivery_ids: Iterable[int] | None = None,
    channels: Iterable[str] | None = None,
) -> tuple[list[int], datetime]:
    """Claim up to ``limit`` due deliveries, oldest first: ``(ids, lease)``."""
    lease = _lease_until(now, settings.BEACON_DELIVERY_LEASE_SECONDS)
    with transaction.atomic():
        qs = _due(now)
        if notification_id is not None:
            qs = qs.filter(notification_id=notification_id)
        if delivery_ids is not None:
            qs = qs.filter(pk__in=list(delivery_ids))
        if channels is not None:
            qs = qs.filter(channel__in=list(channels))
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        ids = list(qs.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
        if ids:
            Delivery.objects.filter(pk__in=ids).update(claimed_until=lease)
    return ids, lease


def send_due(
    now: datetime,
    limit: int,
    *,
    notification_id: int | None = None,
    delivery_ids: Iterable[int] | None = None,
    channels: Iterable[str] | None = None,
    clock: Clock | None = None,
) -> Report:
    """Claim due deliveries (optionally of one notification, some ids or some
    channels) and send them; returns what happened."""
    ids, lease = claim(
        now, limit, notification_id=notification_id, delivery_ids=delivery_ids, channels=channels
    )
    if not ids:
        return Report()
    return send_claimed(ids, lease, clock or clock_from(now))


def send_claimed(ids: Sequence[int], lease: datetime, clock: Clock) -> Report:
    """Send claimed deliveries, channel by channel, in chunks of each sender's size."""
    report = Report(claimed=len(ids))
    rows = list(
        Delivery.objects.filter(pk__in=list(ids), claimed_until=lease)
        .select_related("notification", "trigger", "subscriber")
        .order_by("id")
    )
    by_channel: dict[str, list[Delivery]] = {}
    for row in rows:
        by_channel.setdefault(row.channel, []).append(row)
    for channel, group in by_channel.items():
        try:
            sender_class = get_sender(channel)
        except KeyError:
            outcome = Outcome.failure(f"No sender for the channel {channel!r}.", transient=True)
            report.add(_record(group, [outcome] * len(group), lease, clock(), clock()))
            continue
        with sender_class() as sender:
            size = max(1, sender.chunk_size)
            for start in range(0, len(group), size):
                chunk = group[start : start + size]
                started = clock()
                chunk, chunk_lease = _renew(chunk, lease, started, sender.worst_case_seconds)
                if not chunk:
                    continue
                try:
                    outcomes = sender.send_batch(chunk)
                    if len(outcomes) != len(chunk):
                        raise RuntimeError(f"{len(outcomes)} outcomes for {len(chunk)}")
                except Exception as exc:  # a sender bug costs a try, never the batch
                    log.exception("sender %s failed", channel)
                    outcomes = [Outcome.failure(f"internal error: {exc}", transient=True)] * len(
                        chunk
                    )
                report.add(_record(chunk, outcomes, chunk_lease, started, clock()))
    report.lost += len(ids) - len(rows)
    return report


def _renew(
    chunk: list[Delivery],
    lease: datetime,
    now: datetime,
    worst_case: Callable[[int], float],
) -> tuple[list[Delivery], datetime]:
    """Make the lease cover this chunk's worst case; keep only rows still ours."""
    needed = now + timedelta(seconds=worst_case(len(chunk)) + 5)
    if lease >= needed:
        return chunk, lease
    renewed = _lease_until(needed, 0)
    ids = [d.pk for d in chunk]
    Delivery.objects.filter(pk__in=ids, claimed_until=lease).update(claimed_until=renewed)
    owned = set(
        Delivery.objects.filter(pk__in=ids, claimed_until=renewed).values_list("pk", flat=True)
    )
    return [d for d in chunk if d.pk in owned], renewed


def max_attempts(delivery: Delivery) -> int:
    """A "send test" is tried once; everything else up to the setting."""
    if delivery.notification.event == Event.TEST:
        return 1
    return settings.BEACON_DELIVERY_MAX_ATTEMPTS


def _record(
    chunk: Sequence[Delivery],
    outcomes: Sequence[Outcome],
    lease: datetime,
    started: datetime,
    now: datetime,
) -> Report:
    """Write each try and the deliveries' new state, for the rows still ours."""
    report = Report()
    with transaction.atomic():
        qs = Delivery.objects.filter(pk__in=[d.pk for d in chunk], claimed_until=lease)
        if connection.features.has_select_for_update:
            qs = qs.select_for_update()
        owned = set(qs.values_list("pk", flat=True))
        updated: list[Delivery] = []
        tries: list[DeliveryAttempt] = []
        for delivery, outcome in zip(chunk, outcomes, strict=True):
            if delivery.pk not in owned:
                report.lost += 1
                continue
            number = delivery.attempts + 1
            decision = backoff.decide(
                ok=outcome.ok,
                transient=outcome.transient,
                retry_after=outcome.retry_after,
                attempts=number,
                now=now,
                max_attempts=max_attempts(delivery),
                base=settings.BEACON_DELIVERY_BACKOFF_SECONDS,
                cap=settings.BEACON_DELIVERY_BACKOFF_MAX_SECONDS,
            )
            delivery.status = decision.status
            delivery.attempts = number
            delivery.next_attempt_at = decision.next_attempt_at
            delivery.claimed_until = None
            delivery.last_status_code = outcome.status_code
            delivery.last_error = outcome.error
            delivery.last_duration_ms = outcome.duration_ms
            if outcome.ok:
                delivery.sent_at = now
            delivery.updated_at = now
            updated.append(delivery)
            tries.append(
                DeliveryAttempt(
                    delivery=delivery,
                    number=number,
                    started_at=started,
                    duration_ms=outcome.duration_ms,
                    outcome=decision.status,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    response_body=outcome.response_body,
                )
            )
            report.outcomes[delivery.pk] = outcome
            if decision.status == backoff.SENT:
                report.sent += 1
            elif decision.status == backoff.RETRYING:
                report.retrying += 1
            else:
                report.failed += 1
        if updated:
            Delivery.objects.bulk_update(updated, _RECORDED, batch_size=500)
            DeliveryAttempt.objects.bulk_create(tries, batch_size=1000, ignore_conflicts=True)
    return report


def drain(clock: Clock, limit: int, budget_seconds: float) -> Report:
    """Claim and send batches until nothing is due or the time budget is spent."""
    total = Report()
    deadline = time.monotonic() + budget_seconds
    while time.monotonic() < deadline:
        report = send_due(clock(), limit, clock=clock)
        total.add(report)
        if report.claimed < limit:
            break
    return total


def queue_drainers(due: int) -> int:
    """Queue enough ``send_due_batch`` tasks (at most ``BEACON_DELIVERY_DRAINERS``)
    to send ``due`` deliveries in parallel; after the current transaction commits."""
    from .tasks import send_due_batch

    count = min(
        settings.BEACON_DELIVERY_DRAINERS,
        max(1, math.ceil(due / settings.BEACON_DELIVERY_BATCH_SIZE)),
    )
    expires = max(settings.BEACON_TICK_SECONDS * 5, 10)

    def queue() -> None:
        for _ in range(count):
            send_due_batch.apply_async(expires=expires)

    transaction.on_commit(queue)
    return count


def retry_now(delivery: Delivery, *, now: datetime, actor: Any = None) -> Delivery:
    """Make a failed or retrying delivery due now and queue its sending."""
    from .tasks import send_delivery

    with transaction.atomic():
        row = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if row.status == DeliveryStatus.SENT:
            raise DeliveryError("This delivery was sent; there is nothing to retry.")
        if row.claimed_until is not None and row.claimed_until > now:
            raise DeliveryError("This delivery is being sent right now.")
        before = row.status
        row.status = DeliveryStatus.PENDING
        row.next_attempt_at = now
        row.claimed_until = None
        row.updated_at = now
        row.save(update_fields=["status", "next_attempt_at", "claimed_until", "updated_at"])
        record(
            "retried",
            row,
            now=now,
            actor=actor,
            label=f"delivery {row.pk} to {row.target}",
            changes={"status": [before, DeliveryStatus.PENDING], "attempts": row.attempts},
        )
        transaction.on_commit(lambda: send_delivery.delay(row.pk))
    return row
