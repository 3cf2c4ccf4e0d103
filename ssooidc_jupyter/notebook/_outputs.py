"""What a ``%ssooidc`` command shows in its cell: one-line errors, the live status output of
a sign-in (:class:`LiveStatus`, kept current from the worker thread) and the run it belongs to
(:class:`Run`), and the small formatting helpers. No resolution and no sign-in logic: those
are ``_source.py``'s and ``_signin.py``'s.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.display import DisplayHandle as _DisplayHandle
from IPython.display import clear_output as _clear_output
from IPython.display import display as _display

from .._exceptions import ConfigurationError
from ._display import line_bundle, local_time

if TYPE_CHECKING:
    from ._controller import LoginController
    from ._pending import PendingSession, PendingSSOToken
    from ._source import LoginOptions

__all__ = [
    "WIDGET_TEXT",
    "LiveStatus",
    "Run",
    "clear_output",
    "display",
    "expiry",
    "one_line",
    "show_line",
    "usage_error",
    "wait_until",
]

# Shown instead of the widget's repr where widgets do not render (and in saved files):
# the plain status output next to it already says everything.
WIDGET_TEXT = "(interactive sign-in panel: shown where Jupyter widgets render)"

# IPython's display helpers carry no annotations; typed names keep mypy --strict meaningful.
display: Callable[..., Any] = _display
clear_output: Callable[..., Any] = _clear_output
DisplayHandle: Callable[[], Any] = _DisplayHandle


def one_line(exc: BaseException) -> BaseException:
    """Make IPython show ``exc`` as one line ("LoginDeniedError: ...") without a traceback:
    the reason is what the user needs, not our call stack."""
    message = f"{type(exc).__name__}: {exc}"
    exc._render_traceback_ = lambda: [message]  # type: ignore[attr-defined]
    return exc


def usage_error(exc: ConfigurationError, hint: str = "") -> UsageError:
    return UsageError(" ".join(f"{exc} {hint}".split()))


class Run:
    """One ``%ssooidc login``: its controller and the namespace entries it made."""

    def __init__(self, controller: LoginController, options: LoginOptions) -> None:
        self.controller = controller
        self.options = options
        self.pending_token: PendingSSOToken | None = None
        self.pending_session: PendingSession | None = None
        self.account = options.account
        self.role = options.role
        self.status: LiveStatus | None = None
        self.view: Any = None  # the LoginView, where widgets render
        #: The CSS class of this run's plain output: its widget hides it where it renders.
        self.mark = f"ssooidc-run-{secrets.token_hex(6)}"
        # _finish runs from the worker thread and from the cell (--wait, cached tokens):
        # the first does the work, the second waits for it and finds it done.
        self.finish_lock = threading.Lock()
        self.finished = False


class LiveStatus:
    """The plain prompt/status output of a run, kept current from the worker thread.

    Display and updates happen under one lock and each renders the state *at send time*,
    so the last message a frontend gets always shows the newest state. An update that
    would show the same text again is not sent: a terminal prints every update as a new
    line, so a repeat would be noise there.
    """

    def __init__(self, controller: LoginController, mark: str = "") -> None:
        self._controller = controller
        self._mark = mark
        self._handle = DisplayHandle()
        self._lock = threading.Lock()
        self._shown = False
        #: The text/plain of the last output sent (what a terminal shows last).
        self.last_text = ""

    def show(self) -> None:
        from ._display import status_bundle

        with self._lock:
            bundle = status_bundle(self._controller, self._mark)
            self._handle.display(bundle, raw=True)
            self.last_text, self._shown = bundle["text/plain"], True

    def refresh(self, controller: LoginController) -> None:
        from ._display import status_bundle

        with self._lock:
            if not self._shown:
                return
            bundle = status_bundle(controller, self._mark)
            if bundle["text/plain"] != self.last_text:
                self._handle.update(bundle, raw=True)
                self.last_text = bundle["text/plain"]

    def detach(self) -> None:
        """Stop following the controller (the cell shows the end itself: ``--wait``)."""
        with self._lock:
            self._shown = False

    def end(self, text: str) -> None:
        """Replace the output by a last line (after a logout) and stop following."""
        with self._lock:
            if self._shown:
                self._handle.update(line_bundle(text), raw=True)
                self.last_text = text
            self._shown = False


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    # Short sleeps, not an Event: the kernel's interrupt button must get through.
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def expiry(when: datetime) -> str:
    """``2026-12-06 07:56 CET (in 59 min)``: the user's clock, and no "0 h"."""
    minutes = int((when - datetime.now(timezone.utc)).total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if minutes < 0:
        left = "expired"
    elif not hours:
        left = f"in {rest} min"
    else:
        left = f"in {hours} h {rest:02d} min" if rest else f"in {hours} h"
    return f"{when.astimezone():%Y-%m-%d} {local_time(when)} ({left})"


def show_line(text: str) -> None:
    display(line_bundle(text), raw=True)
