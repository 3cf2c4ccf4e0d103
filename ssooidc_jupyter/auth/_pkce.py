"""The authorization-code flow with PKCE (RFC 6749 section 4.1, RFC 7636 S256, RFC 8252).

The browser flow the AWS CLI v2 uses by default: the user's browser goes to the
``/authorize`` page and comes back to a redirect URI with a code, which only the holder of the
PKCE verifier can redeem. Unlike the device flow, a phished link gives nothing: the code goes
to the redirect URI, not to whoever started the sign-in.

Like :mod:`._flow`, :func:`pkce_flow` is a generator of steps that does no I/O: the drivers of
:mod:`._drivers` run it unchanged. The code arrives through a :class:`CallbackBox` filled by
whoever receives the redirect -- the Jupyter server's ``/ssooidc/oauth/callback`` route, or
:class:`LoopbackReceiver` (a listener on 127.0.0.1, for ``login(flow="pkce")`` outside
Jupyter) -- and the flow checks it between short waits. The verifier never leaves this
process; the ``state`` is checked in constant time, and a box takes one delivery only, so a
replayed or forged callback is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from .._exceptions import (
    ConfigurationError,
    LoginDeniedError,
    LoginError,
    LoginExpiredError,
    SSOOIDCError,
)
from .._secret import Secret, as_secret
from ..oidc._values import validate_redirect_uri
from ._context import LazyClient, LoginContext
from ._drivers import (
    NoticeHandler,
    PromptHandler,
    default_notice,
    default_prompt,
    run_async,
    run_sync,
)
from ._flow import login_flow
from ._inflight import label_for
from ._loopback import BrowserOpener, LoopbackReceiver, _open_in_background, open_browser
from ._steps import Call, DevicePrompt, Flow, SaveToken, ShowPrompt, Wait, token_from_reply
from ._token import SSOToken

__all__ = [
    "CallbackBox",
    "LoopbackReceiver",
    "complete_pkce_login",
    "complete_pkce_login_async",
    "pkce_flow",
    "pkce_pair",
    "validate_redirect_uri",
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
    scopes = list(request.scopes)
    reply = yield Call(
        "RegisterClient",
        {
            "clientName": request.client_name,
            "clientType": "public",
            "scopes": scopes,
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
    verifier, challenge = pkce_pair()
    url = authorize_url(
        endpoint,
        client_id=client_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
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
    issued = now()
    reply = yield Call(
        "CreateToken",
        {
            "clientId": client_id,
            "clientSecret": client_secret,
            "grantType": AUTHORIZATION_CODE_GRANT,
            "code": result.code,
            "redirectUri": redirect_uri,
            "codeVerifier": verifier,
        },
    )
    if isinstance(reply, SSOOIDCError):
        raise LoginError(
            f"The authorization code could not be redeemed ({type(reply).__name__}); "
            "start the sign-in again."
        ) from reply
    if isinstance(reply, BaseException):
        raise reply
    token = token_from_reply(
        reply,
        issued,
        start_url=request.start_url,
        region=request.region,
        client_id=client_id,
        client_secret=client_secret,
        registration_expires_at=registration_expires_at,
    )
    yield SaveToken(token)
    return token


# ---- running it ------------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def complete_pkce_login(
    context: LoginContext,
    *,
    box: CallbackBox | None = None,
    on_prompt: PromptHandler | None = None,
    on_notice: NoticeHandler | None = None,
    cancel: threading.Event | None = None,
    open_browser: BrowserOpener | None = open_browser,
    origin: str | None = None,
) -> SSOToken:
    """The PKCE sign-in of ``context`` in this thread. Without ``box``, a loopback listener
    receives the redirect (at ``context.redirect_uri``, or a free port of 127.0.0.1), the
    prompt shows its one-time launch link, and ``open_browser`` (default: this machine's
    graphical browser, when it has one) opens that link."""
    receiver = None
    shown = on_prompt or default_prompt
    if box is None:
        box = CallbackBox()
        receiver = LoopbackReceiver(box, context.redirect_uri)
        redirect_uri = receiver.redirect_uri
        shown = _launching(receiver, shown, open_browser)
    else:
        redirect_uri = _required_redirect(context)
    client = LazyClient(context)
    try:
        cached = run_sync(
            pkce_flow(context.request, redirect_uri, box, _utcnow),
            client,
            context.slot,
            on_prompt=shown,
            on_notice=on_notice or default_notice,
            cancel=cancel,
            label=label_for(context.flow, context.request, origin),
        )
    finally:
        client.close()
        if receiver is not None:
            receiver.close()
    return SSOToken(cached, context=context.settled())


async def complete_pkce_login_async(
    context: LoginContext,
    *,
    box: CallbackBox | None = None,
    on_prompt: PromptHandler | None = None,
    on_notice: NoticeHandler | None = None,
    open_browser: BrowserOpener | None = open_browser,
    origin: str | None = None,
) -> SSOToken:
    """:func:`complete_pkce_login` on the running event loop (the listener, when there is
    one, runs in its own thread; the flow only looks into the box between waits)."""
    receiver = None
    shown = on_prompt or default_prompt
    if box is None:
        box = CallbackBox()
        receiver = LoopbackReceiver(box, context.redirect_uri)
        redirect_uri = receiver.redirect_uri
        shown = _launching(receiver, shown, open_browser)
    else:
        redirect_uri = _required_redirect(context)
    client = LazyClient(context, asynchronous=True)
    try:
        cached = await run_async(
            pkce_flow(context.request, redirect_uri, box, _utcnow),
            client,
            context.slot,
            on_prompt=shown,
            on_notice=on_notice or default_notice,
            label=label_for(context.flow, context.request, origin),
        )
    finally:
        await client.aclose()
        if receiver is not None:
            receiver.close()
    return SSOToken(cached, context=context.settled())


def _launching(
    receiver: LoopbackReceiver, on_prompt: PromptHandler, opener: BrowserOpener | None
) -> PromptHandler:
    """The prompt with the listener's one-time launch link in place of the authorization URL
    (whose ``state`` must not be in the saved notebook), opened in the browser when there is
    one; the prompt still shows the link, as the fallback."""

    def show(prompt: DevicePrompt) -> None:
        link = receiver.launch_url(prompt.verification_uri_complete)
        if opener is not None:
            _open_in_background(opener, link)
        on_prompt(replace(prompt, verification_uri=link, verification_uri_complete=link))

    return show


def _required_redirect(context: LoginContext) -> str:
    if context.redirect_uri is None:
        raise ConfigurationError("A PKCE sign-in with a callback box needs its redirect_uri.")
    return context.redirect_uri
