"""Maintenance started / ended: found by a tick, announced once per occurrence.

``run(now)`` looks back ``BEACON_MAINTENANCE_LOOKBACK_MINUTES`` and, for
every window (one-off or each occurrence of an RRULE), writes
``maintenance.started`` for an occurrence that started in ``[now - lookback,
now]`` and is still running, and ``maintenance.ended`` for one that ended in
that span, through ``outbox.maintenance_event(..., occurrence=start)``. The
outbox key (``<event>:<window>:<occurrence start>``) makes every replay a
no-op: ticks overlap on purpose (a late or skipped tick loses nothing) and
two beats racing on the same occurrence meet the key's unique constraint,
which is caught. A window that makes evaluation raise (a broken RRULE) is
logged and skipped: one bad row never stops the others.

``occurrences`` is the pure part, tested without a database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from incidents.maintenance import parse_rrule
from incidents.models import MaintenanceWindow

from . import outbox
from .models import Event

log = logging.getLogger(__name__)
MAX_OCCURRENCES = 1000  # per window per tick: far more than a sane lookback holds


def occurrences(
    starts_at: datetime,
    ends_at: datetime,
    rrule: str,
    since: datetime,
    now: datetime,
) -> Iterator[tuple[str, datetime]]:
    """``(event, occurrence start)`` for each start / end inside ``[since, now]`` (pure).

    A start is announced only while its occurrence is still running at
    ``now`` (a tick that comes after the end announces just the end).
    """
    duration = ends_at - starts_at
    if not rrule:
        starts = [starts_at] if since - duration <= starts_at <= now else []
    else:
        rule = parse_rrule(rrule, starts_at)
        starts = []
        for start in rule.xafter(since - duration, count=MAX_OCCURRENCES, inc=True):
            if start > now:
                break
            starts.append(start)
    for start in starts:
        end = start + duration
        if since <= start <= now and end > now:
            yield Event.MAINTENANCE_STARTED, start
        if since <= end <= now:
            yield Event.MAINTENANCE_ENDED, start


def candidate_windows(since: datetime, now: datetime):
    """Windows that may have an occurrence starting or ending in ``[since, now]``."""
    one_off = Q(rrule="") & (
        Q(starts_at__gte=since, starts_at__lte=now) | Q(ends_at__gte=since, ends_at__lte=now)
    )
    # A recurring window is a candidate once its first occurrence began; its
    # series decides the rest (``occurrences``).
    recurring = ~Q(rrule="") & Q(starts_at__lte=now)
    return (
        MaintenanceWindow.objects.filter(one_off | recurring)
        .filter(ends_at__gt=F("starts_at"))
        .order_by("pk")
    )


def run(now: datetime) -> int:
    """Announce the starts and ends of the lookback; the number of notifications written."""
    since = now - timedelta(minutes=settings.BEACON_MAINTENANCE_LOOKBACK_MINUTES)
    written = 0
    for window in candidate_windows(since, now).iterator(chunk_size=200):
        try:
            found = list(occurrences(window.starts_at, window.ends_at, window.rrule, since, now))
        except Exception:  # a bad RRULE: skip this window, keep the tick going
            log.exception("maintenance window %s: cannot evaluate its occurrences", window.pk)
            continue
        for event, start in found:
            try:
                with transaction.atomic():
                    if outbox.maintenance_event(window, event, now=now, occurrence=start):
                        written += 1
            except IntegrityError:  # a concurrent tick wrote the same key first
                continue
    return written
