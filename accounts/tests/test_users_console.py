"""The users console: admin only, create with password validation, edit role and
active flag, reset passwords, and no self-demotion or self-deactivation."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Quiet-harbour-lamp-42"


@pytest.fixture
def admin() -> User:
    return User.objects.create_user(username="boss", password=GOOD_PASSWORD, role="admin")


@pytest.fixture
def viewer() -> User:
    return User.objects.create_user(username="reader", password=GOOD_PASSWORD, role="viewer")


@pytest.fixture
def operator() -> User:
    return User.objects.create_user(username="oncall", password=GOOD_PASSWORD, role="operator")


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def urls(target: User) -> list[str]:
    return [
        reverse("users:list"),
        reverse("users:create"),
        reverse("users:edit", args=[target.pk]),
        reverse("users:password", args=[target.pk]),
    ]


def test_anonymous_is_sent_to_sign_in(viewer: User) -> None:
    for url in urls(viewer):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_non_admins_get_403_for_reads_and_writes(
    role: str, viewer: User, operator: User, admin: User
) -> None:
    user = viewer if role == "viewer" else operator
    client = client_for(user)
    for url in urls(admin):
        assert client.get(url).status_code == 403
    assert (
        client.post(reverse("users:edit", args=[user.pk]), {"role": "admin", "is_active": "on"})
    ).status_code == 403
    created = client.post(
        reverse("users:create"),
        {
            "username": "sneaky",
            "role": "admin",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
        },
    )
    assert created.status_code == 403
    reset = client.post(
        reverse("users:password", args=[admin.pk]),
        {"new_password1": GOOD_PASSWORD + "x", "new_password2": GOOD_PASSWORD + "x"},
    )
    assert reset.status_code == 403
    user.refresh_from_db()
    assert user.role == role
    assert not User.objects.filter(username="sneaky").exists()


def test_admin_lists_users(admin: User, viewer: User) -> None:
    body = client_for(admin).get(reverse("users:list")).content.decode()
    assert "boss" in body and "reader" in body
    assert "(you)" in body
    assert "Viewer" in body and "Admin" in body
    assert "never" in body  # viewer never signed in


def test_admin_creates_a_user(admin: User) -> None:
    response = client_for(admin).post(
        reverse("users:create"),
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "role": "operator",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert user.role == "operator" and user.check_password(GOOD_PASSWORD)
    assert Client().login(username="newbie", password=GOOD_PASSWORD)


@pytest.mark.parametrize(
    ("password1", "password2", "expected"),
    [
        ("short", "short", "too short"),
        ("password123", "password123", "too common"),
        ("12345678901", "12345678901", "entirely numeric"),
        ("newbie12", "newbie12", "too similar"),
        (GOOD_PASSWORD, GOOD_PASSWORD + "x", "The two passwords differ."),
    ],
)
def test_create_validates_passwords_inline(
    admin: User, password1: str, password2: str, expected: str
) -> None:
    response = client_for(admin).post(
        reverse("users:create"),
        {"username": "newbie", "role": "viewer", "password1": password1, "password2": password2},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert expected in body
    assert 'class="errors"' in body
    assert not User.objects.filter(username="newbie").exists()


def test_create_rejects_duplicates_and_bad_usernames(admin: User, viewer: User) -> None:
    client = client_for(admin)
    base = {"role": "viewer", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}
    dup = client.post(reverse("users:create"), {"username": "reader", **base})
    assert "already exists" in dup.content.decode()
    bad = client.post(reverse("users:create"), {"username": "<script>alert(1)</script>", **base})
    body = bad.content.decode()
    assert "Enter a valid username" in body
    assert "<script>alert(1)" not in body
    role = client.post(reverse("users:create"), {**base, "username": "x1", "role": "root"})
    assert "Select a valid choice" in role.content.decode()
    assert User.objects.count() == 2


def test_admin_changes_role_and_active(admin: User, viewer: User) -> None:
    response = client_for(admin).post(
        reverse("users:edit", args=[viewer.pk]), {"email": "", "role": "operator"}
    )
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.role == "operator" and not viewer.is_active


def test_admin_cannot_demote_themself(admin: User) -> None:
    response = client_for(admin).post(
        reverse("users:edit", args=[admin.pk]), {"role": "viewer", "is_active": "on"}
    )
    assert response.status_code == 200
    assert "You cannot remove your own admin role." in response.content.decode()
    admin.refresh_from_db()
    assert admin.role == "admin"


def test_admin_cannot_deactivate_themself(admin: User) -> None:
    response = client_for(admin).post(reverse("users:edit", args=[admin.pk]), {"role": "admin"})
    assert "You cannot deactivate your own account." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def test_admin_may_edit_their_own_email(admin: User) -> None:
    response = client_for(admin).post(
        reverse("users:edit", args=[admin.pk]),
        {"email": "boss@example.com", "role": "admin", "is_active": "on"},
    )
    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.email == "boss@example.com"


def test_reset_password(admin: User, viewer: User) -> None:
    client = client_for(admin)
    url = reverse("users:password", args=[viewer.pk])
    weak = client.post(url, {"new_password1": "abc", "new_password2": "abc"})
    assert "too short" in weak.content.decode()
    new = "Another-quiet-lamp-77"
    done = client.post(url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    viewer.refresh_from_db()
    assert viewer.check_password(new)


def test_unknown_user_is_404(admin: User) -> None:
    assert client_for(admin).get(reverse("users:edit", args=[99999])).status_code == 404


def test_users_link_only_for_admins(admin: User, operator: User) -> None:
    admin_body = client_for(admin).get(reverse("monitors:list")).content.decode()
    operator_body = client_for(operator).get(reverse("monitors:list")).content.decode()
    assert f'href="{reverse("users:list")}"' in admin_body
    assert f'href="{reverse("users:list")}"' not in operator_body
