"""HTTP(S) check.

Config (normalised by ``HttpCheck.Config``; every key is present afterwards)::

    {
      "url": "https://example.com/health",   # http/https only, <= 2048 chars
      "method": "GET",                        # GET HEAD POST PUT PATCH DELETE OPTIONS
      "headers": {"Authorization": "Bearer $API_TOKEN"},   # <= 50, str -> str
      "body": "",                             # request body, <= 64 KiB
      "expected_status": ["200-399"],         # list of "NNN" or "NNN-MMM" strings
      "keyword": None,                        # must appear in the body
      "forbidden_keyword": None,              # must not appear in the body
      "json_path": None,                      # e.g. "data.items[0].status"
      "json_expected": None,                  # compared as a string
      "follow_redirects": True,
      "verify_tls": True,
      "degraded_above_ms": None,              # int: slower than this -> DEGRADED
    }

``expected_status`` accepts ints (``200``) and strings (``"200"``,
``"200-299"``) and is stored as strings: a single code ``"200"`` or an
inclusive range ``"200-299"``, codes 100-599.

Secrets: ``$NAME`` and ``${NAME}`` in ``url``, ``headers`` values and ``body``
are replaced from the process environment **at run time** (``$$`` is a literal
``$``), so tokens stay out of the database; a missing variable makes the check
DOWN with a message naming it. Substituted values are scrubbed from messages.
Only variables whose name starts with ``settings.BEACON_CHECK_ENV_PREFIX``
(``CHECK_`` by default) are available: otherwise whoever may edit monitors
could send any variable of the worker (the secret key, ``DATABASE_URL``) to a
URL of their choice. An empty prefix lifts the restriction.

The body is read (at most ``MAX_BODY_BYTES``, decompressed) only when a
keyword or JSON check needs it; latency is measured up to the response headers,
plus that body read. Keywords are case-sensitive substrings of the decoded body.

JSON path: a hand-written subset (dotted keys and ``[index]``, e.g.
``data.items[0].status`` or ``[0].id``) rather than a JSONPath library: the
subset is all a health check needs, it is unambiguous, cannot run expressions
or filters on untrusted documents, and costs no dependency. Keys containing
``.``, ``[`` or ``]`` cannot be addressed. The value found is compared as a
string: strings as they are, other values as compact JSON (``true``, ``null``,
``1.5``, ``{"a":1}``).

Clients: one ``httpx.AsyncClient`` per (verify_tls, follow_redirects) per batch,
kept in ``RunContext.http`` and closed by ``RunContext.aclose``; built by
``statuspage.http_client`` with the process-wide SSL contexts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from rest_framework import serializers

from statuspage.http_client import async_client

from . import register
from .base import Check, CheckTarget, Outcome, RunContext, ssl_context
from .fields import (
    StrictBool,
    StrictConfig,
    StrictDict,
    StrictList,
    StrictStr,
    degraded_above_field,
    latency_outcome,
    optional_text,
    timeout_text,
)

MAX_BODY_BYTES = 1024 * 1024
MAX_URL_LENGTH = 2048
MAX_HEADERS = 50
MAX_REQUEST_BODY = 64 * 1024
MAX_JSON_PATH_TOKENS = 64
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DEFAULT_EXPECTED_STATUS = ["200-399"]

_VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")
_STATUS = re.compile(r"^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$")
_SEGMENT = re.compile(r"([^.\[\]]*)((?:\[\d{1,9}\])*)")
_INDEX = re.compile(r"\[(\d+)\]")


# --- environment substitution -------------------------------------------------


class MissingVariable(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def substitute(text: str, used: dict[str, str]) -> str:
    """Replace ``$NAME`` / ``${NAME}`` from ``os.environ``; ``$$`` -> ``$``.
    Records the values used in ``used`` (to scrub them from messages)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return "$"
        name = match.group(2) or match.group(3)
        prefix = settings.BEACON_CHECK_ENV_PREFIX
        value = os.environ.get(name) if name.startswith(prefix) else None
        if value is None:
            raise MissingVariable(name)
        used[name] = value
        return value

    return _VARIABLE.sub(replace, text)


