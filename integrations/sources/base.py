"""The contract every inbound source implements, and the pure helpers they share.

A *source* is one vendor module in ``integrations.sources`` with one ``Source``
subclass registered under its URL segment (``grafana``, ``alertmanager``...).
It turns exactly what the vendor sends into ``NormalizedAlert`` and
``Deployment`` values. Nothing here touches the database, the network or the
clock: the caller passes the JSON-decoded body, the request headers and
``now`` (read once at the edge).

Contract of ``Source.parse(payload, *, headers, now)``:

* returns a ``ParseResult``; raises ``PayloadError`` (and nothing else) when the
  body is not what the vendor sends. ``PayloadError.field`` names the field
  (``alerts[3].labels``), ``PayloadError.message`` says what is wrong, and
  ``str(error)`` is the whole 400 reason ("alerts[3].labels must be an object");
* unknown extra fields are ignored; very long strings are truncated (titles
  with an ellipsis), never a crash; NUL characters and lone surrogates (which
  PostgreSQL cannot store) become U+FFFD everywhere, ``raw`` included;
* every alert is valid by construction (built through ``make_alert``): a
  severity of ``critical|warning|info``, a status of ``firing|resolved``, aware
  UTC times, a fingerprint of at most 200 characters (longer vendor ids are
  hashed), flat bounded labels, an http(s) link or "";
* alerts in one result have distinct fingerprints (a payload repeating one
  alert keeps the last copy, in the position of the first);
* ``delivery_id`` is the vendor's id for the delivery when it sends one, else
  a digest of the canonical body (``sha256:<hex>``); at most 200 characters.
  The same body again is a replay;
* ``is_test`` marks a vendor test notification: acknowledge it, store nothing.
  Such results carry no alerts.

``Source.verify_signature(body, headers, secret, now)`` checks the vendor's
signature over the raw body bytes. Sources whose vendor signs (``signs``) fail
closed on an empty secret; the others return True. ``secret`` may hold several
secrets, one a line, so an operator can rotate without downtime: any one that
verifies is enough.

Severity tables (``SEVERITY_TABLES``) are documented next to their values;
``docs/integrations.md`` repeats them per source.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

# --- bounds (they match the storage columns built on top of these parsers) ---
MAX_FINGERPRINT = 200
MAX_TITLE = 300
MAX_DESCRIPTION = 10_000
MAX_SERVICE = 200
MAX_ENVIRONMENT = 100
MAX_LINK = 2000
MAX_LABELS = 100
MAX_LABEL_KEY = 200
MAX_LABEL_VALUE = 1000
MAX_DELIVERY_ID = 200
MAX_VERSION = 200
MAX_EXTERNAL_ID = 200
# A request carrying more alerts than this is refused whole rather than
# half-stored: vendors let you cap group sizes (Grafana/Alertmanager max_alerts).
MAX_ALERTS = 1000
# Deeper JSON than this is not something any vendor sends; refusing it keeps
# the recursive helpers far from Python's recursion limit.
MAX_DEPTH = 64

SEVERITIES = ("critical", "warning", "info")
STATUSES = ("firing", "resolved")
DEPLOYMENT_RESULTS = ("success", "failure", "unstable", "aborted", "running")

ELLIPSIS = "\u2026"
REPLACEMENT = "\ufffd"


# ---------------------------------------------------------------- the values


@dataclass(frozen=True)
class NormalizedAlert:
    """One alert as Beacon stores it, whatever the vendor.

    ``fingerprint`` is the dedup key within an integration; ``raw`` is this
    alert's part of the payload as received (for grouped payloads, the one
    element of ``alerts[]``; otherwise the whole body).
    """

    source: str
    fingerprint: str
    title: str
    description: str
    severity: str
    status: str
    service: str
    environment: str
    started_at: datetime | None
    ended_at: datetime | None
    link: str
    labels: dict[str, str]
    raw: dict[str, Any]

    def __post_init__(self) -> None:
        # A guard against programming errors in a vendor module: make_alert
        # always produces valid values, so this never fires on bad input.
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")
        if not self.fingerprint or len(self.fingerprint) > MAX_FINGERPRINT:
            raise ValueError("fingerprint must be 1-200 characters")
        for value in (self.started_at, self.ended_at):
            if value is not None and value.utcoffset() != timedelta(0):
                raise ValueError("times must be aware UTC datetimes")


@dataclass(frozen=True)
class Deployment:
    """A deployment reported by CI/CD (Jenkins, CloudBees)."""

    source: str
    external_id: str
    service: str
    environment: str
    version: str
    result: str
    url: str
    started_at: datetime | None
    finished_at: datetime | None
    raw: dict[str, Any]

    def __post_init__(self) -> None:
        if self.result not in DEPLOYMENT_RESULTS:
            raise ValueError(f"result {self.result!r} is not one of {DEPLOYMENT_RESULTS}")
        if not self.external_id or len(self.external_id) > MAX_EXTERNAL_ID:
            raise ValueError("external_id must be 1-200 characters")


@dataclass(frozen=True)
class ParseResult:
    """What one request carried."""

    alerts: list[NormalizedAlert]
    deployments: list[Deployment]
    is_test: bool = False
    delivery_id: str = ""


class PayloadError(ValueError):
    """The body is not what the vendor sends. ``str(error)`` is the 400 reason.

    ``field`` is the path of the offending field ("" for the body itself) and
    ``message`` the complaint; ``as_dict()`` gives the DRF-style
    ``{field: [message]}`` (the body itself reported under ``non_field_errors``).
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field} {message}" if field else message)

    def as_dict(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": [str(self)]}


# ------------------------------------------------------------ text and JSON


_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WHITESPACE = re.compile(r"\s+")


def clean_text(value: str) -> str:
    """Make a string storable anywhere: NULs and lone surrogates become U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", REPLACEMENT)
    return _SURROGATE.sub(REPLACEMENT, value)


def truncate(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, the last one an ellipsis when cut."""
    if len(value) <= limit:
        return value
    return value[: limit - 1] + ELLIPSIS


def one_line(value: str, limit: int) -> str:
    """A title: control characters dropped, whitespace collapsed, truncated."""
    value = _CONTROL.sub("", clean_text(value))
    return truncate(_WHITESPACE.sub(" ", value).strip(), limit)


def multi_line(value: str, limit: int) -> str:
    """A description: control characters other than newline and tab dropped."""
    value = _CONTROL.sub("", clean_text(value)).replace("\r\n", "\n").replace("\r", "\n")
    return truncate(value.strip(), limit)


def sanitize_json(value: Any, path: str = "body", depth: int = 0) -> Any:
    """A copy of a JSON value with every string (keys too) passed through
    ``clean_text``. Raises PayloadError past ``MAX_DEPTH`` levels or on a value
    JSON cannot hold."""
    if depth > MAX_DEPTH:
        raise PayloadError(path, f"is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        return clean_text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        # json.loads accepts NaN and Infinity; no database JSON column does.
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {
            clean_text(str(key)): sanitize_json(item, f"{path}.{key}", depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            sanitize_json(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)
        ]
    raise PayloadError(path, "is not a JSON value")


def canonical_json(value: Any) -> str:
    """Stable JSON text of a (sanitized) JSON value: sorted keys, no spaces."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def digest(value: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``value``."""
    return _digest_of_clean(sanitize_json(value))


def _digest_of_clean(value: Any) -> str:
    """``digest`` of a value already passed through ``sanitize_json``."""
    return "sha256:" + hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def bounded_id(value: str, limit: int = MAX_FINGERPRINT) -> str:
    """A vendor id as given when short enough, else ``sha256:<hex>`` of it."""
    value = clean_text(value).strip()
    if len(value) <= limit:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def fingerprint_of(*parts: Any) -> str:
    """A fingerprint for vendors without an id: a digest of the given parts."""
    return digest(list(parts))


# ---------------------------------------------------------- typed accessors


def path_of(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def describe_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def require_object(value: Any, path: str) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else PayloadError naming ``path``."""
    if not isinstance(value, Mapping):
        raise PayloadError(path, f"must be an object, not {describe_type(value)}")
    return value


def body_object(payload: Any) -> Mapping[str, Any]:
    """The request body as an object (the usual case)."""
    if not isinstance(payload, Mapping):
        raise PayloadError("", f"The body must be a JSON object, not {describe_type(payload)}.")
    return payload


def opt_object(obj: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    """``obj[key]`` as an object; ``{}`` when missing or null."""
    value = obj.get(key)
    if value is None:
        return {}
    return require_object(value, path_of(path, key))


def opt_list(obj: Mapping[str, Any], key: str, path: str) -> list[Any]:
    """``obj[key]`` as a list; ``[]`` when missing or null."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise PayloadError(path_of(path, key), f"must be a list, not {describe_type(value)}")
    return list(value)


def scalar_text(value: Any, path: str) -> str:
    """A JSON scalar as text: strings as they are, numbers in their JSON form.

    Vendors are loose about ids (``"orgId": 1`` or ``"1"``), so numbers are
    accepted wherever text is; objects, lists and booleans are not.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool):
        raise PayloadError(path, "must be a string, not a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    raise PayloadError(path, f"must be a string, not {describe_type(value)}")


def opt_str(obj: Mapping[str, Any], key: str, path: str) -> str:
    """``obj[key]`` as text ("" when missing or null); wrong types are refused."""
    return scalar_text(obj.get(key), path_of(path, key))


def first_str(obj: Mapping[str, Any], keys: Iterable[str], path: str) -> str:
    """The first non-blank text among ``keys`` of ``obj``."""
    for key in keys:
        value = opt_str(obj, key, path).strip()
        if value:
            return value
    return ""


def opt_bool(obj: Mapping[str, Any], key: str, path: str) -> bool | None:
    """``obj[key]`` as a boolean (also "true"/"false" strings); None when missing."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise PayloadError(path_of(path, key), f"must be a boolean, not {describe_type(value)}")


def opt_number(obj: Mapping[str, Any], key: str, path: str) -> float | None:
    """``obj[key]`` as a finite number (numeric strings accepted); None when missing."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise PayloadError(path_of(path, key), "must be a number, not a boolean")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise PayloadError(path_of(path, key), "must be a number") from None
    else:
        raise PayloadError(path_of(path, key), f"must be a number, not {describe_type(value)}")
    if not math.isfinite(number):
        raise PayloadError(path_of(path, key), "must be a finite number")
    return number


def unresolved(value: str) -> bool:
    """True for a template placeholder the vendor left unfilled (``$ALERT_ID``,
    ``{ProblemID}``, ``{{ .Labels.x }}``): such values carry no information."""
    value = value.strip()
    return bool(
        re.fullmatch(r"\$[A-Z][A-Z0-9_]*", value)
        or re.fullmatch(r"\{[A-Za-z][A-Za-z0-9_]*\}", value)
        or (value.startswith("{{") and value.endswith("}}"))
    )


# -------------------------------------------------------------------- time

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"
)
# Epoch values above this are milliseconds: 1e11 seconds is the year 5138.
_MS_THRESHOLD = 1e11


def _from_epoch(number: float, path: str) -> datetime | None:
    if not math.isfinite(number):
        raise PayloadError(path, "must be a finite timestamp")
    if number <= 0:
        # 0 and -1 are how vendors say "not yet" (Dynatrace endTime -1).
        return None
    seconds = number / 1000 if number > _MS_THRESHOLD else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(path, "is out of range") from None


def _from_text(text: str, path: str) -> datetime | None:
    match = _RFC3339.match(text)
    if match is None:
        raise PayloadError(path, f"is not a date-time: {truncate(text, 60)!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if int(year) <= 1:
        # Go's zero time ("0001-01-01T00:00:00Z"): Grafana and Alertmanager
        # send it as endsAt of a firing alert, meaning "no end".
        return None
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if zone in (None, "Z", "z", "UTC", "GMT"):
        tz: timezone = UTC
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        if offset >= timedelta(hours=24):
            raise PayloadError(path, "has an impossible time-zone offset")
        tz = timezone(sign * offset)
    try:
        value = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tz
        )
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise PayloadError(path, f"is not a valid date-time: {truncate(text, 60)!r}") from None


def parse_time(value: Any, path: str, *, lenient: bool = False) -> datetime | None:
    """A vendor time as an aware UTC datetime, or None for "no time".

    Accepts RFC 3339 / ISO 8601 (with or without fraction, of any length; "Z",
    "+hh:mm", "+hhmm", "UTC"; naive values are UTC), epoch seconds or
    milliseconds as numbers or numeric strings. Go's zero time, 0, negative
    epochs, "" and null mean no time. Wrong types always raise PayloadError;
    an unparseable string raises too unless ``lenient`` (then None).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise PayloadError(path, "must be a date-time, not a boolean")
    if isinstance(value, int | float):
        return _from_epoch(float(value), path)
    if not isinstance(value, str):
        raise PayloadError(path, f"must be a date-time, not {describe_type(value)}")
    text = value.strip()
    if not text or unresolved(text):
        return None
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return _from_epoch(float(text), path)
        return _from_text(text, path)
    except PayloadError:
        if lenient:
            return None
        raise


# ------------------------------------------------------------------ labels


def label_value(value: Any) -> str:
    """A label value as flat text: nested values become compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return scalar_text(value, "")
    return canonical_json(sanitize_json(value))


def flatten_labels(value: Any, path: str) -> dict[str, str]:
    """A vendor label map as a flat, bounded ``str -> str`` dict.

    The object is required to be an object (else PayloadError naming ``path``);
    keys and values are cleaned, values of other JSON types flattened
    (``label_value``); the first ``MAX_LABELS`` keys are kept, keys cut to
    ``MAX_LABEL_KEY`` and values to ``MAX_LABEL_VALUE`` characters.
    """
    if value is None:
        return {}
    mapping = require_object(value, path)
    labels: dict[str, str] = {}
    for key, item in mapping.items():
        if len(labels) >= MAX_LABELS:
            break
        name = truncate(clean_text(str(key)).strip(), MAX_LABEL_KEY)
        if not name:
            continue
        labels[name] = truncate(clean_text(label_value(item)), MAX_LABEL_VALUE)
    return labels


def merge_labels(*maps: Mapping[str, str]) -> dict[str, str]:
    """Later maps win; the result stays within the label bounds."""
    merged: dict[str, str] = {}
    for mapping in maps:
        for key, value in mapping.items():
            if key in merged or len(merged) < MAX_LABELS:
                merged[key] = value
    return merged


def parse_tags(tags: Any, path: str) -> dict[str, str]:
    """Vendor tags as labels: ``"key:value"`` pairs in a comma-separated string
    or a list (Datadog ``$TAGS``, Dynatrace ``{Tags}``); a bare tag becomes a key
    with an empty value. Dynatrace context prefixes (``[Kubernetes]app:x``)
    are dropped. Lists of ``{"name"|"key", "value"}`` objects (BigPanda) work too.
    """
    if tags is None or tags == "":
        return {}
    if isinstance(tags, str):
        items: list[Any] = [part for part in tags.split(",")]
    elif isinstance(tags, list | tuple):
        items = list(tags)
    elif isinstance(tags, Mapping):
        return flatten_labels(tags, path)
    else:
        raise PayloadError(path, f"must be a string or a list, not {describe_type(tags)}")
    labels: dict[str, str] = {}
    for index, item in enumerate(items):
        if isinstance(item, Mapping):
            key = first_str(item, ("name", "key", "tag_id"), path_of(path, index))
            value = label_value(item.get("value", item.get("tag_value")))
        else:
            text = scalar_text(item, path_of(path, index)).strip()
            text = re.sub(r"^\[[^\]]*\]\s*", "", text)
            if unresolved(text):
                continue
            key, _, value = text.partition(":")
        key = truncate(clean_text(key).strip(), MAX_LABEL_KEY)
        if not key:
            continue
        if key not in labels and len(labels) >= MAX_LABELS:
            continue
        labels[key] = truncate(clean_text(value).strip(), MAX_LABEL_VALUE)
    return labels


SERVICE_KEYS = ("service", "service_name", "app", "application", "job")
ENVIRONMENT_KEYS = ("env", "environment", "deployment_environment", "stage")


def pick_label(labels: Mapping[str, str], keys: Iterable[str]) -> str:
    """The first non-blank label among ``keys`` (compared case-insensitively)."""
    lowered = {key.lower().replace(".", "_").replace("-", "_"): v for key, v in labels.items()}
    for key in keys:
        value = lowered.get(key, "").strip()
        if value:
            return value
    return ""


def service_from_labels(labels: Mapping[str, str]) -> str:
    """Service from labels ``service``, ``service_name``, ``app``,
    ``application``, then ``job`` (Prometheus' scrape job)."""
    return pick_label(labels, SERVICE_KEYS)


def environment_from_labels(labels: Mapping[str, str]) -> str:
    """Environment from labels ``env``, ``environment``,
    ``deployment_environment`` (OpenTelemetry), then ``stage``."""
    return pick_label(labels, ENVIRONMENT_KEYS)


# -------------------------------------------------------------------- links


def safe_url(value: str) -> str:
    """``value`` when it is an absolute http(s) URL of at most 2000
    characters, else "". Other schemes (``javascript:``...) never become links."""
    value = clean_text(value).strip()
    if len(value) > MAX_LINK or any(ch.isspace() for ch in value):
        return ""
    if re.match(r"^https?://[^/\s]", value, re.IGNORECASE):
        return value
    return ""


# -------------------------------------------------------------- severities

SEVERITY_TABLES: dict[str, dict[str, str]] = {
    # Prometheus / Grafana / Alertmanager ``severity`` label and the generic
    # endpoint. There is no standard; these are the values seen in the wild.
    "prometheus": {
        **dict.fromkeys(
            (
                "critical",
                "crit",
                "fatal",
                "emergency",
                "emerg",
                "alert",
                "error",
                "err",
                "high",
                "page",
                "disaster",
                "p1",
                "p2",
                "sev1",
                "sev2",
                "sev-1",
                "sev-2",
            ),
            "critical",
        ),
        **dict.fromkeys(
            ("warning", "warn", "medium", "moderate", "average", "major", "minor", "p3", "sev3"),
            "warning",
        ),
        **dict.fromkeys(
            (
                "info",
                "information",
                "informational",
                "notice",
                "low",
                "none",
                "debug",
                "ok",
                "p4",
                "p5",
                "sev4",
                "sev5",
            ),
            "info",
        ),
    },
    # Datadog $ALERT_TYPE.
    "datadog_alert_type": {
        "error": "critical",
        "warning": "warning",
        "info": "info",
        "success": "info",
    },
    # Datadog $ALERT_PRIORITY (monitor priority).
    "datadog_priority": {
        "p1": "critical",
        "p2": "critical",
        "p3": "warning",
        "p4": "info",
        "p5": "info",
    },
    # Netdata Cloud ``severity``.
    "netdata": {"critical": "critical", "warning": "warning", "clear": "info", "info": "info"},
    # PagerDuty incident priority summary, then urgency.
    "pagerduty_priority": {
        "p1": "critical",
        "p2": "critical",
        "p3": "warning",
        "p4": "info",
        "p5": "info",
    },
    "pagerduty_urgency": {"high": "critical", "low": "warning"},
    # Splunk alert severity (1 debug .. 6 fatal) and Enterprise Security urgency.
    "splunk": {
        "1": "info",
        "2": "info",
        "3": "warning",
        "4": "critical",
        "5": "critical",
        "6": "critical",
        "debug": "info",
        "info": "info",
        "informational": "info",
        "low": "info",
        "warn": "warning",
        "warning": "warning",
        "medium": "warning",
        "error": "critical",
        "high": "critical",
        "severe": "critical",
        "critical": "critical",
        "fatal": "critical",
    },
    # Dynatrace {ProblemSeverity}.
    "dynatrace": {
        "availability": "critical",
        "error": "critical",
        "performance": "warning",
        "resource_contention": "warning",
        "custom_alert": "warning",
        "monitoring_unavailable": "warning",
        "info": "info",
    },
    # BigPanda incident / alert status and severity.
    "bigpanda": {"critical": "critical", "warning": "warning", "unknown": "warning", "ok": "info"},
}


def map_severity(table: str, value: str, default: str = "") -> str:
    """``value`` looked up (case-insensitively) in ``SEVERITY_TABLES[table]``;
    ``default`` when absent."""
    return SEVERITY_TABLES[table].get(clean_text(value).strip().lower(), default)


# ----------------------------------------------------------------- headers


def get_header(headers: Mapping[str, str], name: str) -> str:
    """A request header by name, case-insensitively ("" when absent)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, item in headers.items():
            if isinstance(key, str) and key.lower() == lowered:
                value = item
                break
    return value if isinstance(value, str) else ""


def split_secrets(secret: str) -> list[str]:
    """The integration's secrets: one a line, blank lines ignored (rotation)."""
    return [line.strip() for line in secret.splitlines() if line.strip()]


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def constant_time_equal(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


# ----------------------------------------------------------------- builders


def make_alert(
    *,
    source: str,
    fingerprint: str,
    title: str,
    status: str,
    severity: str,
    raw: Mapping[str, Any],
    description: str = "",
    service: str = "",
    environment: str = "",
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    link: str = "",
    labels: Mapping[str, str] | None = None,
) -> NormalizedAlert:
    """A ``NormalizedAlert`` with every bound applied: the only way vendor
    modules build one. An empty title becomes "(no title)"; an unknown severity
    "warning"; a resolved alert without an end ends at its start (the caller
    passes ``now`` when it has nothing better)."""
    labels = dict(labels or {})
    if len(labels) > MAX_LABELS:
        labels = dict(list(labels.items())[:MAX_LABELS])
    return NormalizedAlert(
        source=source,
        fingerprint=bounded_id(fingerprint) or fingerprint_of(source, dict(raw)),
        title=one_line(title, MAX_TITLE) or "(no title)",
        description=multi_line(description, MAX_DESCRIPTION),
        severity=severity if severity in SEVERITIES else "warning",
        status=status if status in STATUSES else "firing",
        service=one_line(service, MAX_SERVICE),
        environment=one_line(environment, MAX_ENVIRONMENT),
        started_at=started_at,
        ended_at=ended_at if status == "resolved" else None,
        link=safe_url(link),
        labels={
            truncate(clean_text(k), MAX_LABEL_KEY): truncate(clean_text(v), MAX_LABEL_VALUE)
            for k, v in labels.items()
        },
        raw=sanitize_json(dict(raw)),
    )


def make_deployment(
    *,
    source: str,
    external_id: str,
    result: str,
    raw: Mapping[str, Any],
    service: str = "",
    environment: str = "",
    version: str = "",
    url: str = "",
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
) -> Deployment:
    """A ``Deployment`` with every bound applied."""
    return Deployment(
        source=source,
        external_id=bounded_id(external_id, MAX_EXTERNAL_ID) or fingerprint_of(source, dict(raw)),
        service=one_line(service, MAX_SERVICE),
        environment=one_line(environment, MAX_ENVIRONMENT),
        version=one_line(version, MAX_VERSION),
        result=result,
        url=safe_url(url),
        started_at=started_at,
        finished_at=finished_at,
        raw=sanitize_json(dict(raw)),
    )


def dedupe(alerts: Iterable[NormalizedAlert]) -> list[NormalizedAlert]:
    """One alert per fingerprint: the last copy wins, in the first one's place."""
    by_fingerprint: dict[str, NormalizedAlert] = {}
    for alert in alerts:
        by_fingerprint[alert.fingerprint] = alert
    return list(by_fingerprint.values())


# ------------------------------------------------------------ the base class


class Source:
    """One vendor. Subclasses set the class attributes and implement ``_parse``
    (and ``verify_signature`` when the vendor signs)."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    endpoint: ClassVar[str] = ""
    # False for vendors that never send a resolve (Splunk, Datadog's default
    # body): their alerts close after the integration's quiet period.
    sends_resolve: ClassVar[bool] = True
    # True when the vendor signs its requests (a secret is then meaningful).
    signs: ClassVar[bool] = False
    # Top-level body types the vendor may send.
    accepts_list: ClassVar[bool] = False

    def parse(self, payload: Any, *, headers: Mapping[str, str], now: datetime) -> ParseResult:
        """The alerts and deployments in ``payload``; PayloadError if malformed."""
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        now = now.astimezone(UTC)
        if not (isinstance(payload, Mapping) or (self.accepts_list and isinstance(payload, list))):
            raise PayloadError("", f"The body must be a JSON object, not {describe_type(payload)}.")
        try:
            # Refuse absurd nesting up front so no helper below can recurse
            # too deep on it.
            sanitized = sanitize_json(payload)
            result = self._parse(payload, headers=headers, now=now)
        except RecursionError:
            raise PayloadError("", "The body is nested too deeply.") from None
        if len(result.alerts) > MAX_ALERTS:
            raise PayloadError("alerts", f"holds more than {MAX_ALERTS} alerts")
        delivery_id = bounded_id(result.delivery_id, MAX_DELIVERY_ID) or _digest_of_clean(sanitized)
        if result.is_test:
            return ParseResult(alerts=[], deployments=[], is_test=True, delivery_id=delivery_id)
        return ParseResult(
            alerts=dedupe(result.alerts),
            deployments=list(result.deployments),
            is_test=False,
            delivery_id=delivery_id,
        )

    def _parse(
        self, payload: Any, *, headers: Mapping[str, str], now: datetime
    ) -> ParseResult:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def verify_signature(
        self, body: bytes, headers: Mapping[str, str], secret: str, now: datetime
    ) -> bool:
        """True when the request is signed with (one of) ``secret``; vendors
        without a signature scheme always pass."""
        return True


REGISTRY: dict[str, type[Source]] = {}


def register(source_class: type[Source]) -> type[Source]:
    """Class decorator: add a source to the registry under its ``name``."""
    if not source_class.name or source_class.name in REGISTRY:
        raise ValueError(f"source name {source_class.name!r} is empty or taken")
    REGISTRY[source_class.name] = source_class
    return source_class


def get(name: str) -> Source:
    """An instance of the source registered as ``name``; KeyError if none."""
    import integrations.sources  # noqa: F401  (importing the package registers every module)

    return REGISTRY[name]()
