"""This kernel's sign-ins as ``%ssooidc`` commands see them: :class:`KernelSignIns` keeps
the runs (the current one, those that signed in), finds the sign-in a command is about (the
active run, else the cache entry its options resolve to), and undoes a run after a logout.
What each command does is ``_signin.py``'s.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ._binder import Binder
from ._configurable import SSOOIDC
from ._export import KernelProfile
from ._forwarding import DaskForwarding
from ._outputs import Run
from ._source import Source, resolve_source

if TYPE_CHECKING:
    from ..auth._context import LoginContext
    from ..auth._token import SSOToken
    from ._controller import LoginController

__all__ = ["KernelSignIns"]


class KernelSignIns:
    """The sign-ins of one shell: the current run, the runs that signed in, what they bound."""

    def __init__(self, shell: Any, settings: SSOOIDC) -> None:
        self.shell = shell
        self.settings = settings
        self.current: Run | None = None
        #: Runs that signed in, oldest first (logout and friends act on the active one).
        self._signed_in_runs: list[Run] = []
        self.profile = KernelProfile()
        self.binder = Binder(shell.user_ns)
        self._signed_out: LoginContext | None = None
        self._lock = threading.Lock()
        self._dask = DaskForwarding(shell, self._refused)

    def _active(self) -> Run | None:
        """The run whose token the namespace holds now -- the sign-in the user works with --
        else the newest run that signed in. A later failed attempt (a typo in a start URL,
        say) does not take its place."""
        namespace = self.shell.user_ns
        for run in reversed(self._signed_in_runs):
            held = namespace.get(run.options.variable)
            if held is not None and held in (run.pending_token, run.controller.token):
                return run
        return self._signed_in_runs[-1] if self._signed_in_runs else None

    def _lookup(
        self, source: Source, *, latest: bool = False
    ) -> tuple[LoginContext, SSOToken | None, LoginController | None]:
        """The sign-in a command is about: this kernel's active one (``latest``: its newest
        attempt, whatever became of it), else a valid one in the cache."""
        from ..auth._flow import TokenState, classify
        from ..auth._token import SSOToken

        run = self.current if latest else (self._active() or self.current)
        if not source.explicit and run is not None:
            controller = run.controller
            return controller.context, controller.token, controller
        if not source.explicit and self._signed_out is not None:
            context = self._signed_out  # after a logout, status still talks about it
        else:
            context = resolve_source(source)
        cached = context.slot.load_token()
        state = classify(cached, datetime.now(timezone.utc), context.request.start_url)
        if cached is None or state in (TokenState.MISSING, TokenState.EXPIRED):
            return context, None, None
        return context, SSOToken(cached, context=context), None

    def _signed_in(self, source: Source) -> SSOToken:
        context, token, controller = self._lookup(source)
        if token is None:
            if controller is not None and not controller.state.finished:
                raise UsageError(f"{controller.status_line()} Try again once signed in.")
            raise UsageError(
                f"Not signed in to {context.request.start_url}: run %ssooidc login first."
            )
        return token

    def _run_about(self, context: LoginContext, source: Source) -> Run | None:
        """The kernel's run for the same sign-in as ``context`` (same token cache key), if
        any: the active one unless the options named another, else the current one."""
        run = (self._active() if not source.explicit else None) or self.current
        if run is not None and run.controller.context.slot.token_key == context.slot.token_key:
            return run
        return None

    def _forget(self, run: Run, context: LoginContext, text: str) -> list[str]:
        """After a logout: ``run``'s output ends with ``text`` (it must not keep saying
        "Signed in", nor offer roles), its variables and ``--export`` go; ``status`` then
        talks about ``context``. Returns the names unbound."""
        if run.status is not None:
            run.status.end(text)
        removed = self.binder.unbind_all()
        self.profile.remove()
        with self._lock:
            self._signed_in_runs = [r for r in self._signed_in_runs if r is not run]
        self.current = None
        self._signed_out = context
        return removed

    def _refused(self, token: SSOToken, error: BaseException) -> None:
        """The service refused ``token`` (a portal 401, an ended session): the run that holds
        it turns to signed out, so its output and widget offer a new sign-in."""
        from .._exceptions import SessionEndedError, UnauthorizedException

        if not isinstance(error, UnauthorizedException | SessionEndedError):
            return
        for run in (self.current, *self._signed_in_runs):
            if run is not None and run.controller.token is token:
                run.controller.signed_out(error)

    def _stop_current(self) -> None:
        run = self.current
        if run is not None and not run.controller.state.finished:
            run.controller.cancel()
