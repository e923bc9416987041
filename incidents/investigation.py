"""The automatic investigation as Markdown: a pure function of gathered facts.

Facts only, no guessing: every section lists what Beacon found in its own
records, or says "None found." Gathering the facts (bounded queries) and
storing the result is ``incidents.investigation_services``.

Sections, in order:

1. Affected services, with the services they depend on;
2. Deployments to those services and their dependencies in the two hours
   before the incident started;
3. The first failing check of the incident's monitors, with its messages;
4. Other active alerts on related services (not part of this incident);
5. Maintenance overlapping the incident;
6. Similar past incidents (same service or same title) and how they ended.

All text that comes from outside (alert titles, deployment versions, check
messages, notes) is escaped (``alerting.correlation.md_text``) and cut short, so it
can neither break the Markdown nor inject HTML (which ``incidents.markdown``
would strip anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from alerting.correlation import md_text

NONE_FOUND = "None found."
MAX_TEXT = 200


@dataclass(frozen=True)
class ServiceFact:
    slug: str
    name: str
    depends_on: tuple[str, ...] = ()
    is_primary: bool = False


@dataclass(frozen=True)
class DeploymentFact:
    service: str
    version: str
    environment: str
    result: str
    at: datetime
    source: str
    url: str = ""


@dataclass(frozen=True)
class CheckMessage:
    at: datetime
    status: str
    message: str


@dataclass(frozen=True)
class CheckFact:
    monitor_name: str
    monitor_tag: str
    first_failed_at: datetime
    status: str
    last_ok_at: datetime | None
    messages: tuple[CheckMessage, ...] = ()


@dataclass(frozen=True)
class AlertFact:
    title: str
    service: str
    source: str
    severity: str
    since: datetime
    incident_key: str | None = None


@dataclass(frozen=True)
class MaintenanceFact:
    title: str
    starts_at: datetime
    ends_at: datetime
    recurring: bool
    scope: str


@dataclass(frozen=True)
class PastIncidentFact:
    key: str
    title: str
    started_at: datetime
    ended_at: datetime | None
    classification: str
    note: str
    why: str


@dataclass(frozen=True)
class InvestigationFacts:
    incident_key: str
    title: str
    started_at: datetime
    generated_at: datetime
    services: Sequence[ServiceFact] = ()
    deployments: Sequence[DeploymentFact] = ()
    checks: Sequence[CheckFact] = ()
    alerts: Sequence[AlertFact] = ()
    maintenance: Sequence[MaintenanceFact] = ()
    similar: Sequence[PastIncidentFact] = ()
    truncated: Sequence[str] = field(default_factory=tuple)


def _t(value: object, limit: int = MAX_TEXT) -> str:
    """Outside text, one line, escaped and cut."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return md_text(text)


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "-"


def _ago(at: datetime, start: datetime) -> str:
    """``35 min before the start`` / ``2 min after the start``."""
    minutes = round((start - at).total_seconds() / 60)
    if minutes == 0:
        return "at the start"
    if minutes > 0:
        return f"{minutes} min before the start"
    return f"{-minutes} min after the start"


def build_markdown(facts: InvestigationFacts) -> str:
    """The investigation summary (see the module docstring)."""
    out = [
        f"### Investigation of {_t(facts.incident_key)}",
        "",
        f"Started {_when(facts.started_at)}; facts gathered {_when(facts.generated_at)}. "
        "Beacon lists what its records show; it does not guess a cause.",
        "",
        "#### Affected services",
        "",
    ]
    if facts.services:
        for svc in facts.services:
            deps = ", ".join(_t(d) for d in svc.depends_on) or "nothing"
            primary = " — **primary** (most upstream failing)" if svc.is_primary else ""
            out.append(f"- {_t(svc.name)} (`{_t(svc.slug)}`){primary}; depends on {deps}")
    else:
        out.append(NONE_FOUND)
    out += ["", "#### Deployments in the two hours before the start", ""]
    if facts.deployments:
        for d in facts.deployments:
            version = f" {_t(d.version)}" if d.version else ""
            env = f" to {_t(d.environment)}" if d.environment else ""
            out.append(
                f"- {_when(d.at)} ({_ago(d.at, facts.started_at)}): {_t(d.service)}{version}"
                f"{env}, {_t(d.result)} ({_t(d.source)})"
            )
    else:
        out.append(NONE_FOUND)
    out += ["", "#### First failing check", ""]
    if facts.checks:
        for c in facts.checks:
            since_ok = f", last UP {_when(c.last_ok_at)}" if c.last_ok_at else ""
            out.append(
                f"- {_t(c.monitor_name)} (`{_t(c.monitor_tag)}`): {_t(c.status)} at "
                f"{_when(c.first_failed_at)} ({_ago(c.first_failed_at, facts.started_at)})"
                f"{since_ok}"
            )
            for m in c.messages:
                out.append(f"    - {_when(m.at)} {_t(m.status)}: {_t(m.message) or '(no message)'}")
    else:
        out.append(NONE_FOUND)
    out += ["", "#### Other active alerts on related services", ""]
    if facts.alerts:
        for a in facts.alerts:
            where = f" in {_t(a.incident_key)}" if a.incident_key else ", in no incident"
            out.append(
                f"- {_t(a.title)} — {_t(a.service) or 'no service'}, {_t(a.source)}, "
                f"{_t(a.severity) or 'no severity'}, firing since {_when(a.since)}{where}"
            )
    else:
        out.append(NONE_FOUND)
    out += ["", "#### Maintenance overlapping the incident", ""]
    if facts.maintenance:
        for w in facts.maintenance:
            recurring = " (recurring)" if w.recurring else ""
            out.append(
                f"- {_t(w.title)}{recurring}: {_when(w.starts_at)} to {_when(w.ends_at)}, "
                f"{_t(w.scope)}"
            )
    else:
        out.append(NONE_FOUND)
    out += ["", "#### Similar past incidents", ""]
    if facts.similar:
        for p in facts.similar:
            how = _t(p.classification) or "not classified"
            note = f": {_t(p.note, 300)}" if p.note.strip() else ""
            out.append(
                f"- {_t(p.key)} {_t(p.title)} ({_t(p.why)}), {_when(p.started_at)} to "
                f"{_when(p.ended_at)} — {how}{note}"
            )
    else:
        out.append(NONE_FOUND)
    if facts.truncated:
        out += ["", "_Lists cut short: " + ", ".join(_t(t) for t in facts.truncated) + "._"]
    return "\n".join(out) + "\n"


def summary_line(facts: InvestigationFacts) -> str:
    """The timeline message: how much of each kind was found."""
    parts = [
        (len(facts.deployments), "deployment"),
        (len(facts.checks), "failing check"),
        (len(facts.alerts), "other alert"),
        (len(facts.maintenance), "maintenance window"),
        (len(facts.similar), "similar incident"),
    ]
    return ", ".join(f"{n} {word}{'s' if n != 1 else ''}" for n, word in parts)
