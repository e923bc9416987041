"""Celery's embedded broker: kombu's file-system transport, made safe for
several processes.

kombu's transport writes a message file in place, so a consumer listing the
folder can read it before its content is written, and crash on an empty
JSON document (seen under load: the worker died). Here a producer writes to
a hidden temporary name and renames it into place (atomic on one file
system), and a consumer claims a file by renaming it into the processed
folder beside the queue (also atomic, so two consumers never both get it),
and skips, with a log line, a file it cannot parse instead of dying.

Registered as the ``beaconfs://`` transport by ``statuspage.celery``; used
only when ``REDIS_URL`` is unset.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from queue import Empty
from time import monotonic
from typing import Any

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    """File-system channel with atomic publish and claim."""

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        name = f"{round(monotonic() * 1000):015d}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        temporary = os.path.join(self.data_folder_out, f".tmp-{name}")
        with open(temporary, "wb") as f:
            f.write(str_to_bytes(dumps(payload)))
        os.replace(temporary, final)

    def _get(self, queue: str) -> Any:
        suffix = f".{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.startswith(".") or not name.endswith(suffix):
                continue
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
