"""Inbound endpoints: who may post. Token in the query, as Bearer or as the
Basic password; wrong, missing, inactive and other-source tokens are a 401
that stores nothing, on every endpoint."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from alerting.models import Alert
from integrations.models import InboundDelivery
from integrations.sources import REGISTRY
from integrations.urls_inbound import ENDPOINTS

from .helpers import am_alert, am_group, make_integration, post, url_for

pytestmark = pytest.mark.django_db
SOURCES = sorted(ENDPOINTS)


def nothing_stored() -> bool:
    return not InboundDelivery.objects.exists() and not Alert.objects.exists()


def test_every_registered_source_has_its_endpoint() -> None:
    assert set(ENDPOINTS) == set(REGISTRY)
    for name, route in ENDPOINTS.items():
        assert REGISTRY[name].endpoint == f"/api/{route}"


@pytest.mark.parametrize("how", ["token", "bearer", "basic"])
def test_each_way_of_sending_the_token_is_accepted(client: Client, how: str) -> None:
    integration = make_integration()
    response = post(client, "alertmanager", am_group(am_alert("a1")), **{how: integration.token})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["accepted"] == 1 and body["replay"] is False
    assert body["alerts"] == [Alert.objects.get().pk]


@pytest.mark.parametrize("source", SOURCES)
def test_a_missing_token_is_401_on_every_endpoint(client: Client, source: str) -> None:
    make_integration(source)
    response = post(client, source, {"anything": 1})
    assert response.status_code == 401
    assert "token" in response.json()["error"].lower()
    assert nothing_stored()


@pytest.mark.parametrize("source", SOURCES)
def test_a_wrong_token_is_401_on_every_endpoint(client: Client, source: str) -> None:
    integration = make_integration(source)
    wrong = integration.token[:-1] + ("A" if integration.token[-1] != "A" else "B")
    for kwargs in ({"token": wrong}, {"bearer": wrong}, {"basic": wrong}):
        response = post(client, source, {"anything": 1}, **kwargs)
        assert response.status_code == 401, kwargs
        assert response.json() == {"error": "Unknown token."}
    assert nothing_stored()


@pytest.mark.parametrize("how", ["token", "bearer", "basic"])
@pytest.mark.parametrize("source", SOURCES)
def test_a_right_token_gets_past_authentication_on_every_endpoint(
    client: Client, source: str, how: str
) -> None:
    integration = make_integration(source)
    # A list is not what any vendor sends: past the token, a 400.
    response = post(client, source, [], **{how: integration.token})
    assert response.status_code == 400, response.content
    assert response.json()["error"]
    assert nothing_stored()


@pytest.mark.parametrize("source", SOURCES)
def test_an_inactive_integration_is_401_on_every_endpoint(client: Client, source: str) -> None:
    integration = make_integration(source, is_active=False)
    response = post(client, source, [], token=integration.token)
    assert response.status_code == 401
    assert response.json() == {"error": "This integration is disabled."}
    assert nothing_stored()


@pytest.mark.parametrize("source", SOURCES)
def test_another_sources_token_is_401_on_every_endpoint(client: Client, source: str) -> None:
    other = "generic" if source != "generic" else "grafana"
    integration = make_integration(other)
    response = post(client, source, [], bearer=integration.token)
    assert response.status_code == 401
    assert "belongs to" in response.json()["error"]
    assert nothing_stored()


def test_a_token_of_another_source_is_401_naming_the_right_endpoint(client: Client) -> None:
    grafana = make_integration("grafana")
    response = post(client, "alertmanager", am_group(am_alert("a1")), token=grafana.token)
    assert response.status_code == 401
    assert "/api/grafana/alerts" in response.json()["error"]
    assert nothing_stored()


def test_an_inactive_integration_is_401(client: Client) -> None:
    integration = make_integration(is_active=False)
    response = post(client, "alertmanager", am_group(am_alert("a1")), token=integration.token)
    assert response.status_code == 401
    assert response.json()["error"] == "This integration is disabled."
    assert nothing_stored()


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic " + base64.b64encode(b"user-without-password:").decode(),
        "Basic %%%",
        "Bearer " + "x" * 5000,
        "Digest username=x",
        "Bearer \u00e9\u00e9",
    ],
)
def test_hostile_authorization_headers_are_401(client: Client, authorization: str) -> None:
    make_integration()
    response = client.post(
        url_for("alertmanager"),
        data=b"{}",
        content_type="application/json",
        headers={"Authorization": authorization},
    )
    assert response.status_code == 401
    assert nothing_stored()


@pytest.mark.parametrize("token", ["' OR 1=1 --", "x" * 300, "\u0000", "🔑", "%00"])
def test_hostile_query_tokens_are_401(client: Client, token: str) -> None:
    make_integration()
    response = client.post(
        url_for("alertmanager"),
        data=b"{}",
        content_type="application/json",
        query_params={"token": token},
    )
    assert response.status_code == 401
    assert nothing_stored()


def test_other_methods_are_405(client: Client) -> None:
    integration = make_integration()
    url = url_for("alertmanager", integration.token)
    for method in ("get", "put", "delete", "patch"):
        response = getattr(client, method)(url)
        assert response.status_code == 405
        assert response["Allow"] == "POST"
    assert nothing_stored()


def test_no_session_or_csrf_is_needed(admin_user: object) -> None:
    client = Client(enforce_csrf_checks=True)
    integration = make_integration()
    response = post(client, "alertmanager", am_group(am_alert("a1")), token=integration.token)
    assert response.status_code == 202
