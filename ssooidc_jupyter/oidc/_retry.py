"""Which failures are retried, and how long to wait: botocore's standard retry mode.

No I/O: the clients ask :func:`should_retry` and sleep :func:`backoff_delay` themselves.
"""

from __future__ import annotations

import random

from .._exceptions import (
    EndpointConnectionError,
    InvalidResponseError,
    RequestTimeoutError,
    ServiceError,
    SSOOIDCError,
)

__all__ = ["MAX_BACKOFF", "backoff_delay", "should_retry"]

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
