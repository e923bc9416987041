"""Heartbeat (push) check.

Config (normalised): ``{"degraded_after_seconds": int, "down_after_seconds": int}``,
defaults 120 and 300, each 10 s to 30 days, and ``down_after_seconds`` must be
greater than ``degraded_after_seconds`` (the error names ``down_after_seconds``).

The monitored job calls the push endpoint, which records a result and
``MonitorState.last_push_at``. ``run`` (scheduled like any kind) only looks at
the age of the last push, ``ctx.now - last_push_at``, or of the monitor's
creation when it was never pushed:

* not older than ``degraded_after_seconds``: ``None`` (nothing to record for
  this slot; the push itself was the result);
* older: DEGRADED "no push for 130 s";
* older than ``down_after_seconds``: DOWN "no push for 301 s".

With neither a push nor a creation time there is nothing to measure: ``None``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from . import register
from .base import Check, CheckTarget, Outcome, RunContext
from .fields import StrictConfig, StrictInt

MIN_SECONDS = 10
MAX_SECONDS = 30 * 86400


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@register
class HeartbeatCheck(Check):
    kind = "heartbeat"
    label = "Heartbeat (push)"

    class Config(StrictConfig):
        degraded_after_seconds = StrictInt(
            min_value=MIN_SECONDS,
            max_value=MAX_SECONDS,
            required=False,
            default=120,
            label="Degraded after (seconds)",
            help_text="No push for this long: DEGRADED. 10 s to 30 days; default 120.",
        )
        down_after_seconds = StrictInt(
            min_value=MIN_SECONDS,
            max_value=MAX_SECONDS,
            required=False,
            default=300,
            label="Down after (seconds)",
            help_text="No push for this long: DOWN. More than the degraded time; default 300.",
        )

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            degraded = attrs.get("degraded_after_seconds", 120)
            if attrs.get("down_after_seconds", 300) <= degraded:
                raise serializers.ValidationError(
                    {
                        "down_after_seconds": [
                            f"Must be greater than degraded_after_seconds ({degraded})."
                        ]
                    }
                )
            return attrs

    async def run(self, target: CheckTarget, ctx: RunContext) -> Outcome | None:
        state = ctx.states.get(target.monitor_id)
        last_push = state.last_push_at if state is not None else None
        reference = last_push or target.created_at
        if reference is None:
            return None
        age = (_aware(ctx.now) - _aware(reference)).total_seconds()
        degraded_after = target.config.get("degraded_after_seconds", 120)
        down_after = target.config.get("down_after_seconds", 300)
        if age <= degraded_after:
            return None
        if last_push is None:
            message = f"no push since the monitor was created {int(age)} s ago"
        else:
            message = f"no push for {int(age)} s"
        if age > down_after:
            return Outcome.down(message)
        return Outcome.degraded(None, message)
