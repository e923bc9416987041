"""``manage.py ensureadmin``: make sure someone can sign in (run by ``make run``).

Contract, never prompting:

* ``BEACON_ADMIN_USER`` and ``BEACON_ADMIN_PASSWORD`` both set: that user is
  created or updated as an active superuser with role ``admin``, and its
  password is set to the given one;
* only one of them set: ``CommandError`` naming the missing variable;
* neither set and no user exists at all: user ``admin`` is created with a
  generated password, printed once:
  ``Created admin user 'admin' with password: ...``;
* otherwise: nothing changes.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.services import ensure_admin
from statuspage.env import env_str

DEFAULT_USERNAME = "admin"


class Command(BaseCommand):
    help = "Create or update the admin user from BEACON_ADMIN_USER / BEACON_ADMIN_PASSWORD."

    def handle(self, *args: Any, **options: Any) -> None:
        username = env_str("BEACON_ADMIN_USER").strip()
        password = env_str("BEACON_ADMIN_PASSWORD")
        if username and not password:
            raise CommandError("BEACON_ADMIN_USER is set but BEACON_ADMIN_PASSWORD is not.")
        if password and not username:
            raise CommandError("BEACON_ADMIN_PASSWORD is set but BEACON_ADMIN_USER is not.")
        if username:
            _user, created = ensure_admin(username, password, now=timezone.now())
            verb = "Created" if created else "Updated"
            self.stdout.write(f"{verb} admin user {username!r} from BEACON_ADMIN_USER.")
            return
        with transaction.atomic():
            # Under the transaction so two starts at once cannot both create it.
            if get_user_model().objects.select_for_update().exists():
                return
            password = secrets.token_urlsafe(16)
            ensure_admin(DEFAULT_USERNAME, password, now=timezone.now())
        self.stdout.write(f"Created admin user {DEFAULT_USERNAME!r} with password: {password}")
