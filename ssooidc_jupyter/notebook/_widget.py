"""ipywidgets views of a sign-in: :class:`LoginView` (over a running controller) and
:class:`LoginWidget` (a "Sign in" button that makes its own controller).

Both are thin: buttons only call ``start()`` / ``cancel()`` on a :class:`LoginController`,
whose observers run in its worker thread; they set the ``state`` trait there and one
``@observe("state")`` handler re-renders ``children`` (ipywidgets sends comm messages from
any thread). Slow work -- the countdown, listing accounts, fetching role credentials -- runs
in small daemon threads, never on the kernel's event loop.

Widget state is saved into the notebook and sent to the browser, so no secret (device
code, tokens, client secret, AWS keys) is ever put in a trait: tokens and sessions are plain
Python attributes. The user code is not a secret (it is meant to be shown). Every string
from a server or a config file is escaped before it reaches an ``HTML`` widget.
"""

from __future__ import annotations

import html
import logging
import math
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from traitlets import Bool, Unicode, observe

from ..auth._login import resolve_login
from ._controller import LoginController, LoginState
from ._display import ERROR_COLOUR, clock, prompt_html, state_colour

if TYPE_CHECKING:
    from ..auth._aws import Account
    from ..auth._flow import DevicePrompt
    from ..auth._token import SSOToken

__all__ = ["LoginView", "LoginWidget", "copy_button_html"]

logger = logging.getLogger("ssooidc_jupyter.widget")

PickHandler = Callable[[str, str], None]
LoginCallback = Callable[["SSOToken"], None]

#: Seconds between countdown updates: the label shows whole seconds.
_TICK = 1.0


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


def _status_html(controller: LoginController) -> str:
    colour = state_colour(controller.state)
    return (
        f'<span style="font-family: sans-serif; color: {colour};">'
        f"{html.escape(controller.status_line())}</span>"
    )


def _note_html(text: str, *, error: bool = False) -> str:
    colour = ERROR_COLOUR if error else "inherit"
    return f'<span style="color: {colour};">{html.escape(text)}</span>'


def _account_label(account: Account) -> str:
    # Dropdown labels are shown as text by the frontend, never parsed as HTML: no escaping
    # (it would show up as "&amp;").
    if account.account_name and account.account_name != account.account_id:
        return f"{account.account_name} ({account.account_id})"
    return account.account_id


