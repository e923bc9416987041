"""Console pages of the incidents app: list, page, composer, lifecycle actions.

Views are thin: every change goes through ``incidents.services`` with ``now``
read once here and ``actor=request.user``; an ``IncidentError`` is shown next
to the field it names. Roles are enforced on the server for every request:
viewers read, operators run the lifecycle, admins delete.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import role_required
from accounts.roles import ADMIN, OPERATOR, VIEWER
from monitors.models import Monitor
from statuspage.filtering import within_days

from . import investigation_services, links, merging, services
from .forms import (
    AcknowledgeForm,
    AssignForm,
    EscalateForm,
    IncidentCreateForm,
    IncidentEditForm,
    MergeAlertForm,
    MergeForm,
    ReopenForm,
    ResolveForm,
    ServiceLinkForm,
    UpdateForm,
    apply_error,
    assignable_users,
)
from .markdown import render as render_markdown
from .models import Incident, IncidentMonitor, IncidentService, Severity, Source, State
from .services import IncidentError

PAGE_SIZE = 25
STATE_FILTERS = [("open", "Open (not resolved)"), *State.choices]


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def filter_incidents(params: Any, user: Any = None) -> tuple[QuerySet[Incident], dict[str, Any]]:
    """The incidents matching the list's URL filters, and the cleaned filters.
    ``assignee`` is a username, ``me`` (``user``) or ``none`` (unassigned)."""
    qs = Incident.objects.all()
    state = params.get("state", "")
    if state == "open":
        qs = qs.exclude(state=State.RESOLVED)
    elif state in State.values:
        qs = qs.filter(state=state)
    else:
        state = ""
    severity = params.get("severity", "")
    severity = severity if severity in Severity.values else ""
    if severity:
        qs = qs.filter(severity=severity)
    source = params.get("source", "")
    source = source if source in Source.values else ""
    if source:
        qs = qs.filter(source=source)
    monitor = params.get("monitor", "").strip()[:64]
    if monitor:
        qs = qs.filter(affected__monitor__tag=monitor).distinct()
    since = _date(params.get("from", ""))
    until = _date(params.get("to", ""))
    qs = within_days(qs, "started_at", since, until)
    assignee = params.get("assignee", "").strip()[:150]
    if assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif assignee == "me" and user is not None and getattr(user, "pk", None):
        qs = qs.filter(assignee=user)
    elif assignee and assignee != "me":
        qs = qs.filter(assignee__username=assignee)
    else:
        assignee = ""
    text = params.get("q", "").strip()[:200]
    if text:
        qs = qs.filter(title__icontains=text)
    filters = {
        "state": state,
        "severity": severity,
        "source": source,
        "monitor": monitor,
        "assignee": assignee,
        "from": since.isoformat() if since else "",
        "to": until.isoformat() if until else "",
        "q": text,
    }
    return qs, filters


@role_required(VIEWER)
def incident_list(request: HttpRequest) -> HttpResponse:
    qs, filters = filter_incidents(request.GET, request.user)
    qs = (
        qs.order_by("-started_at", "-id")
        .select_related("assignee")
        .prefetch_related(
            Prefetch(
                "affected",
                queryset=IncidentMonitor.objects.select_related("monitor").order_by(
                    "monitor__name"
                ),
            )
        )
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "incidents/list.html",
        {
            "page": page,
            "f": filters,
            "filtered": any(filters.values()),
            "states": STATE_FILTERS,
            "severities": Severity.choices,
            "sources": Source.choices,
            "monitors": Monitor.objects.order_by("name").values_list("tag", "name"),
            "assignees": assignable_users().values_list("username", flat=True),
            "now": timezone.now(),
        },
    )


TABS = ("overview", "investigation")


def _incident(pk: int) -> Incident:
    return get_object_or_404(
        Incident.objects.select_related(
            "acknowledged_by",
            "resolved_by",
            "follow_up_of",
            "primary_service",
            "merged_into",
            "assignee",
        ),
        pk=pk,
    )


def _service_rows(incident: Incident) -> list[dict[str, Any]]:
    """The incident's services with their direct dependencies and dependents."""
    from catalog.models import Service
    from catalog.selectors import load_graph

    graph = load_graph()
    rows = list(
        IncidentService.objects.filter(incident=incident)
        .select_related("service")
        .order_by("added_at", "pk")
    )
    near = set()
    for link in rows:
        near |= graph.neighbours(link.service_id)
    names = Service.objects.in_bulk(near)

    def named(ids: Any) -> list[Any]:
        return sorted((names[i] for i in ids if i in names), key=lambda s: s.name.lower())

    return [
        {
            "link": link,
            "service": link.service,
            "is_primary": link.service_id == incident.primary_service_id,
            "depends_on": named(graph.depends_on.get(link.service_id, ())),
            "dependents": named(graph.dependents.get(link.service_id, ())),
        }
        for link in rows
    ]


