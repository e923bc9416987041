"""``GET /healthz``: the state of the database, the broker and the scheduler.

200 when all three are fine, 503 when one is down. The scheduler is judged
by the last dispatcher tick recorded in the database: a tick proves beat,
the broker and a worker all work.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {
        "ok": True,
        "vendor": connection.vendor,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def _broker() -> dict[str, Any]:
    from statuspage.celery import app

    started = time.perf_counter()
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {
        "ok": True,
        "transport": str(transport),
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def _scheduler(database_ok: bool) -> dict[str, Any]:
    if not database_ok:
        return {"ok": False, "error": "database unavailable", "last_tick_at": None}
    from monitors.models import SchedulerTick
    from monitors.tasks import DISPATCH_TICK

    tick = SchedulerTick.objects.filter(name=DISPATCH_TICK).first()
    if tick is None:
        return {"ok": False, "error": "no scheduler tick recorded yet", "last_tick_at": None}
    age = (timezone.now() - tick.last_at).total_seconds()
    ok = age <= settings.BEACON_SCHEDULER_STALE_SECONDS
    info: dict[str, Any] = {
        "ok": ok,
        "last_tick_at": tick.last_at.isoformat(),
        "age_seconds": round(age, 1),
        "claimed_last_tick": tick.claimed,
    }
    if not ok:
        info["error"] = f"last tick {age:.0f}s ago"
    return info


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report database, broker and scheduler health."""
    database = _database()
    broker = _broker()
    scheduler = _scheduler(database["ok"])
    ok = database["ok"] and broker["ok"] and scheduler["ok"]
    body = {
        "status": "ok" if ok else "down",
        "database": database,
        "broker": broker,
        "scheduler": scheduler,
    }
    return JsonResponse(body, status=200 if ok else 503)
