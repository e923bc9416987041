"""The published shapes of Atlassian Statuspage's public v2 API, as JSON Schema.

Beacon's ``/api/v2/*.json`` answers are validated against these schemas in
``test_api_v2.py``. Each shape was taken from published material:

- the endpoint list, the page-indicator, component-status, incident-status
  and impact enums: the ``/api`` documentation page every Statuspage page
  serves (e.g. githubstatus.com/api: "indicator - one of none, minor, major,
  or critical"; components "one of operational, degraded_performance,
  partial_outage, or major_outage"; incidents "Investigating, Identified,
  Monitoring, Resolved, or Postmortem"; scheduled maintenances "Scheduled,
  In Progress, Verifying, or Completed"; ``incidents.json`` "the 50 most
  recent incidents");
- ``under_maintenance`` (component) and ``maintenance`` (indicator, and the
  impact of a scheduled maintenance): real answers, e.g. the Discord status
  fixtures of the hikari client (hikari-py/hikari,
  ``tests/hikari/net/test_service_status.py``: ``"impact": "maintenance"``)
  and Statuspage's management API enums;
- the field lists of page, component, group component (``group: true`` with
  ``components``: ids), incident, incident update and scheduled maintenance
  (``scheduled_for`` / ``scheduled_until``): the same hikari fixtures (Discord's
  summary, components with a group, incidents, scheduled maintenances), the
  Huobi status page documentation's annotated ``summary.json`` (an
  ``affected_components`` entry: ``code``, ``name``, ``old_status``,
  ``new_status``) and GitHub's ``summary.json`` (``start_date`` on components);
- the time format (milliseconds and the page zone's offset, ``Z`` for UTC):
  the same samples (``2019-06-24T06:07:14.463-07:00``, ``2020-12-03T08:11:21.385Z``).

Every published field is required (a client may read any of them) and no
other field is allowed (Beacon must not drift from the shape). The samples
below are written in those shapes (values ours) and are validated first, so
the schema itself is checked against the published form.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$"
DATE = r"^\d{4}-\d{2}-\d{2}$"

COMPONENT_STATUSES = [
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
]
INDICATORS = ["none", "minor", "major", "critical", "maintenance"]
INCIDENT_STATUSES = ["investigating", "identified", "monitoring", "resolved", "postmortem"]
MAINTENANCE_STATUSES = ["scheduled", "in_progress", "verifying", "completed"]
IMPACTS = ["none", "minor", "major", "critical"]


def _obj(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


_time = {"type": "string", "pattern": TIME}
_time_or_null = {"anyOf": [_time, {"type": "null"}]}
_str_or_null = {"type": ["string", "null"]}

_component_fields = {
    "id": {"type": "string", "minLength": 1},
    "name": {"type": "string"},
    "status": {"enum": COMPONENT_STATUSES},
    "created_at": _time,
    "updated_at": _time,
    "position": {"type": "integer", "minimum": 0},
    "description": _str_or_null,
    "showcase": {"type": "boolean"},
    "start_date": {"anyOf": [{"type": "string", "pattern": DATE}, {"type": "null"}]},
    "group_id": _str_or_null,
    "page_id": {"type": "string"},
    "group": {"type": "boolean"},
    "only_show_if_degraded": {"type": "boolean"},
}


def _update(statuses: list[str]) -> dict[str, Any]:
    return _obj(
        {
            "id": {"type": "string", "minLength": 1},
            "status": {"enum": statuses},
            "body": {"type": "string"},
            "incident_id": {"type": "string"},
            "created_at": _time,
            "updated_at": _time,
            "display_at": _time,
            "affected_components": {
                "anyOf": [
                    {"type": "null"},
                    {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "name": {"type": "string"},
                                "old_status": {"enum": COMPONENT_STATUSES},
                                "new_status": {"enum": COMPONENT_STATUSES},
                            },
                            "required": ["name"],
                        },
                    },
                ]
            },
            "deliver_notifications": {"type": "boolean"},
            "custom_tweet": _str_or_null,
            "tweet_id": _str_or_null,
        }
    )


_incident_fields = {
    "id": {"type": "string", "minLength": 1},
    "name": {"type": "string"},
    "status": {"enum": INCIDENT_STATUSES},
    "created_at": _time,
    "updated_at": _time_or_null,
    "monitoring_at": _time_or_null,
    "resolved_at": _time_or_null,
    "impact": {"enum": IMPACTS},
    "shortlink": {"type": "string"},
    "started_at": _time,
    "page_id": {"type": "string"},
    "incident_updates": {"type": "array", "items": {"$ref": "#/$defs/incident_update"}},
    "components": {"type": "array", "items": {"$ref": "#/$defs/component"}},
}

DEFS: dict[str, Any] = {
    "page": _obj(
        {
            "id": {"type": "string", "minLength": 1},
            "name": {"type": "string"},
            "url": {"type": "string", "pattern": "^https?://"},
            "time_zone": {"type": "string"},
            "updated_at": _time,
        }
    ),
    "status": _obj(
        {"indicator": {"enum": INDICATORS}, "description": {"type": "string", "minLength": 1}}
    ),
    # A leaf component, or a group (``group: true`` listing its components' ids).
    "component": {
        "oneOf": [
            _obj({**_component_fields, "group": {"const": False}}),
            _obj(
                {
                    **_component_fields,
                    "group": {"const": True},
                    "group_id": {"type": "null"},
                    "components": {"type": "array", "items": {"type": "string"}},
                }
            ),
        ]
    },
    "incident_update": _update(INCIDENT_STATUSES),
    "incident": _obj(_incident_fields),
    "maintenance_update": _update(MAINTENANCE_STATUSES),
    "scheduled_maintenance": _obj(
        {
            **_incident_fields,
            "status": {"enum": MAINTENANCE_STATUSES},
            "impact": {"enum": [*IMPACTS, "maintenance"]},
            "incident_updates": {
                "type": "array",
                "items": {"$ref": "#/$defs/maintenance_update"},
            },
            "scheduled_for": _time,
            "scheduled_until": _time,
        }
    ),
}


def _response(properties: dict[str, Any]) -> dict[str, Any]:
    return {"$defs": DEFS, **_obj({"page": {"$ref": "#/$defs/page"}, **properties})}


def _list(item: str) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": f"#/$defs/{item}"}}


SCHEMAS: dict[str, dict[str, Any]] = {
    "summary.json": _response(
        {
            "components": _list("component"),
            "incidents": _list("incident"),
            "scheduled_maintenances": _list("scheduled_maintenance"),
            "status": {"$ref": "#/$defs/status"},
        }
    ),
    "status.json": _response({"status": {"$ref": "#/$defs/status"}}),
    "components.json": _response({"components": _list("component")}),
    "incidents.json": _response({"incidents": _list("incident")}),
    "incidents/unresolved.json": _response({"incidents": _list("incident")}),
    "scheduled-maintenances.json": _response(
        {"scheduled_maintenances": _list("scheduled_maintenance")}
    ),
    "scheduled-maintenances/upcoming.json": _response(
        {"scheduled_maintenances": _list("scheduled_maintenance")}
    ),
    "scheduled-maintenances/active.json": _response(
        {"scheduled_maintenances": _list("scheduled_maintenance")}
    ),
}


def validate(endpoint: str, body: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``body`` has the published shape."""
    Draft202012Validator(SCHEMAS[endpoint]).validate(body)