def _detail(request: HttpRequest, incident: Incident, status: int = 200, **forms: Any) -> Any:
    """The incident page, with bound forms (and their errors) where given."""
    context: dict[str, Any] = {
        "incident": incident,
        "affected": incident.affected.select_related("monitor", "monitor__state").order_by(
            "monitor__name"
        ),
        "updates": incident.updates.select_related("author"),
        "timeline": incident.timeline.select_related("actor"),
        "alerts": incident.alerts.select_related("rule", "monitor", "service").order_by(
            "triggered_at", "pk"
        ),
        "services": _service_rows(incident),
        "service_form": forms.get("service_form") or ServiceLinkForm(incident=incident),
        "merge_alert_form": forms.get("merge_alert_form") or MergeAlertForm(),
        "merged_incidents": incident.merged_incidents.order_by("pk"),
        "tab": tab if (tab := request.GET.get("tab", "")) in TABS else "overview",
        "follow_ups": incident.follow_ups.all(),
        "update_form": forms.get("update_form")
        or UpdateForm(initial={"state": incident.state if not incident.is_resolved else ""}),
        "ack_form": forms.get("ack_form") or AcknowledgeForm(),
        "resolve_form": forms.get("resolve_form") or ResolveForm(),
        "reopen_form": forms.get("reopen_form") or ReopenForm(),
        "assign_form": forms.get("assign_form")
        or AssignForm(user=request.user, current=incident.assignee),
        "escalate_form": forms.get("escalate_form") or EscalateForm(incident=incident),
        "open_dialog": forms.get("open_dialog", ""),
        "now": timezone.now(),
    }
    return render(request, "incidents/detail.html", context, status=status)


def _page_action(
    request: HttpRequest,
    incident: Incident,
    form: Any,
    form_name: str,
    act: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """The shape of every form on the incident page: when ``form`` is valid,
    ``act(cleaned_data)`` calls the service and returns the success message
    (then back to the page); an ``IncidentError`` goes onto the form, and an
    invalid form is shown inline on the page (``form_name`` in its context),
    with status 400."""
    if form.is_valid():
        try:
            message = act(form.cleaned_data)
        except IncidentError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, message)
            return redirect("incidents:detail", pk=incident.pk)
    return _detail(request, incident, 400, **{form_name: form})


@role_required(VIEWER)
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _incident(pk))


@role_required(OPERATOR)
@require_POST
def incident_update(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)

    def act(data: dict[str, Any]) -> str:
        services.post_update(
            incident, state=data["state"], body=data["body"], now=timezone.now(), actor=request.user
        )
        return "Update posted."

    return _page_action(request, incident, UpdateForm(request.POST), "update_form", act)


