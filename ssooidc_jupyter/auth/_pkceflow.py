"""The authorization-code flow with PKCE as steps (no I/O): register a client for the
redirect, show the authorization page, wait for the redirect in a :class:`CallbackBox`, redeem
the code with the verifier, save. The PKCE pair, the one-delivery box (``state`` checked in
constant time) and the authorization URL live here too.

``_pkce.py`` runs this flow with the drivers (and a loopback listener when no server
receives the redirect); every name stays importable from there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from .._exceptions import LoginDeniedError, LoginError, LoginExpiredError, SSOOIDCError
from .._secret import Secret, as_secret
from ._flow import login_flow
from ._models import CachedToken
from ._steps import (
    Call,
    DevicePrompt,
    Flow,
    SaveToken,
    ShowPrompt,
    Step,
    Wait,
    token_from_reply,
)

__all__ = [
    "ABORTED",
    "AUTHORIZATION_CODE_GRANT",
    "CallbackBox",
    "CallbackResult",
    "authorize_url",
    "pkce_flow",
    "pkce_pair",
]

AUTHORIZATION_CODE_GRANT = "authorization_code"
# How often the flow looks into its box for the code (an in-memory check, no I/O).
_CHECK_EVERY = 0.2
# How long the browser leg may take, when the request sets no timeout: as a device code.
_DEFAULT_WAIT = 600.0
_MAX_ERROR_TEXT = 200
# The error of a sign-in the listener stopped (its description says why, for the user).
ABORTED = "ssooidc_aborted"


def pkce_pair() -> tuple[Secret, str]:
    """``(verifier, S256 challenge)``: 64 random URL-safe characters (a :class:`Secret`)
    and their hash."""
    verifier = Secret(secrets.token_urlsafe(48))
    return verifier, _challenge(verifier)


def _challenge(verifier: Secret) -> str:
    digest = hashlib.sha256(verifier.get_secret_value().encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class CallbackResult:
    code: Secret | None  # a credential until redeemed
    error: str | None = None
    description: str | None = None

    def __repr__(self) -> str:  # the code is a credential until redeemed
        return f"CallbackResult(code={'...' if self.code else None}, error={self.error!r})"


class CallbackBox:
    """Where the redirect's answer for one sign-in is delivered. Thread-safe; takes one
    delivery, and only with the right ``state``."""

    def __init__(self) -> None:
        self.state = secrets.token_urlsafe(24)
        self._lock = threading.Lock()
        self._result: CallbackResult | None = None

    def __repr__(self) -> str:
        return f"<CallbackBox {'delivered' if self._result else 'waiting'}>"

    @property
    def result(self) -> CallbackResult | None:
        with self._lock:
            return self._result

    def matches(self, state: object) -> bool:
        # Bytes: compare_digest refuses non-ASCII str, and a forged state may be anything.
        return isinstance(state, str) and hmac.compare_digest(
            state.encode("utf-8", "replace"), self.state.encode("ascii")
        )

    def abort(self, reason: str) -> None:
        """End the sign-in with ``reason`` (the launch link was reused), unless an answer
        is already in."""
        with self._lock:
            if self._result is None:
                self._result = CallbackResult(code=None, error=ABORTED, description=reason)

    def deliver(self, params: Mapping[str, str]) -> bool:
        """Take the redirect's query (``code`` and ``state``, or ``error``). False when the
        state is wrong or an answer was already taken (a forged or replayed callback)."""
        if not self.matches(params.get("state")):
            return False
        # Wrapped at once: the code is a credential until redeemed.
        code, error = as_secret(params.get("code") or ""), params.get("error")
        if not code and not error:
            return False
        with self._lock:
            if self._result is not None:
                return False
            self._result = CallbackResult(
                code=code or None,
                error=None if code else str(error)[:_MAX_ERROR_TEXT],
                description=(params.get("error_description") or "")[:_MAX_ERROR_TEXT] or None,
            )
        return True


def authorize_url(
    endpoint: str,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: list[str],
    state: str,
    challenge: str,
) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scopes": " ".join(scopes),
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{endpoint}?{query}"


def pkce_flow(
    request: Any, redirect_uri: str, box: CallbackBox, now: Callable[[], datetime]
) -> Flow:
    """Return a usable token: the cached or refreshed one (as :func:`login_flow`), else one
    from the authorization-code flow with PKCE through ``redirect_uri`` and ``box``."""
    started = now()  # the request's timeout bounds the whole call, lock wait included
    try:
        # The cache, the lock and the refresh exactly as the device flow has them; a needed
        # sign-in is reported as LoginError by the non-interactive flow, with the lock held.
        return (yield from login_flow(replace(request, interactive=False), now))
    except LoginError:
        pass
    client_id, client_secret, registration_expires_at, endpoint = yield from _register(
        request, redirect_uri, now
    )
    verifier, challenge = pkce_pair()
    url = authorize_url(
        endpoint,
        client_id=client_id,
        redirect_uri=redirect_uri,
        scopes=list(request.scopes),
        state=box.state,
        challenge=challenge,
    )
    deadline = (
        started + timedelta(seconds=request.timeout)
        if request.timeout
        else now() + timedelta(seconds=_DEFAULT_WAIT)
    )
    # The user opens the authorization page; no code to compare (the redirect carries it).
    yield ShowPrompt(
        DevicePrompt(
            user_code="",
            verification_uri=endpoint,
            verification_uri_complete=url,
            expires_at=deadline,
            interval=_CHECK_EVERY,
        )
    )
    code = yield from _code_from(box, deadline, now)
    issued = now()
    reply = yield Call(
        "CreateToken",
        {
            "clientId": client_id,
            "clientSecret": client_secret,
            "grantType": AUTHORIZATION_CODE_GRANT,
            "code": code,
            "redirectUri": redirect_uri,
            "codeVerifier": verifier,
        },
    )
    token = _redeemed(reply, issued, request, client_id, client_secret, registration_expires_at)
    yield SaveToken(token)
    return token


def _redeemed(
    reply: Any,
    issued: datetime,
    request: Any,
    client_id: str,
    client_secret: Secret,
    registration_expires_at: datetime | None,
) -> CachedToken:
    """The token from CreateToken's answer to the code; a refusal as LoginError."""
    if isinstance(reply, SSOOIDCError):
        raise LoginError(
            f"The authorization code could not be redeemed ({type(reply).__name__}); "
            "start the sign-in again."
        ) from reply
    if isinstance(reply, BaseException):
        raise reply
    return token_from_reply(
        reply,
        issued,
        start_url=request.start_url,
        region=request.region,
        client_id=client_id,
        client_secret=client_secret,
        registration_expires_at=registration_expires_at,
    )


