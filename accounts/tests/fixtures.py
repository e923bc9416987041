"""Shared fixtures: a user per role and an API client signed in as any user.

Registered for every test by the root conftest (``pytest_plugins``).

* ``admin_user``, ``operator_user``, ``viewer_user``: active users holding that role;
* ``api_client_for(user)``: an ``APIClient`` sending ``Authorization: Bearer <token>``
  for ``user`` (the token is created on first use); ``api_client_for(None)`` is
  an anonymous client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import ADMIN, OPERATOR, VIEWER


def _user(username: str, role: str) -> Any:
    from django.contrib.auth import get_user_model

    # An unusable password: tests authenticate with tokens, and hashing is slow.
    return get_user_model().objects.create_user(username=username, password=None, role=role)


@pytest.fixture
def admin_user(db: None) -> Any:
    return _user("admin-user", ADMIN)


@pytest.fixture
def operator_user(db: None) -> Any:
    return _user("operator-user", OPERATOR)


@pytest.fixture
def viewer_user(db: None) -> Any:
    return _user("viewer-user", VIEWER)


@pytest.fixture
def api_client_for(db: None) -> Callable[[Any], APIClient]:
    def make(user: Any) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
        return client

    return make
