"""Role enforcement on the monitors API, per endpoint, over Bearer tokens.

Reads need viewer; create/update/delete/pause/resume need admin; check needs
operator. No credentials (or a bad token) is a 401 with ``WWW-Authenticate:
Bearer``; a role too low is a 403; neither writes anything.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import ADMIN, OPERATOR, VIEWER
from monitors.models import CheckResult, Monitor, MonitorEvent
from monitors.tests.factories import make_monitor
from monitors.tests.servers import closed_port

pytestmark = pytest.mark.django_db

NEW_MONITOR = {
    "name": "New",
    "tag": "new-mon",
    "kind": "tcp",
    "config": {"host": "127.0.0.1", "port": 9},
}

# (method, path, body, lowest role allowed)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("get", "/api/v1/monitors", None, VIEWER),
    ("get", "/api/v1/monitors/db", None, VIEWER),
    ("get", "/api/v1/monitors/db/results", None, VIEWER),
    ("get", "/api/v1/monitors/db/daily", None, VIEWER),
    ("post", "/api/v1/monitors", NEW_MONITOR, ADMIN),
    ("patch", "/api/v1/monitors/db", {"name": "Renamed"}, ADMIN),
    ("put", "/api/v1/monitors/db", {**NEW_MONITOR, "tag": "db"}, ADMIN),
    ("delete", "/api/v1/monitors/db", None, ADMIN),
    ("post", "/api/v1/monitors/db/pause", None, ADMIN),
    ("post", "/api/v1/monitors/db/resume", None, ADMIN),
    ("post", "/api/v1/monitors/db/check", None, OPERATOR),
]
RANK = {None: 0, VIEWER: 1, OPERATOR: 2, ADMIN: 3}
SUCCESS = {"get": 200, "post": (200, 201), "patch": 200, "put": 200, "delete": 204}


def client_for(role: str | None, **user_fields: Any) -> APIClient:
    client = APIClient()
    if role is not None:
        user = get_user_model().objects.create_user(
            username=f"user-{role}", password=None, role=role, **user_fields
        )
        token = Token.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    return client


def snapshot() -> tuple[Any, ...]:
    return (
        list(Monitor.objects.order_by("id").values()),
        MonitorEvent.objects.count(),
        CheckResult.objects.count(),
    )


@pytest.mark.parametrize("role", [None, VIEWER, OPERATOR, ADMIN])
@pytest.mark.parametrize(("method", "path", "body", "needed"), ENDPOINTS)
def test_role_matrix(
    role: str | None, method: str, path: str, body: dict[str, Any] | None, needed: str
) -> None:
    # A port nothing listens on: "check" records a quick DOWN.
    make_monitor(tag="db", kind="tcp", config={"host": "127.0.0.1", "port": closed_port()})
    client = client_for(role)
    before = snapshot()

    response = getattr(client, method)(path, body, format="json")

    if role is None:
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"
        assert snapshot() == before
    elif RANK[role] < RANK[needed]:
        assert response.status_code == 403
        assert "role" in response.json()["detail"]
        assert snapshot() == before
    else:
        expected = SUCCESS[method]
        assert response.status_code in (expected if isinstance(expected, tuple) else (expected,)), (
            response.status_code,
            response.content[:300],
        )


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-real-token", "Bearer", "Bearer a b", "Token abc", "Basic dXNlcjpwYXNz"],
)
def test_bad_credentials_are_401(header: str) -> None:
    make_monitor(tag="db")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/monitors")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_inactive_users_token_is_refused() -> None:
    client = client_for(ADMIN, is_active=False)

    response = client.post("/api/v1/monitors", NEW_MONITOR, format="json")

    assert response.status_code == 401
    assert not Monitor.objects.exists()


def test_superuser_counts_as_admin() -> None:
    client = client_for(VIEWER, is_superuser=True)

    response = client.post("/api/v1/monitors", NEW_MONITOR, format="json")

    assert response.status_code == 201, response.json()


def test_push_url_is_shown_to_admins_only() -> None:
    make_monitor(tag="beat", kind="heartbeat", config={})
    admin = client_for(ADMIN)
    assert (
        admin.get("/api/v1/monitors/beat").json()["push_url"].startswith("http://testserver/push/")
    )
    viewer = client_for(VIEWER)
    assert viewer.get("/api/v1/monitors/beat").json()["push_url"] is None
