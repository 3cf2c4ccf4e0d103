"""The two drivers of :mod:`._flow`: one for threads, one for asyncio. They mirror each other.

A driver carries out each step the flow yields -- a call on the client, a wait, a prompt, a
cache read or write, the cross-process lock -- and sends the outcome back. Whatever way the
flow ends (return, error, cancellation, KeyboardInterrupt), the lock is released and nothing
half-done is written: the cache only ever receives whole, valid entries. The cache steps
are done the same way by both, in :class:`~._slot.CacheSlot`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from .._exceptions import LoginCancelledError, SSOOIDCError
from ..oidc._wire import wrap_secret_response
from ._cache import CacheLockTimeout
from ._context import LazyClient, LoginContext
from ._flow import (
    Call,
    DevicePrompt,
    Flow,
    Lock,
    Notice,
    ShowPrompt,
    Wait,
)
from ._inflight import (
    CANCELLED_ELSEWHERE,
    PendingSignIn,
    Publication,
    SignInLabel,
    WaitingNotice,
    read_pending,
)
from ._models import CachedToken
from ._slot import CacheSlot

__all__ = ["CacheSlot", "adrive", "drive", "run_async", "run_sync"]

logger = logging.getLogger("ssooidc_jupyter.login")

# How long a sign-in waits for another process's sign-in to finish before giving up: longer
# than a device code lives (10 min) so a login in another kernel can run its course.
LOCK_WAIT = 15 * 60.0
#: How often a holder looks for a waiter's cancel request, and a waiter for the holder's
#: prompt: both well inside the half second and the second issue 20 asks for.
CHECK_EVERY = 0.25


PromptHandler = Callable[[DevicePrompt], None]
NoticeHandler = Callable[[str], None]


def default_prompt(prompt: DevicePrompt) -> None:
    """Show the prompt on stderr, so that a script's stdout stays its own output.

    Not a hiding place: a notebook saves stderr with the file just as it saves stdout (the
    magic and the widget show the prompt in the notebook instead). What is shown is meant to
    be seen by the user -- a user code, or PKCE's one-time launch link -- but it lets whoever
    reads the saved file act on a pending sign-in; see docs/SECURITY.md."""
    step = (
        f"and check that it shows the code {prompt.user_code}"
        if prompt.user_code
        else "and approve the sign-in there"
    )
    sys.stderr.write(
        "\nTo sign in to AWS IAM Identity Center, open\n"
        f"    {prompt.verification_uri_complete}\n"
        f"{step} (valid until {prompt.expires_at:%H:%M:%S} UTC).\n\n"
    )
    sys.stderr.flush()


def default_notice(message: str) -> None:
    if isinstance(message, WaitingNotice):
        # Shown where the prompt would be: the user must act (approve there, or cancel).
        sys.stderr.write(f"\n{message}\n\n")
        sys.stderr.flush()
        return
    logging.getLogger("ssooidc_jupyter.login").warning("%s", message)


def _backoff(cancel: threading.Event | None) -> Callable[[float], None] | None:
    """The client's sleep between retries: ``cancel.wait``, so that Cancel interrupts a
    back-off in progress (None: the client's own ``time.sleep``)."""
    if cancel is None:
        return None

    def sleep(seconds: float) -> None:
        if cancel.wait(seconds):
            raise LoginCancelledError("Sign-in cancelled.")

    return sleep


def _call(client: Any, step: Call, sleep: Callable[[float], None] | None) -> Any:
    """The answer to a :class:`Call` step, or the :class:`SSOOIDCError` the call failed
    with (the flow decides); a cancelled back-off ends the sign-in."""
    try:
        # Wrapped as received: the flow never holds a plain token.
        return wrap_secret_response(client.invoke(step.operation, dict(step.params), sleep=sleep))
    except LoginCancelledError:
        raise
    except SSOOIDCError as error:
        return error


async def _acall(client: Any, step: Call) -> Any:
    """:func:`_call` on the event loop: cancelling the task interrupts a back-off."""
    try:
        return wrap_secret_response(await client.invoke(step.operation, dict(step.params)))
    except SSOOIDCError as error:
        return error


class _Others:
    """One sign-in's view of the other processes: the sign-in it waits for (shown once
    each, through ``on_notice``), and its own, published once its prompt is known so that
    they see it and may cancel it."""

    def __init__(
        self, slot: CacheSlot, label: SignInLabel | None, on_notice: NoticeHandler
    ) -> None:
        self.slot = slot
        self.label = label
        self.on_notice = on_notice
        self.locked = False
        self.seen: PendingSignIn | None = None
        self.publication: Publication | None = None
        self._next_look = 0.0

    def waiting(self) -> None:
        """Between two tries of a held lock: show the sign-in held there, once."""
        cache = self.slot.cache
        now = time.monotonic()
        if cache is None or now < self._next_look:
            return
        self._next_look = now + CHECK_EVERY
        try:
            pending = read_pending(cache, self.slot.token_key)
        except (OSError, SSOOIDCError):
            return  # what cannot be read is not shown; the lock wait goes on
        if pending is not None and pending != self.seen:
            self.seen = pending
            self.on_notice(WaitingNotice(pending))

    def timed_out(self, error: CacheLockTimeout, step: Lock) -> CacheLockTimeout:
        """The lock wait's timeout, saying which sign-in it waited for when known."""
        if self.seen is None:
            return error
        return CacheLockTimeout(
            f"Timed out waiting for another process's sign-in: {self.seen.message()}. "
            f"{self.seen.how_to_cancel()}"
        )

    def publish(self, prompt: DevicePrompt) -> Publication | None:
        """Publish this sign-in (only while holding the lock, into a writable cache); the
        driver withdraws it when the flow ends, before the lock is released."""
        cache, label = self.slot.cache, self.label
        if not self.locked or cache is None or self.slot.read_only or label is None:
            return None
        publication = Publication(cache, label.pending(self.slot.token_key, prompt))
        try:
            publication.publish()
        except OSError as exc:  # best effort: the sign-in itself goes on
            logger.debug("could not publish the pending sign-in: %s", exc)
            publication.withdraw()
            return None
        self.publication = publication
        return publication

    def check_cancelled(self) -> None:
        if self.publication is not None and self.publication.cancelled():
            raise LoginCancelledError(CANCELLED_ELSEWHERE)

    def lock_timeout(self, step: Lock) -> float:
        if not step.wait:
            return 0
        return LOCK_WAIT if step.timeout is None else min(step.timeout, LOCK_WAIT)


@contextlib.contextmanager
def _sync_lock(
    slot: CacheSlot, cancel: threading.Event | None, step: Lock, others: _Others
) -> Iterator[None]:
    if slot.cache is None or slot.read_only:
        yield
        return
    waiting = others.waiting if step.wait else None
    timeout = others.lock_timeout(step)
    with slot.cache.lock(slot.token_key, timeout=timeout, cancel=cancel, waiting=waiting):
        yield


def _sync_wait(seconds: float, cancel: threading.Event | None, others: _Others) -> None:
    """Sleep ``seconds`` (cancellable); in slices when published, to see a waiter's cancel."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        chunk = min(left, CHECK_EVERY) if others.publication is not None else left
        if cancel is None:
            time.sleep(chunk)
        elif cancel.wait(chunk):
            raise LoginCancelledError("Sign-in cancelled.")
        others.check_cancelled()


def drive(
    flow: Flow,
    context: LoginContext,
    *,
    slot: CacheSlot | None = None,
    on_prompt: PromptHandler = default_prompt,
    on_notice: NoticeHandler = default_notice,
    cancel: threading.Event | None = None,
    label: SignInLabel | None = None,
) -> CachedToken:
    """Drive ``flow`` for ``context`` in this thread: the sync entry of every sign-in and
    :class:`SSOToken` method. The client is made at its first call, closed at the end.
    ``slot``: other cache entries than the context's (PKCE keeps its registration apart)."""

    client = LazyClient(context)
    try:
        return run_sync(
            flow,
            client,
            context.slot if slot is None else slot,
            on_prompt=on_prompt,
            on_notice=on_notice,
            cancel=cancel,
            label=label,
        )
    finally:
        client.close()


async def adrive(
    flow: Flow,
    context: LoginContext,
    *,
    slot: CacheSlot | None = None,
    on_prompt: PromptHandler = default_prompt,
    on_notice: NoticeHandler = default_notice,
    label: SignInLabel | None = None,
) -> CachedToken:
    """:func:`drive` on the running event loop; cancel the task to stop."""

    client = LazyClient(context, asynchronous=True)
    try:
        return await run_async(
            flow,
            client,
            context.slot if slot is None else slot,
            on_prompt=on_prompt,
            on_notice=on_notice,
            label=label,
        )
    finally:
        await client.aclose()


def run_sync(
    flow: Flow,
    client: Any,
    slot: CacheSlot,
    *,
    on_prompt: PromptHandler,
    on_notice: NoticeHandler,
    cancel: threading.Event | None = None,
    label: SignInLabel | None = None,
) -> CachedToken:
    """Drive ``flow`` in this thread. Waits are ``cancel.wait`` (or ``time.sleep``), so
    this blocks its thread: run it in a worker thread when the caller must stay free.

    ``label``: publish the sign-in under it once its prompt is known (see :mod:`._inflight`)."""
    others = _Others(slot, label, on_notice)
    with contextlib.ExitStack() as held:
        outcome: Any = None
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    raise LoginCancelledError("Sign-in cancelled.")
                try:
                    step = flow.send(outcome)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                outcome = None
                handled, outcome = slot.carry_out(step)
                if handled:
                    continue
                if isinstance(step, Call):
                    outcome = _call(client, step, _backoff(cancel))
                elif isinstance(step, Wait):
                    _sync_wait(step.seconds, cancel, others)
                elif isinstance(step, ShowPrompt):
                    if (publication := others.publish(step.prompt)) is not None:
                        held.callback(publication.withdraw)
                    on_prompt(step.prompt)
                elif isinstance(step, Notice):
                    on_notice(step.message)
                elif isinstance(step, Lock):
                    slot = others.slot = slot.settle_writes()
                    try:
                        held.enter_context(_sync_lock(slot, cancel, step, others))
                        outcome = others.locked = True
                    except CacheLockTimeout as error:
                        if step.wait:
                            raise others.timed_out(error, step) from None
                        outcome = False  # held elsewhere: the flow decides
                else:  # pragma: no cover - a step type the driver does not know
                    raise TypeError(f"unknown step {step!r}")
        finally:
            flow.close()


@contextlib.asynccontextmanager
async def _async_lock(slot: CacheSlot, step: Lock, others: _Others) -> AsyncIterator[None]:
    if slot.cache is None or slot.read_only:
        yield
        return
    waiting = others.waiting if step.wait else None
    async with slot.cache.alock(slot.token_key, timeout=others.lock_timeout(step), waiting=waiting):
        yield


async def _async_wait(seconds: float, others: _Others) -> None:
    """:func:`_sync_wait` on the loop (cancel the task to stop)."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        await _sleep(min(left, CHECK_EVERY) if others.publication is not None else left)
        others.check_cancelled()


async def run_async(
    flow: Flow,
    client: Any,
    slot: CacheSlot,
    *,
    on_prompt: PromptHandler,
    on_notice: NoticeHandler,
    label: SignInLabel | None = None,
) -> CachedToken:
    """Drive ``flow`` on the running event loop. Cancel the task to stop it at once.

    Cache reads and writes are small local file operations done inline (as botocore does);
    the lock is polled with ``asyncio.sleep`` so the loop never blocks on another process.
    """
    others = _Others(slot, label, on_notice)
    async with contextlib.AsyncExitStack() as held:
        outcome: Any = None
        try:
            while True:
                try:
                    step = flow.send(outcome)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                outcome = None
                handled, outcome = slot.carry_out(step)
                if handled:
                    continue
                if isinstance(step, Call):
                    outcome = await _acall(client, step)
                elif isinstance(step, Wait):
                    await _async_wait(step.seconds, others)
                elif isinstance(step, ShowPrompt):
                    if (publication := others.publish(step.prompt)) is not None:
                        held.callback(publication.withdraw)
                    on_prompt(step.prompt)
                elif isinstance(step, Notice):
                    on_notice(step.message)
                elif isinstance(step, Lock):
                    slot = others.slot = slot.settle_writes()
                    try:
                        await held.enter_async_context(_async_lock(slot, step, others))
                        outcome = others.locked = True
                    except CacheLockTimeout as error:
                        if step.wait:
                            raise others.timed_out(error, step) from None
                        outcome = False  # held elsewhere: the flow decides
                else:  # pragma: no cover
                    raise TypeError(f"unknown step {step!r}")
        finally:
            flow.close()


async def _sleep(seconds: float) -> None:
    # Lazy: asyncio (and ssl, which it imports) costs ~25 ms, and only this driver waits on
    # a loop; a cached sign-in on the sync path never loads it.
    import asyncio

    await asyncio.sleep(seconds)
