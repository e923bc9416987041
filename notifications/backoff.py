"""The retry decision for one try of a delivery (pure: no database, no clock).

``decide(outcome, attempts, now, ...)`` says what the delivery becomes after
its ``attempts``-th try:

* accepted -> ``sent``;
* a permanent failure (a 4xx other than 408/425/429, a refused address, a
  template that cannot render) -> ``failed`` at once;
* a transient failure (timeout, connection error, 5xx, 429) -> ``retrying``
  at ``now + delay`` while ``attempts < max_attempts``, else ``failed``.

``delay`` is exponential without jitter: ``base * 2 ** (attempts - 1)``,
capped at ``cap``; a receiver's Retry-After (seconds) is honoured when it
asks for longer, up to the same cap. With base 30 s: 30 s, 1 min, 2 min,
4 min, 8 min...
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

SENT = "sent"
RETRYING = "retrying"
FAILED = "failed"


@dataclass(frozen=True)
class Decision:
    status: str
    next_attempt_at: datetime | None


def delay_seconds(
    attempts: int, *, base: float, cap: float, retry_after: float | None = None
) -> float:
    """Seconds to wait before try ``attempts + 1``."""
    exponent = min(max(attempts - 1, 0), 60)  # 2**60 already exceeds any cap
    delay = min(base * (2**exponent), cap)
    if retry_after is not None and retry_after > delay:
        delay = min(retry_after, cap)
    return delay


def decide(
    *,
    ok: bool,
    transient: bool,
    retry_after: float | None,
    attempts: int,
    now: datetime,
    max_attempts: int,
    base: float,
    cap: float,
) -> Decision:
    """What a delivery becomes after its ``attempts``-th try ended as described."""
    if ok:
        return Decision(SENT, None)
    if not transient or attempts >= max_attempts:
        return Decision(FAILED, None)
    wait = delay_seconds(attempts, base=base, cap=cap, retry_after=retry_after)
    return Decision(RETRYING, now + timedelta(seconds=wait))
