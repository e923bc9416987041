"""Group check: the worst current status of other monitors.

Config (normalised): ``{"members": ["api", "web", ...]}``: 1-200 unique monitor
tags (``TAG_PATTERN``, at most 64 characters). Whether they exist is checked
where monitors are saved, not here. ``member_tags`` returns them so the engine
fills ``ctx.members[group_id]`` with their ids and ``ctx.states`` with their
snapshots.

``run`` rolls the members' current statuses up: DOWN if any is DOWN, else
DEGRADED if any is, else UP. Members without a status yet (never checked,
paused, deleted) are ignored; when no member has a status the group has
nothing to say yet and ``run`` returns ``None`` (no result recorded) rather
than a DOWN that would page someone about monitors that simply have not run.
The message names the members down and degraded ("down: api, web; degraded:
db"), using ``ctx.tags`` (member id -> tag) when the engine provides it and
"#id" otherwise. Latency: None.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from monitors.models import STATUS_SEVERITY, TAG_PATTERN, Status

from . import register
from .base import Check, CheckTarget, Outcome, RunContext
from .fields import StrictConfig, StrictList, StrictStr

MAX_MEMBERS = 200
_TAG = re.compile(TAG_PATTERN)
_MAX_NAMED = 10


def _names(labels: list[str]) -> str:
    shown = ", ".join(labels[:_MAX_NAMED])
    if len(labels) > _MAX_NAMED:
        shown += f" and {len(labels) - _MAX_NAMED} more"
    return shown


class TagField(StrictStr):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=64, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        tag = super().to_internal_value(data)
        if not _TAG.match(tag):
            raise serializers.ValidationError(
                f"{tag[:64]!r} is not a monitor tag (lowercase letters, digits, '-' or '_')."
            )
        return tag


@register
class GroupCheck(Check):
    kind = "group"
    label = "Group"

    class Config(StrictConfig):
        members = StrictList(
            child=TagField(),
            min_length=1,
            max_length=MAX_MEMBERS,
            label="Members",
            help_text="Tags of existing monitors (1-200); the group shows their worst status.",
        )

        def validate_members(self, value: list[str]) -> list[str]:
            seen: set[str] = set()
            duplicates: list[str] = []
            for tag in value:
                if tag in seen and tag not in duplicates:
                    duplicates.append(tag)
                seen.add(tag)
            if duplicates:
                raise serializers.ValidationError(
                    f"Each member once: {_names(duplicates)} repeated."
                )
            return value

    def member_tags(self, config: dict[str, Any]) -> list[str]:
        return list(config.get("members") or [])

    async def run(self, target: CheckTarget, ctx: RunContext) -> Outcome | None:
        tags = ctx.tags
        down: list[str] = []
        degraded: list[str] = []
        known = 0
        for member_id in ctx.members.get(target.monitor_id, []):
            state = ctx.states.get(member_id)
            if state is None or state.status not in STATUS_SEVERITY:
                continue
            known += 1
            label = tags.get(member_id) or f"#{member_id}"
            if state.status == Status.DOWN:
                down.append(label)
            elif state.status == Status.DEGRADED:
                degraded.append(label)
        if not known:
            return None
        parts = []
        if down:
            parts.append(f"down: {_names(down)}")
        if degraded:
            parts.append(f"degraded: {_names(degraded)}")
        if down:
            return Outcome.down("; ".join(parts))
        if degraded:
            return Outcome.degraded(None, "; ".join(parts))
        return Outcome.up(None, f"all {known} members up" if known > 1 else "1 member up")
