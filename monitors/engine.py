"""The check engine: run a batch of claimed checks concurrently and record them.

``run_batch`` is what the ``run_checks`` task calls: it loads the monitors
(one query, plus one for states the kinds need), runs every check in one
asyncio loop with bounded concurrency, and records all results in one
transaction through ``services.record_results``. A check that raises, or
runs past its timeout, becomes a ``DOWN`` result carrying the error, so one
poison monitor never stops the batch.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from .checks import CheckTarget, Outcome, RunContext, StateSnapshot, get_check
from .models import Monitor, MonitorState, ResultSource
from .services import NewResult, record_results

log = logging.getLogger(__name__)

# Grace added to a monitor's own timeout before the engine gives up on its runner.
TIMEOUT_GRACE_SECONDS = 2.0


def targets_for(
    monitor_ids: list[int], *, now: datetime, include_inactive: bool = False
) -> tuple[list[CheckTarget], RunContext]:
    """Load ``monitor_ids`` as detached targets plus the context their kinds need."""
    qs = Monitor.objects.filter(id__in=monitor_ids)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    monitors = list(qs.order_by("id"))
    targets = [
        CheckTarget(
            monitor_id=m.pk,
            tag=m.tag,
            name=m.name,
            kind=m.kind,
            config=m.config or {},
            timeout_seconds=float(m.timeout_seconds),
            interval_seconds=m.interval_seconds,
            created_at=m.created_at,
        )
        for m in monitors
    ]
    ctx = RunContext(now=now)
    member_tags: dict[int, list[str]] = {}
    for target in targets:
        try:
            tags = get_check(target.kind).member_tags(target.config)
        except Exception:  # a broken config is reported when the check runs
            tags = []
        if tags:
            member_tags[target.monitor_id] = tags
    wanted_tags = {tag for tags in member_tags.values() for tag in tags}
    tag_to_id = (
        dict(Monitor.objects.filter(tag__in=wanted_tags).values_list("tag", "id"))
        if wanted_tags
        else {}
    )
    for monitor_id, tags in member_tags.items():
        ctx.members[monitor_id] = [tag_to_id[t] for t in tags if t in tag_to_id]
    ctx.tags = {t.monitor_id: t.tag for t in targets} | {v: k for k, v in tag_to_id.items()}
    state_ids = {t.monitor_id for t in targets} | set(tag_to_id.values())
    for s in MonitorState.objects.filter(monitor_id__in=state_ids).only(
        "monitor_id", "status", "last_push_at", "last_latency_ms", "last_message"
    ):
        ctx.states[s.monitor_id] = StateSnapshot(
            status=s.status,
            last_push_at=s.last_push_at,
            last_latency_ms=s.last_latency_ms,
            last_message=s.last_message,
        )
    return targets, ctx


async def _run_one(
    target: CheckTarget, ctx: RunContext, gate: asyncio.Semaphore, due_at: datetime | None
) -> tuple[datetime, Outcome | None]:
    if due_at is not None:
        # Claimed up to one tick ahead: start on time, not early.
        wait = (due_at - timezone.now()).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)
    async with gate:
        started = timezone.now()
        try:
            check = get_check(target.kind)
            outcome = await asyncio.wait_for(
                check.run(target, ctx), timeout=target.timeout_seconds + TIMEOUT_GRACE_SECONDS
            )
        except TimeoutError:
            outcome = Outcome.down(f"check timed out after {target.timeout_seconds:g}s")
        except Exception as exc:  # the poison-monitor guard: record it, go on
            log.warning("check of %s raised", target.tag, exc_info=True)
            outcome = Outcome.down(f"check failed: {type(exc).__name__}: {exc}"[:500])
        return started, outcome


async def run_targets(
    targets: list[CheckTarget], ctx: RunContext, due: dict[int, datetime] | None = None
) -> list[tuple[datetime, Outcome | None]]:
    """Run every target concurrently (bounded), each not before its ``due`` time
    when given; results in the order of ``targets``."""
    gate = asyncio.Semaphore(settings.BEACON_CHECK_CONCURRENCY)
    due = due or {}
    try:
        return await asyncio.gather(
            *(_run_one(t, ctx, gate, due.get(t.monitor_id)) for t in targets)
        )
    finally:
        await ctx.aclose()


def run_batch(items: list[tuple[int, datetime]]) -> int:
    """Run the claimed (monitor_id, due_at) checks and record them; return results written."""
    if not items:
        return 0
    due = dict(items)
    targets, ctx = targets_for(list(due), now=timezone.now())
    outcomes = asyncio.run(run_targets(targets, ctx, due))
    results = [
        NewResult(
            monitor_id=target.monitor_id,
            due_at=due[target.monitor_id],
            checked_at=started,
            status=outcome.status,
            latency_ms=outcome.latency_ms,
            message=outcome.message,
            source=ResultSource.SCHEDULED,
        )
        for target, (started, outcome) in zip(targets, outcomes, strict=True)
        if outcome is not None
    ]
    try:
        return len(record_results(results, now=timezone.now()))
    except Exception:
        # One row the database refuses must not cost its batch-mates their
        # results: record them one by one and drop only what still fails.
        log.exception("recording a batch of %d failed; recording one by one", len(results))
    written = 0
    for one in results:
        try:
            written += len(record_results([one], now=timezone.now()))
        except Exception:
            log.exception("dropping the result of monitor %s", one.monitor_id)
    return written
