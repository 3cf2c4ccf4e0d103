"""The sign-in as a state machine with no I/O (RFC 8628 device flow, refresh, caching).

:func:`login_flow` is a generator. It yields *steps* -- "call this operation", "wait this
long", "show this prompt", "load/save this cache entry", "take the lock" -- and is sent each
step's outcome. It never touches the network, the disk, a clock or a lock itself, so the
rules live here once and the sync and async drivers (``_drivers.py``) only carry steps out.

The refresh rules are botocore's (``botocore/tokens.py``): a token is refreshed inside the
*advisory* window (15 min before expiry) when possible, must be refreshed inside the
*mandatory* window (10 min), and a refresh that fails for a transient reason outside the
mandatory window leaves the still-valid token in use. As there: after a failed refresh the
next attempt waits a minute (:data:`REFRESH_RETRY_DELAY`), whatever the number of accesses
meanwhile, and an advisory refresh never waits for another process's lock (that process is
refreshing already); only the mandatory one does.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, TypeAlias

from .._exceptions import (
    AccessDeniedException,
    AuthorizationPendingException,
    ExpiredTokenException,
    InternalServerException,
    InvalidClientException,
    InvalidGrantException,
    InvalidResponseError,
    LoginDeniedError,
    LoginError,
    LoginExpiredError,
    SessionEndedError,
    SlowDownException,
    SSOOIDCError,
    TransportError,
)
from .._secret import Secret, as_optional_secret, as_secret
from ..oidc._protocol import validate_response
from ._models import CachedRegistration, CachedToken

__all__ = [
    "ADVISORY_REFRESH",
    "DEFAULT_INTERVAL",
    "DEVICE_GRANT",
    "MANDATORY_REFRESH",
    "PROCESS_REFRESH_FAILURES",
    "REFRESH_RETRY_DELAY",
    "Call",
    "DevicePrompt",
    "DropRegistration",
    "LoadRegistration",
    "LoadToken",
    "Lock",
    "LoginRequest",
    "Notice",
    "RefreshFailures",
    "SaveRegistration",
    "SaveToken",
    "ShowPrompt",
    "Step",
    "TokenState",
    "Wait",
    "classify",
    "current_token_flow",
    "forget_refresh_failures",
    "login_flow",
    "refresh_flow",
    "refresh_now_flow",
]

logger = logging.getLogger("ssooidc_jupyter.flow")

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5.0  # RFC 8628 section 3.5: when the server gives no interval
SLOW_DOWN_STEP = 5.0  # RFC 8628: each slow_down adds 5 s, for good
ADVISORY_REFRESH = timedelta(minutes=15)
MANDATORY_REFRESH = timedelta(minutes=10)
#: After a failed refresh, no new attempt before this (botocore's ``_attempt_timeout``).
REFRESH_RETRY_DELAY = timedelta(minutes=1)
# Consecutive polls that fail for transport reasons (each already retried by the client)
# before the login gives up: a blip is ridden out, a dead endpoint is reported.
MAX_POLL_FAILURES = 3
# Consecutive slow_down answers up to the deadline after which the error blames them.
PERSISTENT_SLOW_DOWN = 2


@dataclass(frozen=True)
class DevicePrompt:
    """What the user needs to approve the sign-in. Holds no secret (the device code is not
    here): the user code is meant to be shown."""

    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_at: datetime
    interval: float

    def seconds_left(self, now: datetime | None = None) -> float:
        now = now or datetime.now(timezone.utc)
        return max(0.0, (self.expires_at - now).total_seconds())


# ---- steps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """Send ``operation`` with ``params``; the outcome is the response dict or the
    :class:`SSOOIDCError` it raised (sent in, not thrown, so the flow can decide)."""

    operation: str
    params: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Wait:
    """Sleep ``seconds`` (cancellable). Outcome: None."""

    seconds: float


@dataclass(frozen=True)
class ShowPrompt:
    prompt: DevicePrompt


@dataclass(frozen=True)
class Notice:
    """Something the user should read (for example: the session ended, signing in again)."""

    message: str


@dataclass(frozen=True)
class Lock:
    """Take the cross-process sign-in lock (held until the flow ends).

    ``wait=False``: only if it is free now. Outcome: False when it was not taken (held by
    another process); anything else (True, or None from a driver that always waits) means
    held.

    ``timeout``: how long to wait at most (None: the driver's own limit); the rest of the
    request's ``timeout``, so ``login(timeout=)`` bounds the wait for the lock too."""

    wait: bool = True
    timeout: float | None = None


@dataclass(frozen=True)
class LoadToken:
    """Outcome: the cached token or None."""


@dataclass(frozen=True)
class SaveToken:
    token: CachedToken


@dataclass(frozen=True)
class LoadRegistration:
    """Outcome: the cached client registration or None."""


@dataclass(frozen=True)
class SaveRegistration:
    registration: CachedRegistration


@dataclass(frozen=True)
class DropRegistration:
    """The service no longer knows the cached registration: remove it."""


Step: TypeAlias = (
    "Call | Wait | ShowPrompt | Notice | Lock | LoadToken | SaveToken | LoadRegistration"
    " | SaveRegistration | DropRegistration"
)
Flow: TypeAlias = Generator[Step, Any, CachedToken]


# ---- decisions ----------------------------------------------------------------------------


class TokenState(enum.Enum):
    """What a cached token is good for at a given moment."""

    MISSING = "missing"  # no token, or one for another start URL
    FRESH = "fresh"  # valid beyond the advisory window: use it, no network
    ADVISORY = "advisory"  # inside 15 min: refresh if possible, else keep using it
    MANDATORY = "mandatory"  # inside 10 min: refresh or sign in again
    EXPIRED = "expired"


def classify(token: CachedToken | None, now: datetime, start_url: str) -> TokenState:
    if token is None or token.start_url.rstrip("/") != start_url.rstrip("/"):
        return TokenState.MISSING
    left = token.expires_at - now
    if left <= timedelta(0):
        return TokenState.EXPIRED
    if left <= MANDATORY_REFRESH:
        return TokenState.MANDATORY
    if left <= ADVISORY_REFRESH:
        return TokenState.ADVISORY
    return TokenState.FRESH


def _refreshable(token: CachedToken, now: datetime) -> bool:
    return bool(
        token.refresh_token
        and token.client_id
        and token.client_secret
        and (token.registration_expires_at is None or token.registration_expires_at > now)
    )


@dataclass(frozen=True)
class LoginRequest:
    """Everything the flow needs to know, resolved by the caller."""

    start_url: str
    region: str
    scopes: Sequence[str]
    session_name: str | None = None
    force: bool = False
    client_name: str = "ssooidc-jupyter"
    # Overall client-side deadline for the device flow, on top of the code's own expiry.
    timeout: float | None = None
    # False: never prompt (refresh only); a needed sign-in raises LoginError instead.
    interactive: bool = True
    # A legacy profile (sso_start_url in the profile, no sso-session): signed in exactly as
    # the AWS CLI does -- a scope-less registration, and a token file of the four members
    # a legacy reader knows (no refresh token: the service gives none without scopes).
    legacy: bool = False


# ---- the flows ----------------------------------------------------------------------------


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
_failures = PROCESS_REFRESH_FAILURES  # the name the tests of the refresh windows use


def forget_refresh_failures() -> None:
    """Drop the process's memory of failed refreshes (tests; a user who fixed the network)."""
    PROCESS_REFRESH_FAILURES.clear()


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
    if request.force:
        yield Lock(timeout=_left(request, started, now))
    else:
        cached = yield LoadToken()
        state = classify(cached, now(), request.start_url)
        if state is TokenState.FRESH:
            return cached  # type: ignore[no-any-return]
        if state is TokenState.ADVISORY and _refreshable(cached, now()):
            if failures.recent(request, now()):
                return cached  # type: ignore[no-any-return]
            # Advisory: refresh only if nobody else is. A held lock means another process
            # is refreshing (or signing in); our token has more than ten minutes left.
            if (yield Lock(wait=False)) is False:
                return cached  # type: ignore[no-any-return]
        else:
            yield Lock(timeout=_left(request, started, now))
    cached = yield LoadToken()
    state = classify(cached, now(), request.start_url)
    if not request.force:
        if state is TokenState.FRESH:
            return cached  # type: ignore[no-any-return]
        refreshable = state is not TokenState.MISSING and _refreshable(cached, now())
        if refreshable and state is not TokenState.EXPIRED and failures.recent(request, now()):
            # botocore's rule: one attempt a minute. The token still works meanwhile (an
            # expired one does not: that is tried at once).
            return cached  # type: ignore[no-any-return]
        if refreshable:
            token = yield from _remembered_refresh(request, cached, state, now, failures)
            if token is not None:
                return token
    if not request.interactive:
        raise LoginError(
            f"Not signed in to {request.start_url}, or the sign-in expired: run the login "
            "again (for example %ssooidc login, or ssooidc_jupyter.login())."
        )
    return (yield from device_flow(request, now, started))


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
    refreshed = _token_from_reply(
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


def device_flow(
    request: LoginRequest, now: Callable[[], datetime], since: datetime | None = None
) -> Flow:
    """RFC 8628: register (or reuse a registration), start, prompt once, poll, save.
    ``since``: when the call began (its timeout counts from then)."""
    registration = yield LoadRegistration()
    if registration is not None and not (
        registration.usable(now()) and set(request.scopes) <= set(registration.scopes or [])
    ):
        registration = None
    registered_again = False
    while True:
        if registration is None:
            registration = yield from _register(request, now)
        started = yield Call(
            "StartDeviceAuthorization",
            {
                "clientId": registration.client_id,
                "clientSecret": registration.client_secret,
                "startUrl": request.start_url,
            },
        )
        if isinstance(started, InvalidClientException) and not registered_again:
            # The cached registration was revoked or expired server-side: forget it and
            # register once more (only once: a second refusal is a real error).
            yield DropRegistration()
            registration, registered_again = None, True
            continue
        if isinstance(started, BaseException):
            raise started
        break
    # Checked here as well as in our client: the flow may be driven with another client
    # (boto3's checks types but no ranges), and nothing is shown or kept from a bad answer.
    validate_response("StartDeviceAuthorization", started)
    # Wrapped as it is received: no frame of the flow holds the plain device code.
    device_code = as_secret(started["deviceCode"])

    begun = now()
    expires_in = float(started["expiresIn"])
    # RFC 8628: no interval means 5 s; 0 would poll without pause, so it means 5 s too.
    interval = float(started.get("interval") or DEFAULT_INTERVAL)
    deadline = begun + timedelta(seconds=expires_in)
    if request.timeout is not None:
        deadline = min(deadline, (since or begun) + timedelta(seconds=request.timeout))
    prompt = DevicePrompt(
        user_code=started["userCode"],
        verification_uri=started["verificationUri"],
        verification_uri_complete=started.get("verificationUriComplete")
        or started["verificationUri"],
        expires_at=begun + timedelta(seconds=expires_in),
        interval=interval,
    )
    yield ShowPrompt(prompt)

    failures = 0
    slowed = 0  # consecutive slow_down answers: one is a hiccup, several are the service
    while True:
        left = (deadline - now()).total_seconds()
        if left <= 0 and slowed >= PERSISTENT_SLOW_DOWN:
            raise LoginExpiredError(
                f"The service kept asking to slow down (polling every {interval:g} s by the "
                f"end) until the sign-in code {prompt.user_code} ran out of time; it may have "
                "been approved. Wait a minute and run the login again."
            )
        if left <= 0:
            raise LoginExpiredError(
                f"The sign-in code {prompt.user_code} was not approved in time; "
                "run the login again for a new code."
            )
        yield Wait(min(interval, left))
        reply = yield Call(
            "CreateToken",
            {
                "clientId": registration.client_id,
                "clientSecret": registration.client_secret,
                "grantType": DEVICE_GRANT,
                "deviceCode": device_code,
            },
        )
        slowed = slowed + 1 if isinstance(reply, SlowDownException) else 0
        if isinstance(reply, AuthorizationPendingException):
            failures = 0
            continue
        if slowed:
            interval += SLOW_DOWN_STEP
            continue
        if isinstance(reply, ExpiredTokenException):
            raise LoginExpiredError(
                f"The sign-in code {prompt.user_code} expired before it was approved; "
                "run the login again for a new code."
            ) from reply
        if isinstance(reply, AccessDeniedException):
            raise LoginDeniedError(
                f"The sign-in request {prompt.user_code} was denied on the verification page."
            ) from reply
        if isinstance(reply, InvalidResponseError) and _answered_ok(reply):
            # A 200 whose body is not a token is no blip: the code may be spent. Stop, say so.
            raise reply
        if isinstance(reply, TransportError | InternalServerException):
            failures += 1
            if failures >= MAX_POLL_FAILURES:
                raise LoginError(f"Polling for the sign-in failed repeatedly: {reply}") from reply
            continue
        if isinstance(reply, BaseException):
            raise reply
        token = _token_from_reply(
            reply,
            now(),
            start_url=request.start_url,
            region=request.region,
            client_id=registration.client_id,
            client_secret=registration.client_secret,
            registration_expires_at=registration.expires_at,
        )
        if request.legacy:
            token = replace(
                token,
                refresh_token=None,
                client_id=None,
                client_secret=None,
                registration_expires_at=None,
            )
        yield SaveToken(token)
        return token


def _answered_ok(error: InvalidResponseError) -> bool:
    return error.status_code is not None and 200 <= error.status_code < 300


def _register(
    request: LoginRequest, now: Callable[[], datetime]
) -> Generator[Step, Any, CachedRegistration]:
    reply = yield Call(
        "RegisterClient",
        {"clientName": request.client_name, "clientType": "public", "scopes": list(request.scopes)},
    )
    if isinstance(reply, BaseException):
        raise reply
    validate_response("RegisterClient", reply)
    expires = reply.get("clientSecretExpiresAt")
    registration = CachedRegistration(
        client_id=reply["clientId"],
        client_secret=as_secret(reply["clientSecret"]),
        expires_at=(
            datetime.fromtimestamp(int(expires), timezone.utc)
            if expires
            else now() + timedelta(days=90)
        ),
        scopes=list(request.scopes),
    )
    yield SaveRegistration(registration)
    return registration


def _token_from_reply(
    reply: Any,
    issued: datetime,
    *,
    start_url: str,
    region: str,
    client_id: str,
    client_secret: Secret,
    registration_expires_at: datetime | None,
    previous_refresh_token: Secret | None = None,
    extra: Any = None,
) -> CachedToken:
    # Raises InvalidResponseError naming the member: nothing is built, so nothing is saved.
    validate_response("CreateToken", reply)
    expires_in: int = reply["expiresIn"]
    return CachedToken(
        start_url=start_url,
        region=region,
        # Wrapped as they are taken from the answer: never a plain local of this frame.
        access_token=as_secret(reply["accessToken"]),
        expires_at=(issued + timedelta(seconds=expires_in)).replace(microsecond=0),
        # A refresh that rotates nothing keeps the previous refresh token (botocore does).
        refresh_token=as_optional_secret(reply.get("refreshToken") or None)
        or previous_refresh_token,
        client_id=client_id,
        client_secret=client_secret,
        registration_expires_at=registration_expires_at,
        extra=extra or {},
    )
