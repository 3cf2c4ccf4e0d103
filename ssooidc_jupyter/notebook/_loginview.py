"""``LoginView``: the live controls of one running :class:`~._controller.LoginController`,
and the copy-to-clipboard button of its code.

A thin composite (see :mod:`._widget` for the rules both views keep: buttons only call the
controller, no secret in a trait, every server string escaped): the prompt, the copy button,
a :class:`~._countdown.Countdown` and Cancel while the code is pending; the status line; Retry
after a sign-in that ended without a token; a :class:`~._rolepicker.RolePicker` once signed in.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ._composite import Composite
from ._controller import LoginController, LoginState
from ._countdown import Countdown
from ._display import hide_css, prompt_html, state_colour, waiting_bundle
from ._rolepicker import PickHandler, RolePicker

if TYPE_CHECKING:
    from ..auth._flow import DevicePrompt

__all__ = ["LoginView", "copy_button_html"]


# The kernel cannot reach the browser's clipboard, so the copy runs in the page. The code is
# read from the button's data-code attribute (HTML-escaped like any attribute) rather than
# spliced into the script, so no user code can ever become JavaScript. navigator.clipboard
# needs a secure context (https or localhost); elsewhere the old execCommand path is tried.
_COPY_SCRIPT = (
    "var b=this,c=b.getAttribute('data-code'),l=b.getAttribute('data-label');"
    "function done(t){b.textContent=t;setTimeout(function(){b.textContent=l},2000)}"
    "function legacy(){var a=document.createElement('textarea');a.value=c;"
    "a.setAttribute('readonly','');a.style.position='fixed';a.style.opacity='0';"
    "document.body.appendChild(a);a.select();var ok=false;"
    "try{ok=document.execCommand('copy')}catch(e){}"
    "document.body.removeChild(a);done(ok?'Copied \u2713':'Copy failed: select the code')}"
    "if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(c)"
    ".then(function(){done('Copied \u2713')},legacy)}else{legacy()}"
)


def copy_button_html(user_code: str, label: str = "Copy code") -> str:
    """A ``<button class="ssooidc-copy">`` that copies ``user_code`` in the browser.

    Inline ``onclick`` handlers run when an ``HTML`` widget sets its value (``<script>``
    tags would not). Clicking shows "Copied" for two seconds.
    """
    code = html.escape(user_code, quote=True)
    return (
        f'<button type="button" class="ssooidc-copy jupyter-button" data-code="{code}" '
        f'data-label="{html.escape(label, quote=True)}" aria-live="polite" '
        f'title="Copy the code {code} to the clipboard" '
        f'onclick="{html.escape(_COPY_SCRIPT, quote=True)}">{html.escape(label)}</button>'
    )


def _status_html(controller: LoginController, mark: str = "") -> str:
    colour = state_colour(controller.state)
    # The style rides along with the status line, which is always shown: wherever this
    # widget renders, the plain output marked ``mark`` (the same sign-in) is hidden.
    hide = hide_css(mark) if mark else ""
    return (
        f'{hide}<span style="font-family: sans-serif; color: {colour};">'
        f"{html.escape(controller.status_line())}</span>"
    )


def _html(css_class: str) -> widgets.HTML:
    part = widgets.HTML()
    part.add_class(css_class)
    return part


def _button(css_class: str, clicked: Callable[[Any], None], **traits: Any) -> widgets.Button:
    button = widgets.Button(**traits)
    button.add_class(css_class)
    button.on_click(clicked)
    return button


class LoginView(Composite):
    """Live controls for one :class:`LoginController`, composed of small widgets.

    While the code is pending: the prompt (the code in large type and the clickable link),
    a copy-to-clipboard button for the user code, a :class:`Countdown` to the code's expiry
    and a Cancel button; always the status line; after a failed, denied, expired or
    cancelled sign-in a Retry button (a new code). Once signed in, and when ``on_pick`` is
    given, a :class:`RolePicker` whose "Use this role" button calls
    ``on_pick(account_id, role_name)`` in a background thread.

    ``hide`` names the CSS class of a plain output of the same sign-in (the magic's): where
    this view renders it hides that output and is the whole UI; where widgets do not render,
    the plain output stands alone. ``show_status=False`` leaves out the status line, for a
    place that already shows it (no hiding then).
    """

    def __init__(
        self,
        controller: LoginController,
        *,
        on_pick: PickHandler | None = None,
        show_status: bool = True,
        hide: str = "",
    ) -> None:
        super().__init__()
        self._controller = controller
        self._hide = hide
        # The magic's plain output already carries the status line: it can leave it out here.
        self._show_status = show_status
        self.add_class("ssooidc-view")

        self._status = _html("ssooidc-status")
        self._prompt = _html("ssooidc-prompt-box")
        self._copy = _html("ssooidc-copy-box")
        self.countdown = Countdown()
        self._cancel, self._retry, self._cancel_other = self._make_buttons()
        self._pending_row = widgets.HBox([self._copy, self.countdown, self._cancel])
        self.picker = (
            RolePicker(on_pick, on_refused=controller.signed_out) if on_pick is not None else None
        )
        self._parts: tuple[Any, ...] = (
            self._status,
            self._prompt,
            self._copy,
            self.countdown,
            self._cancel,
            self._retry,
            self._cancel_other,
            self._pending_row,
            *((self.picker,) if self.picker is not None else ()),
        )

        controller.observe(self._controller_changed)
        self._set_state(self._controller.state.value)

    def _make_buttons(self) -> tuple[widgets.Button, widgets.Button, widgets.Button]:
        cancel = _button(
            "ssooidc-cancel",
            self._cancel_clicked,
            description="Cancel",
            icon="times",
            tooltip="Stop waiting for approval",
        )
        retry = _button(
            "ssooidc-retry",
            self._retry_clicked,
            description="Try again",
            icon="redo",
            button_style="primary",
            tooltip="Start a new sign-in with a new code",
        )
        # Issue 20: another process's sign-in holds this one up; this ends that one.
        cancel_other = _button(
            "ssooidc-cancel-other",
            self._cancel_other_clicked,
            description="Cancel the other sign-in",
            icon="times",
            button_style="warning",
            tooltip="End the sign-in waiting in the other process; this one then takes over",
            layout=widgets.Layout(width="auto"),
        )
        return cancel, retry, cancel_other

    # ---- public -----------------------------------------------------------------------------

    @property
    def controller(self) -> LoginController:
        return self._controller

    @property
    def picked(self) -> tuple[str, str] | None:
        """``(account_id, role_name)`` last bound through "Use this role", else None."""
        return self.picker.picked if self.picker is not None else None

    @property
    def ticking(self) -> bool:
        """Whether the countdown is running (only while the code is pending)."""
        return bool(self.countdown.ticking)

    def close(self) -> None:
        """Close the view and the widgets it made; stop the countdown. The controller keeps
        running: whoever made it owns it."""
        with self._lock:
            self._closed = True
        controller = getattr(self, "_controller", None)
        if controller is not None:
            controller.unobserve(self._controller_changed)
        # getattr with a default: close() also runs from __del__, maybe on a half-built view.
        for child in getattr(self, "_parts", ()):
            child.close()
        super().close()

    # ---- from the controller ----------------------------------------------------------------

    def _controller_changed(self, controller: LoginController) -> None:
        # Runs in the controller's worker thread (or in the thread that called start()).
        if self._closed:
            return
        self._set_state(self._controller.state.value)

    def _render_locked(self) -> None:
        controller = self._controller
        try:
            state = LoginState(self.state)
        except ValueError:  # someone set the trait by hand: trust the controller
            state = controller.state
        # A class per state lets a browser test wait for ".ssooidc-view.ssooidc-state-pending".
        wanted = f"ssooidc-state-{state.value}"
        for name in self._dom_classes:
            if name.startswith("ssooidc-state-") and name != wanted:
                self.remove_class(name)
        self.add_class(wanted)
        self._status.value = _status_html(controller, self._hide)

        prompt = controller.prompt
        if state is LoginState.PENDING and prompt is not None:
            self.children = self._pending(prompt)
            return
        # The code (and the link that carries it) leaves the widget's state at once: a
        # notebook saved from now on holds none.
        self._prompt.value = self._copy.value = ""
        self.countdown.stop()
        self.children = self._settled(state)

    def _pending(self, prompt: DevicePrompt) -> tuple[Any, ...]:
        """The children while the code waits for approval."""
        # The prompt says all the status line would ("Waiting for approval of code
        # ..."), so it takes its place, and its style that hides the plain output.
        hide = hide_css(self._hide) if self._hide and self._show_status else ""
        self._prompt.value = hide + prompt_html(prompt, expiry=False)
        # A PKCE sign-in has no code to copy.
        self._copy.value = copy_button_html(prompt.user_code) if prompt.user_code else ""
        self._cancel.disabled, self._cancel.description = False, "Cancel"
        self.countdown.start(prompt)
        return (self._prompt, self._pending_row)

    def _settled(self, state: LoginState) -> tuple[Any, ...]:
        """The children in any state but a pending code."""
        controller = self._controller
        shown: tuple[Any, ...] = (self._status,) if self._show_status else ()
        if state is LoginState.SIGNED_IN:
            token = controller.token
            if self.picker is not None and token is not None:
                self.picker.show(token)
                shown += (self.picker,)
        elif state.finished:
            self._retry.disabled = False
            shown += (self._retry,)
        elif state is LoginState.STARTING:
            self._cancel.disabled, self._cancel.description = False, "Cancel"
            if controller.waiting is not None:
                # The status line shows the other sign-in (the status is always shown then:
                # the plain output it hides said the same).
                self._cancel_other.disabled = False
                self._cancel_other.description = "Cancel the other sign-in"
                hide = hide_css(self._hide) if self._hide else ""
                self._status.value = hide + waiting_bundle(controller.waiting)["text/html"]
                shown = (self._status, self._cancel_other)
            shown += (self._cancel,)
        return shown

    def _cancel_clicked(self, _button: Any) -> None:
        self._cancel.disabled, self._cancel.description = True, "Cancelling..."
        self._controller.cancel()

    def _cancel_other_clicked(self, _button: Any) -> None:
        self._cancel_other.disabled = True
        self._cancel_other.description = "Cancelling the other sign-in..."
        if not self._controller.cancel_other():
            self._cancel_other.description = "The other sign-in has ended"

    def _retry_clicked(self, _button: Any) -> None:
        self._retry.disabled = True
        self._controller.start(force=True)
