"""Fault injection: a thread-safe queue of scripted failures per operation.

Kept apart from the state so a fault never changes what the emulator *knows*: a request that
gets a fault is answered (or dropped) without touching registrations, codes or tokens.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

OPERATIONS: frozenset[str] = frozenset(
    {
        "RegisterClient",
        "StartDeviceAuthorization",
        "CreateToken",
        "CreateTokenWithIAM",
        "GetRoleCredentials",
        "ListAccounts",
        "ListAccountRoles",
        "Logout",
        "GetCallerIdentity",
        "VerificationPage",
        "VerificationSubmit",
        "StartPage",
        "Unknown",
    }
)

FAULT_KINDS: frozenset[str] = frozenset(
    {
        "http_500",
        "html_502",
        "throttle_429",
        "slow_down",
        "timeout",
        "drop",
        "malformed_json",
    }
)

DEFAULT_TIMEOUT_DELAY = 3.0


@dataclass(frozen=True)
class Fault:
    kind: str
    # Seconds to wait before acting. For "timeout" the wait *is* the fault (then a normal
    # answer follows); for the other kinds it lets a test combine latency with a failure.
    delay: float


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Fault]] = {}

    def inject(self, operation: str, kind: str, times: int = 1, delay: float | None = None) -> None:
        if operation not in OPERATIONS:
            raise ValueError(
                f"unknown operation {operation!r}; expected one of {sorted(OPERATIONS)}"
            )
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        # bool is an int subclass; inject(..., times=True) is surely a mistake.
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be a positive integer, got {times!r}")
        if delay is None:
            delay = DEFAULT_TIMEOUT_DELAY if kind == "timeout" else 0.0
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
            raise ValueError(f"delay must be a non-negative number of seconds, got {delay!r}")
        fault = Fault(kind=kind, delay=float(delay))
        with self._lock:
            self._queues.setdefault(operation, deque()).extend([fault] * times)

    def take(self, operation: str) -> Fault | None:
        """Pop the next fault scheduled for ``operation``, if any."""
        with self._lock:
            queue = self._queues.get(operation)
            if not queue:
                return None
            return queue.popleft()

    def pending(self) -> dict[str, list[str]]:
        """Faults still waiting, per operation (for debugging and tests)."""
        with self._lock:
            return {op: [f.kind for f in q] for op, q in self._queues.items() if q}

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()
