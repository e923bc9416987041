"""Template variables for each notifying event (snapshot taken at event time).

Placeholder: the triggers feature fills in the Kener variables.
"""

from __future__ import annotations

from typing import Any


def alert_variables(event: Any) -> dict[str, Any]:
    """The Kener alert variables for an alert event."""
    return {"alert_id": event.alert_id}
