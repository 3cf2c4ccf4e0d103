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
import http.server
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .._exceptions import (
    ConfigurationError,
    LoginDeniedError,
    LoginError,
    LoginExpiredError,
    SSOOIDCError,
)
from .._secret import Secret, as_secret
from ..oidc._values import is_loopback_host, validate_redirect_uri
from ._context import LazyClient, LoginContext
from ._drivers import NoticeHandler, PromptHandler, default_prompt, run_async, run_sync
from ._flow import (
    Call,
    DevicePrompt,
    Flow,
    SaveToken,
    ShowPrompt,
    Wait,
    _token_from_reply,
    login_flow,
)
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
        return isinstance(state, str) and hmac.compare_digest(state, self.state)

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
    deadline = now() + timedelta(seconds=request.timeout or _DEFAULT_WAIT)
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
    token = _token_from_reply(
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


# ---- a receiver for login(flow="pkce") outside a Jupyter server ---------------------------

_CLOSE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>Signed in</title>"
    b"<p>%s You can close this tab.</p><script>window.close()</script>"
)


class LoopbackReceiver:
    """A one-path HTTP listener on a loopback address that delivers the redirect to a box
    (as the AWS CLI's own listener). Runs in a daemon thread; close it when done."""

    def __init__(self, box: CallbackBox, redirect_uri: str | None = None) -> None:
        uri = redirect_uri or "http://127.0.0.1:0/oauth/callback"
        parts = urlsplit(validate_redirect_uri(uri))
        if parts.scheme != "http" or not is_loopback_host(parts.hostname or ""):
            raise ConfigurationError(
                f"redirect_uri {uri!r} is not on this machine: login(flow='pkce') can only "
                "receive a loopback http redirect itself; use the Jupyter server extension "
                "for another redirect."
            )
        path = parts.path or "/"
        receiver_box = box

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target = urlsplit(self.path)
                params = dict(parse_qsl(target.query))
                ok = target.path == path and receiver_box.deliver(params)
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                message = b"Sign-in received." if ok else b"This sign-in link is not expected."
                self.wfile.write(_CLOSE_PAGE % message)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the query holds the code: never logged

        host = parts.hostname or "127.0.0.1"
        self._server = http.server.ThreadingHTTPServer((host, parts.port or 0), Handler)
        port = self._server.server_address[1]
        shown_host = f"[{host}]" if ":" in host else host
        self.redirect_uri = f"http://{shown_host}:{port}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# ---- running it ------------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _ignore_notice(message: str) -> None:
    pass


def complete_pkce_login(
    context: LoginContext,
    *,
    box: CallbackBox | None = None,
    on_prompt: PromptHandler | None = None,
    on_notice: NoticeHandler | None = None,
    cancel: threading.Event | None = None,
) -> SSOToken:
    """The PKCE sign-in of ``context`` in this thread. Without ``box``, a loopback listener
    receives the redirect (at ``context.redirect_uri``, or a free port of 127.0.0.1)."""
    receiver = None
    if box is None:
        box = CallbackBox()
        receiver = LoopbackReceiver(box, context.redirect_uri)
        redirect_uri = receiver.redirect_uri
    else:
        redirect_uri = _required_redirect(context)
    client = LazyClient(context)
    try:
        cached = run_sync(
            pkce_flow(context.request, redirect_uri, box, _utcnow),
            client,
            context.slot,
            on_prompt=on_prompt or default_prompt,
            on_notice=on_notice or _ignore_notice,
            cancel=cancel,
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
) -> SSOToken:
    """:func:`complete_pkce_login` on the running event loop (the listener, when there is
    one, runs in its own thread; the flow only looks into the box between waits)."""
    receiver = None
    if box is None:
        box = CallbackBox()
        receiver = LoopbackReceiver(box, context.redirect_uri)
        redirect_uri = receiver.redirect_uri
    else:
        redirect_uri = _required_redirect(context)
    client = LazyClient(context, asynchronous=True)
    try:
        cached = await run_async(
            pkce_flow(context.request, redirect_uri, box, _utcnow),
            client,
            context.slot,
            on_prompt=on_prompt or default_prompt,
            on_notice=on_notice or _ignore_notice,
        )
    finally:
        await client.aclose()
        if receiver is not None:
            receiver.close()
    return SSOToken(cached, context=context.settled())


def _required_redirect(context: LoginContext) -> str:
    if context.redirect_uri is None:
        raise ConfigurationError("A PKCE sign-in with a callback box needs its redirect_uri.")
    return context.redirect_uri
