"""Forms of the sign-in page and the users console."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import SetPasswordForm

from .models import User
from .roles import ROLE_CHOICES


class UserCreateForm(forms.ModelForm):
    """Validate a new console user: a role and a password checked by Django's
    validators. The view creates the user through ``services.create_user``."""

    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="The same password, to catch typing mistakes.",
    )

    class Meta:
        model = User
        fields = ["username", "email", "role"]
        help_texts = {
            "role": "Viewers read; operators also run checks, incidents and alerts; "
            "admins also configure monitors and users.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = ROLE_CHOICES
        self.fields["email"].required = False

    def clean_password2(self) -> str:
        first = self.cleaned_data.get("password1")
        second = self.cleaned_data.get("password2", "")
        if first and second and first != second:
            raise forms.ValidationError("The two passwords differ.")
        return second

    def _post_clean(self) -> None:
        super()._post_clean()
        password = self.cleaned_data.get("password2")
        if password:
            try:
                password_validation.validate_password(password, self.instance)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)


class UserEditForm(forms.ModelForm):
    """Change a user's e-mail, role and active flag. The view saves through
    ``services.update_user``, which also refuses an admin's self-demotion or
    self-deactivation (its errors are shown next to the fields)."""

    class Meta:
        model = User
        fields = ["email", "role", "is_active"]
        labels = {"is_active": "Active (may sign in)"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = ROLE_CHOICES
        self.fields["email"].required = False


class PasswordResetForm(SetPasswordForm):
    """Set a new password for a user (Django's validators apply)."""
