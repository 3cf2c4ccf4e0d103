"""``Countdown``: a progress bar and a label counting down to a device code's expiry.

A small composed widget of :class:`LoginView`. It ticks in its own daemon thread (never on
the kernel's event loop) once a second while a code is pending, and stops by itself when the
code expires, when :meth:`stop` is called, or when it is closed.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import TYPE_CHECKING

import ipywidgets as widgets

from ._display import clock

if TYPE_CHECKING:
    from ..auth._flow import DevicePrompt

__all__ = ["Countdown"]

logger = logging.getLogger("ssooidc_jupyter.widget")

#: Seconds between updates: the label shows whole seconds.
TICK = 1.0


class Countdown(widgets.HBox):  # type: ignore[misc]
    """Time left for one :class:`DevicePrompt`; ``start(prompt)`` again for a new code."""

    def __init__(self) -> None:
        super().__init__()
        self.add_class("ssooidc-countdown")
        self._progress = widgets.FloatProgress(
            min=0.0, max=1.0, value=0.0, bar_style="info", layout=widgets.Layout(width="12em")
        )
        self._label = widgets.Label()
        self.children = (self._progress, self._label)
        # Updates come from the ticker and from start()/stop(): one lock keeps each whole.
        self._lock = threading.Lock()
        self._prompt: DevicePrompt | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._closed = False

    @property
    def ticking(self) -> bool:
        """Whether the ticker thread is running."""
        return self._ticker is not None and self._ticker.is_alive()

    def start(self, prompt: DevicePrompt) -> None:
        """Count down to ``prompt``'s expiry (a no-op if already counting for it)."""
        with self._lock:
            if self._closed or (self._prompt is prompt and self.ticking):
                return
            self._stop.set()  # the previous ticker, if any, ends at its next wake-up
            self._prompt = prompt
            # The bar spans the time left when the code is first shown (DevicePrompt carries
            # no issue time); at least one second so the bar is never a division by zero.
            self._progress.max = max(1.0, float(math.ceil(prompt.seconds_left())))
            stop = self._stop = threading.Event()
            self._update(prompt, stop)
            self._ticker = threading.Thread(
                target=self._tick, args=(prompt, stop), name="ssooidc-countdown", daemon=True
            )
            self._ticker.start()

    def stop(self) -> None:
        """Stop counting. Only signals: joining here could wait on a ticker waiting on us."""
        self._stop.set()
        self._prompt = None

    def close(self) -> None:
        self._closed = True
        self.stop()
        for child in (self._progress, self._label):
            child.close()
        super().close()

    def _tick(self, prompt: DevicePrompt, stop: threading.Event) -> None:
        try:
            while not stop.wait(TICK):
                with self._lock:
                    if not self._update(prompt, stop):
                        return
        except Exception:
            logger.exception("the sign-in countdown failed")

    def _update(self, prompt: DevicePrompt, stop: threading.Event) -> bool:
        """Show the time left; False once there is nothing more to count."""
        if stop.is_set() or self._closed:
            return False
        left = prompt.seconds_left()
        self._progress.value = min(self._progress.max, round(left, 1))
        self._progress.bar_style = "warning" if left < 60 else "info"
        self._label.value = f"Code expires in {clock(left)}" if left > 0 else "Code expired"
        return left > 0
