"""Strict config fields shared by every check kind.

A config is JSON written by a person or a script, so ``"80"`` for a port or
``true`` for a count is a mistake to report, not to guess at. Every string,
list and dict is bounded so hostile input is a validation error, never a
crash or a huge allocation. Also here: small helpers kinds share to word
their outcomes (``timeout_text``, ``classify_os_error``, ``latency_outcome``).
"""

from __future__ import annotations

import ipaddress
import math
import re
import socket
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from .base import Outcome

MAX_LATENCY_THRESHOLD_MS = 600_000
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_MAX_UNKNOWN_REPORTED = 10


def _short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


class StrictInt(serializers.IntegerField):
    """An integer that must be a JSON integer: no strings, floats or booleans.

    Bounds are compared on the int itself (DRF's IntegerField goes through
    ``str()``, which raises on huge numbers)."""

    default_error_messages = {
        "invalid": "Must be an integer (a number without quotes).",
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        if self.max_value is not None and data > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        if self.min_value is not None and data < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        return data

    def run_validators(self, value: Any) -> None:
        # Bounds were checked in to_internal_value; DRF's validators would
        # report them a second time.
        return None


class StrictFloat(serializers.FloatField):
    """A finite JSON number (int or float, not a boolean or a string)."""

    default_error_messages = {"invalid": "Must be a number (without quotes)."}

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        try:
            value = float(data)
        except OverflowError:
            self.fail("invalid")
        if not math.isfinite(value):
            self.fail("invalid")
        if self.max_value is not None and value > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        if self.min_value is not None and value < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        return value

    def run_validators(self, value: Any) -> None:
        return None


class StrictStr(serializers.CharField):
    """A JSON string (numbers are not turned into strings), always bounded."""

    default_error_messages = {"invalid": "Must be a string."}

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(max_length=max_length, **kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # Before CharField's blank check, which calls str() on anything (and
        # str() of a 5000-digit int raises).
        if data is not serializers.empty and data is not None and not isinstance(data, str):
            self.fail("invalid")
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictBool(serializers.BooleanField):
    """``true`` or ``false``, nothing else ("yes", 1 and "true" are rejected)."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictList(serializers.ListField):
    """A JSON array with a required maximum size (checked before the items)."""

    default_error_messages = {"not_a_list": "Must be a list."}

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(max_length=max_length, **kwargs)

    def to_internal_value(self, data: Any) -> list[Any]:
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        if self.min_length is not None and len(data) < self.min_length:
            self.fail("min_length", min_length=self.min_length)
        return super().to_internal_value(data)


class StrictDict(serializers.DictField):
    """A JSON object of string keys with a maximum number of entries."""

    default_error_messages = {
        "not_a_dict": "Must be an object.",
        "too_many": "At most {max_entries} entries.",
    }

    def __init__(self, *, max_entries: int, **kwargs: Any) -> None:
        self.max_entries = max_entries
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            self.fail("not_a_dict", input_type=type(data).__name__)
        if len(data) > self.max_entries:
            self.fail("too_many", max_entries=self.max_entries)
        return super().to_internal_value(data)


def normalise_host(value: str) -> str:
    """Return ``value`` as a lowercase ASCII hostname or a canonical IP address;
    raise ``ValueError`` with a human message otherwise."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if not text:
        raise ValueError("Enter a hostname or an IP address.")
    if "://" in text or "/" in text:
        raise ValueError("Enter a hostname or an IP address, not a URL.")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    host = text.rstrip(".").lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError("Not a valid internationalised hostname.") from exc
    labels = host.split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ValueError(
            "Enter a hostname (letters, digits, '-' and '.') or an IP address, without a port."
        )
    return host


class HostField(StrictStr):
    """A hostname or IP address, normalised by ``normalise_host``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=255, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            return normalise_host(text)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


class StrictConfig(serializers.Serializer):
    """Base config serializer: the input must be an object and unknown keys are
    reported (each under its own name, up to 10 of them)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": ["The config must be a JSON object."]}
            )
        unknown = [key for key in data if key not in self.fields]
        if unknown:
            allowed = ", ".join(sorted(self.fields))
            errors: dict[str, list[str]] = {}
            for key in unknown[:_MAX_UNKNOWN_REPORTED]:
                name = _short(str(key))
                errors[name] = [f"Unknown field {name!r}; the fields are: {allowed}."]
            if len(unknown) > _MAX_UNKNOWN_REPORTED:
                errors["non_field_errors"] = [f"{len(unknown)} unknown fields."]
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def optional_text(max_length: int, *, label: str, help_text: str, exact: bool = False) -> StrictStr:
    """An optional string, blank or null allowed, default None. ``exact`` keeps
    leading and trailing spaces (keywords and expected values compare as typed)."""
    return StrictStr(
        max_length=max_length,
        trim_whitespace=not exact,
        allow_blank=True,
        allow_null=True,
        required=False,
        default=None,
        label=label,
        help_text=help_text,
    )


def degraded_above_field() -> StrictInt:
    return StrictInt(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=MAX_LATENCY_THRESHOLD_MS,
        label="Degraded above (ms)",
        help_text="Latency in milliseconds above which the check is DEGRADED.",
    )


def timeout_text(seconds: float) -> str:
    """``5`` -> ``"timeout after 5s"``, ``0.5`` -> ``"timeout after 0.5s"``."""
    return f"timeout after {seconds:g}s"


def classify_os_error(exc: BaseException, host: str) -> str:
    """A short human message for a connection-level error."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host {_short(host)!r}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def latency_outcome(latency_ms: float, message: str, degraded_above_ms: int | None) -> Outcome:
    """UP, or DEGRADED when ``latency_ms`` is over the configured threshold."""
    if degraded_above_ms is not None and latency_ms > degraded_above_ms:
        return Outcome.degraded(
            latency_ms, f"{message} (slow: {latency_ms:.0f} ms > {degraded_above_ms} ms)"
        )
    return Outcome.up(latency_ms, message)
