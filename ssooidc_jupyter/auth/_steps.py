"""The shared vocabulary of the sign-in flows: the steps they yield, the request they serve,
what a cached token is good for, and the token built from a CreateToken answer.

The flows (``_flow.py`` the login that picks cache, refresh or sign-in; ``_refresh.py`` the
refresh grant; ``_device.py`` RFC 8628; ``_pkce.py`` the authorization code) yield these
steps; the drivers (``_drivers.py``) carry them out. Nothing here does I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeAlias

from .._secret import Secret, as_optional_secret, as_secret
from ..oidc._protocol import validate_response
from ._clock import utcnow
from ._models import CachedRegistration, CachedToken

__all__ = [
    "ADVISORY_REFRESH",
    "MANDATORY_REFRESH",
    "Call",
    "DevicePrompt",
    "DropRegistration",
    "Flow",
    "LoadRegistration",
    "LoadToken",
    "Lock",
    "LoginRequest",
    "Notice",
    "SaveRegistration",
    "SaveToken",
    "ShowPrompt",
    "Step",
    "TokenState",
    "Wait",
    "classify",
    "refreshable",
    "registration_from_reply",
    "token_from_reply",
]

ADVISORY_REFRESH = timedelta(minutes=15)
MANDATORY_REFRESH = timedelta(minutes=10)


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
        now = now or utcnow()
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


def refreshable(token: CachedToken, now: datetime) -> bool:
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


def token_from_reply(
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


def registration_from_reply(
    reply: Any,
    now: datetime,
    scopes: Sequence[str],
    *,
    grant_types: Sequence[str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> CachedRegistration:
    """The client registration from RegisterClient's answer (or the error it got, raised),
    checked first: an answer that is not a registration raises InvalidResponseError naming
    the member, and nothing is saved. No expiry in the answer: 90 days, as the service's."""
    if isinstance(reply, BaseException):
        raise reply
    validate_response("RegisterClient", reply)
    expires = reply.get("clientSecretExpiresAt")
    return CachedRegistration(
        client_id=reply["clientId"],
        client_secret=as_secret(reply["clientSecret"]),
        expires_at=(
            datetime.fromtimestamp(int(expires), timezone.utc)
            if expires
            else now + timedelta(days=90)
        ),
        scopes=list(scopes),
        grant_types=None if grant_types is None else list(grant_types),
        extra=extra or {},
    )
