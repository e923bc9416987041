"""Console pages of the integrations app: list, create/edit form, detail
(URL and token to copy, last deliveries, alerts, deployments), token
rotation and deletion, both confirmed.

Views are thin: changes go through ``integrations.services`` with ``now``
read once here; roles are enforced on the server: viewers read (without the
token), admins configure.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.decorators import role_required
from accounts.roles import ADMIN, VIEWER
from alerting.models import AlertStatus

from . import services
from .forms import IntegrationForm
from .models import Integration, SourceKind

PAGE_SIZE = 50
RECENT = 20


@role_required(VIEWER)
def integration_list(request: HttpRequest) -> HttpResponse:
    source = request.GET.get("source", "")
    source = source if source in SourceKind.values else ""
    active = request.GET.get("active", "")
    active = active if active in ("1", "0") else ""
    qs = Integration.objects.annotate(
        open_alerts=Count("alerts", filter=Q(alerts__status=AlertStatus.TRIGGERED))
    )
    if source:
        qs = qs.filter(source=source)
    if active:
        qs = qs.filter(is_active=active == "1")
    page = Paginator(qs.order_by("name", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "integrations/list.html",
        {
            "page": page,
            "source": source,
            "active": active,
            "sources": SourceKind.choices,
            "filtered": bool(source or active),
        },
    )


def _form_page(
    request: HttpRequest, form: IntegrationForm, integration: Integration | None
) -> HttpResponse:
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "integrations/form.html",
        {"form": form, "integration": integration},
        status=status,
    )


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def integration_create(request: HttpRequest) -> HttpResponse:
    form = IntegrationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            integration = services.create_integration(
                form.service_data(), now=timezone.now(), actor=request.user
            )
        except ValidationError as exc:
            form.apply(exc)
        else:
            messages.success(request, "Integration created: copy its URL into the tool.")
            return redirect("integrations:detail", integration.pk)
    return _form_page(request, form, None)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def integration_edit(request: HttpRequest, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=pk)
    form = IntegrationForm(
        request.POST if request.method == "POST" else None, integration=integration
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_integration(
                integration, form.service_data(), now=timezone.now(), actor=request.user
            )
        except ValidationError as exc:
            form.apply(exc)
        else:
            messages.success(request, "Integration saved.")
            return redirect("integrations:detail", integration.pk)
    return _form_page(request, form, integration)


@role_required(VIEWER)
def integration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=pk)
    alerts = integration.alerts.select_related("service", "incident").order_by(
        "-last_seen_at", "-id"
    )[:RECENT]
    return render(
        request,
        "integrations/detail.html",
        {
            "integration": integration,
            "url": services.endpoint_url(integration),
            "endpoint": services.endpoint_url(integration, with_token=False),
            "deliveries": integration.deliveries.order_by("-received_at", "-id")[:RECENT],
            "alerts": alerts,
            "open_alerts": integration.alerts.filter(status=AlertStatus.TRIGGERED).count(),
            "deployments": integration.deployments.select_related("service").order_by(
                "-received_at", "-id"
            )[:RECENT],
            "is_ci": integration.source in (SourceKind.JENKINS, SourceKind.CLOUDBEES),
            "now": timezone.now(),
        },
    )


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def integration_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=pk)
    if request.method == "POST":
        services.rotate_token(integration, now=timezone.now(), actor=request.user)
        messages.success(request, "New token issued: update the URL in the tool now.")
        return redirect("integrations:detail", integration.pk)
    return render(request, "integrations/confirm_rotate.html", {"integration": integration})


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def integration_delete(request: HttpRequest, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=pk)
    if request.method == "POST":
        services.delete_integration(integration, now=timezone.now(), actor=request.user)
        messages.success(request, "Integration deleted.")
        return redirect("integrations:list")
    return render(
        request,
        "integrations/confirm_delete.html",
        {"integration": integration, "alerts": integration.alerts.count()},
    )
