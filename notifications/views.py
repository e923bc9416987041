"""Console pages of triggers and deliveries.

Views are thin: triggers change only through ``trigger_services`` and
deliveries are retried only through ``sending.retry_now`` (``now`` read once
here). Roles are enforced on the server: viewers read (secrets masked),
admins configure and test triggers, operators retry deliveries.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import role_required
from accounts.roles import ADMIN, OPERATOR, VIEWER
from statuspage.filtering import valid_filters, within_days

from . import sending, trigger_services
from .forms import DeliveryFilter, TriggerFilter, TriggerForm
from .models import Delivery, Trigger, TriggerKind
from .notifiers import trigger_kinds

PAGE_SIZE = 50
RECENT = 10


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- triggers --------------------------------------------------------------------


@role_required(VIEWER)
def trigger_list(request: HttpRequest) -> HttpResponse:
    form = TriggerFilter(request.GET or None)
    f = valid_filters(form)
    last = Delivery.objects.filter(trigger=OuterRef("pk")).order_by("-created_at", "-id")
    qs = Trigger.objects.annotate(
        rule_count=Count("rules", distinct=True),
        last_status=Subquery(last.values("status")[:1]),
        last_at=Subquery(last.values("created_at")[:1]),
    )
    if f.get("kind"):
        qs = qs.filter(kind=f["kind"])
    if f.get("active"):
        qs = qs.filter(is_active=f["active"] == "1")
    if f.get("q"):
        qs = qs.filter(name__icontains=f["q"])
    page = Paginator(qs.order_by("name", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        (trigger, trigger_services.notifier(trigger.kind).target_text(trigger.config or {}))
        for trigger in page.object_list
    ]
    filtered = any(f.get(name) for name in ("kind", "active", "q"))
    return render(
        request,
        "notifications/trigger_list.html",
        {"page": page, "rows": rows, "form": form, "filtered": filtered},
    )


def _kinds() -> list[tuple[str, str, str]]:
    classes = {kind: trigger_services.notifier(kind) for kind in trigger_kinds()}
    return [
        (value, label, classes[value].description)
        for value, label in TriggerKind.choices
        if value in classes
    ]


@role_required(ADMIN)
def trigger_choose(request: HttpRequest) -> HttpResponse:
    """New trigger: choose its kind first (each kind has its own fields)."""
    return render(request, "notifications/trigger_choose.html", {"kinds": _kinds()})


def _form_page(request: HttpRequest, form: TriggerForm, trigger: Trigger | None) -> HttpResponse:
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "notifications/trigger_form.html",
        {
            "form": form,
            "trigger": trigger,
            "kind_label": TriggerKind(form.kind).label,
            "description": form.kind_class.description,
        },
        status=status,
    )


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def trigger_create(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in trigger_kinds():
        raise Http404("No such trigger kind.")
    form = TriggerForm(request.POST if request.method == "POST" else None, kind=kind)
    if request.method == "POST":
        valid, now = form.is_valid(), timezone.now()
        try:
            if not valid:  # still judge the rest, so every problem shows at once
                trigger_services.validate(form.service_data(), instance=None, now=now)
            else:
                trigger = trigger_services.create_trigger(
                    form.service_data(), now=now, actor=request.user
                )
                messages.success(
                    request, f"Trigger “{trigger.name}” created. Send a test to check it."
                )
                return redirect("notifications:trigger_detail", pk=trigger.pk)
        except trigger_services.TriggerInvalid as exc:
            form.apply(exc.errors)
    return _form_page(request, form, None)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def trigger_edit(request: HttpRequest, pk: int) -> HttpResponse:
    trigger = get_object_or_404(Trigger, pk=pk)
    form = TriggerForm(
        request.POST if request.method == "POST" else None, kind=trigger.kind, trigger=trigger
    )
    if request.method == "POST":
        valid, now = form.is_valid(), timezone.now()
        try:
            if not valid:
                trigger_services.validate(form.service_data(), instance=trigger, now=now)
            else:
                trigger_services.update_trigger(
                    trigger, form.service_data(), now=now, actor=request.user
                )
                messages.success(request, "Trigger saved.")
                return redirect("notifications:trigger_detail", pk=trigger.pk)
        except trigger_services.TriggerInvalid as exc:
            form.apply(exc.errors)
    return _form_page(request, form, trigger)


@role_required(VIEWER)
def trigger_detail(request: HttpRequest, pk: int) -> HttpResponse:
    trigger = get_object_or_404(Trigger.objects.prefetch_related("rules__monitors"), pk=pk)
    kind_class = trigger_services.notifier(trigger.kind)
    templates = [
        (spec, kind_class.source(trigger.templates, spec.name), spec.name in trigger.templates)
        for spec in kind_class.templates
    ]
    recent = trigger.deliveries.select_related("notification").order_by("-created_at", "-id")
    return render(
        request,
        "notifications/trigger_detail.html",
        {
            "trigger": trigger,
            "settings_rows": [
                (key, _lines(value))
                for key, value in kind_class.mask_config(trigger.config or {}).items()
            ],
            "target": kind_class.target_text(trigger.config or {}),
            "templates": templates,
            "recent": recent[:RECENT],
            "rules": trigger.rules.all(),
        },
    )


def _lines(value: Any) -> list[str]:
    """A config value as display lines (dicts as ``key: value``)."""
    if isinstance(value, dict):
        return [f"{k}: {v}" for k, v in value.items()]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


@role_required(ADMIN)
@require_POST
def trigger_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a sample alert now; htmx gets the result partial, plain POSTs a redirect."""
    trigger = get_object_or_404(Trigger, pk=pk)
    result = trigger_services.send_test(trigger, now=timezone.now())
    if _htmx(request):
        return render(request, "notifications/_test_result.html", {"result": result})
    if result.ok:
        messages.success(request, f"Test sent: {result.status_code or 'accepted'}.")
    else:
        messages.error(request, f"Test failed: {result.error}")
    return redirect("notifications:delivery_detail", pk=result.delivery_id)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def trigger_delete(request: HttpRequest, pk: int) -> HttpResponse:
    trigger = get_object_or_404(Trigger, pk=pk)
    if request.method == "POST":
        trigger_services.delete_trigger(trigger, now=timezone.now(), actor=request.user)
        messages.success(request, "Trigger deleted.")
        return redirect("notifications:triggers")
    return render(
        request,
        "notifications/trigger_confirm_delete.html",
        {"trigger": trigger, "rules": trigger.rules.count()},
    )


