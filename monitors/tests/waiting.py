"""Waiting for what real Celery processes do: poll the database for a condition."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import pytest


def wait_for(
    predicate: Callable[[], bool], procs: list[subprocess.Popen], timeout: float = 90
) -> None:
    """Poll until ``predicate`` holds; fail early, with logs, if a process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for proc in procs:
            if proc.poll() is not None:
                log = proc.log_path.read_text(errors="replace")[-3000:]  # type: ignore[attr-defined]
                pytest.fail(f"a Celery process exited with {proc.returncode}:\n{log}")
        time.sleep(0.2)
    logs = "\n".join(
        p.log_path.read_text(errors="replace")[-2000:]  # type: ignore[attr-defined]
        for p in procs
    )
    pytest.fail(f"condition not met within {timeout}s; logs:\n{logs}")
