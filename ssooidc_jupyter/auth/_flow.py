"""The sign-in as a state machine with no I/O: which of cache, refresh or sign-in a call needs.

:func:`login_flow` is a generator. It yields *steps* -- "call this operation", "wait this
long", "show this prompt", "load/save this cache entry", "take the lock" -- and is sent each
step's outcome. It never touches the network, the disk, a clock or a lock itself, so the
rules live here once and the sync and async drivers (``_drivers.py``) only carry steps out.

The flow is written in four modules, each with one job: ``_steps.py`` (the steps, the
request, what a cached token is good for), this module (the decision: cached, refreshed, or
signed in again), ``_refresh.py`` (the refresh grant and the memory of failed refreshes) and
``_device.py`` (RFC 8628). Every name stays importable from here.

The refresh rules are botocore's (``botocore/tokens.py``): a token is refreshed inside the
*advisory* window (15 min before expiry) when possible, must be refreshed inside the
*mandatory* window (10 min), and a refresh that fails for a transient reason outside the
mandatory window leaves the still-valid token in use. As there: after a failed refresh the
next attempt waits a minute (:data:`REFRESH_RETRY_DELAY`), whatever the number of accesses
meanwhile, and an advisory refresh never waits for another process's lock (that process is
refreshing already); only the mandatory one does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import replace
from datetime import datetime
from typing import Any

from .._exceptions import LoginError, SessionEndedError, SSOOIDCError
from . import _steps
from ._device import DEFAULT_INTERVAL, DEVICE_GRANT, device_flow
from ._models import CachedToken
from ._refresh import (
    PROCESS_REFRESH_FAILURES,
    REFRESH_RETRY_DELAY,
    RefreshFailures,
    forget_refresh_failures,
    refresh_flow,
    refresh_now_flow,
)
from ._steps import *  # noqa: F403  (every step name stays importable from here)
from ._steps import (
    Flow,
    LoadToken,
    Lock,
    LoginRequest,
    Notice,
    Step,
    TokenState,
    classify,
    refreshable,
)

# The flow's own names and those of _refresh.py and _device.py, then every name of
# _steps.__all__ (one list: a step added there is importable from here at once).
__all__ = [
    "DEFAULT_INTERVAL",
    "DEVICE_GRANT",
    "PROCESS_REFRESH_FAILURES",
    "REFRESH_RETRY_DELAY",
    "RefreshFailures",
    "current_token_flow",
    "forget_refresh_failures",
    "login_flow",
    "refresh_flow",
    "refresh_now_flow",
]
__all__ += _steps.__all__

logger = logging.getLogger("ssooidc_jupyter.flow")


_failures = PROCESS_REFRESH_FAILURES  # the name the tests of the refresh windows use


def login_flow(
    request: LoginRequest,
    now: Callable[[], datetime],
    failures: RefreshFailures = PROCESS_REFRESH_FAILURES,
) -> Flow:
    """Return a usable token: the cached one, a refreshed one, or one from a device login.
    ``failures``: the caller's memory of failed refreshes (one attempt a minute).

    A valid cached token costs one cache read and nothing else. Anything more happens under
    the cross-process lock, after reading the cache again: another kernel may have signed in
    (or refreshed) while this one waited for the lock.
    """
    # request.timeout bounds the whole call, the wait for another sign-in's lock included.
    started = now()
    unlocked = yield from _cached_or_lock(request, now, failures, started)
    if unlocked is not None:
        return unlocked
    cached = yield LoadToken()
    state = classify(cached, now(), request.start_url)
    if not request.force:
        if state is TokenState.FRESH:
            return cached  # type: ignore[no-any-return]
        usable = state is not TokenState.MISSING and refreshable(cached, now())
        if usable and state is not TokenState.EXPIRED and failures.recent(request, now()):
            # botocore's rule: one attempt a minute. The token still works meanwhile (an
            # expired one does not: that is tried at once).
            return cached  # type: ignore[no-any-return]
        if usable:
            token = yield from _remembered_refresh(request, cached, state, now, failures)
            if token is not None:
                return token
    if not request.interactive:
        raise LoginError(
            f"Not signed in to {request.start_url}, or the sign-in expired: run the login "
            "again (for example %ssooidc login, or ssooidc_jupyter.login())."
        )
    return (yield from device_flow(request, now, started))


def _cached_or_lock(
    request: LoginRequest,
    now: Callable[[], datetime],
    failures: RefreshFailures,
    started: datetime,
) -> Generator[Step, Any, CachedToken | None]:
    """:func:`login_flow` before the lock: the cached token when it will do without the lock;
    None once the lock is held (the rest happens under it)."""
    if request.force:
        yield Lock(timeout=_left(request, started, now))
        return None
    cached = yield LoadToken()
    state = classify(cached, now(), request.start_url)
    if state is TokenState.FRESH:
        return cached  # type: ignore[no-any-return]
    if state is TokenState.ADVISORY and refreshable(cached, now()):
        if failures.recent(request, now()):
            return cached  # type: ignore[no-any-return]
        # Advisory: refresh only if nobody else is. A held lock means another process
        # is refreshing (or signing in); our token has more than ten minutes left.
        if (yield Lock(wait=False)) is False:
            return cached  # type: ignore[no-any-return]
        return None
    yield Lock(timeout=_left(request, started, now))
    return None


def _left(request: LoginRequest, started: datetime, now: Callable[[], datetime]) -> float | None:
    """What is left of the request's timeout (None: no timeout)."""
    if request.timeout is None:
        return None
    return max(0.0, request.timeout - (now() - started).total_seconds())


def _remembered_refresh(
    request: LoginRequest,
    cached: CachedToken,
    state: TokenState,
    now: Callable[[], datetime],
    failures: RefreshFailures,
) -> Generator[Step, Any, CachedToken | None]:
    """:func:`login_flow`'s refresh, its outcome kept in ``failures``: the new token; the
    cached one when an advisory refresh failed; None when the session ended and the user
    signs in again."""
    try:
        refreshed = yield from refresh_flow(cached, now)
    except SessionEndedError as ended:
        if not request.interactive:
            raise
        yield Notice(f"{ended} Signing in again.")
        return None
    except SSOOIDCError as failure:
        failures.failed(request, now())
        if state is TokenState.ADVISORY:
            # botocore's rule: outside the mandatory window a failed refresh is not
            # fatal, the current token still has more than 10 minutes.
            logger.info("advisory refresh failed (%s); keeping the current token", failure)
            return cached
        raise
    failures.succeeded(request)
    return refreshed


def current_token_flow(
    request: LoginRequest,
    held: CachedToken,
    now: Callable[[], datetime],
    failures: RefreshFailures = PROCESS_REFRESH_FAILURES,
) -> Flow:
    """:meth:`SSOToken.current_access_token`: a valid token without ever prompting.

    The one in hand while it is fresh -- or a newer one another login wrote to the cache
    meanwhile; otherwise the silent part of :func:`login_flow` (refresh, or LoginError)."""
    if classify(held, now(), request.start_url) is TokenState.FRESH:
        newer = yield LoadToken()
        if (
            newer is not None
            and newer.start_url == held.start_url
            and newer.access_token != held.access_token
            and newer.expires_at >= held.expires_at
        ):
            return newer  # type: ignore[no-any-return]
        return held
    silent = replace(request, interactive=False, force=False)
    return (yield from login_flow(silent, now, failures))
