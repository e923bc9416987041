"""The deliveries API: list with filters (bad values are a 400 naming the
parameter), detail with every attempt, "retry now" with roles and conflicts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitors.tests.servers import Reply, serve_http
from notifications import planning, sending
from notifications.models import Delivery

from .trigger_helpers import MIN, T0, alerting_monitor, make_trigger, record, trigger_alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_and_failed():
    """Two alerts' deliveries: a sent one (slack, 200) and a failed one (webhook, 400)."""
    with serve_http({"/ok": Reply(200, "fine"), "/bad": Reply(400, "nope")}) as base:
        good = make_trigger("webhook", {"url": f"{base}/ok"}, name="good")
        bad = make_trigger("webhook", {"url": f"{base}/bad"}, name="bad")
        monitor, _ = alerting_monitor([good, bad])
        notification = trigger_alert(monitor)
        planning.plan(notification.pk, T0)
        sending.send_due(T0, 10)
        record(monitor, "UP", T0 + 10 * MIN)
        resolved = notification.__class__.objects.get(event="alert.resolved")
        planning.plan(resolved.pk, T0 + 10 * MIN)
    return good, bad


def test_list_newest_first_with_filters(admin_user, api_client_for, sent_and_failed) -> None:
    good, bad = sent_and_failed
    client = api_client_for(admin_user)
    page = client.get("/api/v1/deliveries").json()
    assert page["count"] == 4
    first = page["results"][0]
    assert first["event"] == "alert.resolved" and first["status"] == "pending"
    assert set(first) >= {
        "id",
        "trigger",
        "trigger_name",
        "channel",
        "target",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "last_duration_ms",
        "created_at",
        "sent_at",
    }

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/deliveries?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    by_status = ids("status=failed")
    assert by_status == set(
        Delivery.objects.filter(trigger=bad, status="failed").values_list("id", flat=True)
    )
    assert ids(f"trigger={good.pk}") == set(good.deliveries.values_list("id", flat=True))
    assert len(ids("event=alert.triggered")) == 2
    later = (T0 + 5 * MIN).isoformat().replace("+00:00", "Z")
    assert len(ids(f"from={later}")) == 2
    assert len(ids(f"to={later}")) == 2
    assert ids("page_size=1&page=2") and len(ids("page_size=1&page=2")) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("trigger=abc", "trigger"),
        ("trigger=999999", "trigger"),
        ("trigger=99999999999999999999999", "trigger"),
        ("event=alert.maybe", "event"),
        ("from=yesterday", "from"),
        ("from=2026-05-05T00:00:00Z&to=2026-05-04T00:00:00Z", "from"),
        ("page_size=0", "page_size"),
        ("channel=" + "x" * 40, "channel"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(admin_user, api_client_for, query, field):
    response = api_client_for(admin_user).get(f"/api/v1/deliveries?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_detail_lists_every_attempt(admin_user, api_client_for, sent_and_failed) -> None:
    _, bad = sent_and_failed
    delivery = bad.deliveries.get(status="failed")
    body = api_client_for(admin_user).get(f"/api/v1/deliveries/{delivery.pk}").json()
    assert body["trigger_name"] == "bad" and body["attempts"] == 1
    assert body["last_status_code"] == 400 and body["last_error"] == "HTTP 400 Bad Request"
    [attempt] = body["tries"]
    assert attempt["number"] == 1 and attempt["outcome"] == "failed"
    assert attempt["status_code"] == 400 and attempt["response_body"] == "nope"
    assert attempt["duration_ms"] > 0


def test_retry_needs_an_operator_and_conflicts_when_sent(
    viewer_user, operator_user, api_client_for, sent_and_failed
) -> None:
    good, bad = sent_and_failed
    failed = bad.deliveries.get(status="failed")
    sent = good.deliveries.get(status="sent")
    viewer, operator = api_client_for(viewer_user), api_client_for(operator_user)
    assert viewer.post(f"/api/v1/deliveries/{failed.pk}/retry").status_code == 403
    response = operator.post(f"/api/v1/deliveries/{failed.pk}/retry")
    assert response.status_code == 200
    assert response.json()["status"] == "pending" and response.json()["attempts"] == 1
    conflict = operator.post(f"/api/v1/deliveries/{sent.pk}/retry")
    assert conflict.status_code == 409
    assert conflict.json()["detail"] == "This delivery was sent; there is nothing to retry."
    assert operator.post("/api/v1/deliveries/999999/retry").status_code == 404
    assert viewer.delete(f"/api/v1/deliveries/{sent.pk}").status_code in (403, 405)


def test_a_retried_delivery_goes_out_again_with_its_id(operator_user, api_client_for) -> None:
    answers = iter([Reply(400, "no"), Reply(200, "yes")])
    got = []
    with serve_http({"/h": lambda _r: next(answers)}, record=got) as base:
        monitor, _ = alerting_monitor([make_trigger("webhook", {"url": f"{base}/h"})])
        notification = trigger_alert(monitor)
        planning.plan_and_send(notification.pk, T0)
        delivery = Delivery.objects.get(notification=notification)
        api_client_for(operator_user).post(f"/api/v1/deliveries/{delivery.pk}/retry")
        sending.send_due(timezone.now() + timedelta(seconds=1), 10)  # as the queued task does
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert [r.headers["x-beacon-delivery"] for r in got] == [str(delivery.pk)] * 2
