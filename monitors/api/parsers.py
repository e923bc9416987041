"""A JSON parser for the API that fails with a 4xx, never a 500.

Contract: the body must be JSON (``application/json``) in the declared
charset (UTF-8 by default; Django ignores an unknown charset). Invalid JSON,
bytes that do not decode, ``NaN``/``Infinity`` literals and nesting deep
enough to exhaust the parser are a 400 ``{"detail": ...}``.

A body over Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` makes ``request.body``
raise ``RequestDataTooBig`` before any parser runs; ``too_large`` turns that
into a 413 ``{"detail": ...}`` for views to raise instead (Django alone would
answer an HTML 400).
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "request_too_large"


def too_large() -> RequestTooLarge:
    """The 413 for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return RequestTooLarge(f"Request body too large: at most {limit} bytes are accepted.")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with every parse failure turned into a 400."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: dict | None = None
    ) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read()
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ParseError(f"Unknown charset {encoding[:40]!r}.") from None
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(f"The body is not valid {encoding[:40]} text.") from None
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
