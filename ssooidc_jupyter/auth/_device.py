"""RFC 8628, the device authorization grant, as steps: register (or reuse a registration),
start, prompt once, poll until the user approves, save. No I/O.

The polling rules: no interval means 5 s; each ``slow_down`` adds 5 s for good; a pending
answer resets the count of failed polls; a few polls in a row that fail for transport
reasons end the sign-in, a blip does not.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from .._exceptions import (
    AccessDeniedException,
    AuthorizationPendingException,
    ExpiredTokenException,
    InternalServerException,
    InvalidClientException,
    InvalidResponseError,
    LoginDeniedError,
    LoginError,
    LoginExpiredError,
    SlowDownException,
    TransportError,
)
from .._secret import Secret, as_secret
from ..oidc._protocol import validate_response
from ._models import CachedRegistration
from ._steps import (
    Call,
    DevicePrompt,
    DropRegistration,
    Flow,
    LoadRegistration,
    LoginRequest,
    SaveRegistration,
    SaveToken,
    ShowPrompt,
    Step,
    Wait,
    registration_from_reply,
    token_from_reply,
)

__all__ = ["DEFAULT_INTERVAL", "DEVICE_GRANT", "device_flow"]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5.0  # RFC 8628 section 3.5: when the server gives no interval
SLOW_DOWN_STEP = 5.0  # RFC 8628: each slow_down adds 5 s, for good
# Consecutive polls that fail for transport reasons (each already retried by the client)
# before the login gives up: a blip is ridden out, a dead endpoint is reported.
MAX_POLL_FAILURES = 3
# Consecutive slow_down answers up to the deadline after which the error blames them.
PERSISTENT_SLOW_DOWN = 2


def device_flow(
    request: LoginRequest, now: Callable[[], datetime], since: datetime | None = None
) -> Flow:
    """RFC 8628: register (or reuse a registration), start, prompt once, poll, save.
    ``since``: when the call began (its timeout counts from then)."""
    registration, started = yield from _start(request, now)
    # Checked here as well as in our client: the flow may be driven with another client
    # (boto3's checks types but no ranges), and nothing is shown or kept from a bad answer.
    validate_response("StartDeviceAuthorization", started)
    # Wrapped as it is received: no frame of the flow holds the plain device code.
    device_code = as_secret(started["deviceCode"])
    prompt, deadline = _prompt(request, started, now(), since)
    yield ShowPrompt(prompt)
    reply = yield from _poll(registration, device_code, prompt, deadline, now)
    token = token_from_reply(
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


def _start(
    request: LoginRequest, now: Callable[[], datetime]
) -> Generator[Step, Any, tuple[CachedRegistration, Any]]:
    """StartDeviceAuthorization with a usable registration: the cached one when it covers the
    scopes, else a new one. Returns the registration and the (unchecked) answer."""
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
        return registration, started


def _prompt(
    request: LoginRequest, started: Any, begun: datetime, since: datetime | None
) -> tuple[DevicePrompt, datetime]:
    """What the user is shown, and when polling stops (the code's expiry, or the request's
    timeout counted from ``since`` when that comes first)."""
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
    return prompt, deadline


def _poll(
    registration: CachedRegistration,
    device_code: Secret,
    prompt: DevicePrompt,
    deadline: datetime,
    now: Callable[[], datetime],
) -> Generator[Step, Any, Any]:
    """Poll CreateToken until it answers a token (returned, unchecked) or the sign-in ends."""
    interval = prompt.interval
    failures = 0
    slowed = 0  # consecutive slow_down answers: one is a hiccup, several are the service
    while True:
        left = (deadline - now()).total_seconds()
        if left <= 0:
            raise _out_of_time(prompt, interval, slowed)
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
        _raise_if_final(reply, prompt)
        if isinstance(reply, TransportError | InternalServerException):
            failures += 1
            if failures >= MAX_POLL_FAILURES:
                raise LoginError(f"Polling for the sign-in failed repeatedly: {reply}") from reply
            continue
        if isinstance(reply, BaseException):
            raise reply
        return reply


def _out_of_time(prompt: DevicePrompt, interval: float, slowed: int) -> LoginExpiredError:
    if slowed >= PERSISTENT_SLOW_DOWN:
        return LoginExpiredError(
            f"The service kept asking to slow down (polling every {interval:g} s by the "
            f"end) until the sign-in code {prompt.user_code} ran out of time; it may have "
            "been approved. Wait a minute and run the login again."
        )
    return LoginExpiredError(
        f"The sign-in code {prompt.user_code} was not approved in time; "
        "run the login again for a new code."
    )


def _raise_if_final(reply: Any, prompt: DevicePrompt) -> None:
    """Raise for a poll answer that ends the sign-in whatever comes next."""
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


def _answered_ok(error: InvalidResponseError) -> bool:
    return error.status_code is not None and 200 <= error.status_code < 300


def _register(
    request: LoginRequest, now: Callable[[], datetime]
) -> Generator[Step, Any, CachedRegistration]:
    reply = yield Call(
        "RegisterClient",
        {"clientName": request.client_name, "clientType": "public", "scopes": list(request.scopes)},
    )
    registration = registration_from_reply(reply, now(), request.scopes)
    yield SaveRegistration(registration)
    return registration