def _start_daemon(target: Callable[..., None], name: str, *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread


class LoginView(widgets.VBox):  # type: ignore[misc]
    """Live controls for one :class:`LoginController`.

    While the code is pending: a copy-to-clipboard button for the user code, a countdown to
    the code's expiry and a Cancel button; always the status line; after a failed, denied,
    expired or cancelled sign-in a Retry button (a new code). Once signed in, and when
    ``on_pick`` is given, an account and role selector whose "Use this role" button calls
    ``on_pick(account_id, role_name)`` in a background thread and then shows the bound role.

    It does not show the prompt itself (code, link): the magic shows that as plain HTML next
    to this view, :class:`LoginWidget` above it. ``show_status=False`` leaves out the status
    line too, for a place that already shows it.
    """

    #: Mirrors ``controller.state.value`` ("idle", "pending", "signed_in", ...).
    state = Unicode(LoginState.IDLE.value, help="The controller's state, as a string.")

    def __init__(
        self,
        controller: LoginController,
        *,
        on_pick: PickHandler | None = None,
        show_status: bool = True,
    ) -> None:
        super().__init__()
        self._controller = controller
        self._on_pick = on_pick
        # The magic's plain output already carries the status line: it can leave it out here.
        self._show_status = show_status
        # Renders come from the controller's thread, clicks from the kernel's, the countdown,
        # account list and pick from their own: one re-entrant lock keeps each update whole.
        self._lock = threading.RLock()
        self._closed = False
        self._countdown_prompt: DevicePrompt | None = None
        self._countdown_stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._accounts_token: SSOToken | None = None
        self._accounts: list[Account] | None = None
        self._picked: tuple[str, str] | None = None
        self.add_class("ssooidc-view")

        self._status = widgets.HTML()
        self._status.add_class("ssooidc-status")
        self._copy = widgets.HTML()
        self._copy.add_class("ssooidc-copy-box")
        self._progress = widgets.FloatProgress(
            min=0.0, max=1.0, value=0.0, bar_style="info", layout=widgets.Layout(width="12em")
        )
        self._time_left = widgets.Label()
        self._countdown = widgets.HBox([self._progress, self._time_left])
        self._countdown.add_class("ssooidc-countdown")
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
        self._pending_row = widgets.HBox([self._copy, self._countdown, self._cancel])

        style = {"description_width": "initial"}
        self._account_select = widgets.Dropdown(description="Account", options=[], style=style)
        self._account_select.add_class("ssooidc-account-select")
        self._account_select.observe(self._account_changed, "value")
        self._role_select = widgets.Dropdown(description="Role", options=[], style=style)
        self._role_select.add_class("ssooidc-role-select")
        self._use = widgets.Button(
            description="Use this role", button_style="primary", disabled=True
        )
        self._use.add_class("ssooidc-use-role")
        self._use.on_click(self._use_clicked)
        self._selector = widgets.HBox([self._account_select, self._role_select, self._use])
        self._accounts_note = widgets.HTML()
        self._accounts_note.add_class("ssooidc-accounts-note")
        self._bound = widgets.HTML()
        self._bound.add_class("ssooidc-bound")
        self._parts = [
            self._status,
            self._copy,
            self._progress,
            self._time_left,
            self._countdown,
            self._cancel,
            self._retry,
            self._pending_row,
            self._account_select,
            self._role_select,
            self._use,
            self._selector,
            self._accounts_note,
            self._bound,
        ]

        controller.observe(self._controller_changed)
        self._sync()

    # ---- public -----------------------------------------------------------------------------

    @property
    def controller(self) -> LoginController:
        return self._controller

    @property
    def picked(self) -> tuple[str, str] | None:
        """``(account_id, role_name)`` last bound through "Use this role", else None."""
        return self._picked

    @property
    def ticking(self) -> bool:
        """Whether the countdown thread is running (only while the code is pending)."""
        return self._ticker is not None and self._ticker.is_alive()

    def close(self) -> None:
        """Close the view and the widgets it made; stop the countdown. The controller keeps
        running: whoever made it owns it."""
        with self._lock:
            self._closed = True
            self._countdown_stop.set()
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
        self._sync()

    def _sync(self) -> None:
        value = self._controller.state.value
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
            logger.exception("rendering the sign-in view failed")

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
        self._status.value = _status_html(controller)

        status: tuple[Any, ...] = (self._status,) if self._show_status else ()
        prompt = controller.prompt
        if state is LoginState.PENDING and prompt is not None:
            self._show_pending(prompt)
            self.children = (self._pending_row, *status)
            return
        self._stop_countdown()
        shown = status
        if state is LoginState.SIGNED_IN:
            shown += self._signed_in_children()
        elif state.finished:
            self._retry.disabled = False
            shown += (self._retry,)
        elif state is LoginState.STARTING:
            self._cancel.disabled, self._cancel.description = False, "Cancel"
            shown += (self._cancel,)
        self.children = shown

    # ---- pending: copy button, countdown, cancel --------------------------------------------

    def _show_pending(self, prompt: DevicePrompt) -> None:
        if self._countdown_prompt is prompt and self.ticking:
            return
        self._copy.value = copy_button_html(prompt.user_code)
        self._cancel.disabled, self._cancel.description = False, "Cancel"
        self._stop_countdown()
        self._countdown_prompt = prompt
        # The bar spans the time left when the code is first shown (DevicePrompt carries no
        # issue time); at least one second so the bar is never a division by zero.
        self._progress.max = max(1.0, float(math.ceil(prompt.seconds_left())))
        stop = threading.Event()
        self._countdown_stop = stop
        self._update_countdown(prompt, stop)
        self._ticker = _start_daemon(self._tick, "ssooidc-countdown", prompt, stop)

    def _tick(self, prompt: DevicePrompt, stop: threading.Event) -> None:
        try:
            while not stop.wait(_TICK):
                with self._lock:
                    if not self._update_countdown(prompt, stop):
                        return
        except Exception:
            logger.exception("the sign-in countdown failed")

    def _update_countdown(self, prompt: DevicePrompt, stop: threading.Event) -> bool:
        """Show the time left; False once there is nothing more to count."""
        if stop.is_set() or self._closed:
            return False
        left = prompt.seconds_left()
        self._progress.value = min(self._progress.max, round(left, 1))
        self._progress.bar_style = "warning" if left < 60 else "info"
        self._time_left.value = f"Code expires in {clock(left)}" if left > 0 else "Code expired"
        return left > 0

    def _stop_countdown(self) -> None:
        # Only signal: joining here could wait on a ticker that waits on our lock.
        self._countdown_stop.set()
        self._countdown_prompt = None

    def _cancel_clicked(self, _button: Any) -> None:
        self._cancel.disabled, self._cancel.description = True, "Cancelling..."
        self._controller.cancel()

    def _retry_clicked(self, _button: Any) -> None:
        self._retry.disabled = True
        self._controller.start(force=True)

    # ---- signed in: accounts and roles ------------------------------------------------------

    def _signed_in_children(self) -> tuple[Any, ...]:
        token = self._controller.token
        if self._on_pick is None or token is None:
            return ()
        if self._accounts_token is not token:
            self._accounts_token, self._accounts, self._picked = token, None, None
            self._bound.value = ""
            self._accounts_note.value = _note_html("Loading your AWS accounts...")
            _start_daemon(self._load_accounts, "ssooidc-accounts", token)
        if not self._accounts:
            return (self._accounts_note,)
        return (self._selector, self._bound) if self._bound.value else (self._selector,)

    def _load_accounts(self, token: SSOToken) -> None:
        try:
            accounts: list[Account] | None = token.accounts()
            note = "" if accounts else "No AWS accounts are assigned to you."
        except Exception as exc:  # shown to the user: a thread would lose it
            if not self._closed:  # after a logout the failure is expected, not news
                logger.warning("listing AWS accounts failed: %s", exc)
            accounts, note = None, f"Could not list your AWS accounts: {exc}"
        with self._lock:
            if self._closed or self._accounts_token is not token:
                return  # a newer sign-in took over
            self._accounts = accounts
            self._accounts_note.value = _note_html(note, error=accounts is None)
            if accounts:
                self._account_select.options = [(_account_label(a), a.account_id) for a in accounts]
                # New options leave no selection (ipywidgets 8): start at the first account.
                self._account_select.value = accounts[0].account_id
                self._show_roles(accounts[0].account_id)
        self._render()

    def _account_changed(self, change: dict[str, Any]) -> None:
        try:
            with self._lock:
                self._show_roles(change["new"])
        except Exception:
            logger.exception("updating the role list failed")

    def _show_roles(self, account_id: str | None) -> None:
        account = self._account(account_id)
        roles = list(account.roles) if account is not None else []
        self._role_select.options = roles
        self._role_select.value = roles[0] if roles else None
        self._use.disabled = not roles

    def _account(self, account_id: str | None) -> Account | None:
        return next((a for a in self._accounts or () if a.account_id == account_id), None)

    def _use_clicked(self, _button: Any) -> None:
        account_id, role_name = self._account_select.value, self._role_select.value
        if self._on_pick is None or not account_id or not role_name:
            return
        self._use.disabled = True
        self._bound.value = _note_html(f"Getting credentials for {role_name}...")
        self._render()
        _start_daemon(self._pick, "ssooidc-pick", self._on_pick, account_id, role_name)

    def _pick(self, on_pick: PickHandler, account_id: str, role_name: str) -> None:
        # on_pick fetches role credentials (a network call): never on the kernel's thread.
        try:
            on_pick(account_id, role_name)
        except Exception as exc:  # shown to the user: a thread would lose it
            logger.warning("binding the role failed: %s", exc)
            message = _note_html(f"Could not use {role_name}: {exc}", error=True)
        else:
            self._picked = (account_id, role_name)
            account = self._account(account_id)
            where = _account_label(account) if account is not None else account_id
            message = (
                f"Using role <b>{html.escape(role_name)}</b> in account "
                f"<b>{html.escape(where)}</b>."
            )
        with self._lock:
            self._bound.value = message
            self._use.disabled = False
        self._render()


class LoginWidget(widgets.VBox):  # type: ignore[misc]
    """A "Sign in with AWS IAM Identity Center" button and the sign-in it starts.

    The arguments are those of :func:`ssooidc_jupyter.login` (``sso_session`` names an
    ``[sso-session]`` of ``~/.aws/config``); they are resolved when the button is clicked and
    a configuration error is shown in the widget. The prompt (code, link, expiry) and a
    :class:`LoginView` follow; once signed in, an account and role selector.

    Results: the ``signed_in`` and ``status`` traits (observable), the :attr:`token` and
    :attr:`session` properties (never traits: widget state is saved into the notebook), and
    :meth:`on_login` callbacks. With ``namespace`` and ``variable`` the token is stored in
    ``namespace[variable]`` once signed in; with ``namespace`` and ``session_variable`` the
    boto3 session is stored there once a role is picked.
    """

    #: Mirrors the controller's state ("idle" before the click; "failed" on a config error).
    state = Unicode(LoginState.IDLE.value, help="The sign-in state, as a string.")
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
        namespace: dict[str, Any] | None = None,
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
        self._namespace = namespace
        self._controller: LoginController | None = None
        self._view: LoginView | None = None
        self._session: Any = None
        self._callbacks: list[LoginCallback] = []
        self._announced: SSOToken | None = None
        # Guards _callbacks and _announced: on_login may race the sign-in's thread.
        self._callbacks_lock = threading.Lock()
        self._closed = False
        self._lock = threading.RLock()
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
        self._prompt = widgets.HTML()
        self._prompt.add_class("ssooidc-prompt-box")
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
                self._message.value = _note_html(f"Cannot start the sign-in: {exc}", error=True)
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
        for name in ("_view", "_button", "_message", "_prompt"):
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
            if fresh is not None and self._namespace is not None and self._variable:
                self._namespace[self._variable] = fresh
            self.signed_in = token is not None
            self._set_state(controller.state.value)
        except Exception:  # observers must never raise into the controller
            logger.exception("updating the sign-in widget failed")
            return
        if fresh is not None:
            for callback in callbacks:
                self._call(callback, fresh)

    def _set_state(self, value: str) -> None:
        if self.state != value:
            self.state = value
        else:
            self._render()

    @observe("state")
    def _state_changed(self, change: dict[str, Any]) -> None:
        self._render()

    def _render(self) -> None:
        try:
            with self._lock:
                self._render_locked()
        except Exception:
            logger.exception("rendering the sign-in widget failed")

    def _render_locked(self) -> None:
        controller, view = self._controller, self._view
        if controller is None or view is None:
            shown: list[Any] = [self._button]
        else:
            shown = []
            if controller.state is LoginState.PENDING and controller.prompt is not None:
                self._prompt.value = prompt_html(controller.prompt)
                shown.append(self._prompt)
            shown.append(view)
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
        if self._namespace is not None and self._session_variable:
            self._namespace[self._session_variable] = session
        self._session = session

    def _call(self, callback: LoginCallback, token: SSOToken) -> None:
        try:
            callback(token)
        except Exception as exc:  # shown to the user: the thread would lose it
            logger.exception("on_login callback failed")
            self._message.value = _note_html(f"The on_login callback failed: {exc!r}", error=True)
            self._render()
