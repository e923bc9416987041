"""Public subscriber pages: subscribe, confirm, manage, unsubscribe.

* ``subscribe`` (GET form, POST): rate-limited per client address
  (``allow_request``, a 429 with the form when exceeded), then
  ``subscriber_services.subscribe``; every accepted post, whatever the
  address's state, redirects to the same "check your inbox" page, so the
  form never tells whether an address is known.
* ``subscribe/confirm/<signed>``: GET checks the link and shows a button;
  the POST confirms. A mail scanner that follows links therefore never
  confirms a subscription on its own.
* ``subscriptions/<token>``: the manage page (choices, unsubscribe).
* ``unsubscribe/<token>``: GET asks, POST unsubscribes. The POST is also
  the RFC 8058 one-click target (``List-Unsubscribe-Post``), posted by mail
  providers without cookies: it is CSRF-exempt, the secret token in the path
  being the authority. Replays are harmless.

Token pages are never cached; the site-wide ``Referrer-Policy: same-origin``
keeps their URLs (which hold the token) from other sites.
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import subscriber_services as services
from .forms_public import ChoicesForm, SubscribeForm, apply_error
from .models import Subscriber, SubscriberKind, SubscriberStatus
from .subscriber_services import SubscriberError

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def client_ip(request: HttpRequest) -> str | None:
    """The peer address (proxy headers are not trusted for this)."""
    return request.META.get("REMOTE_ADDR") or None


def _site_name() -> str:
    from .incident_variables import site

    return site()["name"]


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200):
    return render(
        request,
        f"notifications/public/{template}",
        {"site_name": _site_name(), **context},
        status=status,
    )


def _subscriber(token: str) -> Subscriber:
    if not TOKEN_SHAPE.fullmatch(token):  # before any query: no NUL or megabytes reach SQL
        raise Http404("No such subscription.")
    subscriber = Subscriber.objects.filter(token=token, kind=SubscriberKind.EMAIL).first()
    if subscriber is None:
        raise Http404("No such subscription.")
    return subscriber


@never_cache
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request, "subscribe.html", {"form": SubscribeForm()})
    now = timezone.now()
    ip = client_ip(request)
    form = SubscribeForm(request.POST)
    if not services.allow_request(ip, now=now):
        minutes = math.ceil(services.retry_after_seconds(ip or "", now=now) / 60) or 1
        form.is_valid()  # show what was typed, without acting on it
        response = _render(
            request,
            "subscribe.html",
            {
                "form": form,
                "throttled": f"Too many subscription requests from your network; "
                f"try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            },
            status=429,
        )
        response["Retry-After"] = str(minutes * 60)
        return response
    if not form.is_valid():
        return _render(request, "subscribe.html", {"form": form}, status=400)
    if not form.is_bot:
        try:
            services.subscribe(form.cleaned_data["email"], form.choices(), now=now, ip=ip)
        except SubscriberError as error:
            apply_error(form, error)
            return _render(request, "subscribe.html", {"form": form}, status=400)
    return redirect("subscribe:sent")


@never_cache
@require_http_methods(["GET"])
def sent(request: HttpRequest) -> HttpResponse:
    return _render(request, "sent.html", {})


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, signed: str) -> HttpResponse:
    now = timezone.now()
    if request.method == "GET":
        # Check the link now so a dead one says so before the click.
        from django.core import signing as django_signing

        from .signing import read_confirmation_token

        try:
            read_confirmation_token(signed, now=now)
        except django_signing.SignatureExpired:
            return _render(
                request,
                "confirm.html",
                {"error": "This confirmation link has expired. Subscribe again to get a new one."},
                status=400,
            )
        except django_signing.BadSignature:
            return _render(
                request, "confirm.html", {"error": "This confirmation link is not valid."}, 400
            )
        return _render(request, "confirm.html", {})
    try:
        subscriber = services.confirm(signed, now=now, ip=client_ip(request))
    except SubscriberError as error:
        return _render(request, "confirm.html", {"error": error.message}, status=400)
    return redirect(f"{_manage_path(subscriber)}?confirmed=1")


def _manage_path(subscriber: Subscriber) -> str:
    from django.urls import reverse

    return reverse("subscribe:manage", args=[subscriber.token])


@never_cache
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = _subscriber(token)
    context: dict[str, Any] = {"subscriber": subscriber}
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return _render(request, "manage.html", context)
    if request.method == "POST":
        form = ChoicesForm(request.POST)
        if form.is_valid():
            try:
                services.update_preferences(
                    subscriber, form.choices(), now=timezone.now(), ip=client_ip(request)
                )
            except SubscriberError as error:
                apply_error(form, error)
            else:
                return redirect(f"{_manage_path(subscriber)}?saved=1")
        return _render(request, "manage.html", {**context, "form": form}, status=400)
    form = ChoicesForm(initial=ChoicesForm.initial_from(services.choices_of(subscriber)))
    context.update(
        form=form,
        confirmed_now="confirmed" in request.GET,
        saved="saved" in request.GET,
    )
    return _render(request, "manage.html", context)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = _subscriber(token)
    if request.method == "GET":
        return _render(request, "unsubscribe.html", {"subscriber": subscriber})
    via = "one-click" if request.POST.get("List-Unsubscribe") == "One-Click" else "page"
    subscriber = services.unsubscribe(
        subscriber, now=timezone.now(), ip=client_ip(request), via=via
    )
    return _render(request, "unsubscribe.html", {"subscriber": subscriber, "done": True})
