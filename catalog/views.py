"""Console pages of the service catalogue: list (search, tier, paging), detail
(dependencies both ways, monitors, open incidents), editor and delete.

Viewers read; admins change the catalogue (``catalog.services``, with ``now``
read once here). Errors show next to the field they concern.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.decorators import role_required
from accounts.roles import ADMIN, VIEWER
from incidents.models import Incident, State

from . import services
from .forms import ServiceForm
from .models import Service, Tier
from .selectors import related
from .services import CatalogError

PAGE_SIZE = 25


@role_required(VIEWER)
def service_list(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()[:200]
    tier = request.GET.get("tier", "")
    tier = tier if tier in {str(v) for v in Tier.values} else ""
    qs = Service.objects.annotate(
        monitor_count=Count("monitors", distinct=True),
        dependency_count=Count("dependency_links", distinct=True),
        dependent_count=Count("dependent_links", distinct=True),
    )
    if text:
        matching = Service.objects.filter(
            Q(name__icontains=text)
            | Q(slug__icontains=text)
            | Q(owner__icontains=text)
            | Q(aliases__alias__icontains=text)
        ).values("pk")
        qs = qs.filter(pk__in=matching)
    if tier:
        qs = qs.filter(tier=int(tier))
    page = Paginator(qs.order_by("name", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    open_counts = dict(
        Incident.objects.exclude(state=State.RESOLVED)
        .filter(service_links__service__in=[s.pk for s in page.object_list])
        .values_list("service_links__service")
        .annotate(n=Count("pk", distinct=True))
    )
    rows = [(s, open_counts.get(s.pk, 0)) for s in page.object_list]
    return render(
        request,
        "catalog/list.html",
        {
            "page": page,
            "rows": rows,
            "q": text,
            "tier": tier,
            "tiers": Tier.choices,
            "filtered": bool(text or tier),
        },
    )


@role_required(VIEWER)
def service_detail(request: HttpRequest, slug: str) -> HttpResponse:
    service = get_object_or_404(Service.objects.prefetch_related("aliases"), slug=slug)
    upstream, downstream = related(service)
    incidents = (
        Incident.objects.exclude(state=State.RESOLVED)
        .filter(service_links__service=service)
        .distinct()
        .order_by("-started_at", "-pk")[:50]
    )
    recent = (
        Incident.objects.filter(service_links__service=service, state=State.RESOLVED)
        .distinct()
        .order_by("-started_at", "-pk")[:10]
    )
    context: dict[str, Any] = {
        "service": service,
        "upstream": upstream,
        "downstream": downstream,
        "monitors": service.monitors.select_related("state").order_by("name"),
        "incidents": incidents,
        "recent": recent,
        "now": timezone.now(),
    }
    return render(request, "catalog/detail.html", context)


def _form_page(request: HttpRequest, form: ServiceForm, service: Service | None) -> HttpResponse:
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "catalog/form.html", {"form": form, "service": service}, status=status)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def service_create(request: HttpRequest) -> HttpResponse:
    form = ServiceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and form.validated_data is not None:
        try:
            service = services.create_service(
                form.validated_data, now=timezone.now(), actor=request.user
            )
        except CatalogError as exc:
            form.apply(exc)
        else:
            messages.success(request, f"Service {service.name} added.")
            return redirect("catalog:detail", slug=service.slug)
    return _form_page(request, form, None)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, slug: str) -> HttpResponse:
    service = get_object_or_404(Service, slug=slug)
    form = ServiceForm(request.POST if request.method == "POST" else None, instance=service)
    if request.method == "POST" and form.is_valid() and form.validated_data is not None:
        try:
            service = services.update_service(
                service, form.validated_data, now=timezone.now(), actor=request.user
            )
        except CatalogError as exc:
            form.apply(exc)
        else:
            messages.success(request, f"Service {service.name} saved.")
            return redirect("catalog:detail", slug=service.slug)
    return _form_page(request, form, service)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def service_delete(request: HttpRequest, slug: str) -> HttpResponse:
    service = get_object_or_404(Service, slug=slug)
    if request.method == "POST":
        name = service.name
        services.delete_service(service, now=timezone.now(), actor=request.user)
        messages.success(request, f"Service {name} deleted.")
        return redirect("catalog:list")
    return render(
        request,
        "catalog/confirm_delete.html",
        {
            "service": service,
            "monitor_count": service.monitors.count(),
            "dependent_count": service.dependents.count(),
        },
    )
