"""Vendor payload fixtures (see README.md for where each comes from) and the
small helpers the parser tests share."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# The "now" every parser test passes: read once, as at the edge.
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


def load(name: str) -> Any:
    """A fresh copy of ``<name>.json`` (tests may mutate it)."""
    with (HERE / f"{name}.json").open(encoding="utf-8") as handle:
        return json.load(handle)


def raw_bytes(name: str) -> bytes:
    """The fixture's bytes exactly as stored (for signature tests)."""
    return (HERE / f"{name}.json").read_bytes()


def mutated(name: str, **changes: Any) -> Any:
    """``load(name)`` with top-level keys replaced (None removes the key)."""
    payload = copy.deepcopy(load(name))
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload
