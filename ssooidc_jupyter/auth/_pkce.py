"""The authorization-code flow with PKCE (RFC 6749 section 4.1, RFC 7636 S256, RFC 8252).

The browser flow the AWS CLI v2 uses by default: the user's browser goes to the
``/authorize`` page and comes back to a redirect URI with a code, which only the holder of the
PKCE verifier can redeem. Unlike the device flow, a phished link gives nothing: the code goes
to the redirect URI, not to whoever started the sign-in.

The flow itself (:func:`pkce_flow`, in ``_pkceflow.py``; this module runs it) is, like
:mod:`._flow`, a generator of steps that does no I/O: the drivers of :mod:`._drivers` run
it unchanged. The code arrives through a :class:`CallbackBox` filled by
whoever receives the redirect -- the Jupyter server's ``/ssooidc/oauth/callback`` route, or
:class:`LoopbackReceiver` (a listener on 127.0.0.1, for ``login(flow="pkce")`` outside
Jupyter) -- and the flow checks it between short waits. The verifier never leaves this
process; the ``state`` is checked in constant time, and a box takes one delivery only, so a
replayed or forged callback is refused.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timezone

from .._exceptions import ConfigurationError
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
from ._inflight import label_for
from ._loopback import BrowserOpener, LoopbackReceiver, _open_in_background, open_browser
from ._pkceflow import (
    ABORTED,
    AUTHORIZATION_CODE_GRANT,
    CallbackBox,
    CallbackResult,
    authorize_url,
    pkce_flow,
    pkce_pair,
)
from ._steps import DevicePrompt
from ._token import SSOToken

__all__ = [
    "ABORTED",
    "AUTHORIZATION_CODE_GRANT",
    "CallbackBox",
    "CallbackResult",
    "LoopbackReceiver",
    "authorize_url",
    "complete_pkce_login",
    "complete_pkce_login_async",
    "pkce_flow",
    "pkce_pair",
    "validate_redirect_uri",
]


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