def scrub(message: str, used: dict[str, str]) -> str:
    """Put ``$NAME`` back in place of substituted values in ``message``."""
    for name, value in sorted(used.items(), key=lambda item: -len(item[1])):
        if len(value) >= 3:
            message = message.replace(value, f"${name}")
    return message


# --- expected status codes --------------------------------------------------------


def parse_status_spec(spec: str) -> tuple[int, int]:
    match = _STATUS.match(spec)
    if not match:
        raise ValueError(f"{spec!r} is not a status code or a range like 200-299.")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if not 100 <= low <= 599 or not 100 <= high <= 599:
        raise ValueError("Status codes are between 100 and 599.")
    if high < low:
        raise ValueError(f"The range {low}-{high} is empty.")
    return low, high


def status_matches(code: int, specs: list[str]) -> bool:
    for spec in specs:
        low, high = parse_status_spec(spec)
        if low <= code <= high:
            return True
    return False


class StatusSpecField(serializers.Field):
    default_error_messages = {"invalid": 'Use a status code (200) or a range ("200-299").'}

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, str) and len(data) > 20:
            self.fail("invalid")
        text = str(data) if isinstance(data, int) else data
        if isinstance(data, int) and not 100 <= data <= 599:
            raise serializers.ValidationError("Status codes are between 100 and 599.")
        try:
            low, high = parse_status_spec(text)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return str(low) if low == high else f"{low}-{high}"

    def to_representation(self, value: Any) -> str:
        return str(value)


# --- JSON path -------------------------------------------------------------------------


def parse_json_path(path: str) -> list[str | int]:
    """``"data.items[0].status"`` -> ``["data", "items", 0, "status"]``."""
    tokens: list[str | int] = []
    for position, part in enumerate(path.split(".")):
        match = _SEGMENT.fullmatch(part)
        if match is None:
            raise ValueError(f"Cannot read the part {part[:40]!r} of the path.")
        name, indexes = match.groups()
        if name:
            tokens.append(name)
        elif position > 0 or not indexes:
            raise ValueError("Empty part in the path (check the dots).")
        tokens.extend(int(index) for index in _INDEX.findall(indexes))
    if len(tokens) > MAX_JSON_PATH_TOKENS:
        raise ValueError(f"At most {MAX_JSON_PATH_TOKENS} parts.")
    return tokens


_MISSING = object()


def resolve_json_path(document: Any, tokens: list[str | int]) -> Any:
    """The value at ``tokens`` in ``document`` or ``_MISSING``."""
    value = document
    for token in tokens:
        if isinstance(token, int):
            if not isinstance(value, list) or token >= len(value):
                return _MISSING
            value = value[token]
        else:
            if not isinstance(value, dict) or token not in value:
                return _MISSING
            value = value[token]
    return value