def errors(endpoint: str, body: Any) -> list[str]:
    return [e.message for e in Draft202012Validator(SCHEMAS[endpoint]).iter_errors(body)]


# --- Samples in the published shape (values ours) ----------------------------------------

PAGE = {
    "id": "p4ge1d0000ab",
    "name": "Example",
    "url": "https://status.example.com",
    "time_zone": "America/Tijuana",
    "updated_at": "2019-06-24T06:07:14.473-07:00",
}
COMPONENT = {
    "id": "c0mp0nent001",
    "name": "API",
    "status": "operational",
    "created_at": "2015-07-30T18:55:43.739-07:00",
    "updated_at": "2019-05-31T15:49:13.651-07:00",
    "position": 1,
    "description": None,
    "showcase": True,
    "start_date": None,
    "group_id": "gr0up0000001",
    "page_id": "p4ge1d0000ab",
    "group": False,
    "only_show_if_degraded": False,
}
GROUP = {
    **COMPONENT,
    "id": "gr0up0000001",
    "name": "Voice",
    "position": 5,
    "showcase": False,
    "group_id": None,
    "group": True,
    "components": ["c0mp0nent001"],
}
UPDATE = {
    "id": "upd4te000001",
    "status": "identified",
    "body": "We found it.",
    "incident_id": "inc1dent0001",
    "created_at": "2020-02-11T03:15:02.000Z",
    "updated_at": "2020-02-11T03:15:02.000Z",
    "display_at": "2020-02-11T03:15:02.000Z",
    "affected_components": [
        {
            "code": "c0mp0nent001",
            "name": "API",
            "old_status": "operational",
            "new_status": "degraded_performance",
        }
    ],
    "deliver_notifications": True,
    "custom_tweet": None,
    "tweet_id": None,
}
INCIDENT = {
    "id": "inc1dent0001",
    "name": "Elevated errors",
    "status": "identified",
    "created_at": "2020-02-11T03:15:01.913Z",
    "updated_at": "2020-02-11T03:15:02.003Z",
    "monitoring_at": None,
    "resolved_at": None,
    "impact": "minor",
    "shortlink": "https://stspg.io/example",
    "started_at": "2020-02-11T03:15:01.906Z",
    "page_id": "p4ge1d0000ab",
    "incident_updates": [UPDATE],
    "components": [COMPONENT],
}
MAINTENANCE = {
    **INCIDENT,
    "id": "ma1ntenance1",
    "status": "completed",
    "impact": "maintenance",
    "resolved_at": "2016-10-19T02:39:00.274-07:00",
    "incident_updates": [
        {**UPDATE, "status": "in_progress", "affected_components": [{"name": "No components"}]}
    ],
    "scheduled_for": "2016-10-19T02:00:00.000-07:00",
    "scheduled_until": "2016-10-19T03:00:00.000-07:00",
}
STATUS = {"indicator": "none", "description": "All Systems Operational"}

