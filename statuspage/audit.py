"""Writing the configuration audit log (``statuspage.models.AuditEntry``).

Call ``record`` inside the transaction of the change it describes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .models import AuditEntry


def record(
    action: str,
    obj: Any,
    *,
    now: datetime,
    actor: Any = None,
    label: str = "",
    changes: dict[str, Any] | None = None,
    object_id: Any = None,
) -> AuditEntry:
    """Record ``action`` on ``obj`` (a model instance; pass ``object_id`` when
    it is already deleted and has lost its primary key)."""
    return AuditEntry.objects.create(
        at=now,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=obj._meta.label,
        object_id=str(object_id if object_id is not None else obj.pk),
        label=(label or str(obj))[:300],
        changes=changes or {},
    )


def snapshot(obj: Any, fields: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The JSON-safe values of ``fields`` on ``obj`` (for ``diff``)."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value if isinstance(value, bool | int | float | str | None) else str(value)
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose value changed."""
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}
