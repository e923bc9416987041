"""Console pages of the alerting app: alert rules (list, editor with a live
sentence) and the alert log (filters, paging, actions).

Views are thin: rules change only through ``alerting.rule_services`` (with
``now`` read once here); roles are enforced on the server: viewers read,
admins configure rules and delete log entries. Resolving from the log
resolves the alert's incident on the incident page (operators).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.decorators import role_required
from accounts.roles import ADMIN, VIEWER
from monitors.models import Monitor
from statuspage.filtering import valid_filters, within_days

from . import rule_services
from .forms import AlertLogFilter, RuleForm, sentence_for
from .models import AlertEvent, AlertRule, AlertStatus, RuleKind

PAGE_SIZE = 50


# --- alert log -------------------------------------------------------------------


@role_required(VIEWER)
def alert_log(request: HttpRequest) -> HttpResponse:
    """Every TRIGGERED / RESOLVED, newest first, filtered by the URL."""
    form = AlertLogFilter(request.GET or None)
    f = valid_filters(form)
    qs = AlertEvent.objects.select_related("rule", "monitor", "incident", "alert")
    if f.get("rule"):
        qs = qs.filter(rule=f["rule"])
    if f.get("monitor"):
        qs = qs.filter(monitor=f["monitor"])
    if f.get("status"):
        qs = qs.filter(status=f["status"])
    qs = within_days(qs, "at", f.get("start"), f.get("end"))
    page = Paginator(qs.order_by("-at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    filtered = any(f.get(name) for name in ("rule", "monitor", "status", "start", "end"))
    return render(
        request,
        "alerting/log.html",
        {"page": page, "form": form, "filtered": filtered, "now": timezone.now()},
    )


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def event_delete(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(AlertEvent.objects.select_related("rule", "monitor"), pk=pk)
    if request.method == "POST":
        rule_services.delete_alert_event(event, now=timezone.now(), actor=request.user)
        messages.success(request, "Alert log entry deleted.")
        return redirect("alerting:log")
    return render(request, "alerting/confirm_delete_event.html", {"event": event})


# --- rules -----------------------------------------------------------------------


@role_required(VIEWER)
def rule_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    kind = kind if kind in RuleKind.values else ""
    active = request.GET.get("active", "")
    active = active if active in ("1", "0") else ""
    monitor = request.GET.get("monitor", "").strip()[:64]
    qs = AlertRule.objects.prefetch_related(
        Prefetch("monitors", queryset=Monitor.objects.order_by("name"))
    ).annotate(triggered=Count("alerts", filter=Q(alerts__status=AlertStatus.TRIGGERED)))
    if kind:
        qs = qs.filter(kind=kind)
    if active:
        qs = qs.filter(is_active=active == "1")
    if monitor:
        qs = qs.filter(monitors__tag=monitor).distinct()
    page = Paginator(qs.order_by("id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(rule, sentence_for(rule)) for rule in page.object_list]
    return render(
        request,
        "alerting/rule_list.html",
        {
            "page": page,
            "rows": rows,
            "kind": kind,
            "active": active,
            "monitor": monitor,
            "kinds": RuleKind.choices,
            "monitors": Monitor.objects.order_by("name").values_list("tag", "name"),
            "filtered": bool(kind or active or monitor),
        },
    )


def _form_page(request: HttpRequest, form: RuleForm, rule: AlertRule | None) -> HttpResponse:
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "alerting/rule_form.html", {"form": form, "rule": rule}, status=status)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            rule_services.create_rule(form.service_data(), now=timezone.now(), actor=request.user)
        except ValidationError as exc:
            form.apply(exc)
        else:
            messages.success(request, "Alert rule created.")
            return redirect("alerting:rules")
    return _form_page(request, form, None)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AlertRule, pk=pk)
    form = RuleForm(request.POST if request.method == "POST" else None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            rule_services.update_rule(
                rule, form.service_data(), now=timezone.now(), actor=request.user
            )
        except ValidationError as exc:
            form.apply(exc)
        else:
            messages.success(request, "Alert rule saved.")
            return redirect("alerting:rules")
    return _form_page(request, form, rule)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AlertRule, pk=pk)
    if request.method == "POST":
        rule_services.delete_rule(rule, now=timezone.now(), actor=request.user)
        messages.success(request, "Alert rule deleted.")
        return redirect("alerting:rules")
    return render(
        request,
        "alerting/confirm_delete_rule.html",
        {"rule": rule, "sentence": sentence_for(rule), "alerts": rule.alerts.count()},
    )


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def rule_sentence_partial(request: HttpRequest) -> HttpResponse:
    """htmx: the editor's live sentence for the values typed so far."""
    form = RuleForm(request.POST if request.method == "POST" else request.GET)
    return render(request, "alerting/_sentence.html", {"sentence": form.sentence()})
