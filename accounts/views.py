"""Sign-in / sign-out and the users console (admin only)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from . import services
from .decorators import role_required
from .forms import PasswordResetForm, UserCreateForm, UserEditForm
from .models import AccountEvent, FailedLogin, User
from .roles import ADMIN
from .throttle import is_locked

RECENT_EVENTS = 10


def client_ip(request: HttpRequest) -> str | None:
    """The peer address (proxies are not trusted for this)."""
    return request.META.get("REMOTE_ADDR") or None


def lockout_minutes(username: str, ip: str | None, now: datetime) -> int:
    """Whole minutes until the oldest failure that keeps the lock expires."""
    window = timedelta(seconds=settings.BEACON_LOGIN_WINDOW_SECONDS)
    limit = settings.BEACON_LOGIN_MAX_FAILURES
    recent = FailedLogin.objects.filter(at__gte=now - window).order_by("-at")
    unlocks: list[datetime] = []
    by_name = list(recent.filter(username=username.lower()).values_list("at", flat=True)[:limit])
    if len(by_name) >= limit:
        unlocks.append(by_name[-1] + window)
    if ip:
        by_ip = list(recent.filter(ip=ip).values_list("at", flat=True)[: limit * 4])
        if len(by_ip) >= limit * 4:
            unlocks.append(by_ip[-1] + window)
    until = max(unlocks) if unlocks else now + window
    return max(1, math.ceil((until - now).total_seconds() / 60))


class SignInView(LoginView):
    """Django's sign-in with database-backed throttling per username and address."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        now = timezone.now()
        username = str(request.POST.get("username", ""))[:150]
        ip = client_ip(request)
        if is_locked(username, ip, now):
            minutes = lockout_minutes(username, ip, now)
            unit = "minute" if minutes == 1 else "minutes"
            form = AuthenticationForm(request, initial={"username": username})
            context = self.get_context_data(
                form=form,
                throttle_message=f"Too many failed sign-ins; try again in {minutes} {unit}.",
            )
            return self.render_to_response(context, status=429)
        self._now = now
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        now = getattr(self, "_now", None) or timezone.now()
        services.record_sign_in(form.get_user(), now=now, ip=client_ip(self.request))
        return super().form_valid(form)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        username = str(self.request.POST.get("username", ""))[:150]
        now = getattr(self, "_now", None) or timezone.now()
        services.record_sign_in_failure(username, now=now, ip=client_ip(self.request))
        return super().form_invalid(form)


class SignOutView(LogoutView):
    """Sign out (POST only, as Django requires)."""


@role_required(ADMIN)
def user_list(request: HttpRequest) -> HttpResponse:
    users = User.objects.order_by("username")
    return render(request, "accounts/user_list.html", {"users": users})


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = services.create_user(
            username=data["username"],
            password=data["password1"],
            email=data.get("email") or "",
            role=data["role"],
            now=timezone.now(),
            actor=request.user,
        )
        messages.success(request, f"User {user.username} created.")
        return redirect("users:list")
    return render(request, "accounts/user_form.html", {"form": form, "creating": True})


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(User, pk=pk)
    data = request.POST if request.method == "POST" else None
    form = UserEditForm(data, instance=target)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_user(target, form.cleaned_data, now=timezone.now(), actor=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)  # keyed by field: shown next to it
        else:
            messages.success(request, f"User {target.username} saved.")
            return redirect("users:list")
    events = AccountEvent.objects.filter(user_id=pk).select_related("actor")[:RECENT_EVENTS]
    return render(
        request, "accounts/user_form.html", {"form": form, "target": target, "events": events}
    )


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(User, pk=pk)
    form = PasswordResetForm(target, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = services.set_password(
            target, form.cleaned_data["new_password1"], now=timezone.now(), actor=request.user
        )
        if user.pk == request.user.pk:
            update_session_auth_hash(request, user)  # stay signed in
        messages.success(request, f"Password of {target.username} changed.")
        return redirect("users:list")
    return render(request, "accounts/user_password.html", {"form": form, "target": target})