SAMPLES = {
    "summary.json": {
        "page": PAGE,
        "components": [COMPONENT, GROUP],
        "incidents": [INCIDENT],
        "scheduled_maintenances": [MAINTENANCE],
        "status": STATUS,
    },
    "status.json": {"page": PAGE, "status": STATUS},
    "components.json": {"page": PAGE, "components": [GROUP, COMPONENT]},
    "incidents.json": {"page": PAGE, "incidents": [INCIDENT]},
    "incidents/unresolved.json": {"page": PAGE, "incidents": [INCIDENT]},
    "scheduled-maintenances.json": {"page": PAGE, "scheduled_maintenances": [MAINTENANCE]},
    "scheduled-maintenances/upcoming.json": {"page": PAGE, "scheduled_maintenances": []},
    "scheduled-maintenances/active.json": {"page": PAGE, "scheduled_maintenances": []},
}


@pytest.mark.parametrize("endpoint", sorted(SCHEMAS))
def test_published_samples_fit_the_schema(endpoint: str) -> None:
    Draft202012Validator.check_schema(SCHEMAS[endpoint])
    validate(endpoint, SAMPLES[endpoint])


@pytest.mark.parametrize(
    ("path", "value", "why"),
    [
        (("status", "indicator"), "green", "unknown indicator"),
        (("components", 0, "status"), "down", "unknown component status"),
        (("components", 0, "created_at"), "2020-02-11T03:15:01Z", "no milliseconds"),
        (("components", 0, "created_at"), "2020-02-11 03:15:01.000Z", "no T"),
        (("components", 0, "position"), "1", "position as a string"),
        (("components", 1, "components"), "c0mp0nent001", "group members not a list"),
        (("incidents", 0, "status"), "RESOLVED", "upper-case status"),
        (("incidents", 0, "impact"), "severe", "unknown impact"),
        (("incidents", 0, "incident_updates", 0, "deliver_notifications"), "yes", "bool"),
        (("scheduled_maintenances", 0, "status"), "active", "unknown maintenance status"),
        (("page", "url"), "status.example.com", "relative page url"),
    ],
)
def test_schema_rejects_what_clients_would_choke_on(
    path: tuple[Any, ...], value: Any, why: str
) -> None:
    body = copy.deepcopy(SAMPLES["summary.json"])
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert errors("summary.json", body), why


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b["page"].pop("time_zone"),
        lambda b: b["components"][0].pop("only_show_if_degraded"),
        lambda b: b["incidents"][0].pop("shortlink"),
        lambda b: b["incidents"][0]["incident_updates"][0].pop("display_at"),
        lambda b: b["scheduled_maintenances"][0].pop("scheduled_until"),
        lambda b: b.update(extra=1),
        lambda b: b["components"][0].update(monitor_id=3),
    ],
)
def test_schema_requires_every_published_field_and_nothing_else(mutate: Any) -> None:
    body = copy.deepcopy(SAMPLES["summary.json"])
    mutate(body)
    assert errors("summary.json", body)
