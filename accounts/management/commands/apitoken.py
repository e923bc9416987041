"""``manage.py apitoken USERNAME [--rotate]``: print the user's API token.

Contract: prints only the token key on stdout (so ``$(manage.py apitoken x)``
works), creating the token when the user has none; ``--rotate`` replaces an
existing token (the old one stops working at once). An unknown user is a
``CommandError`` (exit status 1); an inactive user still gets a token, with a
warning on stderr, since the API refuses it until the user is reactivated.
Use it as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print USERNAME's API token, creating it if missing (--rotate replaces it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--rotate", action="store_true", help="Replace the existing token with a new one."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        with transaction.atomic():
            if options["rotate"]:
                Token.objects.filter(user=user).delete()
            token, _created = Token.objects.get_or_create(user=user)
        if not user.is_active:
            self.stderr.write(
                f"Warning: user {username!r} is inactive; the API refuses this token "
                "until the user is reactivated."
            )
        self.stdout.write(token.key)
