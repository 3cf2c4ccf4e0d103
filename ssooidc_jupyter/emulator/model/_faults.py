"""What a request can be, and what can go wrong with it on purpose: the operation names
and the scripted faults, as data.

The names are AWS's operation names where there is one (what a request record and a fault
are keyed by); the pages get names of their own. Faults are kept apart from the store so a
fault never changes what the emulator *knows*: a request that gets a fault is answered (or
dropped) by the HTTP layer without touching registrations, codes or tokens.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from ._store import WireEnum


class Operation(WireEnum):
    REGISTER_CLIENT = "RegisterClient"
    START_DEVICE_AUTHORIZATION = "StartDeviceAuthorization"
    CREATE_TOKEN = "CreateToken"  # noqa: S105 - an operation name
    CREATE_TOKEN_WITH_IAM = "CreateTokenWithIAM"  # noqa: S105 - an operation name
    GET_ROLE_CREDENTIALS = "GetRoleCredentials"
    LIST_ACCOUNTS = "ListAccounts"
    LIST_ACCOUNT_ROLES = "ListAccountRoles"
    LOGOUT = "Logout"
    GET_CALLER_IDENTITY = "GetCallerIdentity"
    VERIFICATION_PAGE = "VerificationPage"
    VERIFICATION_SUBMIT = "VerificationSubmit"
    START_PAGE = "StartPage"
    AUTHORIZE = "Authorize"  # GET /authorize: the browser leg of the authorization code grant
    AUTHORIZE_SUBMIT = "AuthorizeSubmit"  # POST /authorize: the consent form's answer
    UNKNOWN = "Unknown"


OPERATIONS: frozenset[str] = frozenset(op.value for op in Operation)


class FaultKind(WireEnum):
    HTTP_500 = "http_500"
    HTML_502 = "html_502"
    THROTTLE_429 = "throttle_429"
    SLOW_DOWN = "slow_down"
    TIMEOUT = "timeout"  # wait `delay`, then answer normally
    DROP = "drop"  # hang up without a response
    MALFORMED_JSON = "malformed_json"  # a complete 200 response whose JSON is cut short
    TRUNCATED = "truncated"  # a Content-Length the body never reaches, then a hang-up


FAULT_KINDS: frozenset[str] = frozenset(kind.value for kind in FaultKind)

DEFAULT_TIMEOUT_DELAY = 3.0


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    # Seconds to wait before acting. For "timeout" the wait *is* the fault (then a normal
    # answer follows); for the other kinds it lets a test combine latency with a failure.
    delay: float


def _operation(value: object) -> Operation:
    if isinstance(value, str) and value in OPERATIONS:
        return Operation(value)
    raise ValueError(f"unknown operation {value!r}; expected one of {sorted(OPERATIONS)}")


def _kind(value: object) -> FaultKind:
    # Plain strings stay accepted: inject("CreateToken", "http_500") is the documented form.
    if isinstance(value, str) and value in FAULT_KINDS:
        return FaultKind(value)
    raise ValueError(f"unknown fault kind {value!r}; expected one of {sorted(FAULT_KINDS)}")


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[Operation, deque[Fault]] = {}

    def inject(
        self,
        operation: Operation | str,
        kind: FaultKind | str,
        times: int = 1,
        delay: float | None = None,
    ) -> None:
        op, fault_kind = _operation(operation), _kind(kind)
        # bool is an int subclass; inject(..., times=True) is surely a mistake.
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be a positive integer, got {times!r}")
        if delay is None:
            delay = DEFAULT_TIMEOUT_DELAY if fault_kind is FaultKind.TIMEOUT else 0.0
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
            raise ValueError(f"delay must be a non-negative number of seconds, got {delay!r}")
        fault = Fault(kind=fault_kind, delay=float(delay))
        with self._lock:
            self._queues.setdefault(op, deque()).extend([fault] * times)

    def take(self, operation: Operation) -> Fault | None:
        """Pop the next fault scheduled for ``operation``, if any."""
        with self._lock:
            queue = self._queues.get(operation)
            if not queue:
                return None
            return queue.popleft()

    def pending(self) -> dict[str, list[str]]:
        """Faults still waiting, per operation (for debugging and tests)."""
        with self._lock:
            return {op.value: [f.kind.value for f in q] for op, q in self._queues.items() if q}

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()
