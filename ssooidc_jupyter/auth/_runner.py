"""The one way to run a sign-in: :func:`sign_in` in a thread, :func:`asign_in` on a loop.

Every sign-in goes through here -- ``login()`` / ``login_async()`` / ``session()``, the
notebook's background sign-in, the Jupyter server's -- so the choice between the device flow
and PKCE is made once, in :func:`_planned`, from the resolved :class:`LoginContext`. The
twins differ only in the driver entry they call (``drive`` / ``adrive`` of
:mod:`._drivers`, which :class:`SSOToken`'s refreshes use too) and in how they are stopped:
``cancel`` for the thread, cancelling the task for the loop.

The caller's hooks: ``on_prompt`` (the code and link, or PKCE's launch link, to show),
``on_notice`` (something to read: another process's sign-in this one waits for, a session
that ended), ``origin`` (where the sign-in started, as other processes waiting for it are
told); for PKCE, ``box`` (where a server route delivers the redirect; without it a loopback
listener receives it) and ``open_browser``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ._clock import utcnow
from ._context import LoginContext
from ._drivers import (
    NoticeHandler,
    PromptHandler,
    adrive,
    default_notice,
    default_prompt,
    drive,
)
from ._flow import Flow, login_flow
from ._inflight import label_for
from ._slot import CacheSlot
from ._token import SSOToken

if TYPE_CHECKING:
    from ._loopback import BrowserOpener
    from ._pkceflow import CallbackBox

__all__ = ["SYSTEM_BROWSER", "asign_in", "callback_box", "sign_in"]

#: ``open_browser``'s default: this machine's graphical browser, when it has one.
SYSTEM_BROWSER: Literal["system"] = "system"


def sign_in(
    context: LoginContext,
    *,
    on_prompt: PromptHandler | None = None,
    on_notice: NoticeHandler | None = None,
    cancel: threading.Event | None = None,
    origin: str | None = None,
    box: CallbackBox | None = None,
    open_browser: BrowserOpener | Literal["system"] | None = SYSTEM_BROWSER,
) -> SSOToken:
    """Run the sign-in of a resolved ``context`` in this thread (blocks it; ``cancel``
    stops it, so does KeyboardInterrupt): the cached token, a refreshed one, or a new one
    from the flow the context names. ``origin``: ``"status bar"``, ``"kernel"``,
    ``"script"``; None: found out."""
    with _planned(context, on_prompt, box, open_browser) as plan:
        cached = drive(
            plan.flow,
            context,
            slot=plan.slot,
            on_prompt=plan.on_prompt,
            on_notice=default_notice if on_notice is None else on_notice,
            cancel=cancel,
            label=label_for(context.flow, context.request, origin),
        )
    return SSOToken(cached, context=context.settled())


async def asign_in(
    context: LoginContext,
    *,
    on_prompt: PromptHandler | None = None,
    on_notice: NoticeHandler | None = None,
    origin: str | None = None,
    box: CallbackBox | None = None,
    open_browser: BrowserOpener | Literal["system"] | None = SYSTEM_BROWSER,
) -> SSOToken:
    """:func:`sign_in` on the running event loop: never blocks it; cancel the task to stop
    (a loopback listener, when there is one, runs in its own thread)."""
    with _planned(context, on_prompt, box, open_browser) as plan:
        cached = await adrive(
            plan.flow,
            context,
            slot=plan.slot,
            on_prompt=plan.on_prompt,
            on_notice=default_notice if on_notice is None else on_notice,
            label=label_for(context.flow, context.request, origin),
        )
    return SSOToken(cached, context=context.settled())


def callback_box(context: LoginContext) -> CallbackBox | None:
    """Where a server receiving the redirect itself delivers it, for :func:`asign_in`'s
    ``box``: a new box when the context's flow takes a redirect (PKCE), else None."""
    if context.flow != "pkce":
        return None
    from ._pkceflow import CallbackBox

    return CallbackBox()


@dataclass(frozen=True)
class _Plan:
    """A sign-in ready to drive: the flow, its cache entries, the prompt to show."""

    flow: Flow
    slot: CacheSlot
    on_prompt: PromptHandler


@contextlib.contextmanager
def _planned(
    context: LoginContext,
    on_prompt: PromptHandler | None,
    box: CallbackBox | None,
    open_browser: BrowserOpener | Literal["system"] | None,
) -> Iterator[_Plan]:
    """The one choice of flow: the device flow (RFC 8628), or PKCE with what it needs for
    the length of the block (a loopback listener, unless ``box`` is given)."""
    shown = default_prompt if on_prompt is None else on_prompt
    if context.flow != "pkce":
        if box is not None:
            # A box is where a server route delivers PKCE's redirect: with the device flow
            # nothing would ever fill it, so a caller passing one has the wrong context.
            raise ValueError(
                f"box is for a PKCE sign-in; this context's flow is {context.flow!r}"
                " (callback_box(context) gives None for it)"
            )
        yield _Plan(login_flow(context.request, utcnow), context.slot, shown)
        return
    # Lazy: only a PKCE sign-in needs the module (and its listener, and webbrowser).
    from ._loopback import open_browser as system_browser
    from ._pkce import pkce_run

    opener = system_browser if isinstance(open_browser, str) else open_browser
    with pkce_run(context, shown, box, opener) as (flow, slot, prompt):
        yield _Plan(flow, slot, prompt)
