"""The two drivers of :mod:`._flow`: one for threads, one for asyncio. They mirror each other.

A driver carries out each step the flow yields -- a call on the client, a wait, a prompt, a
cache read or write, the cross-process lock -- and sends the outcome back. Whatever way the
flow ends (return, error, cancellation, KeyboardInterrupt), the lock is released and nothing
half-done is written: the cache only ever receives whole, valid entries.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from .._exceptions import LoginCancelledError, SSOOIDCError
from ..oidc._wire import wrap_secret_response
from ._cache import CacheLockTimeout, CacheWarning, TokenCache
from ._flow import (
    Call,
    DevicePrompt,
    DropRegistration,
    Flow,
    LoadRegistration,
    LoadToken,
    Lock,
    Notice,
    SaveRegistration,
    SaveToken,
    ShowPrompt,
    Wait,
)
from ._models import CachedRegistration, CachedToken

__all__ = ["CacheSlot", "run_async", "run_sync"]

logger = logging.getLogger("ssooidc_jupyter.login")

# How long a sign-in waits for another process's sign-in to finish before giving up: longer
# than a device code lives (10 min) so a login in another kernel can run its course.
LOCK_WAIT = 15 * 60.0


@dataclass(frozen=True)
class CacheSlot:
    """Where one sign-in's entries live: the cache (None: caching off) and the two keys.

    ``read_only``: the cache is read but never written nor locked (its directory is not
    ours to write, see :meth:`settle_writes`)."""

    cache: TokenCache | None
    token_key: str
    registration_key: str
    read_only: bool = False

    def settle_writes(self) -> CacheSlot:
        """Before the first write (the lock comes first): this slot, or a read-only one with
        one :class:`CacheWarning` when the directory may not be written (read-only, or
        another user's). The sign-in then works, and its token stays in memory."""
        if self.cache is None or self.read_only:
            return self
        reason = self.cache.unwritable_reason()
        if reason is None:
            return self
        warnings.warn(
            f"Signing in without saving the token: {reason}. The token is kept in this "
            "process only, so other notebooks and the AWS CLI will not see it; make the "
            "directory writable (or set HOME to one of your own) to share it.",
            CacheWarning,
            stacklevel=4,
        )
        return replace(self, read_only=True)

    def load_token(self) -> CachedToken | None:
        return None if self.cache is None else self.cache.load_token(self.token_key)

    def save_token(self, token: CachedToken) -> None:
        if self.cache is not None and not self.read_only:
            self.cache.save_token(self.token_key, token)

    def load_registration(self) -> CachedRegistration | None:
        if self.cache is None:
            return None
        return self.cache.load_registration(self.registration_key)

    def save_registration(self, registration: CachedRegistration) -> None:
        if self.cache is not None and not self.read_only:
            self.cache.save_registration(self.registration_key, registration)

    def drop_registration(self) -> None:
        if self.cache is not None and not self.read_only:
            self.cache.delete_registration(self.registration_key)

    def carry_out(self, step: object) -> tuple[bool, Any]:
        """Do a cache step (no waiting involved); ``(False, None)`` if it is not one."""
        if isinstance(step, LoadToken):
            return True, self.load_token()
        if isinstance(step, SaveToken):
            self.save_token(step.token)
            return True, None
        if isinstance(step, LoadRegistration):
            return True, self.load_registration()
        if isinstance(step, SaveRegistration):
            self.save_registration(step.registration)
            return True, None
        if isinstance(step, DropRegistration):
            self.drop_registration()
            return True, None
        return False, None


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


@contextlib.contextmanager
def _sync_lock(slot: CacheSlot, cancel: threading.Event | None, wait: bool) -> Iterator[None]:
    if slot.cache is None or slot.read_only:
        yield
        return
    with slot.cache.lock(slot.token_key, timeout=LOCK_WAIT if wait else 0, cancel=cancel):
        yield


def run_sync(
    flow: Flow,
    client: Any,
    slot: CacheSlot,
    *,
    on_prompt: PromptHandler,
    on_notice: NoticeHandler,
    cancel: threading.Event | None = None,
) -> CachedToken:
    """Drive ``flow`` in this thread. Waits are ``cancel.wait`` (or ``time.sleep``), so
    this blocks its thread: run it in a worker thread when the caller must stay free."""
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
                    if cancel is None:
                        time.sleep(step.seconds)
                    elif cancel.wait(step.seconds):
                        raise LoginCancelledError("Sign-in cancelled.")
                elif isinstance(step, ShowPrompt):
                    on_prompt(step.prompt)
                elif isinstance(step, Notice):
                    on_notice(step.message)
                elif isinstance(step, Lock):
                    slot = slot.settle_writes()
                    try:
                        held.enter_context(_sync_lock(slot, cancel, step.wait))
                        outcome = True
                    except CacheLockTimeout:
                        if step.wait:
                            raise
                        outcome = False  # held elsewhere: the flow decides
                else:  # pragma: no cover - a step type the driver does not know
                    raise TypeError(f"unknown step {step!r}")
        finally:
            flow.close()


@contextlib.asynccontextmanager
async def _async_lock(slot: CacheSlot, wait: bool) -> AsyncIterator[None]:
    if slot.cache is None or slot.read_only:
        yield
        return
    async with slot.cache.alock(slot.token_key, timeout=LOCK_WAIT if wait else 0):
        yield


async def run_async(
    flow: Flow,
    client: Any,
    slot: CacheSlot,
    *,
    on_prompt: PromptHandler,
    on_notice: NoticeHandler,
) -> CachedToken:
    """Drive ``flow`` on the running event loop. Cancel the task to stop it at once.

    Cache reads and writes are small local file operations done inline (as botocore does);
    the lock is polled with ``asyncio.sleep`` so the loop never blocks on another process.
    """
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
                    await _sleep(step.seconds)
                elif isinstance(step, ShowPrompt):
                    on_prompt(step.prompt)
                elif isinstance(step, Notice):
                    on_notice(step.message)
                elif isinstance(step, Lock):
                    slot = slot.settle_writes()
                    try:
                        await held.enter_async_context(_async_lock(slot, step.wait))
                        outcome = True
                    except CacheLockTimeout:
                        if step.wait:
                            raise
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
