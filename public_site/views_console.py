"""Console pages for the public side (under /console/site/): site settings,
status pages and their sections, and which monitors show in what order.

Viewers read the overview; every change needs the admin role and goes
through ``public_site.services`` (one transaction, audited) with ``now`` read
once here. Ordering uses up/down buttons, plain forms that work without
JavaScript. Errors are shown next to their field with a 400.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import role_required
from accounts.roles import ADMIN, VIEWER
from monitors.models import Monitor

from . import selectors, services
from .forms import AddMonitorsForm, PageForm, SectionForm, SiteSettingsForm
from .models import Section, SectionMonitor, SiteSettings, StatusPage
from .services import SiteError


def _apply(form: Any, exc: SiteError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@role_required(VIEWER)
def overview(request: HttpRequest) -> HttpResponse:
    pages = selectors.all_pages()
    counts = {
        p.pk: n
        for p, n in (
            (page, SectionMonitor.objects.filter(section__page=page).count()) for page in pages
        )
    }
    return render(
        request,
        "public/console/overview.html",
        {
            "site": SiteSettings.load(),
            "pages": [(p, counts[p.pk]) for p in pages],
            "public_count": Monitor.objects.filter(is_public=True).count(),
        },
    )


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def site_settings(request: HttpRequest) -> HttpResponse:
    site = SiteSettings.load()
    if request.method == "POST":
        form = SiteSettingsForm(request.POST)
        if form.is_valid():
            services.update_site(form.cleaned_data, now=timezone.now(), actor=request.user)
            messages.success(request, "Site settings saved.")
            return redirect("public_console:overview")
        return render(request, "public/console/settings.html", {"form": form}, status=400)
    initial = {name: getattr(site, name) for name in services.SITE_FIELDS}
    form = SiteSettingsForm(initial=initial)
    return render(request, "public/console/settings.html", {"form": form})


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def page_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PageForm(request.POST)
        if form.is_valid():
            try:
                page = services.create_page(form.changes(), now=timezone.now(), actor=request.user)
            except SiteError as exc:
                _apply(form, exc)
            else:
                messages.success(request, f"Page “{page.title}” created. Add its sections.")
                return redirect("public_console:page", pk=page.pk)
        return render(request, "public/console/page_form.html", {"form": form}, status=400)
    form = PageForm(initial={"is_home": not StatusPage.objects.exists()})
    return render(request, "public/console/page_form.html", {"form": form})


def _editor(request: HttpRequest, page: StatusPage, status: int = 200, **forms: Any) -> Any:
    sections = selectors.sections_of(page)
    add_forms = {
        s.pk: forms.get(f"add_{s.pk}")
        or AddMonitorsForm(prefix=f"s{s.pk}", exclude={e.monitor_id for e in s.entries.all()})
        for s in sections
    }
    return render(
        request,
        "public/console/page_edit.html",
        {
            "page": page,
            "form": forms.get("form") or PageForm(initial=_page_initial(page), page=page),
            "section_form": forms.get("section_form") or SectionForm(),
            "sections": [(s, add_forms[s.pk]) for s in sections],
        },
        status=status,
    )


def _page_initial(page: StatusPage) -> dict[str, Any]:
    return {name: getattr(page, name) for name in services.PAGE_FIELDS}


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def page_edit(request: HttpRequest, pk: int) -> HttpResponse:
    page = get_object_or_404(StatusPage, pk=pk)
    if request.method == "POST":
        form = PageForm(request.POST, page=page)
        if form.is_valid():
            try:
                services.update_page(page, form.changes(), now=timezone.now(), actor=request.user)
            except SiteError as exc:
                _apply(form, exc)
            else:
                messages.success(request, "Page saved.")
                return redirect("public_console:page", pk=page.pk)
        return _editor(request, page, 400, form=form)
    return _editor(request, page)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def page_delete(request: HttpRequest, pk: int) -> HttpResponse:
    page = get_object_or_404(StatusPage, pk=pk)
    if request.method == "POST":
        services.delete_page(page, now=timezone.now(), actor=request.user)
        messages.success(request, f"Page “{page.title}” deleted.")
        return redirect("public_console:overview")
    return render(request, "public/console/confirm_delete.html", {"page": page})


@role_required(ADMIN)
@require_POST
def section_create(request: HttpRequest, pk: int) -> HttpResponse:
    page = get_object_or_404(StatusPage, pk=pk)
    form = SectionForm(request.POST)
    if form.is_valid():
        services.create_section(page, form.cleaned_data, now=timezone.now(), actor=request.user)
        messages.success(request, f"Section “{form.cleaned_data['name']}” added.")
        return redirect("public_console:page", pk=page.pk)
    return _editor(request, page, 400, section_form=form)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def section_edit(request: HttpRequest, pk: int) -> HttpResponse:
    section = get_object_or_404(Section.objects.select_related("page"), pk=pk)
    if request.method == "POST":
        form = SectionForm(request.POST)
        if form.is_valid():
            services.update_section(
                section, form.cleaned_data, now=timezone.now(), actor=request.user
            )
            messages.success(request, "Section saved.")
            return redirect("public_console:page", pk=section.page_id)
        status = 400
    else:
        form = SectionForm(initial={"name": section.name, "description": section.description})
        status = 200
    context = {"form": form, "section": section}
    return render(request, "public/console/section_form.html", context, status=status)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def section_delete(request: HttpRequest, pk: int) -> HttpResponse:
    section = get_object_or_404(Section.objects.select_related("page"), pk=pk)
    if request.method == "POST":
        services.delete_section(section, now=timezone.now(), actor=request.user)
        messages.success(request, f"Section “{section.name}” deleted.")
        return redirect("public_console:page", pk=section.page_id)
    return render(request, "public/console/confirm_delete.html", {"section": section})


def _direction(request: HttpRequest) -> str | None:
    value = request.POST.get("direction", "")
    return value if value in ("up", "down") else None


@role_required(ADMIN)
@require_POST
def section_move(request: HttpRequest, pk: int) -> HttpResponse:
    section = get_object_or_404(Section, pk=pk)
    direction = _direction(request)
    if direction is None:
        messages.error(request, "Choose up or down.")
        return redirect("public_console:page", pk=section.page_id)
    services.move_section(section, direction, now=timezone.now(), actor=request.user)
    return redirect(f"{_page_url(section.page_id)}#section-{section.pk}")


@role_required(ADMIN)
@require_POST
def section_add(request: HttpRequest, pk: int) -> HttpResponse:
    section = get_object_or_404(Section.objects.select_related("page"), pk=pk)
    present = set(section.entries.values_list("monitor_id", flat=True))
    form = AddMonitorsForm(request.POST, prefix=f"s{section.pk}", exclude=present)
    if form.is_valid():
        try:
            services.add_monitors(
                section, list(form.cleaned_data["monitors"]), now=timezone.now(), actor=request.user
            )
        except SiteError as exc:
            _apply(form, exc)
        else:
            messages.success(request, f"Monitors added to “{section.name}”.")
            return redirect(f"{_page_url(section.page_id)}#section-{section.pk}")
    return _editor(request, section.page, 400, **{f"add_{section.pk}": form})


@role_required(ADMIN)
@require_POST
def entry_move(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(SectionMonitor.objects.select_related("section", "monitor"), pk=pk)
    direction = _direction(request)
    if direction is None:
        messages.error(request, "Choose up or down.")
    else:
        services.move_entry(entry, direction, now=timezone.now(), actor=request.user)
    return redirect(f"{_page_url(entry.section.page_id)}#section-{entry.section_id}")


@role_required(ADMIN)
@require_POST
def entry_remove(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(SectionMonitor.objects.select_related("section", "monitor"), pk=pk)
    services.remove_entry(entry, now=timezone.now(), actor=request.user)
    messages.success(request, f"{entry.monitor.name} removed from “{entry.section.name}”.")
    return redirect(f"{_page_url(entry.section.page_id)}#section-{entry.section_id}")


def _page_url(page_id: int) -> str:
    from django.urls import reverse

    return reverse("public_console:page", kwargs={"pk": page_id})
