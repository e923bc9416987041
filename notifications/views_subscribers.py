"""Console pages of subscribers: list (search, filters, paging), CSV export,
a subscriber's page (choices, event log, recent deliveries), adding a
webhook subscriber, and removal with confirmation.

Viewers read the list and pages; exporting addresses, adding and removing
need admin. Filters live in the URL (``?q=&kind=&status=&monitor=&events=``)
and the export takes the same ones. Every change goes through
``notifications.subscriber_services`` with ``now`` read here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.decorators import role_required
from accounts.roles import ADMIN, VIEWER
from monitors.models import Monitor

from . import subscriber_services as services
from .forms_public import ChoicesForm, WebhookSubscriberForm, apply_error
from .models import Delivery, Subscriber, SubscriberKind, SubscriberStatus
from .subscriber_services import SubscriberError

PAGE_SIZE = 50
EVENT_FILTERS = [("incidents", "Incidents"), ("maintenance", "Maintenance")]
CSV_COLUMNS = [
    "id",
    "kind",
    "address",
    "status",
    "all_monitors",
    "monitors",
    "notify_incidents",
    "notify_maintenance",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
]


def filter_subscribers(params: Any) -> tuple[QuerySet[Subscriber], dict[str, str]]:
    """The subscribers matching the list's URL filters, and the cleaned filters.

    Unknown values are ignored (the filter shows as unset), never an error.
    """
    qs = Subscriber.objects.all()
    text = str(params.get("q", "")).strip()[:200].replace("\x00", "")
    if text:
        qs = qs.filter(Q(email__icontains=text) | Q(url__icontains=text))
    kind = params.get("kind", "")
    kind = kind if kind in SubscriberKind.values else ""
    if kind:
        qs = qs.filter(kind=kind)
    status = params.get("status", "")
    status = status if status in SubscriberStatus.values else ""
    if status:
        qs = qs.filter(status=status)
    monitor = str(params.get("monitor", "")).strip()[:64].replace("\x00", "")
    if monitor:
        # Who hears about this monitor: its followers and those of everything.
        following = Subscriber.monitors.through.objects.filter(monitor__tag=monitor).values(
            "subscriber_id"
        )
        qs = qs.filter(Q(all_monitors=True) | Q(pk__in=following))
    events = params.get("events", "")
    if events == "incidents":
        qs = qs.filter(notify_incidents=True)
    elif events == "maintenance":
        qs = qs.filter(notify_maintenance=True)
    else:
        events = ""
    filters = {"q": text, "kind": kind, "status": status, "monitor": monitor, "events": events}
    return qs, filters


@role_required(VIEWER)
def subscriber_list(request: HttpRequest) -> HttpResponse:
    qs, filters = filter_subscribers(request.GET)
    qs = qs.order_by("-created_at", "-id").prefetch_related("monitors")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    totals = dict(
        Subscriber.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return render(
        request,
        "notifications/subscribers/list.html",
        {
            "page": page,
            "f": filters,
            "filtered": any(filters.values()),
            "kinds": SubscriberKind.choices,
            "statuses": SubscriberStatus.choices,
            "events": EVENT_FILTERS,
            "monitors": Monitor.objects.order_by("name").values_list("tag", "name"),
            "totals": [(label, totals.get(value, 0)) for value, label in SubscriberStatus.choices],
        },
    )


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(qs: QuerySet[Subscriber]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    rows = qs.order_by("id").prefetch_related("monitors").iterator(chunk_size=1000)
    for s in rows:
        yield writer.writerow(
            [
                _cell(v)
                for v in (
                    s.pk,
                    s.kind,
                    s.email or s.url,
                    s.status,
                    s.all_monitors,
                    " ".join(sorted(m.tag for m in s.monitors.all())),
                    s.notify_incidents,
                    s.notify_maintenance,
                    s.created_at.isoformat(),
                    s.confirmed_at.isoformat() if s.confirmed_at else "",
                    s.unsubscribed_at.isoformat() if s.unsubscribed_at else "",
                )
            ]
        )


@role_required(ADMIN)
@require_http_methods(["GET"])
def subscriber_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed (no row limit, constant memory)."""
    qs, _ = filter_subscribers(request.GET)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(_csv_rows(qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="subscribers-{stamp}.csv"'
    return response


def _subscriber(pk: int) -> Subscriber:
    return get_object_or_404(Subscriber, pk=pk)


@role_required(VIEWER)
def subscriber_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscriber = _subscriber(pk)
    return render(
        request,
        "notifications/subscribers/detail.html",
        {
            "subscriber": subscriber,
            "followed": subscriber.monitors.order_by("name"),
            "events": subscriber.events.select_related("actor")[:50],
            "deliveries": Delivery.objects.filter(subscriber=subscriber)
            .select_related("notification")
            .order_by("-created_at", "-id")[:20],
        },
    )


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def subscriber_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation page; POST: remove."""
    subscriber = _subscriber(pk)
    if request.method == "POST":
        label = str(subscriber)
        services.remove(subscriber, now=timezone.now(), actor=request.user)
        messages.success(request, f"Subscriber {label} removed.")
        return redirect("subscribers:list")
    return render(request, "notifications/subscribers/confirm_remove.html", {"s": subscriber})


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def subscriber_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change what a subscriber follows (an admin acting for them, e.g. on a
    request by mail). Written as a ``PreferencesChanged`` event with the admin
    as actor; an unsubscribed address cannot be changed (it must subscribe
    again itself)."""
    subscriber = _subscriber(pk)
    if request.method == "POST":
        form = ChoicesForm(request.POST)
        if form.is_valid():
            try:
                services.update_preferences(
                    subscriber, form.choices(), now=timezone.now(), actor=request.user
                )
            except SubscriberError as error:
                apply_error(form, error)
            else:
                messages.success(request, f"Choices of {subscriber} saved.")
                return redirect("subscribers:detail", pk=subscriber.pk)
    else:
        form = ChoicesForm(initial=ChoicesForm.initial_from(services.choices_of(subscriber)))
    status = 400 if form.is_bound else 200
    return render(
        request,
        "notifications/subscribers/edit.html",
        {"form": form, "subscriber": subscriber},
        status=status,
    )


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    """Add a webhook subscriber; its URL must answer a signed test call with 2xx."""
    form = WebhookSubscriberForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            subscriber = services.create_subscriber(
                SubscriberKind.WEBHOOK,
                form.cleaned_data["url"],
                form.choices(),
                now=timezone.now(),
                actor=request.user,
            )
        except SubscriberError as error:
            apply_error(form, error)
        else:
            return render(
                request,
                "notifications/subscribers/webhook_created.html",
                {"s": subscriber},
            )
    status = 400 if form.is_bound else 200
    return render(
        request, "notifications/subscribers/webhook_form.html", {"form": form}, status=status
    )
