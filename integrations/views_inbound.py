"""Inbound webhooks: ``/api/<vendor>/...`` (``integrations.urls_inbound``).

Plain Django views (no session, no CSRF): other tools call them. Every
answer is JSON. In order:

1. method: POST (Netdata also GET, for its ``crc_token`` challenge) or 405;
2. token (``?token=``, ``Authorization: Bearer``, or Basic with the token as
   password) of an active integration of this endpoint's source, compared in
   constant time, else ``401 {"error": ...}``;
3. body at most ``BEACON_INGEST_MAX_BODY_BYTES``, else 413;
4. the vendor signature when the integration has a secret and the vendor
   signs (PagerDuty, Grafana), else 401;
5. JSON (UTF-8) the vendor parser accepts, else ``400 {"error": reason,
   "field": path}``;
6. a vendor test notification: ``200 {"status": "test"}``, nothing opened;
7. ``ingest`` in one transaction, then ``202 {"accepted": n, "deployments":
   n, "replay": bool, "alerts": [ids]}`` once it committed.

Refusals store nothing.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from .dedup import delivery_key, presented_token
from .ingest_services import ingest
from .models import Integration
from .sources import base
from .sources.base import PayloadError

log = logging.getLogger(__name__)


def _error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def authenticate(request: HttpRequest, source: str) -> Integration | JsonResponse:
    """The integration the request's token names, or the 401 to answer."""
    token = presented_token(request.GET.get("token"), request.headers.get("Authorization"))
    if token is None:
        return _error(
            401,
            "Missing token: add ?token=<integration token> to the URL, or send "
            "'Authorization: Bearer <token>' or Basic auth with the token as password.",
        )
    integration = Integration.objects.filter(token=token).first() if token else None
    # The lookup finds the row by an index; the comparison that decides is
    # constant-time, so the answer's timing says nothing about a near miss.
    if integration is None or not hmac.compare_digest(
        integration.token.encode("utf-8"), token.encode("utf-8")
    ):
        return _error(401, "Unknown token.")
    if integration.source != source:
        return _error(
            401,
            f"This token belongs to a {integration.get_source_display()} integration; "
            f"send it to {reverse('inbound-' + integration.source)}.",
        )
    if not integration.is_active:
        return _error(401, "This integration is disabled.")
    return integration


def _read_body(request: HttpRequest) -> bytes | JsonResponse:
    limit = settings.BEACON_INGEST_MAX_BODY_BYTES
    too_large = _error(413, f"Request body too large: at most {limit} bytes are accepted.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "Invalid Content-Length header.")
    if declared > limit:
        return too_large
    try:
        body = request.body
    except RequestDataTooBig:
        return too_large
    return too_large if len(body) > limit else body


def _decode(body: bytes) -> Any:
    """The JSON value of ``body``; PayloadError with the reason otherwise."""
    if not body.strip():
        raise PayloadError("", "The body is empty; a JSON object is expected.")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PayloadError("", "The body is not UTF-8 text.") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise PayloadError("", "The body is nested too deeply.") from None
    except ValueError as exc:
        raise PayloadError("", f"The body is not valid JSON: {exc}") from None


def _challenge(request: HttpRequest, integration: Integration) -> JsonResponse:
    """Netdata's ``GET ?crc_token=`` verification, answered with the secret."""
    from .sources.netdata import crc_response

    try:
        return JsonResponse(crc_response(request.GET.get("crc_token"), integration.secret))
    except PayloadError as exc:
        return _error(400, str(exc), field=exc.field)


@csrf_exempt
@never_cache
def inbound(request: HttpRequest, source: str) -> JsonResponse:
    """One vendor's webhook endpoint (``source`` is fixed by the URL)."""
    allowed = ("POST", "GET") if source == "netdata" else ("POST",)
    if request.method not in allowed:
        response = _error(405, f"Use {' or '.join(allowed)}.")
        response["Allow"] = ", ".join(allowed)
        return response
    auth = authenticate(request, source)
    if isinstance(auth, JsonResponse):
        return auth
    integration = auth
    if request.method == "GET":
        return _challenge(request, integration)
    body = _read_body(request)
    if isinstance(body, JsonResponse):
        return body
    parser = base.get(source)
    now = timezone.now()
    signed = integration.secret and parser.signs
    if signed and not parser.verify_signature(body, request.headers, integration.secret, now):
        return _error(401, f"Invalid or missing {parser.label or source} signature.")
    try:
        payload = _decode(body)
        result = parser.parse(payload, headers=request.headers, now=now)
    except PayloadError as exc:
        return _error(400, str(exc), field=exc.field or None)
    key = delivery_key(result.delivery_id, now, settings.BEACON_INGEST_DIGEST_WINDOW_SECONDS)
    note = ""
    if result.is_test and source == "netdata":
        from .sources.netdata import verification_token

        token = verification_token(payload)
        note = f"Netdata verification token: {token}" if token else ""
    outcome = ingest(integration, result, key=key, now=now, note=note)
    if result.is_test:
        return JsonResponse({"status": "test", "replay": outcome.replay})
    return JsonResponse(
        {
            "accepted": len(result.alerts),
            "deployments": len(result.deployments),
            "replay": outcome.replay,
            "alerts": outcome.alert_ids,
        },
        status=202,
    )
