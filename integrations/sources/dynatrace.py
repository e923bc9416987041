"""Dynatrace problem notifications, "Custom integration" (webhook).

Format: https://docs.dynatrace.com/docs/analyze-explore-automate/notifications-and-alerting/problem-notifications/webhook-integration
The payload is a template of placeholders; the documented example (and
Dynatrace's "Send test notification" body) is::

    {"ImpactedEntities": [{"type": "HOST", "name": "MyHost1",
                           "entity": "HOST-XXXXXXXXXXXXX"}, ...],
     "ImpactedEntity": "MyHost1, MyService1", "PID": "99999",
     "ProblemDetailsHTML": "<h1>...</h1>", "ProblemDetailsJSON": {"ID": "99999"},
     "ProblemID": "999", "ProblemImpact": "INFRASTRUCTURE",
     "ProblemTitle": "Dynatrace problem notification test run",
     "Problem URL": "https://example.com", "State": "OPEN",
     "Tags": "testtag1, testtag2"}

``docs/integrations.md`` gives the template to paste, which adds
``{ProblemSeverity}``, ``{ProblemURL}``, ``{ProblemDetailsText}`` and
``{ImpactedEntityNames}``.

What Beacon reads: fingerprint ``PID`` (else ``ProblemID``); ``State``
``OPEN`` firing, ``RESOLVED``/``CLOSED``/``MERGED`` resolved (a merged problem
lives on in the one it merged into); severity from ``ProblemSeverity``
(``SEVERITY_TABLES["dynatrace"]``: AVAILABILITY and ERROR critical,
PERFORMANCE, RESOURCE_CONTENTION, CUSTOM_ALERT and MONITORING_UNAVAILABLE
warning, INFO info; "warning" when absent); title ``ProblemTitle``;
description ``ProblemDetailsText``, else ``ProblemDetailsMarkdown``, else the
text of ``ProblemDetailsHTML``; link ``ProblemURL`` (or ``Problem URL``);
labels from ``Tags`` (``key:value``, context prefixes such as
``[Kubernetes]`` dropped), ``ProblemImpact``, ``ProblemID`` and the impacted
entity names; service from a ``service`` tag, else the first impacted entity
of type SERVICE; environment from an ``env``/``environment`` tag; start and
end from ``ProblemDetailsJSON.startTime``/``endTime`` (epoch ms, -1 = open).

The test notification (title "Dynatrace problem notification test run") is
acknowledged and opens nothing. No signature: Dynatrace sends the token as a
custom ``Authorization: Bearer`` header (or in the URL).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from .base import (
    ParseResult,
    PayloadError,
    Source,
    environment_from_labels,
    first_str,
    make_alert,
    map_severity,
    merge_labels,
    opt_object,
    opt_str,
    parse_tags,
    parse_time,
    register,
    require_object,
    service_from_labels,
    unresolved,
)

TEST_TITLE = "Dynatrace problem notification test run"
OPEN_STATES = ("OPEN",)
CLOSED_STATES = ("RESOLVED", "CLOSED", "MERGED")


class _TextOf(HTMLParser):
    """The text of an HTML fragment, block elements on their own lines."""

    BLOCKS = frozenset(("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_text(fragment: str) -> str:
    parser = _TextOf()
    parser.feed(fragment)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _text(payload: Mapping[str, Any], key: str) -> str:
    value = opt_str(payload, key, "").strip()
    return "" if unresolved(value) else value


def _entities(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(type, name)`` of each impacted entity."""
    value = payload.get("ImpactedEntities")
    if value is None or isinstance(value, str):
        return []  # a quoted placeholder: the names are in ImpactedEntity
    if not isinstance(value, list):
        raise PayloadError("ImpactedEntities", "must be a list")
    entities = []
    for index, item in enumerate(value[:100]):
        entity = require_object(item, f"ImpactedEntities[{index}]")
        path = f"ImpactedEntities[{index}]"
        kind = first_str(entity, ("type", "Type"), path).upper()
        name = first_str(entity, ("name", "Name", "entity", "Entity"), path)
        if name:
            entities.append((kind, name))
    return entities


@register
class DynatraceSource(Source):
    name = "dynatrace"
    label = "Dynatrace"
    endpoint = "/api/dynatrace/problems"
    sends_resolve = True
    signs = False

    def _parse(self, payload: Any, *, headers: Mapping[str, str], now: datetime) -> ParseResult:
        title = _text(payload, "ProblemTitle")
        if title == TEST_TITLE:
            return ParseResult(alerts=[], deployments=[], is_test=True)
        pid = _text(payload, "PID") or _text(payload, "ProblemID")
        if not pid:
            raise PayloadError("PID", "is required (or ProblemID)")
        state = (_text(payload, "State") or _text(payload, "ProblemStatus")).upper()
        if state not in OPEN_STATES + CLOSED_STATES:
            raise PayloadError("State", "must be OPEN, RESOLVED, CLOSED or MERGED")
        resolved = state in CLOSED_STATES

        details = opt_object(payload, "ProblemDetailsJSON", "")
        started = parse_time(details.get("startTime"), "ProblemDetailsJSON.startTime")
        started = started or parse_time(payload.get("ProblemStartTime"), "ProblemStartTime")
        ended = parse_time(details.get("endTime"), "ProblemDetailsJSON.endTime")
        ended = ended or parse_time(payload.get("ProblemEndTime"), "ProblemEndTime")

        raw_tags = payload.get("Tags")
        if isinstance(raw_tags, str) and unresolved(raw_tags):
            raw_tags = None
        tags = parse_tags(raw_tags, "Tags")
        entities = _entities(payload)
        entity_names = ", ".join(name for _, name in entities) or (
            _text(payload, "ImpactedEntityNames") or _text(payload, "ImpactedEntity")
        )
        service = service_from_labels(tags) or next(
            (name for kind, name in entities if kind == "SERVICE"), ""
        )
        severity_text = _text(payload, "ProblemSeverity") or opt_str(
            details, "severityLevel", "ProblemDetailsJSON"
        )
        description = _text(payload, "ProblemDetailsText") or _text(
            payload, "ProblemDetailsMarkdown"
        )
        if not description and _text(payload, "ProblemDetailsHTML"):
            description = html_text(_text(payload, "ProblemDetailsHTML"))
        extra = {
            key: value
            for key, value in (
                ("problem_id", _text(payload, "ProblemID")),
                ("impact", _text(payload, "ProblemImpact")),
                ("severity_level", severity_text.strip()),
                ("impacted_entities", entity_names),
                ("state", state),
            )
            if value
        }
        alert = make_alert(
            source=self.name,
            fingerprint=pid,
            title=title or f"Dynatrace problem {pid}",
            description=description,
            severity=map_severity("dynatrace", severity_text, "warning"),
            status="resolved" if resolved else "firing",
            service=service,
            environment=environment_from_labels(tags),
            started_at=started,
            ended_at=(ended or now) if resolved else None,
            link=_text(payload, "ProblemURL") or _text(payload, "Problem URL"),
            labels=merge_labels(tags, extra),
            raw=payload,
        )
        return ParseResult(alerts=[alert], deployments=[])
