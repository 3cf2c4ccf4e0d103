"""The request log behind ``Emulator.requests``.

A record is opened when a request arrives (so the list is in arrival order even when
handlers finish out of order) and completed before the response is written (so a client
that has its answer always sees the finished record). Records hold no secret values.
"""

from __future__ import annotations

import threading
from typing import Any


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []

    def open(self, **fields: Any) -> int:
        with self._lock:
            self._records.append(dict(fields))
            return len(self._records) - 1

    def update(self, index: int, **fields: Any) -> None:
        with self._lock:
            self._records[index].update(fields)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(record) for record in self._records]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