def json_value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _quote(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


# --- errors -> messages -----------------------------------------------------------------


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def describe_http_error(exc: Exception, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return timeout_text(timeout)
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return f"invalid URL: {exc}"
    for link in _chain(exc):
        if isinstance(link, ssl.SSLCertVerificationError):
            return f"TLS certificate verification failed: {link.verify_message}"
        if isinstance(link, ssl.SSLError):
            return f"TLS error: {link.reason or link}"
        if isinstance(link, ConnectionRefusedError):
            return "connection refused"
    text = str(exc)
    lowered = text.lower()
    if "connection refused" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "cannot resolve host"
    if "temporary failure in name resolution" in lowered:
        return "cannot resolve host (temporary DNS failure)"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- the kind ---------------------------------------------------------------------------


@register
class HttpCheck(Check):
    kind = "http"
    label = "HTTP(S)"

    class Config(StrictConfig):
        url = StrictStr(
            max_length=MAX_URL_LENGTH,
            label="URL",
            help_text="http:// or https:// URL; $CHECK_NAME is replaced from the worker's "
            "environment.",
        )
        method = StrictStr(
            max_length=10,
            required=False,
            default="GET",
            label="Method",
            help_text="GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS; default GET.",
        )
        headers = StrictDict(
            max_entries=MAX_HEADERS,
            child=StrictStr(max_length=8192, trim_whitespace=False, allow_blank=True),
            required=False,
            default=dict,
            label="Headers",
            help_text="Request headers (at most 50); values may use $CHECK_NAME.",
        )
        body = StrictStr(
            max_length=MAX_REQUEST_BODY,
            trim_whitespace=False,
            allow_blank=True,
            required=False,
            default="",
            label="Request body",
            help_text="Sent with the request (at most 64 KiB); may use $CHECK_NAME.",
        )
        expected_status = StrictList(
            child=StatusSpecField(),
            min_length=1,
            max_length=50,
            required=False,
            default=lambda: list(DEFAULT_EXPECTED_STATUS),
            label="Expected status",
            help_text="Codes or inclusive ranges, e.g. 200 or 200-299; default 200-399.",
        )
        keyword = optional_text(
            1000,
            exact=True,
            label="Keyword",
            help_text="Text the response body must contain (case-sensitive).",
        )
        forbidden_keyword = optional_text(
            1000,
            exact=True,
            label="Forbidden keyword",
            help_text="Text the response body must not contain (case-sensitive).",
        )
        json_path = optional_text(
            512,
            label="JSON path",
            help_text="Dotted keys and [index] into a JSON body, e.g. data.items[0].status.",
        )
        json_expected = optional_text(
            1000,
            exact=True,
            label="JSON expected value",
            help_text="The value at the JSON path, compared as text (true, null, 3 for "
            "non-strings).",
        )
        follow_redirects = StrictBool(
            required=False,
            default=True,
            label="Follow redirects",
            help_text="Off: a redirect's own 3xx status is checked.",
        )
        verify_tls = StrictBool(
            required=False,
            default=True,
            label="Verify TLS certificate",
            help_text="Off for self-signed certificates (not recommended otherwise).",
        )
        degraded_above_ms = degraded_above_field()

        def validate_url(self, value: str) -> str:
            if any(ord(char) < 33 or ord(char) == 127 for char in value):
                raise serializers.ValidationError("The URL may not contain spaces.")
            try:
                parts = urlsplit(value)
            except ValueError as exc:
                raise serializers.ValidationError(f"Not a valid URL: {exc}") from None
            if parts.scheme.lower() not in ("http", "https"):
                raise serializers.ValidationError("Use an http:// or https:// URL.")
            if not parts.netloc:
                raise serializers.ValidationError("The URL needs a host.")
            return value

        def validate_method(self, value: str) -> str:
            method = value.upper()
            if method not in METHODS:
                raise serializers.ValidationError(f"Use one of {', '.join(METHODS)}.")
            return method

        def validate_headers(self, value: dict[str, str]) -> dict[str, str]:
            for name, header_value in value.items():
                if not _HEADER_NAME.match(name):
                    raise serializers.ValidationError(
                        f"{_quote(name, 40)} is not a valid header name."
                    )
                if any(char in header_value for char in "\r\n\0"):
                    raise serializers.ValidationError(
                        f"The value of {name} may not contain line breaks."
                    )
            return value

        def validate_keyword(self, value: str | None) -> str | None:
            return value or None

        def validate_forbidden_keyword(self, value: str | None) -> str | None:
            return value or None

        def validate_json_path(self, value: str | None) -> str | None:
            if not value:
                return None
            try:
                parse_json_path(value)
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from None
            return value

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            body_checks = ("keyword", "forbidden_keyword", "json_path")
            if attrs.get("method") == "HEAD" and any(attrs.get(key) for key in body_checks):
                raise serializers.ValidationError(
                    {"method": ["A HEAD response has no body to search: use GET."]}
                )
            if attrs.get("json_path") and attrs.get("json_expected") is None:
                raise serializers.ValidationError(
                    {"json_expected": ["Give the value expected at json_path."]}
                )
            if attrs.get("json_expected") is not None and not attrs.get("json_path"):
                raise serializers.ValidationError(
                    {"json_path": ["Give the JSON path whose value is expected."]}
                )
            return attrs

    def _client(self, ctx: RunContext, verify: bool, follow: bool, timeout: float) -> Any:
        key = f"httpx:verify={verify}:follow={follow}"
        client = ctx.http.get(key)
        if client is None:
            client = async_client(
                verify=ssl_context(verify), follow_redirects=follow, timeout=timeout
            )
            ctx.http[key] = client
        return client

    async def run(self, target: CheckTarget, ctx: RunContext) -> Outcome | None:
        config = target.config
        used: dict[str, str] = {}
        try:
            url = substitute(config["url"], used)
            headers = {
                name: substitute(value, used)
                for name, value in (config.get("headers") or {}).items()
            }
            body = substitute(config.get("body") or "", used)
        except MissingVariable as exc:
            prefix = settings.BEACON_CHECK_ENV_PREFIX
            if not exc.name.startswith(prefix):
                return Outcome.down(
                    f"environment variable {exc.name} is not available to checks "
                    f"(only {prefix}* variables are)"
                )
            return Outcome.down(f"environment variable {exc.name} is not set")
        for name, value in headers.items():
            if any(char in value for char in "\r\n\0"):
                return Outcome.down(f"header {name} contains a line break after substitution")
        outcome = await self._request(target, ctx, url, headers, body)
        if used and outcome.message:
            outcome = dataclasses.replace(outcome, message=scrub(outcome.message, used))
        return outcome

    async def _request(
        self,
        target: CheckTarget,
        ctx: RunContext,
        url: str,
        headers: dict[str, str],
        body: str,
    ) -> Outcome:
        config = target.config
        timeout = target.timeout_seconds
        method = config.get("method", "GET")
        keyword = config.get("keyword")
        forbidden = config.get("forbidden_keyword")
        json_path = config.get("json_path")
        need_body = method != "HEAD" and bool(keyword or forbidden or json_path)
        client = self._client(
            ctx, config.get("verify_tls", True), config.get("follow_redirects", True), timeout
        )
        content = body.encode() if body else None
        started = time.perf_counter()
        raw = b""
        truncated = False
        try:
            async with asyncio.timeout(timeout):
                async with client.stream(
                    method, url, headers=headers, content=content, timeout=timeout
                ) as response:
                    if need_body:
                        chunks: list[bytes] = []
                        size = 0
                        async for chunk in response.aiter_bytes():
                            chunks.append(chunk)
                            size += len(chunk)
                            if size >= MAX_BODY_BYTES:
                                truncated = True
                                break
                        raw = b"".join(chunks)[:MAX_BODY_BYTES]
                    latency_ms = (time.perf_counter() - started) * 1000
        except TimeoutError:
            return Outcome.down(timeout_text(timeout))
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return Outcome.down(describe_http_error(exc, timeout))
        except (OSError, ssl.SSLError) as exc:
            return Outcome.down(describe_http_error(exc, timeout))

        code = response.status_code
        status_text = f"{code} {response.reason_phrase}".strip()
        expected = config.get("expected_status") or DEFAULT_EXPECTED_STATUS
        if not status_matches(code, expected):
            return Outcome.down(
                f"expected status {', '.join(expected)}, got {status_text}", latency_ms
            )
        if need_body:
            text = _decode(raw, response.encoding)
            if keyword and keyword not in text:
                suffix = " (in the first 1 MB)" if truncated else ""
                return Outcome.down(f"keyword {_quote(keyword)} not found{suffix}", latency_ms)
            if forbidden and forbidden in text:
                return Outcome.down(f"forbidden keyword {_quote(forbidden)} found", latency_ms)
            if json_path:
                failure = _check_json(text, json_path, config.get("json_expected"), truncated)
                if failure:
                    return Outcome.down(failure, latency_ms)
        return latency_outcome(latency_ms, status_text, config.get("degraded_above_ms"))


def _decode(raw: bytes, encoding: str | None) -> str:
    try:
        return raw.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _check_json(text: str, path: str, expected: str | None, truncated: bool) -> str | None:
    """None when the value at ``path`` equals ``expected``, else the reason."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        if truncated:
            return "response is not valid JSON (body over 1 MB)"
        return "response is not valid JSON"
    value = resolve_json_path(document, parse_json_path(path))
    if value is _MISSING:
        return f"JSON path {path} not found"
    actual = json_value_text(value)
    if expected is not None and actual != expected:
        return f"JSON path {path} is {_quote(actual)}, expected {_quote(expected)}"
    return None
