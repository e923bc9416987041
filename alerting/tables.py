"""The Markdown of auto-generated incident updates, in the seed's exact shape."""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#])")


def escape(value: object) -> str:
    """Make ``value`` literal inside a Markdown table cell (a name with ``|`` or ``*``)."""
    return _SPECIAL.sub(r"\\\1", str(value).replace("\n", " ").replace("\r", " "))


def table(rows: list[tuple[str, object]]) -> str:
    """A two-column ``| Setting | Value |`` table, left-aligned and padded."""
    cells = [(f"**{name}**", escape(value)) for name, value in rows]
    left = max(len("Setting"), *(len(a) for a, _ in cells))
    right = max(len("Value"), *(len(b) for _, b in cells))
    lines = [
        f"| {'Setting'.ljust(left)} | {'Value'.ljust(right)} |",
        f"| :{'-' * (left - 1)} | :{'-' * (right - 1)} |",
    ]
    lines += [f"| {a.ljust(left)} | {b.ljust(right)} |" for a, b in cells]
    return "\n".join(lines)


def triggered_body(
    *, monitor_name: str, monitor_tag: str, severity: str, kind: str, value: str, failure: int
) -> str:
    """First update of an incident opened by an alert."""
    return "Alert triggered\n\n" + table(
        [
            ("Monitor Name", monitor_name),
            ("Monitor Tag", monitor_tag),
            ("Incident Status", "TRIGGERED"),
            ("Severity", severity),
            ("Alert Type", kind),
            ("Alert Value", value),
            ("Failure Threshold", failure),
        ]
    )


def resolved_body(
    *,
    minutes: int,
    monitor_name: str,
    monitor_tag: str,
    severity: str,
    kind: str,
    value: str,
    failure: int,
    success: int,
) -> str:
    """Update posted when the alert of an incident resolves."""
    return (
        f"The alert has been resolved, Total duration: {minutes} minutes\n\n#### Alert Details\n\n"
        + table(
            [
                ("Monitor Name", monitor_name),
                ("Incident Status", "RESOLVED"),
                ("Monitor Tag", monitor_tag),
                ("Alert Type", kind),
                ("Alert Value", value),
                ("Severity", severity),
                ("Failure Threshold", failure),
                ("Success Threshold", success),
            ]
        )
    )
