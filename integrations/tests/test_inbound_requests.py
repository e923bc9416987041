"""Inbound endpoints: what the body may be. Malformed bodies are a 400 with
the reason, oversized ones a 413, test notifications are acknowledged and
open nothing, replays change nothing, Netdata's challenge is answered."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from django.test import Client

from alerting.models import Alert, AlertOccurrence
from integrations.models import InboundDelivery

from .helpers import am_alert, am_group, grafana_body, make_integration, payload, post, url_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def am() -> object:
    return make_integration("alertmanager")


def nothing_stored() -> bool:
    return not InboundDelivery.objects.exists() and not Alert.objects.exists()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"NaN", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"[1, 2]", "must be a JSON object"),
        (b'"text"', "must be a JSON object"),
        (b"{}", "alerts is required"),
        (b'{"alerts": []}', "alerts must hold at least one alert"),
        (b'{"alerts": {"a": 1}}', "alerts must be a list"),
        (
            b'{"alerts": [{"status": "firing", "labels": "x"}]}',
            "alerts[0].labels must be an object",
        ),
        (b'{"alerts": [{"status": "burning", "labels": {}}]}', "alerts[0].status"),
        (b'{"version": "9", "alerts": [{}]}', "version"),
    ],
)
def test_malformed_bodies_are_400_with_the_reason(
    client: Client, am: object, body: bytes, reason: str
) -> None:
    response = post(client, "alertmanager", body, token=am.token)
    assert response.status_code == 400, response.content
    assert reason in response.json()["error"]
    assert nothing_stored()


def test_a_400_names_the_field(client: Client, am: object) -> None:
    body = am_group(am_alert("a"), am_alert("b"))
    body["alerts"][1]["labels"] = ["not", "an", "object"]
    response = post(client, "alertmanager", body, token=am.token)
    assert response.status_code == 400
    assert response.json()["field"] == "alerts[1].labels"
    assert nothing_stored()  # the first, valid alert is not stored either


def test_an_oversized_body_is_413(client: Client, am: object, settings: object) -> None:
    settings.BEACON_INGEST_MAX_BODY_BYTES = 4096
    alerts = [am_alert(f"fp{i}") for i in range(40)]
    response = post(client, "alertmanager", am_group(*alerts), token=am.token)
    assert response.status_code == 413
    assert "4096 bytes" in response.json()["error"]
    assert nothing_stored()
    small = post(client, "alertmanager", am_group(am_alert("x")), token=am.token)
    assert small.status_code == 202


def test_a_body_over_djangos_own_limit_is_413_too(client: Client, am: object) -> None:
    # Past DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) Django itself refuses to read it.
    body = b'{"alerts": ["' + b"x" * 3_000_000 + b'"]}'
    response = post(client, "alertmanager", body, token=am.token)
    assert response.status_code == 413
    assert nothing_stored()


def test_the_answer_lists_the_committed_alerts(client: Client, am: object) -> None:
    body = am_group(am_alert("a"), am_alert("b", "resolved"), am_alert("c"))
    response = post(client, "alertmanager", body, token=am.token)
    assert response.status_code == 202
    data = response.json()
    assert data["accepted"] == 3 and data["deployments"] == 0 and data["replay"] is False
    stored = dict(Alert.objects.values_list("fingerprint", "pk"))
    assert data["alerts"] == [stored["a"], stored["b"], stored["c"]]


def test_a_replayed_delivery_is_202_replay_and_changes_nothing(client: Client, am: object) -> None:
    body = am_group(am_alert("a"))
    first = post(client, "alertmanager", body, token=am.token).json()
    again = post(client, "alertmanager", body, token=am.token)
    assert again.status_code == 202
    assert again.json() == {**first, "replay": True}
    assert Alert.objects.count() == 1 and AlertOccurrence.objects.count() == 1
    assert Alert.objects.get().occurrence_count == 1
    assert InboundDelivery.objects.count() == 1


def test_pagerduty_replays_are_recognised_by_event_id(client: Client) -> None:
    integration = make_integration("pagerduty")
    body = payload("pagerduty_triggered")
    post(client, "pagerduty", body, token=integration.token)
    # The same event re-delivered (PagerDuty retries), even re-serialised.
    again = post(client, "pagerduty", json.dumps(body, indent=1).encode(), token=integration.token)
    assert again.json()["replay"] is True
    assert AlertOccurrence.objects.count() == 1


@pytest.mark.parametrize(
    ("source", "fixture"),
    [
        ("grafana", "grafana_test"),
        ("grafana", "grafana_legacy_test"),
        ("netdata", "netdata_test"),
        ("pagerduty", "pagerduty_ping"),
    ],
)
def test_test_notifications_are_acknowledged_and_open_nothing(
    client: Client, source: str, fixture: str
) -> None:
    integration = make_integration(source)
    response = post(client, source, payload(fixture), token=integration.token)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "test"
    assert not Alert.objects.exists()
    delivery = InboundDelivery.objects.get()
    assert delivery.is_test and delivery.alert_count == 0
    integration.refresh_from_db()
    assert integration.last_received_at is not None  # the console shows it connected


def test_netdata_test_notification_keeps_the_verification_token(client: Client) -> None:
    integration = make_integration("netdata")
    post(client, "netdata", payload("netdata_test"), token=integration.token)
    note = InboundDelivery.objects.get().note
    assert note == "Netdata verification token: nd-verify-5f0c3c1e8a7b4d2e9f1a6b3c7d8e9f00"


def test_netdata_crc_challenge_is_answered_with_the_secret(client: Client) -> None:
    integration = make_integration("netdata", secret="nd-secret")
    response = client.get(
        url_for("netdata"),
        {"crc_token": "challenge-123"},
        headers={"Authorization": f"Bearer {integration.token}"},
    )
    assert response.status_code == 200
    expected = base64.b64encode(
        hmac.new(b"nd-secret", b"challenge-123", hashlib.sha256).digest()
    ).decode()
    assert response.json() == {"response_token": f"sha256={expected}"}
    assert nothing_stored()


def test_netdata_challenge_needs_the_token_and_a_secret(client: Client) -> None:
    integration = make_integration("netdata")
    assert client.get(url_for("netdata"), {"crc_token": "c"}).status_code == 401
    token = integration.token
    response = client.get(url_for("netdata"), {"token": token, "crc_token": "c"})
    assert response.status_code == 400 and "secret" in response.json()["error"]
    integration.secret = "s"
    integration.save()
    response = client.get(url_for("netdata", integration.token))
    assert response.status_code == 400 and "crc_token" in response.json()["error"]
    response = client.get(url_for("netdata"), {"token": token, "crc_token": "x" * 5000})
    assert response.status_code == 400


def test_grafana_group_is_one_alert_each(client: Client) -> None:
    integration = make_integration("grafana")
    body = grafana_body(am_alert("g1"), am_alert("g2"), am_alert("g3", "resolved"))
    response = post(client, "grafana", body, token=integration.token)
    assert response.json()["accepted"] == 3
    assert set(Alert.objects.values_list("fingerprint", "status")) == {
        ("g1", "TRIGGERED"),
        ("g2", "TRIGGERED"),
        ("g3", "RESOLVED"),
    }


def test_hostile_text_is_stored_bounded(client: Client, am: object) -> None:
    title = "<img src=x onerror=alert(1)>" + "ü" * 20_000 + "\u0000\ud800"
    alert = am_alert("h1", summary="x")
    alert["annotations"]["summary"] = title
    alert["labels"]["service"] = "s" * 5000
    alert["labels"]["huge"] = "v" * 50_000
    body = json.dumps(am_group(alert), ensure_ascii=True).encode()  # \ud800 as JSON escape
    response = post(client, "alertmanager", body, token=am.token)
    assert response.status_code == 202, response.content
    stored = Alert.objects.get()
    assert len(stored.title) == 300 and stored.title.startswith("<img src=x onerror=alert(1)>")
    assert len(stored.service_name) <= 200 and len(stored.labels["huge"]) <= 1000
    assert "\u0000" not in json.dumps(stored.raw)


def test_duplicate_fingerprints_in_one_body_are_one_alert(client: Client, am: object) -> None:
    body = am_group(am_alert("dup"), am_alert("dup", summary="second copy"))
    response = post(client, "alertmanager", body, token=am.token)
    assert response.status_code == 202
    alert = Alert.objects.get()
    assert alert.title == "second copy" and alert.occurrence_count == 1
    assert response.json()["alerts"] == [alert.pk]


def test_any_content_type_is_read_as_json(client: Client, am: object) -> None:
    # Vendors label JSON bodies loosely (text/plain, no type at all).
    response = post(
        client, "alertmanager", am_group(am_alert("a")), token=am.token, content_type="text/plain"
    )
    assert response.status_code == 202


def test_deployments_are_counted_in_the_answer(client: Client) -> None:
    integration = make_integration("jenkins")
    response = post(client, "jenkins", payload("jenkins_started"), token=integration.token)
    assert response.status_code == 202
    assert response.json() == {"accepted": 0, "deployments": 1, "replay": False, "alerts": []}
