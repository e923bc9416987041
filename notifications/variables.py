"""Template variables for each notifying event (snapshot taken at event time).

Placeholder: the triggers feature fills in the Kener variables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def alert_variables(event: Any) -> dict[str, Any]:
    """The Kener alert variables for an alert event."""
    return {"alert_id": event.alert_id}


def incident_variables(incident: Any, update: Any, kind: str) -> dict[str, Any]:
    """Variables for an incident event."""
    return {"incident_id": incident.pk}


def maintenance_variables(window: Any, kind: str, occurrence: datetime | None) -> dict[str, Any]:
    """Variables for a maintenance event."""
    return {"maintenance_id": window.pk}