def _register(
    request: Any, redirect_uri: str, now: Callable[[], datetime]
) -> Generator[Step, Any, tuple[str, Secret, datetime | None, str]]:
    """RegisterClient for the authorization-code grant: the client id and secret, when the
    registration expires, and the authorization endpoint."""
    reply = yield Call(
        "RegisterClient",
        {
            "clientName": request.client_name,
            "clientType": "public",
            "scopes": list(request.scopes),
            "grantTypes": [AUTHORIZATION_CODE_GRANT, "refresh_token"],
            "redirectUris": [redirect_uri],
            "issuerUrl": request.start_url,
        },
    )
    if isinstance(reply, BaseException):
        raise reply
    client_id, client_secret = reply["clientId"], as_secret(reply["clientSecret"])
    expires = reply.get("clientSecretExpiresAt")
    registration_expires_at = (
        datetime.fromtimestamp(int(expires), now().tzinfo) if expires else None
    )
    endpoint = reply.get("authorizationEndpoint") or (
        f"https://oidc.{request.region}.amazonaws.com/authorize"
    )
    return client_id, client_secret, registration_expires_at, endpoint


def _code_from(
    box: CallbackBox, deadline: datetime, now: Callable[[], datetime]
) -> Generator[Step, Any, Secret]:
    """Wait for the redirect in ``box``; its code, or the error it brought as an exception."""
    while (result := box.result) is None:
        if now() >= deadline:
            raise LoginExpiredError(
                "The sign-in page was not completed in time; start the sign-in again."
            )
        yield Wait(_CHECK_EVERY)
    if result.code is None:
        if result.error == ABORTED:
            raise LoginError(result.description or "The sign-in was stopped.")
        if result.error == "access_denied":
            raise LoginDeniedError("Sign-in denied on the authorization page.")
        raise LoginError(
            f"The authorization page answered {result.error}"
            + (f" ({result.description})" if result.description else "")
            + "; start the sign-in again."
        )
    return result.code
