"""``Composite``: what :class:`~._loginview.LoginView` and :class:`~._widget.LoginWidget`
share.

A ``VBox`` with a ``state`` trait whose one ``@observe("state")`` handler re-renders
``children`` under one re-entrant lock (renders come from the controller's thread, clicks
from the kernel's), and a render that never raises into the sign-in or the kernel.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import ipywidgets as widgets
from traitlets import Unicode, observe

from ._controller import LoginState

__all__ = ["Composite", "logger"]

logger = logging.getLogger("ssooidc_jupyter.widget")


class Composite(widgets.VBox):  # type: ignore[misc]
    """What both composites share: a ``state`` trait whose one ``@observe`` handler
    re-renders ``children`` under one re-entrant lock, a render that never raises into
    the sign-in or the kernel, and a way to re-render on new details of the same state."""

    #: The sign-in's state, as a string ("idle", "pending", "signed_in", ...).
    state = Unicode(LoginState.IDLE.value, help="The sign-in state, as a string.")

    def __init__(self) -> None:
        super().__init__()
        # Renders come from the controller's thread and clicks from the kernel's: one
        # re-entrant lock keeps each update whole.
        self._lock = threading.RLock()
        self._closed = False

    def _set_state(self, value: str) -> None:
        if self.state != value:
            self.state = value  # the observer below renders
        else:
            # Same state, new details (a second prompt, say): traitlets would not notify.
            self._render()

    @observe("state")
    def _state_changed(self, change: dict[str, Any]) -> None:
        self._render()

    def _render(self) -> None:
        try:
            with self._lock:
                if not self._closed:
                    self._render_locked()
        except Exception:  # a broken render must not break the sign-in or the kernel
            logger.exception("rendering the sign-in %s failed", type(self).__name__)

    def _render_locked(self) -> None:
        raise NotImplementedError
