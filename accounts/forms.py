"""Forms of the sign-in page and the users console."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import SetPasswordForm

from .models import User
from .roles import ADMIN, ROLE_CHOICES


class UserCreateForm(forms.ModelForm):
    """Create a console user with a role and a password checked by Django's validators."""

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

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password1"])
        if commit:
            user.save()
        return user


class UserEditForm(forms.ModelForm):
    """Change a user's e-mail, role and active flag. Admins cannot demote or
    deactivate themselves (someone must be left to administer)."""

    class Meta:
        model = User
        fields = ["email", "role", "is_active"]
        labels = {"is_active": "Active (may sign in)"}

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        self.actor = actor
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = ROLE_CHOICES
        self.fields["email"].required = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk and self.instance.pk == getattr(self.actor, "pk", None):
            if cleaned.get("role") not in (None, ADMIN) and not self.instance.is_superuser:
                self.add_error("role", "You cannot remove your own admin role.")
            if cleaned.get("is_active") is False:
                self.add_error("is_active", "You cannot deactivate your own account.")
        return cleaned


class PasswordResetForm(SetPasswordForm):
    """Set a new password for a user (Django's validators apply)."""
