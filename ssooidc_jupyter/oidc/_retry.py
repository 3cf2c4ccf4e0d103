"""Which failures are retried, how long to wait, and the one retry loop: botocore's
standard retry mode.

No I/O: :func:`retrying` is a generator both clients (sso-oidc and the portal) run their
attempts through; it yields :class:`Sleep` steps that their sync and async drivers carry
out, so the rule exists once for two clients in two modes.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from .._exceptions import (
    EndpointConnectionError,
    InvalidResponseError,
    RequestTimeoutError,
    ServiceError,
    SSOOIDCError,
    TransportError,
)
from ._wire import Answer

__all__ = ["MAX_BACKOFF", "Answer", "Sleep", "backoff_delay", "retrying", "should_retry"]

logger = logging.getLogger("ssooidc_jupyter.client")

MAX_BACKOFF = 20.0  # seconds, as botocore
_TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "EC2ThrottledException",
    }
)
_TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}
)


def should_retry(error: SSOOIDCError) -> bool:
    """Transient: connection failures, timeouts, 5xx and throttling. Modeled 4xx never are
    (``SlowDownException`` is the device flow's business, not the transport's)."""
    if not getattr(error, "retryable", True):
        return False  # e.g. a certificate that cannot be verified (_http)
    if isinstance(error, EndpointConnectionError | RequestTimeoutError):
        return True
    if isinstance(error, ServiceError):
        return (
            error.status_code in _TRANSIENT_STATUS
            or error.status_code == 429
            or error.code in _THROTTLING_CODES
            or error.code in _TRANSIENT_CODES
        )
    if isinstance(error, InvalidResponseError):
        # A proxy's HTML 502 is transient; a 200 with a truncated body is not retried (the
        # request may have had its effect, as botocore does not retry parse errors either).
        return error.status_code in _TRANSIENT_STATUS or error.status_code == 429
    return False


def backoff_delay(attempt: int, base: float, *, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff before retry number ``attempt`` (1-based)."""
    draw: float = (rng or random).random()
    return draw * min(MAX_BACKOFF, base * 2.0 ** (attempt - 1))


@dataclass(frozen=True)
class Sleep:
    """A step of a client's flow: wait ``seconds`` before the next attempt."""

    seconds: float


Attempt = Callable[[int], Generator[Any, Any, Any]]


def retrying(
    name: str, attempt: Attempt, *, max_attempts: int, backoff: float
) -> Generator[Any, Any, Any]:
    """Run ``attempt(n)`` (a sub-flow returning the answer, or the :class:`SSOOIDCError` it
    got) until it succeeds, fails for good, or ``max_attempts`` are spent; sleeping a
    full-jitter backoff between attempts. The last error says how many attempts it took."""
    number = 0
    while True:
        number += 1
        result = yield from attempt(number)
        if not isinstance(result, SSOOIDCError):
            return result
        if number >= max_attempts or not should_retry(result):
            if number > 1 and isinstance(result, TransportError | ServiceError):
                result.args = (f"{result.args[0]} (after {number} attempts)",)
            raise result
        delay = backoff_delay(number, backoff)
        logger.debug("%s: %s, retrying in %.2fs", name, type(result).__name__, delay)
        yield Sleep(delay)
