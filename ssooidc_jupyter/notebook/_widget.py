"""ipywidgets views of a sign-in: :class:`LoginView` (over a running controller) and
:class:`LoginWidget` (a "Sign in" button that makes its own controller).

Both are thin composites: buttons only call ``start()`` / ``cancel()`` on a
:class:`LoginController`, whose observers run in its worker thread; they set the ``state``
trait there and one ``@observe("state")`` handler re-renders ``children`` (ipywidgets sends
comm messages from any thread). The countdown (``_countdown.Countdown``) and the account and
role choice (``_rolepicker.RolePicker``) are their own small widgets, whose slow work runs in
daemon threads, never on the kernel's event loop; the namespace binding is the same
:class:`~._binder.Binder` the magic uses.

Widget state is saved into the notebook and sent to the browser, so no secret (device
code, tokens, client secret, AWS keys) is ever put in a trait: tokens and sessions are plain
Python attributes. The user code is not a secret (it is meant to be shown), but it can
complete a sign-in while it is pending: it is in the widget's state only while pending, and
cleared the moment the sign-in ends. Every string from a server or a config file is escaped
before it reaches an ``HTML`` widget.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from traitlets import Bool, Unicode, observe

from ..auth._context import resolve_login
from ._binder import Binder
from ._controller import LoginController, LoginState
from ._countdown import Countdown
from ._display import hide_css, prompt_html, state_colour, waiting_bundle
from ._rolepicker import PickHandler, RolePicker, note_html

if TYPE_CHECKING:
    from ..auth._token import SSOToken

__all__ = ["LoginView", "LoginWidget", "copy_button_html"]

logger = logging.getLogger("ssooidc_jupyter.widget")

LoginCallback = Callable[["SSOToken"], None]


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


class _Composite(widgets.VBox):  # type: ignore[misc]
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


class LoginView(_Composite):
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

        self._status = widgets.HTML()
        self._status.add_class("ssooidc-status")
        self._prompt = widgets.HTML()
        self._prompt.add_class("ssooidc-prompt-box")
        self._copy = widgets.HTML()
        self._copy.add_class("ssooidc-copy-box")
        self.countdown = Countdown()
        self._cancel = widgets.Button(
            description="Cancel", icon="times", tooltip="Stop waiting for approval"
        )
        self._cancel.add_class("ssooidc-cancel")
        self._cancel.on_click(self._cancel_clicked)
        self._retry = widgets.Button(
            description="Try again",
            icon="redo",
            button_style="primary",
            tooltip="Start a new sign-in with a new code",
        )
        self._retry.add_class("ssooidc-retry")
        self._retry.on_click(self._retry_clicked)
        # Issue 20: another process's sign-in holds this one up; this ends that one.
        self._cancel_other = widgets.Button(
            description="Cancel the other sign-in",
            icon="times",
            button_style="warning",
            tooltip="End the sign-in waiting in the other process; this one then takes over",
            layout=widgets.Layout(width="auto"),
        )
        self._cancel_other.add_class("ssooidc-cancel-other")
        self._cancel_other.on_click(self._cancel_other_clicked)
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

        status: tuple[Any, ...] = (self._status,) if self._show_status else ()
        prompt = controller.prompt
        if state is LoginState.PENDING and prompt is not None:
            # The prompt says all the status line would ("Waiting for approval of code
            # ..."), so it takes its place, and its style that hides the plain output.
            hide = hide_css(self._hide) if self._hide and self._show_status else ""
            self._prompt.value = hide + prompt_html(prompt, expiry=False)
            # A PKCE sign-in has no code to copy.
            self._copy.value = copy_button_html(prompt.user_code) if prompt.user_code else ""
            self._cancel.disabled, self._cancel.description = False, "Cancel"
            self.countdown.start(prompt)
            self.children = (self._prompt, self._pending_row)
            return
        # The code (and the link that carries it) leaves the widget's state at once: a
        # notebook saved from now on holds none.
        self._prompt.value = self._copy.value = ""
        self.countdown.stop()
        shown = status
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
        self.children = shown

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


class LoginWidget(_Composite):
    """A "Sign in with AWS IAM Identity Center" button and the sign-in it starts.

    The arguments are those of :func:`ssooidc_jupyter.login` (``sso_session`` names an
    ``[sso-session]`` of ``~/.aws/config``); they are resolved when the button is clicked and
    a configuration error is shown in the widget. The prompt (code, link, expiry) and a
    :class:`LoginView` follows (it shows the code and the link); once signed in, an account
    and role selector.

    Results: the ``signed_in`` and ``status`` traits (observable), the :attr:`token` and
    :attr:`session` properties (never traits: widget state is saved into the notebook), and
    :meth:`on_login` callbacks. With ``namespace`` and ``variable`` the token is stored in
    ``namespace[variable]`` once signed in; with ``namespace`` and ``session_variable`` the
    boto3 session is stored there once a role is picked.
    """

    signed_in = Bool(False, help="True once signed in.")
    status = Unicode("", help="One line describing the sign-in, never a secret.")

    def __init__(
        self,
        *,
        profile: str | None = None,
        sso_session: str | None = None,
        start_url: str | None = None,
        region: str | None = None,
        scopes: Sequence[str] | None = None,
        endpoint: str | None = None,
        force: bool = False,
        timeout: float | None = None,
        variable: str | None = None,
        session_variable: str | None = None,
        namespace: MutableMapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self._login_args: dict[str, Any] = {
            "start_url": start_url,
            "region": region,
            "endpoint": endpoint,
            "scopes": scopes,
            "session_name": sso_session,
            "profile": profile,
            "force": force,
            "timeout": timeout,
        }
        self._variable = variable
        self._session_variable = session_variable
        self._binder = Binder(namespace) if namespace is not None else None
        self._controller: LoginController | None = None
        self._view: LoginView | None = None
        self._session: Any = None
        self._callbacks: list[LoginCallback] = []
        self._announced: SSOToken | None = None
        # Guards _callbacks and _announced: on_login may race the sign-in's thread.
        self._callbacks_lock = threading.Lock()
        self.add_class("ssooidc-widget")

        self._button = widgets.Button(
            description="Sign in with AWS IAM Identity Center",
            icon="sign-in",
            button_style="primary",
            tooltip="Sign in with a one-time code approved in your browser",
            layout=widgets.Layout(width="auto"),
        )
        self._button.add_class("ssooidc-signin")
        self._button.on_click(lambda _button: self.sign_in())
        self._message = widgets.HTML()
        self._message.add_class("ssooidc-message")
        self._render()

    # ---- public -----------------------------------------------------------------------------

    @property
    def controller(self) -> LoginController | None:
        """The controller of the sign-in, once the button was clicked."""
        return self._controller

    @property
    def view(self) -> LoginView | None:
        return self._view

    @property
    def token(self) -> SSOToken | None:
        """The :class:`SSOToken` once signed in, else None."""
        controller = self._controller
        if controller is None or controller.state is not LoginState.SIGNED_IN:
            return None
        return controller.token

    @property
    def session(self) -> Any:
        """The ``boto3.Session`` of the role picked in the selector, else None."""
        return self._session

    def sign_in(self) -> None:
        """What the button does: resolve the arguments and start the sign-in."""
        with self._lock:
            if self._controller is not None:
                return
            try:
                context = resolve_login(**self._login_args)
            except Exception as exc:  # shown in the widget, not lost in a comm handler
                self._message.value = note_html(f"Cannot start the sign-in: {exc}", error=True)
                self.status = f"Sign-in failed: {exc}"
                self._set_state(LoginState.FAILED.value)
                return
            self._message.value = ""
            controller = LoginController(context)
            self._view = LoginView(controller, on_pick=self._bind_role)
            self._controller = controller
            controller.observe(self._controller_changed)
        controller.start()

    def on_login(self, callback: LoginCallback) -> LoginCallback:
        """Call ``callback(token)`` once signed in (at once if already). It runs in the
        sign-in's thread: keep it quick. Returns ``callback``, so it works as a decorator."""
        with self._callbacks_lock:
            self._callbacks.append(callback)
            token = self._announced if self.token is self._announced else None
        if token is not None:
            self._call(callback, token)
        return callback

    def close(self) -> None:
        """Close the widget and cancel its sign-in if still running."""
        self._closed = True
        controller = getattr(self, "_controller", None)
        if controller is not None and not controller.state.finished:
            controller.cancel()
        for name in ("_view", "_button", "_message"):
            child = getattr(self, name, None)
            if child is not None:
                child.close()
        super().close()

    # ---- internals ---------------------------------------------------------------------------

    def _controller_changed(self, controller: LoginController) -> None:
        # Runs in the controller's worker thread. The namespace is bound before signed_in
        # turns True, so whoever sees signed_in also finds the variable set.
        if self._closed or controller is not self._controller:
            return
        fresh: SSOToken | None = None  # a token not yet announced: bind it, call back
        callbacks: list[LoginCallback] = []
        try:
            self.status = controller.status_line()
            token = controller.token if controller.state is LoginState.SIGNED_IN else None
            if token is not None:
                with self._callbacks_lock:
                    if token is not self._announced:
                        self._announced = fresh = token
                        callbacks = list(self._callbacks)
            if fresh is not None and self._binder is not None and self._variable:
                self._binder.bind(self._variable, fresh)
            self.signed_in = token is not None
            self._set_state(controller.state.value)
        except Exception:  # observers must never raise into the controller
            logger.exception("updating the sign-in widget failed")
            return
        if fresh is not None:
            for callback in callbacks:
                self._call(callback, fresh)

    def _render_locked(self) -> None:
        controller, view = self._controller, self._view
        shown: list[Any] = [self._button] if controller is None or view is None else [view]
        if self._message.value:
            shown.append(self._message)
        self.children = tuple(shown)

    def _bind_role(self, account_id: str, role_name: str) -> None:
        # Called by the view in its pick thread.
        token = self.token
        if token is None:
            raise RuntimeError("Not signed in any more: sign in again.")
        session = token.session(account_id, role_name)
        # The namespace first: whoever sees .session set also finds the variable.
        if self._binder is not None and self._session_variable:
            self._binder.bind(self._session_variable, session)
        self._session = session

    def _call(self, callback: LoginCallback, token: SSOToken) -> None:
        try:
            callback(token)
        except Exception as exc:  # shown to the user: the thread would lose it
            logger.exception("on_login callback failed")
            self._message.value = note_html(f"The on_login callback failed: {exc!r}", error=True)
            self._render()
