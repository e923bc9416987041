"""Vendor signatures through the endpoint: Grafana's
``X-Grafana-Alerting-Signature`` (optionally with a timestamp) and
PagerDuty's ``X-PagerDuty-Signature`` (several ``v1=`` during rotation).
A bad or missing signature is a 401 that stores nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from django.test import Client

from alerting.models import Alert
from integrations.models import InboundDelivery

from .helpers import am_alert, grafana_body, make_integration, payload, post

pytestmark = pytest.mark.django_db


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def stored() -> int:
    return InboundDelivery.objects.count()


# --- Grafana --------------------------------------------------------------------


@pytest.fixture
def grafana() -> object:
    return make_integration("grafana", secret="grafana-secret")


def test_grafana_valid_signature_is_accepted(client: Client, grafana: object) -> None:
    body = json.dumps(grafana_body(am_alert("g1"))).encode()
    response = post(
        client,
        "grafana",
        body,
        token=grafana.token,
        headers={"X-Grafana-Alerting-Signature": sign("grafana-secret", body)},
    )
    assert response.status_code == 202, response.content
    assert Alert.objects.get().fingerprint == "g1"


@pytest.mark.parametrize(
    "signature",
    ["", "0" * 64, "not-hex", sign("other-secret", b"{}")],
)
def test_grafana_bad_or_missing_signature_is_401(
    client: Client, grafana: object, signature: str
) -> None:
    body = json.dumps(grafana_body(am_alert("g1"))).encode()
    headers = {"X-Grafana-Alerting-Signature": signature} if signature else {}
    response = post(client, "grafana", body, token=grafana.token, headers=headers)
    assert response.status_code == 401
    assert "signature" in response.json()["error"].lower()
    assert stored() == 0 and not Alert.objects.exists()


def test_grafana_signature_covers_the_raw_bytes(client: Client, grafana: object) -> None:
    body = json.dumps(grafana_body(am_alert("g1"))).encode()
    signature = sign("grafana-secret", body)
    reformatted = json.dumps(json.loads(body), indent=2).encode()  # same JSON, other bytes
    response = post(
        client,
        "grafana",
        reformatted,
        token=grafana.token,
        headers={"X-Grafana-Alerting-Signature": signature},
    )
    assert response.status_code == 401
    assert stored() == 0


def test_grafana_timestamped_signature(client: Client, grafana: object) -> None:
    body = json.dumps(grafana_body(am_alert("g1"))).encode()
    now = str(int(time.time()))
    good = {
        "X-Grafana-Alerting-Signature": sign("grafana-secret", now.encode() + b":" + body),
        "X-Grafana-Alerting-Timestamp": now,
    }
    assert post(client, "grafana", body, token=grafana.token, headers=good).status_code == 202
    stale = str(int(time.time()) - 3600)
    old = {
        "X-Grafana-Alerting-Signature": sign("grafana-secret", stale.encode() + b":" + body),
        "X-Grafana-Alerting-Timestamp": stale,
    }
    # Signed correctly, but an hour old: a replayed capture.
    assert post(client, "grafana", body, token=grafana.token, headers=old).status_code == 401
    assert stored() == 1


def test_grafana_secret_rotation_accepts_either_secret(client: Client) -> None:
    integration = make_integration("grafana", secret="old-secret\nnew-secret")
    for i, secret in enumerate(("old-secret", "new-secret")):
        body = json.dumps(grafana_body(am_alert(f"g{i}"))).encode()
        headers = {"X-Grafana-Alerting-Signature": sign(secret, body)}
        response = post(client, "grafana", body, token=integration.token, headers=headers)
        assert response.status_code == 202, secret
    assert Alert.objects.count() == 2


def test_grafana_without_a_secret_needs_no_signature(client: Client) -> None:
    integration = make_integration("grafana")
    response = post(client, "grafana", grafana_body(am_alert("g1")), token=integration.token)
    assert response.status_code == 202


# --- PagerDuty ------------------------------------------------------------------


def pd_body(event_id: str = "5ac64822-4adc-4fda-ade0-410becf0de4f") -> bytes:
    body = payload("pagerduty_triggered")
    body["event"]["id"] = event_id
    return json.dumps(body).encode()


def test_pagerduty_valid_signature(client: Client) -> None:
    integration = make_integration("pagerduty", secret="pd-secret")
    body = pd_body()
    headers = {"X-PagerDuty-Signature": f"v1={sign('pd-secret', body)}"}
    response = post(client, "pagerduty", body, token=integration.token, headers=headers)
    assert response.status_code == 202, response.content
    assert Alert.objects.get().source == "pagerduty"


def test_pagerduty_several_signatures_during_rotation(client: Client) -> None:
    # PagerDuty signs with every active secret while one is being rotated;
    # Beacon knows only one of them.
    integration = make_integration("pagerduty", secret="pd-new")
    body = pd_body()
    header = f"v1={sign('pd-old', body)},v1={sign('pd-new', body)}"
    response = post(
        client,
        "pagerduty",
        body,
        token=integration.token,
        headers={"X-PagerDuty-Signature": header},
    )
    assert response.status_code == 202
    # And Beacon holding both secrets while PagerDuty signs with one.
    integration.secret = "pd-old\npd-new"
    integration.save()
    body = pd_body("second-event")
    header = f"v1={sign('pd-old', body)}"
    response = post(
        client,
        "pagerduty",
        body,
        token=integration.token,
        headers={"X-PagerDuty-Signature": header},
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    "header",
    ["", "v1=", "v2=" + "0" * 64, "v1=" + "0" * 64, "sha256=abc", "v1=zz,v1=yy"],
)
def test_pagerduty_bad_signatures_are_401(client: Client, header: str) -> None:
    integration = make_integration("pagerduty", secret="pd-secret")
    headers = {"X-PagerDuty-Signature": header} if header else {}
    response = post(client, "pagerduty", pd_body(), token=integration.token, headers=headers)
    assert response.status_code == 401
    assert stored() == 0 and not Alert.objects.exists()


def test_a_signature_does_not_replace_the_token(client: Client) -> None:
    make_integration("pagerduty", secret="pd-secret")
    body = pd_body()
    headers = {"X-PagerDuty-Signature": f"v1={sign('pd-secret', body)}"}
    response = post(client, "pagerduty", body, headers=headers)
    assert response.status_code == 401
    assert stored() == 0