@role_required(OPERATOR)
@require_POST
def markdown_preview(request: HttpRequest) -> HttpResponse:
    """htmx: the composer's Markdown rendered exactly as it will be stored."""
    source = request.POST.get("body", "")[: services.MAX_BODY]
    # ``render`` sanitises with nh3's allow-list, so the partial marks it safe.
    return render(request, "incidents/_preview.html", {"html": render_markdown(source)})


@role_required(OPERATOR)
@require_POST
def incident_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)

    def act(data: dict[str, Any]) -> str:
        services.acknowledge(incident, now=timezone.now(), actor=request.user, note=data["note"])
        return f"{incident.key} acknowledged."

    return _page_action(request, incident, AcknowledgeForm(request.POST), "ack_form", act)


@role_required(OPERATOR)
@require_http_methods(["GET", "POST"])
def incident_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the resolve form as a page (without JavaScript); POST: resolve."""
    incident = _incident(pk)
    form = ResolveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.resolve(
                incident,
                note=form.cleaned_data["note"],
                classification=form.cleaned_data["classification"],
                now=timezone.now(),
                actor=request.user,
            )
        except IncidentError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"{incident.key} resolved.")
            return redirect("incidents:detail", pk=incident.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "incidents/resolve.html", {"incident": incident, "form": form}, status=status
    )


@role_required(OPERATOR)
@require_POST
def incident_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)

    def act(data: dict[str, Any]) -> str:
        services.reopen(incident, reason=data["reason"], now=timezone.now(), actor=request.user)
        return f"{incident.key} reopened."

    return _page_action(request, incident, ReopenForm(request.POST), "reopen_form", act)


@role_required(OPERATOR)
@require_POST
def incident_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: assign to the chosen user, to ``me``, or to nobody."""
    incident = _incident(pk)
    form = AssignForm(request.POST, user=request.user, current=incident.assignee)

    def act(data: dict[str, Any]) -> str:
        assignee = data["assignee"]
        services.assign(incident, assignee=assignee, now=timezone.now(), actor=request.user)
        who = assignee.get_username() if assignee is not None else "nobody"
        return f"{incident.key} assigned to {who}."

    return _page_action(request, incident, form, "assign_form", act)


@role_required(OPERATOR)
@require_http_methods(["GET", "POST"])
def incident_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the escalate form as a page (without JavaScript); POST: escalate."""
    incident = _incident(pk)
    form = EscalateForm(request.POST if request.method == "POST" else None, incident=incident)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.escalate(
                incident,
                triggers=form.chosen_triggers(),
                note=form.cleaned_data["note"],
                severity=form.cleaned_data["severity"] or None,
                now=timezone.now(),
                actor=request.user,
            )
        except IncidentError as exc:
            apply_error(form, exc)
        else:
            count = len(result.deliveries)
            messages.success(
                request,
                f"{incident.key} escalated: {count} trigger{'s' if count != 1 else ''} notified.",
            )
            return redirect("incidents:detail", pk=incident.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "incidents/escalate.html", {"incident": incident, "form": form}, status=status
    )


@role_required(OPERATOR)
@require_http_methods(["GET", "POST"])
def incident_create(request: HttpRequest) -> HttpResponse:
    form = IncidentCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.create_incident(
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                state=form.cleaned_data["state"],
                severity=form.cleaned_data["severity"],
                monitors=form.chosen_monitors(),
                now=timezone.now(),
                actor=request.user,
            )
        except IncidentError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"{incident.key} opened.")
            return redirect("incidents:detail", pk=incident.pk)
    status = 400 if form.is_bound else 200
    return render(request, "incidents/form.html", {"form": form, "incident": None}, status=status)


@role_required(OPERATOR)
@require_http_methods(["GET", "POST"])
def incident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    form = IncidentEditForm(request.POST if request.method == "POST" else None, incident=incident)
    if request.method == "POST" and form.is_valid():
        changes = {
            name: form.cleaned_data[name]
            for name in ("title", "severity", "started_at", "ended_at")
        }
        changes["monitors"] = form.chosen_monitors()
        try:
            services.edit_incident(incident, changes, now=timezone.now(), actor=request.user)
        except IncidentError as exc:
            apply_error(form, exc)
        else:
            messages.success(request, f"{incident.key} saved.")
            return redirect("incidents:detail", pk=incident.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "incidents/form.html", {"form": form, "incident": incident}, status=status
    )


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def incident_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation page; POST: delete."""
    incident = _incident(pk)
    if request.method == "POST":
        key = incident.key
        services.delete_incident(incident, now=timezone.now(), actor=request.user)
        messages.success(request, f"{key} deleted.")
        return redirect("incidents:list")
    return render(request, "incidents/confirm_delete.html", {"incident": incident})


