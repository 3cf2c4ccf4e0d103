"""The authorization-code flow with PKCE (RFC 6749 section 4.1, RFC 7636 S256, RFC 8252).

The browser flow the AWS CLI v2 uses by default: the user's browser goes to the
``/authorize`` page and comes back to a redirect URI with a code, which only the holder of the
PKCE verifier can redeem. Unlike the device flow, a phished link gives nothing: the code goes
to the redirect URI, not to whoever started the sign-in.

The flow itself (:func:`pkce_flow`, in ``_pkceflow.py``) is, like :mod:`._flow`, a
generator of steps that does no I/O; this module sets up what a run of it needs
(:func:`pkce_run`: the redirect's receiver, the prompt, the registration's cache entry) for
the one runner, :func:`._runner.sign_in` / ``asign_in``. The code arrives through a
:class:`CallbackBox` filled by whoever receives the redirect -- the Jupyter server's
``/ssooidc/oauth/callback`` route, or :class:`LoopbackReceiver` (a listener on 127.0.0.1,
for ``login(flow="pkce")`` outside Jupyter) -- and the flow checks it between short waits.
The verifier never leaves this process; the ``state`` is checked in constant time, and a box
takes one delivery only, so a replayed or forged callback is refused.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace

from .._exceptions import ConfigurationError
from ..oidc._values import validate_redirect_uri
from ._clock import utcnow
from ._context import LoginContext
from ._drivers import PromptHandler
from ._loopback import BrowserOpener, LoopbackReceiver, _open_in_background
from ._pkceflow import (
    ABORTED,
    AUTHORIZATION_CODE_GRANT,
    CallbackBox,
    CallbackResult,
    authorize_url,
    pkce_flow,
    pkce_pair,
    pkce_registration_key,
)
from ._slot import CacheSlot
from ._steps import DevicePrompt, Flow

__all__ = [
    "ABORTED",
    "AUTHORIZATION_CODE_GRANT",
    "CallbackBox",
    "CallbackResult",
    "LoopbackReceiver",
    "authorize_url",
    "pkce_flow",
    "pkce_pair",
    "pkce_registration_key",
    "pkce_run",
    "validate_redirect_uri",
]


@contextlib.contextmanager
def pkce_run(
    context: LoginContext,
    on_prompt: PromptHandler,
    box: CallbackBox | None,
    open_browser: BrowserOpener | None,
) -> Iterator[tuple[Flow, CacheSlot, PromptHandler]]:
    """The PKCE sign-in of ``context``, ready to drive: its flow, its cache entries (the
    registration under its own key) and the prompt to show. Without ``box``, a loopback
    listener receives the redirect (at ``context.redirect_uri``, or a free port of
    127.0.0.1) until the block ends, the prompt shows its one-time launch link, and
    ``open_browser`` (None: none) opens that link."""
    receiver = None
    if box is None:
        box = CallbackBox()
        receiver = LoopbackReceiver(box, context.redirect_uri)
        redirect_uri = receiver.redirect_uri
        on_prompt = _launching(receiver, on_prompt, open_browser)
    else:
        redirect_uri = _required_redirect(context)
    key = pkce_registration_key(context.request, redirect_uri)
    try:
        yield (
            pkce_flow(context.request, redirect_uri, box, utcnow),
            replace(context.slot, registration_key=key),
            on_prompt,
        )
    finally:
        if receiver is not None:
            receiver.close()


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
