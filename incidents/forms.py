"""Console forms of the incidents app.

Forms only collect input: the rules live in ``incidents.services`` and its
``IncidentError(field, message)`` is put back next to the field it names
(``apply_error``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.boundfield import BoundField

from monitors.models import Monitor

from .models import SEVERITY_RANK, Classification, Impact, Incident, Severity, State
from .services import MAX_BODY, MAX_NOTE, IncidentError

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
IMPACT_PREFIX = "impact_"


def apply_error(form: forms.Form, error: IncidentError) -> None:
    """Show a service error next to its field (or above the form)."""
    field = error.field if error.field in form.fields else None
    if error.field == "monitors" and hasattr(form, "monitor_rows"):
        field = None
    form.add_error(field, error.message)


class UpdateForm(forms.Form):
    """The update composer: a new state and a Markdown body."""

    state = forms.ChoiceField(
        choices=State.choices,
        help_text="The incident takes this state. Resolving here needs no classification.",
    )
    body = forms.CharField(
        label="Update",
        strip=False,
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 6, "data-preview-source": ""}),
        help_text="Markdown: **bold**, _italic_, lists, links, `code`, tables.",
    )


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=MAX_NOTE,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: what you are looking at.",
    )


class ResolveForm(forms.Form):
    """Resolve by an operator: a classification and a note (posted as the last update)."""

    classification = forms.ChoiceField(
        choices=[("", "Choose…"), *Classification.choices],
        help_text="Why the incident ended; used in reports.",
    )
    note = forms.CharField(
        label="Resolution note",
        strip=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Posted as the final update, in Markdown.",
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(max_length=300, help_text="Why the incident is not over.")


class MonitorImpactMixin:
    """One ``impact_<monitor id>`` select per monitor: not affected / DOWN / DEGRADED /
    MAINTENANCE. ``monitor_rows()`` pairs each monitor with its field."""

    fields: dict[str, forms.Field]

    def add_monitor_fields(self, current: dict[int, str]) -> None:
        self.monitors = list(Monitor.objects.order_by("name", "id"))
        choices = [("", "Not affected"), *Impact.choices]
        for monitor in self.monitors:
            name = f"{IMPACT_PREFIX}{monitor.pk}"
            self.fields[name] = forms.ChoiceField(
                label=monitor.name,
                choices=choices,
                required=False,
                initial=current.get(monitor.pk, ""),
            )

    def monitor_rows(self) -> list[tuple[Monitor, BoundField]]:
        return [(m, self[f"{IMPACT_PREFIX}{m.pk}"]) for m in self.monitors]  # type: ignore[index]

    def chosen_monitors(self) -> list[tuple[Monitor, str]]:
        cleaned: dict[str, Any] = self.cleaned_data  # type: ignore[attr-defined]
        return [
            (m, cleaned[f"{IMPACT_PREFIX}{m.pk}"])
            for m in self.monitors
            if cleaned.get(f"{IMPACT_PREFIX}{m.pk}")
        ]


class IncidentCreateForm(MonitorImpactMixin, forms.Form):
    title = forms.CharField(max_length=300, help_text="What customers see, e.g. “Slow logins”.")
    state = forms.ChoiceField(choices=State.choices, initial=State.INVESTIGATING)
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.CRITICAL)
    body = forms.CharField(
        label="First update",
        strip=False,
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 6, "data-preview-source": ""}),
        help_text="Markdown. What is happening and what you are doing about it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_monitor_fields({})


class IncidentEditForm(MonitorImpactMixin, forms.Form):
    title = forms.CharField(max_length=300)
    severity = forms.ChoiceField(choices=Severity.choices)
    started_at = forms.DateTimeField(
        label="Started (UTC)",
        input_formats=[DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
    )
    ended_at = forms.DateTimeField(
        label="Ended (UTC)",
        required=False,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
        help_text="Empty while the incident is open.",
    )

    def __init__(self, *args: Any, incident: Incident, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "title": incident.title,
                "severity": incident.severity,
                "started_at": incident.started_at,
                "ended_at": incident.ended_at,
            },
        )
        super().__init__(*args, **kwargs)
        self.add_monitor_fields(dict(incident.affected.values_list("monitor_id", "impact")))


# --- Correlation panels: services, alerts, merge ------------------------------------


class ServiceLinkForm(forms.Form):
    """Associate a service with the incident (the choices: services not linked yet)."""

    service = forms.ChoiceField(label="Add a service", choices=())

    def __init__(self, *args: Any, incident: Incident, **kwargs: Any) -> None:
        from catalog.models import Service

        super().__init__(*args, **kwargs)
        linked = incident.service_links.values_list("service_id", flat=True)
        self.fields["service"].choices = list(
            Service.objects.exclude(pk__in=linked).order_by("name").values_list("slug", "name")
        )


class MergeAlertForm(forms.Form):
    """Move an alert (by its id, as listed in the alert log and the API) into this incident."""

    alert = forms.IntegerField(
        label="Move an alert here",
        min_value=1,
        max_value=2**63 - 1,
        help_text="The alert's number (# in the alert lists).",
    )


class MergeForm(forms.Form):
    """Fold this incident into another open one."""

    into = forms.TypedChoiceField(label="Merge into", coerce=int, choices=())

    def __init__(self, *args: Any, incident: Incident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        others = (
            Incident.objects.exclude(state=State.RESOLVED)
            .filter(merged_into__isnull=True)
            .exclude(pk=incident.pk)
            .order_by("-started_at", "-pk")[:200]
        )
        self.fields["into"].choices = [(i.pk, f"{i.key} {i.title}") for i in others]


def assignable_users() -> Any:
    """Users who may own an incident: active operators and admins (superusers too),
    by username. ``services.assign`` checks again; this only fills the select."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from accounts.roles import ADMIN, OPERATOR

    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(role__in=[OPERATOR, ADMIN]) | Q(is_superuser=True))
        .order_by("username")
    )


