"""One sign-in running in the background, observable: what the magic and the widget drive.

The device flow runs in a **daemon thread** with a cancel event -- not as a task on the
kernel's asyncio loop, which on ipykernel 7 can stall until the next cell runs
(ipykernel#1510, ipywidgets#4012). The cell that starts it returns at once; other cells
run meanwhile; a Cancel click is handled because the kernel is idle.

Observers are called from the worker thread with the controller; they must be quick (update
a display or a widget trait) and never raise.

The prompt (user code, link) lives only while the code is pending: it is dropped the moment
the sign-in ends, so no view re-renders it afterwards (a saved notebook or widget state
then holds no code that could still be approved). After an interactive sign-in the
controller lists the accounts the new session reaches, so the person who started it sees
whose identity approved it (a saved-notebook reader approving with their own identity shows
up as accounts the user does not know).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from .._exceptions import LoginError, SSOOIDCError
from ..auth._context import LoginContext
from ..auth._flow import DevicePrompt
from ..auth._inflight import PendingSignIn, WaitingNotice, request_cancel
from ..auth._outcome import LoginOutcome, LoginState, outcome_of
from ..auth._runner import sign_in
from ..auth._token import SSOToken

__all__ = ["LoginController", "LoginState"]

logger = logging.getLogger("ssooidc_jupyter.controller")


Observer = Callable[["LoginController"], None]


class LoginController:
    """Start, watch, cancel and retry one sign-in. Holds no secret itself: the token is
    available as :attr:`token` once signed in."""

    def __init__(self, context: LoginContext) -> None:
        self.context = context
        self.state = LoginState.IDLE
        self.prompt: DevicePrompt | None = None
        self.token: SSOToken | None = None
        self.error: BaseException | None = None
        #: How the last run ended (None while it runs): the state and the reason to show.
        self.outcome: LoginOutcome | None = None
        self.notices: list[str] = []
        #: Another process's sign-in this one waits for (it holds the lock), while it does.
        self.waiting: PendingSignIn | None = None
        #: True when the token came from the cache (or a silent refresh): no prompt shown.
        self.reused = False
        #: After an interactive sign-in: "Name (id)" of each account the session reaches,
        #: or None when not listed (reused token, or the portal did not answer).
        self.accounts: list[str] | None = None
        self._observers: list[Observer] = []
        self._cancel = threading.Event()
        self._done = threading.Event()
        # Set once the prompt is out or the sign-in ended: what a cell waits for before
        # its first output, so that output is final (frontends that apply no display
        # update still show the code and the link).
        self._settled = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ---- observing ----------------------------------------------------------------------

    def observe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def unobserve(self, observer: Observer) -> None:
        """Stop calling ``observer`` (a closed view detaches itself)."""
        with contextlib.suppress(ValueError):
            self._observers.remove(observer)

    def _set(self, state: LoginState) -> None:
        self.state = state
        for observer in list(self._observers):
            try:
                observer(self)
            except Exception:  # an observer must never kill the sign-in
                logger.exception("login observer failed")

    # ---- running ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, *, force: bool | None = None) -> LoginController:
        """Start (or restart, after an end) the sign-in in a daemon thread. Returns at once."""
        with self._lock:
            if self.running:
                return self
            if force is not None:
                self.context = replace(
                    self.context, request=replace(self.context.request, force=force)
                )
            self._cancel = threading.Event()
            self._done = threading.Event()
            self._settled = threading.Event()
            self.prompt, self.token, self.error, self.reused = None, None, None, False
            self.outcome = None
            self.accounts = None
            self.notices = []
            self.waiting = None
            self._set(LoginState.STARTING)
            self._thread = threading.Thread(target=self._run, name="ssooidc-login", daemon=True)
            self._thread.start()
        return self

    def wait_settled(self, timeout: float | None = None) -> bool:
        """Block until the prompt is out (PENDING) or the sign-in ended: the one round trip
        (RegisterClient + StartDeviceAuthorization, or the PKCE listener) after
        :meth:`start`. True when settled; False on ``timeout``.

        Waits in short slices so KeyboardInterrupt (the kernel's interrupt button) is seen;
        an interrupt cancels the sign-in."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not self._settled.wait(0.1):
                if deadline is not None and time.monotonic() > deadline:
                    return False
                if self._thread is None:
                    return False  # never started: nothing will settle
        except KeyboardInterrupt:
            self.cancel()
            raise
        return True

    def _on_prompt(self, prompt: DevicePrompt) -> None:
        self.prompt, self.waiting = prompt, None
        self._set(LoginState.PENDING)
        self._settled.set()

    def _on_notice(self, message: str) -> None:
        if isinstance(message, WaitingNotice):
            # Another process holds the sign-in: show what it waits for (the first output
            # of the cell, so settled), and offer to cancel it (cancel_other).
            self.waiting = message.pending
            self._set(self.state)
            self._settled.set()
            return
        self.notices.append(message)
        logger.warning("%s", message)

    def cancel_other(self) -> bool:
        """Cancel the other process's sign-in this one waits for; this one then takes over
        at once. False when it waits for none (or it ended meanwhile)."""
        pending, cache = self.waiting, self.context.slot.cache
        if pending is None or cache is None:
            return False
        return request_cancel(cache, pending.key)

    def _run(self) -> None:
        outcome = LoginOutcome(LoginState.SIGNED_IN, "")
        try:
            self.token = sign_in(
                self.context,
                on_prompt=self._on_prompt,
                on_notice=self._on_notice,
                cancel=self._cancel,
            )
            self.reused = self.prompt is None
            if not self.reused:
                self.accounts = _reachable(self.token)
        except BaseException as exc:  # reported to the user, never lost in a thread
            self.error, outcome = exc, outcome_of(exc)
            if not isinstance(exc, SSOOIDCError):
                logger.error("ssooidc: the sign-in failed", exc_info=exc)
        finally:
            # The code is of no use any more: no view may show it again.
            self.prompt, self.waiting = None, None
            self.outcome = outcome
            self._done.set()
            self._set(outcome.state)
            self._settled.set()

    def signed_out(self, reason: BaseException) -> None:
        """The service refused this sign-in's token (HTTP 401 from the portal): say so, and
        let the views offer a new sign-in. A no-op unless signed in."""
        with self._lock:
            if self.state is not LoginState.SIGNED_IN:
                return
            self.error, self.token = reason, None
            self._set(LoginState.SIGNED_OUT)

    def cancel(self) -> None:
        """Stop polling at once (the next wait returns immediately)."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> SSOToken:
        """Block until the sign-in ends; return the token or raise why it did not happen.

        Waits in short slices so KeyboardInterrupt (the kernel's interrupt button) is seen;
        an interrupt cancels the sign-in."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not self._done.wait(0.1):
                if deadline is not None and time.monotonic() > deadline:
                    raise LoginError("Timed out waiting for the sign-in to finish.")
                if self._thread is None:
                    raise LoginError("The sign-in was never started.")
        except KeyboardInterrupt:
            self.cancel()
            raise
        if self.token is not None:
            return self.token
        error = self.error
        if isinstance(error, SSOOIDCError):
            raise error
        raise LoginError(f"The sign-in failed: {error!r}") from error

    # ---- describing ---------------------------------------------------------------------

    def status_line(self) -> str:
        """One line for the user, never a secret."""
        url = self.context.request.start_url
        if self.state is LoginState.SIGNED_IN and self.token is not None:
            from ._localtime import local_time

            # The sso-session's name where there is one (as the status bar), and the
            # user's clock.
            where = self.context.request.session_name or url
            until = local_time(self.token.expires_at)
            prefix = "Already signed in" if self.reused else "Signed in"
            return f"{prefix} to {where} until {until}.{_reach(self.accounts)}"
        if self.state is LoginState.PENDING and self.prompt is not None:
            if not self.prompt.user_code:  # PKCE: approval in the browser, no code
                return "Waiting for approval in the browser."
            return f"Waiting for approval of code {self.prompt.user_code}."
        if self.state in (LoginState.STARTING, LoginState.IDLE):
            if self.waiting is not None:
                return f"{self.waiting.message()}."
            return f"Starting sign-in to {url} ..."
        # The one outcome model's reason (as the server answers it), never a secret.
        outcome = self.outcome
        reason = outcome.message if outcome is not None else self.state.value
        return {
            LoginState.DENIED: f"Sign-in denied: {reason}",
            LoginState.EXPIRED: f"Sign-in expired: {reason}",
            LoginState.CANCELLED: reason if outcome is not None else "Sign-in cancelled.",
            LoginState.SIGNED_OUT: (
                f"Signed out of {url}: the service no longer accepts the token (a logout "
                "elsewhere, or the session was ended). Sign in again: %ssooidc login, or "
                "Try again."
            ),
        }.get(self.state, f"Sign-in failed: {reason}")


#: Accounts named in a status line; more are counted.
_NAMED_ACCOUNTS = 5


def _reachable(token: SSOToken) -> list[str] | None:
    """ "Name (id)" of every account ``token`` reaches (ListAccounts), or None if the portal
    did not answer: the sign-in succeeded either way."""
    try:
        accounts = token.accounts()
    except SSOOIDCError as exc:
        logger.info("ssooidc: the accounts of the new sign-in are not known: %s", exc)
        return None
    return [f"{a.account_name or '?'} ({a.account_id})" for a in accounts]


def _reach(accounts: list[str] | None) -> str:
    if accounts is None:
        return ""
    if not accounts:
        return " It reaches no account."
    named = ", ".join(accounts[:_NAMED_ACCOUNTS])
    more = len(accounts) - _NAMED_ACCOUNTS
    rest = f" and {more} more" if more > 0 else ""
    many = "s" if len(accounts) != 1 else ""
    return f" It reaches {len(accounts)} account{many}: {named}{rest}."
