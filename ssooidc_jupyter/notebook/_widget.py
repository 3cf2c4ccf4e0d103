"""ipywidgets views of a sign-in: :class:`LoginView` (over a running controller) and
:class:`LoginWidget` (a "Sign in" button that makes its own controller).

Both are thin composites: buttons only call ``start()`` / ``cancel()`` on a
:class:`LoginController`, whose observers run in its worker thread; they set the ``state``
trait there and one ``@observe("state")`` handler re-renders ``children`` (ipywidgets sends
comm messages from any thread). The countdown (``_countdown.Countdown``) and the account and
role choice (``_rolepicker.RolePicker``) are their own small widgets, whose slow work runs in
daemon threads, never on the kernel's event loop; the namespace binding is the same
:class:`~._binder.Binder` the magic uses. :class:`LoginView` lives in ``_loginview.py`` and
the state-and-render base both share in ``_composite.py``; every name stays importable from
here.

Widget state is saved into the notebook and sent to the browser, so no secret (device
code, tokens, client secret, AWS keys) is ever put in a trait: tokens and sessions are plain
Python attributes. The user code is not a secret (it is meant to be shown), but it can
complete a sign-in while it is pending: it is in the widget's state only while pending, and
cleared the moment the sign-in ends. Every string from a server or a config file is escaped
before it reaches an ``HTML`` widget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from traitlets import Bool, Unicode

from ..auth._context import resolve_login
from ._binder import Binder
from ._composite import Composite, logger
from ._controller import LoginController, LoginState
from ._loginview import LoginView, copy_button_html
from ._rolepicker import note_html

if TYPE_CHECKING:
    from ..auth._token import SSOToken

__all__ = ["LoginView", "LoginWidget", "copy_button_html"]

LoginCallback = Callable[["SSOToken"], None]


class LoginWidget(Composite):
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
