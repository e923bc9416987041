"""``/push/<token>``: the heartbeat push endpoint.

GET or POST, with optional ``status`` (up | down | degraded, default up),
``msg`` (at most 500 characters) and ``latency`` (milliseconds, 0..3,600,000)
as query or form parameters. Answers JSON: 200 with the recorded status,
400 naming a bad parameter, 404 for an unknown token, 409 while paused.
"""

from __future__ import annotations

import math

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .models import Kind, Monitor, Status
from .services import MESSAGE_LIMIT, record_push

_STATUSES = {"up": Status.UP, "down": Status.DOWN, "degraded": Status.DEGRADED}
MAX_LATENCY_MS = 3_600_000


def _param(request: HttpRequest, name: str) -> str | None:
    if name in request.GET:
        return request.GET[name]
    if request.method == "POST" and name in request.POST:
        return request.POST[name]
    return None


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def push(request: HttpRequest, token: str) -> JsonResponse:
    """Record one heartbeat push for the monitor owning ``token``."""
    monitor = Monitor.objects.filter(push_token=token, kind=Kind.HEARTBEAT).first()
    if monitor is None or len(token) > 64:
        return JsonResponse({"detail": "Unknown push token."}, status=404)
    raw_status = (_param(request, "status") or "up").strip().lower()
    if raw_status not in _STATUSES:
        return JsonResponse(
            {"status": [f"Must be one of up, down, degraded; got {raw_status[:40]!r}."]},
            status=400,
        )
    message = _param(request, "msg") or ""
    if len(message) > MESSAGE_LIMIT:
        return JsonResponse(
            {"msg": [f"At most {MESSAGE_LIMIT} characters; got {len(message)}."]}, status=400
        )
    latency: float | None = None
    raw_latency = _param(request, "latency")
    if raw_latency not in (None, ""):
        try:
            latency = float(raw_latency)
        except ValueError:
            latency = math.nan
        if not math.isfinite(latency) or not 0 <= latency <= MAX_LATENCY_MS:
            return JsonResponse(
                {"latency": [f"A number of milliseconds between 0 and {MAX_LATENCY_MS}."]},
                status=400,
            )
    if not monitor.is_active:
        return JsonResponse({"detail": "This monitor is paused."}, status=409)
    now = timezone.now()
    record_push(monitor, status=_STATUSES[raw_status], message=message, latency_ms=latency, now=now)
    return JsonResponse({"ok": True, "monitor": monitor.tag, "status": _STATUSES[raw_status]})