class AssignForm(forms.Form):
    """The "Assigned to" control: an operator or admin, or nobody. ``me`` (the
    "Assign to me" button) is the signed-in user."""

    assignee = forms.CharField(
        label="Assigned to", required=False, max_length=20, widget=forms.Select()
    )

    def __init__(self, *args: Any, user: Any = None, current: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        users = list(assignable_users())
        # The current owner stays listed even when no longer assignable, so the
        # select shows the truth; choosing them again changes nothing.
        if current is not None and current.pk not in {u.pk for u in users}:
            users.append(current)
        choices = [("", "Unassigned"), *((str(u.pk), u.get_username()) for u in users)]
        self.fields["assignee"].widget.choices = choices
        self.initial.setdefault("assignee", str(current.pk) if current is not None else "")

    def clean_assignee(self) -> Any:
        """The chosen ``User`` (or None); unknown ids are refused here, roles by the service."""
        from django.contrib.auth import get_user_model

        value = (self.cleaned_data.get("assignee") or "").strip()
        if not value:
            return None
        if value == "me":
            if self.user is None or not getattr(self.user, "pk", None):
                raise forms.ValidationError("Sign in to assign yourself.")
            return self.user
        if not value.isdigit():
            raise forms.ValidationError("Choose a user from the list.")
        found = get_user_model().objects.filter(pk=int(value)).first()
        if found is None:
            raise forms.ValidationError("This user does not exist (any more).")
        return found


class EscalateForm(forms.Form):
    """Escalate: the active triggers to notify, a note for them, optionally a higher severity."""

    triggers = forms.TypedMultipleChoiceField(
        label="Notify",
        coerce=int,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checklist"}),
        help_text="Active triggers; each gets the incident's facts, your note and a link here. "
        "Status page subscribers are not told.",
        error_messages={"required": "Choose at least one trigger to notify."},
    )
    note = forms.CharField(
        label="Why escalate",
        strip=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What you need and from whom; sent as is to everyone notified.",
    )
    severity = forms.ChoiceField(
        required=False,
        help_text="Optionally raise the severity (it is never lowered here).",
    )

    def __init__(self, *args: Any, incident: Incident, **kwargs: Any) -> None:
        from notifications.models import Trigger

        # Its own element ids: the incident page also holds the resolve
        # dialog, whose note would otherwise share ``id_note`` with this one.
        kwargs.setdefault("auto_id", "escalate_%s")
        super().__init__(*args, **kwargs)
        triggers = Trigger.objects.filter(is_active=True).order_by("name")
        self.fields["triggers"].choices = [
            (t.pk, f"{t.name} ({t.get_kind_display()})") for t in triggers
        ]
        current = SEVERITY_RANK.get(incident.severity, 0)
        higher = [(v, label) for v, label in Severity.choices if SEVERITY_RANK[v] > current]
        self.fields["severity"].choices = [("", f"Keep {incident.severity}"), *higher]

    def chosen_triggers(self) -> list[Any]:
        """The chosen ``Trigger`` rows, in the order of the form."""
        from notifications.models import Trigger

        ids = list(self.cleaned_data.get("triggers") or [])
        found = Trigger.objects.in_bulk(ids)
        return [found[i] for i in ids if i in found]
