"""The refresh grant, and the memory of failed refreshes (one attempt a minute).

botocore's rules (``botocore/tokens.py``): after a failed refresh the next attempt waits a
minute (:data:`REFRESH_RETRY_DELAY`), whatever the number of accesses meanwhile; a refused
refresh token means the IAM Identity Center session is over. No I/O: steps only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from .._exceptions import (
    ExpiredTokenException,
    InvalidClientException,
    InvalidGrantException,
    SessionEndedError,
)
from .._secret import Secret
from ._models import CachedToken
from ._steps import (
    Call,
    Flow,
    LoadToken,
    Lock,
    LoginRequest,
    SaveToken,
    TokenState,
    classify,
    token_from_reply,
)

__all__ = [
    "PROCESS_REFRESH_FAILURES",
    "REFRESH_RETRY_DELAY",
    "RefreshFailures",
    "forget_refresh_failures",
    "refresh_flow",
    "refresh_now_flow",
]

#: After a failed refresh, no new attempt before this (botocore's ``_attempt_timeout``).
REFRESH_RETRY_DELAY = timedelta(minutes=1)


class RefreshFailures:
    """When the last refresh of each sign-in failed, for the one-attempt-a-minute rule.

    Owned by the caller and passed to each flow (``failures=``): botocore keeps this on its
    long-lived token provider; here every access runs a new flow, so the memory must outlive
    the flow. Callers that pass none share :data:`PROCESS_REFRESH_FAILURES`, the memory of
    this process's sign-ins. No I/O: the clock is the flow's injected one."""

    def __init__(self) -> None:
        self._last: dict[tuple[str | None, str], datetime] = {}

    @staticmethod
    def _key(request: LoginRequest) -> tuple[str | None, str]:
        return (request.session_name, request.start_url.rstrip("/"))

    def recent(self, request: LoginRequest, now: datetime) -> bool:
        last = self._last.get(self._key(request))
        return last is not None and now - last < REFRESH_RETRY_DELAY

    def failed(self, request: LoginRequest, now: datetime) -> None:
        self._last[self._key(request)] = now

    def succeeded(self, request: LoginRequest) -> None:
        self._last.pop(self._key(request), None)

    def clear(self) -> None:
        self._last.clear()


#: The memory of the callers that own none of their own (``login()``, ``SSOToken``).
PROCESS_REFRESH_FAILURES = RefreshFailures()


def forget_refresh_failures() -> None:
    """Drop the process's memory of failed refreshes (tests; a user who fixed the network)."""
    PROCESS_REFRESH_FAILURES.clear()


def refresh_flow(token: CachedToken, now: Callable[[], datetime]) -> Flow:
    """The refresh_token grant. ``invalid_grant`` (and friends) means the IAM Identity
    Center session is over: raise :class:`SessionEndedError`, never retry it."""
    reply = yield Call(
        "CreateToken",
        {
            "clientId": token.client_id,
            "clientSecret": token.client_secret,
            "grantType": "refresh_token",
            "refreshToken": token.refresh_token,
        },
    )
    if isinstance(reply, InvalidGrantException | ExpiredTokenException | InvalidClientException):
        raise SessionEndedError(
            f"Your IAM Identity Center session for {token.start_url} has ended "
            f"(the refresh was refused: {reply.code})."
        ) from reply
    if isinstance(reply, BaseException):
        raise reply
    refreshed = token_from_reply(
        reply,
        now(),
        start_url=token.start_url,
        region=token.region,
        client_id=token.client_id or "",
        client_secret=token.client_secret or Secret(""),
        registration_expires_at=token.registration_expires_at,
        previous_refresh_token=token.refresh_token,
        extra=token.extra,
    )
    yield SaveToken(refreshed)
    return refreshed


def refresh_now_flow(held: CachedToken, now: Callable[[], datetime]) -> Flow:
    """:meth:`SSOToken.refresh`: the refresh grant now, under the lock, from the refresh
    token currently in the cache (another kernel may have rotated it a moment ago)."""
    yield Lock()
    current = yield LoadToken()
    start = current if classify(current, now(), held.start_url) is not TokenState.MISSING else held
    return (yield from refresh_flow(start, now))
