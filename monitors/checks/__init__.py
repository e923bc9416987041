"""Check kinds: one module per kind behind ``base.Check``, and the registry.

``get_check(kind)`` returns the runner; ``validate_config(kind, data)``
validates a config with the kind's serializer and returns the normalised dict,
raising a DRF ``ValidationError`` whose keys name the bad fields.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from .base import Check, CheckTarget, Outcome, RunContext, StateSnapshot, ssl_context

REGISTRY: dict[str, Check] = {}


def register(check_class: type[Check]) -> type[Check]:
    """Class decorator: add a kind to the registry."""
    REGISTRY[check_class.kind] = check_class()
    return check_class


def get_check(kind: str) -> Check:
    """The runner for ``kind``; KeyError for an unknown kind."""
    _load_kinds()
    return REGISTRY[kind]


def validate_config(kind: str, data: Any, *, context: dict[str, Any] | None = None) -> dict:
    """Validate ``data`` as ``kind``'s config and return it normalised."""
    _load_kinds()
    if kind not in REGISTRY:
        raise serializers.ValidationError({"kind": [f"Unknown kind {kind!r}."]})
    if not isinstance(data, dict):
        raise serializers.ValidationError(["The config must be a JSON object."])
    serializer = REGISTRY[kind].Config(data=data, context=context or {})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


_loaded = False


def _load_kinds() -> None:
    global _loaded
    if _loaded:
        return
    from . import dns, group, heartbeat, http, ping, tcp, tls  # noqa: F401

    _loaded = True


__all__ = [
    "REGISTRY",
    "Check",
    "CheckTarget",
    "Outcome",
    "RunContext",
    "StateSnapshot",
    "get_check",
    "register",
    "ssl_context",
    "validate_config",
]