# --- correlation: services, merges, investigation -------------------------------------


@role_required(OPERATOR)
@require_POST
def incident_service_add(request: HttpRequest, pk: int) -> HttpResponse:
    from catalog.models import Service

    incident = _incident(pk)

    def act(data: dict[str, Any]) -> str:
        service = Service.objects.get(slug=data["service"])
        links.add_services(incident, [service], now=timezone.now(), actor=request.user)
        return f"{service.name} associated with {incident.key}."

    form = ServiceLinkForm(request.POST, incident=incident)
    return _page_action(request, incident, form, "service_form", act)


@role_required(OPERATOR)
@require_POST
def incident_service_remove(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    from catalog.models import Service

    incident = _incident(pk)
    service = get_object_or_404(Service, slug=slug)
    try:
        removed = links.remove_services(incident, [service], now=timezone.now(), actor=request.user)
    except IncidentError as exc:
        messages.error(request, exc.message)
    else:
        if removed:
            messages.success(request, f"{service.name} no longer associated with {incident.key}.")
        else:
            messages.warning(request, f"{service.name} was not associated with {incident.key}.")
    return redirect("incidents:detail", pk=incident.pk)


@role_required(OPERATOR)
@require_POST
def incident_merge_alert(request: HttpRequest, pk: int) -> HttpResponse:
    from alerting.models import Alert

    incident = _incident(pk)
    form = MergeAlertForm(request.POST)
    if form.is_valid():
        alert = Alert.objects.filter(pk=form.cleaned_data["alert"]).first()
        if alert is None:
            form.add_error("alert", "No alert has this number.")
        else:
            try:
                merging.merge_alert(incident, alert, now=timezone.now(), actor=request.user)
            except IncidentError as exc:
                form.add_error("alert" if exc.field else None, exc.message)
            else:
                messages.success(request, f"Alert #{alert.pk} moved into {incident.key}.")
                return redirect("incidents:detail", pk=incident.pk)
    return _detail(request, incident, 400, merge_alert_form=form)


@role_required(OPERATOR)
@require_http_methods(["GET", "POST"])
def incident_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: choose the target and confirm; POST: merge this incident into it."""
    incident = _incident(pk)
    form = MergeForm(request.POST if request.method == "POST" else None, incident=incident)
    if request.method == "POST" and form.is_valid():
        target = get_object_or_404(Incident, pk=form.cleaned_data["into"])
        try:
            merging.merge_incident(incident, target, now=timezone.now(), actor=request.user)
        except IncidentError as exc:
            form.add_error("into" if exc.field else None, exc.message)
        else:
            messages.success(request, f"{incident.key} merged into {target.key}.")
            return redirect("incidents:detail", pk=target.pk)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "incidents/merge.html",
        {"incident": incident, "form": form, "alert_count": incident.alerts.count()},
        status=status,
    )


@role_required(OPERATOR)
@require_POST
def incident_investigate(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    if investigation_services.rerun(incident, now=timezone.now()):
        messages.success(request, "Investigation queued; refresh in a few seconds.")
    else:
        messages.warning(request, "The investigation is running already.")
    return redirect(reverse("incidents:detail", args=[incident.pk]) + "?tab=investigation")
