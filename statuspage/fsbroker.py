"""Celery's embedded broker: kombu's file-system transport, made safe for
several processes.

kombu's transport writes a message file in place, so a consumer listing the
folder can read it before its content is written, and crash on an empty
JSON document (seen under load: the worker died). Here a producer writes to
a hidden temporary name and renames it into place (atomic on one file
system), and a consumer claims a file by renaming it into the processed
folder beside the queue (also atomic, so two consumers never both get it),
and skips, with a log line, a file it cannot parse instead of dying.

A consumer lists the folder once and serves messages from that listing
(oldest first, per queue) until the queue's share runs out, instead of
listing and sorting the whole folder for every message and every queue it
polls: with a backlog of a few thousand messages (an alert storm queues one
correlation task per request) the per-message listing made draining the
backlog quadratic and took the consumer thread's time away from the tasks.
A name another consumer claimed meanwhile just fails its rename and is
skipped. A queue that was empty at the last listing is looked at again
after at most ``RELIST_SECONDS``, so a new message waits that long at most
on top of the polling interval.

Registered as the ``beaconfs://`` transport by ``statuspage.celery``; used
only when ``REDIS_URL`` is unset.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections import deque
from queue import Empty
from time import monotonic, monotonic_ns
from typing import Any

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

#: Longest a listing is reused for a queue that had nothing in it.
RELIST_SECONDS = 0.05


class Channel(filesystem.Channel):
    """File-system channel with atomic publish and claim."""

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        # Nanoseconds of the machine-wide monotonic clock: names sort in
        # publishing order (milliseconds tied within a burst). Files named in
        # milliseconds by an older version have shorter numbers and sort first.
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        temporary = os.path.join(self.data_folder_out, f".tmp-{name}")
        with open(temporary, "wb") as f:
            f.write(str_to_bytes(dumps(payload)))
        os.replace(temporary, final)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listed: dict[str, deque[str]] = {}  # queue -> names, oldest first
        self._listed_at = float("-inf")

    def _relist(self) -> None:
        """List the folder once and share the names out per queue."""
        listed: dict[str, deque[str]] = {}
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.startswith(".") or not name.endswith(".msg"):
                continue
            # "<time>_<uuid>.<queue>.msg": the queue name may itself hold dots.
            queue = name[:-4].partition(".")[2]
            listed.setdefault(queue, deque()).append(name)
        self._listed = listed
        self._listed_at = monotonic()

    def _get(self, queue: str) -> Any:
        pending = self._listed.get(queue)
        if not pending and monotonic() - self._listed_at >= RELIST_SECONDS:
            self._relist()
            pending = self._listed.get(queue)
        while pending:
            name = pending.popleft()
            claimed = os.path.join(self.processed_folder, name)
            try:
                os.replace(os.path.join(self.data_folder_in, name), claimed)
            except OSError:
                continue  # another consumer took it
            try:
                with open(claimed, "rb") as f:
                    payload = f.read()
            finally:
                if not self.store_processed:
                    with contextlib.suppress(OSError):
                        os.remove(claimed)
            try:
                return loads(bytes_to_str(payload))
            except ValueError:
                log.error("dropping unreadable broker message %s (%d bytes)", name, len(payload))
                continue
        raise Empty()


class Transport(filesystem.Transport):
    """kombu Transport using the safe channel."""

    Channel = Channel