# --- deliveries ------------------------------------------------------------------


@role_required(VIEWER)
def delivery_list(request: HttpRequest) -> HttpResponse:
    form = DeliveryFilter(request.GET or None)
    f = valid_filters(form)
    qs = Delivery.objects.select_related("notification", "trigger")
    if f.get("status"):
        qs = qs.filter(status=f["status"])
    if f.get("trigger"):
        qs = qs.filter(trigger=f["trigger"])
    if f.get("event"):
        qs = qs.filter(notification__event=f["event"])
    qs = within_days(qs, "created_at", f.get("start"), f.get("end"))
    page = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    filtered = any(f.get(name) for name in ("status", "trigger", "event", "start", "end"))
    return render(
        request,
        "notifications/delivery_list.html",
        {"page": page, "form": form, "filtered": filtered},
    )


@role_required(VIEWER)
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery.objects.select_related("notification", "trigger"), pk=pk)
    return render(
        request,
        "notifications/delivery_detail.html",
        {
            "delivery": delivery,
            "tries": delivery.tries.order_by("number"),
            "can_retry": delivery.status in ("failed", "retrying"),
        },
    )


@role_required(OPERATOR)
@require_POST
def delivery_retry(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=pk)
    try:
        sending.retry_now(delivery, now=timezone.now(), actor=request.user)
    except sending.DeliveryError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Queued: the delivery is sent again now.")
    return redirect("notifications:delivery_detail", pk=delivery.pk)
