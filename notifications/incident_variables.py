"""Variables for incident and maintenance events (snapshot taken at event time).

Placeholder: the subscribers feature fills these in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def incident_variables(incident: Any, update: Any, kind: str) -> dict[str, Any]:
    """Variables for an incident event."""
    return {"incident_id": incident.pk}


def maintenance_variables(window: Any, kind: str, occurrence: datetime | None) -> dict[str, Any]:
    """Variables for a maintenance event."""
    return {"maintenance_id": window.pk}
