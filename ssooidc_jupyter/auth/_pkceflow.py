"""The authorization-code flow with PKCE as steps (no I/O): register a client for the
redirect (or reuse the cached registration), show the authorization page, wait for the
redirect in a :class:`CallbackBox`, redeem the code with the verifier, save. The PKCE pair,
the one-delivery box (``state`` checked in constant time) and the authorization URL live here
too.

Answers are checked as the device flow checks them (``validate_response``), and the client
registration is cached as the device flow caches its own, but apart from it: the AWS CLI
keys both under one name and tells them apart by ``grantTypes``, which is enough for its one
redirect URI (``http://127.0.0.1/oauth/callback``); ours may be the Jupyter server's route,
which a CLI reusing the registration would present in vain. So a PKCE registration has its
own key (:func:`pkce_registration_key`: the CLI's members plus the grant types and the
redirect URI, the port of a loopback one left out, as RFC 8252 lets the service ignore it),
and is reused only when it names the authorization-code grant and this redirect URI.

``_pkce.py`` runs this flow with the drivers (and a loopback listener when no server
receives the redirect); every name stays importable from there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from .._exceptions import (
    InvalidClientException,
    InvalidResponseError,
    LoginDeniedError,
    LoginError,
    LoginExpiredError,
    SSOOIDCError,
)
from .._secret import Secret, as_secret
from ._flow import login_flow
from ._models import REGISTRATION_EXPIRY_WINDOW, CachedRegistration, CachedToken
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

__all__ = [
    "ABORTED",
    "AUTHORIZATION_CODE_GRANT",
    "CallbackBox",
    "CallbackResult",
    "authorize_url",
    "pkce_flow",
    "pkce_pair",
    "pkce_registration_key",
]

AUTHORIZATION_CODE_GRANT = "authorization_code"
#: What a PKCE client registers for (the AWS CLI's ``_AUTH_GRANT_TYPES``).
PKCE_GRANT_TYPES = (AUTHORIZATION_CODE_GRANT, "refresh_token")
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
    request: LoginRequest, redirect_uri: str, box: CallbackBox, now: Callable[[], datetime]
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
    registration, endpoint = yield from _registration(request, redirect_uri, now)
    verifier, challenge = pkce_pair()
    url = authorize_url(
        endpoint,
        client_id=registration.client_id,
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
            "clientId": registration.client_id,
            "clientSecret": registration.client_secret,
            "grantType": AUTHORIZATION_CODE_GRANT,
            "code": code,
            "redirectUri": redirect_uri,
            "codeVerifier": verifier,
        },
    )
    if isinstance(reply, InvalidClientException):
        yield DropRegistration()  # revoked meanwhile: the next sign-in registers again
    token = _redeemed(reply, issued, request, registration)
    yield SaveToken(token)
    return token


def _redeemed(
    reply: Any, issued: datetime, request: LoginRequest, registration: CachedRegistration
) -> CachedToken:
    """The token from CreateToken's answer to the code (checked as the device flow checks
    it: an answer that is not a token is raised as InvalidResponseError, naming the member);
    a refusal as LoginError."""
    if isinstance(reply, InvalidResponseError):
        raise reply
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
        client_id=registration.client_id,
        client_secret=registration.client_secret,
        registration_expires_at=registration.expires_at,
    )


def pkce_registration_key(request: LoginRequest, redirect_uri: str) -> str:
    """The cache key of the PKCE client registration for ``redirect_uri`` (see the module's
    docstring): never the device flow's, nor the key of another redirect URI."""
    args = {
        "tool": "botocore",
        "startUrl": request.start_url,
        "region": request.region,
        "scopes": list(request.scopes),
        "session_name": request.session_name,
        "grantTypes": list(PKCE_GRANT_TYPES),
        "redirectUri": _portless(redirect_uri),
    }
    cache_args = json.dumps(args, sort_keys=True).encode("utf-8")
    # sha1, as the CLI names its registration files: a file name, not a security measure.
    return hashlib.sha1(cache_args, usedforsecurity=False).hexdigest()


def _portless(uri: str) -> str:
    """``uri`` without the port when it is a loopback IP's (RFC 8252 section 7.3: the
    service accepts any port there, so a listener on a new port reuses the registration)."""
    parts = urlsplit(uri)
    try:
        loopback = parts.scheme == "http" and ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        loopback = False
    if not loopback or parts.port is None:
        return uri
    host = parts.netloc.rsplit(":", 1)[0]
    return parts._replace(netloc=host).geturl()


def _reusable(
    cached: CachedRegistration, request: LoginRequest, redirect_uri: str, now: datetime
) -> bool:
    """A cached registration this sign-in may use: made for the authorization-code grant
    (never a device-only one) and this redirect URI, for the scopes asked, not expiring."""
    if cached.expires_at - now < REGISTRATION_EXPIRY_WINDOW:
        return False
    registered = cached.extra.get("redirectUris")
    return (
        AUTHORIZATION_CODE_GRANT in (cached.grant_types or [])
        and set(request.scopes) <= set(cached.scopes)
        and isinstance(registered, list)
        and _portless(redirect_uri) in [_portless(str(uri)) for uri in registered]
        and isinstance(cached.extra.get("authorizationEndpoint"), str)
    )


def _registration(
    request: LoginRequest, redirect_uri: str, now: Callable[[], datetime]
) -> Generator[Step, Any, tuple[CachedRegistration, str]]:
    """The client registration for the redirect (the cached one when reusable, else a new
    one, saved) and the authorization endpoint."""
    cached = yield LoadRegistration()
    if isinstance(cached, CachedRegistration) and _reusable(cached, request, redirect_uri, now()):
        registration = cached
    else:
        registration = yield from _register(request, redirect_uri, now)
        yield SaveRegistration(registration)
    return registration, str(registration.extra["authorizationEndpoint"])


def _register(
    request: LoginRequest, redirect_uri: str, now: Callable[[], datetime]
) -> Generator[Step, Any, CachedRegistration]:
    """RegisterClient for the authorization-code grant, its answer checked as the device
    flow checks its own; the registration as the CLI caches it, plus the redirect URI and
    the authorization endpoint (members the CLI ignores)."""
    reply = yield Call(
        "RegisterClient",
        {
            "clientName": request.client_name,
            "clientType": "public",
            "scopes": list(request.scopes),
            "grantTypes": list(PKCE_GRANT_TYPES),
            "redirectUris": [redirect_uri],
            "issuerUrl": request.start_url,
        },
    )
    registration = registration_from_reply(
        reply, now(), request.scopes, grant_types=PKCE_GRANT_TYPES
    )
    endpoint = reply.get("authorizationEndpoint") or (
        f"https://oidc.{request.region}.amazonaws.com/authorize"
    )
    extra = {"redirectUris": [redirect_uri], "authorizationEndpoint": endpoint}
    return replace(registration, extra=extra)


def _code_from(
    box: CallbackBox, deadline: datetime, now: Callable[[], datetime]
) -> Generator[Step, Any, Secret]:
    """Wait for the redirect in ``box``; its code, or the error it brought as an exception."""
    while (result := box.result) is None:
        if now() >= deadline:
            # The authorization page may have refused a cached client revoked meanwhile (the
            # flow cannot tell before CreateToken): the next sign-in registers anew.
            yield DropRegistration()
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
