"""What ``%ssooidc`` does in one shell: :class:`NotebookSignIn`.

It starts a :class:`LoginController` (the device flow runs in its daemon thread, so the cell
returns as soon as the code is known), shows the prompt as a plain rich output that every
frontend renders (and the widget where widgets render), binds the notebook variables, and
carries out the other commands. The magic (``_magic.py``) only parses the line and calls it.

What each frontend gets (docs/notebook.md): the cell waits the one round trip until the
code is known, so its *first* output is the final prompt (code and link in ``text/plain``
and ``text/html``) -- ``jupyter console``, Voila and any frontend that applies no display
update show it. Where widgets render, the widget shows the code and the link too and hides
that plain output (``LoginView(hide=...)``). The moment the sign-in ends, the plain output
is updated to one status line and the widget drops the code: a notebook saved from then on
holds no code that could still complete the sign-in. A notebook saved *while* the code is
pending holds it (in the plain output): the one trade-off left, see docs/notebook.md.
"""

from __future__ import annotations

import functools
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.display import DisplayHandle as _DisplayHandle
from IPython.display import clear_output as _clear_output
from IPython.display import display as _display

from .._exceptions import ConfigurationError, SSOOIDCError
from ._binder import Binder
from ._configurable import SSOOIDC
from ._display import Table, line_bundle, local_time
from ._export import EXPORT_PROFILE, KernelProfile, export_session_name

if TYPE_CHECKING:
    from ..auth._context import LoginContext
    from ..auth._token import SSOToken
    from ..dask._forward import CredentialForwarder
    from ._controller import LoginController
    from ._pending import PendingSession, PendingSSOToken

__all__ = ["LoginOptions", "NotebookSignIn", "Source", "one_line", "usage_error"]

logger = logging.getLogger("ssooidc_jupyter.magic")

# Shown instead of the widget's repr where widgets do not render (and in saved files):
# the plain status output next to it already says everything.
_WIDGET_TEXT = "(interactive sign-in panel: shown where Jupyter widgets render)"

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


# ---- what the line asked for ------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where to sign in: explicit options or the configurable's defaults."""

    start_url: str | None = None
    region: str | None = None
    sso_session: str | None = None
    profile: str | None = None
    endpoint: str | None = None
    explicit: bool = False

    @property
    def named(self) -> bool:
        return bool(self.start_url or self.sso_session or self.profile)


@dataclass(frozen=True)
class LoginOptions:
    source: Source
    variable: str = "ssooidc_token"
    scopes: tuple[str, ...] | None = None
    account: str | None = None
    role: str | None = None
    session_variable: str = "session"
    force: bool = False
    wait: bool = False
    timeout: float | None = None
    export: bool = False
    flow: str = "device"


# ---- doing it ---------------------------------------------------------------------------


class _Run:
    """One ``%ssooidc login``: its controller and the namespace entries it made."""

    def __init__(self, controller: LoginController, options: LoginOptions) -> None:
        self.controller = controller
        self.options = options
        self.pending_token: PendingSSOToken | None = None
        self.pending_session: PendingSession | None = None
        self.account = options.account
        self.role = options.role
        self.status: _LiveStatus | None = None
        self.view: Any = None  # the LoginView, where widgets render
        #: The CSS class of this run's plain output: its widget hides it where it renders.
        self.mark = f"ssooidc-run-{secrets.token_hex(6)}"
        # _finish runs from the worker thread and from the cell (--wait, cached tokens):
        # the first does the work, the second waits for it and finds it done.
        self.finish_lock = threading.Lock()
        self.finished = False


class _LiveStatus:
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


class NotebookSignIn:
    """What ``%ssooidc`` does in one shell: the current sign-in and what it bound."""

    def __init__(self, shell: Any, settings: SSOOIDC) -> None:
        self.shell = shell
        self.settings = settings
        self.current: _Run | None = None
        #: Runs that signed in, oldest first (logout and friends act on the active one).
        self._signed_in_runs: list[_Run] = []
        self.profile = KernelProfile()
        self.binder = Binder(shell.user_ns)
        self._signed_out: LoginContext | None = None
        self._lock = threading.Lock()
        #: ``%ssooidc dask``: the credentials forwarded to a Dask cluster, renewed.
        self.forwarder: CredentialForwarder | None = None

    # -- resolving ------------------------------------------------------------------------

    def context(
        self,
        source: Source,
        *,
        scopes: Sequence[str] | None = None,
        force: bool = False,
        timeout: float | None = None,
        export: bool = False,
        flow: str = "device",
    ) -> LoginContext:
        """Resolve where to sign in (no network); a configuration problem is a one-line
        UsageError."""
        from ..auth._context import resolve_login

        try:
            context = resolve_login(
                source.start_url,
                source.region,
                endpoint=source.endpoint,
                scopes=scopes,
                session_name=source.sso_session,
                profile=source.profile,
                force=force,
                timeout=timeout,
                flow=flow,
            )
        except ConfigurationError as exc:
            message = str(exc)
            if "pass region=" in message:
                # Python's argument named as this magic's option.
                message = message.replace("pass region=", "pass --region REGION", 1)
                hint = "" if source.named else "Or set a default: %config SSOOIDC.region = '...'."
            else:
                hint = (
                    ""
                    if source.named
                    else "Or pass --start-url URL --region REGION (or --profile / "
                    "--sso-session), or set defaults: %config SSOOIDC.start_url = '...'."
                )
            raise UsageError(" ".join(f"{message} {hint}".split())) from None
        if export and not context.cache_enabled:
            # --export hands boto3 and the AWS CLI the shared cache: none here (Voilà).
            from ..auth._context import multi_visitor

            why = multi_visitor() or "the token cache is off"
            raise UsageError(
                f"--export is not available here ({why}): boto3 and the AWS CLI would read "
                "the shared token cache. Use the sign-in's own session instead: "
                "ssooidc_token.session(ACCOUNT, ROLE)."
            )
        if export and context.request.session_name is None:
            name = export_session_name(context.request.start_url)
            context = replace(context, request=replace(context.request, session_name=name))
        return context

    def _active(self) -> _Run | None:
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
            context = self.context(source)
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

    # -- login ----------------------------------------------------------------------------

    def login(self, options: LoginOptions) -> None:
        from ._controller import LoginController
        from ._pending import PendingSession, PendingSSOToken

        context = self.context(
            options.source,
            scopes=options.scopes,
            force=options.force,
            timeout=options.timeout,
            export=options.export,
            flow=options.flow,
        )
        self._stop_current()  # a newer login replaces a running one
        self._signed_out = None
        controller = LoginController(context)
        run = _Run(controller, options)
        self.current = run
        status = run.status = _LiveStatus(controller, run.mark)
        controller.observe(status.refresh)
        controller.observe(functools.partial(self._finish_in_thread, run))

        run.pending_token = PendingSSOToken(controller)
        self.binder.bind(options.variable, run.pending_token)
        if options.account and options.role:
            run.pending_session = PendingSession(run.pending_token, options.account, options.role)
            self.binder.bind(options.session_variable, run.pending_session)

        controller.start()
        # The one round trip (a cache read; else RegisterClient + StartDeviceAuthorization,
        # or the PKCE listener) before the first output: that output is then final, code
        # and link included, in frontends that never apply a display update (jupyter
        # console, Voila). Interruptible: the interrupt button cancels.
        controller.wait_settled()
        prompted = not controller.state.finished
        status.show()
        if not options.wait:
            self._show_widget(run)
            if controller.state.finished:
                self._finish(run)
            return
        if prompted:
            # This cell shows the end itself (a terminal would print every update, and
            # jupyter console none): nothing follows the prompt meanwhile. No widget
            # either: a busy kernel handles no click until the cell ends. While it waits
            # for another process's sign-in, the output follows: its own prompt comes next.
            if controller.waiting is None:
                status.detach()
            try:
                controller.wait()
            except SSOOIDCError as exc:
                raise one_line(exc) from None
            finally:
                self._end_of_wait(run)
        else:
            self._show_widget(run)
            try:
                controller.wait()  # finished: returns the token, or says why it failed
            except SSOOIDCError as exc:
                raise one_line(exc) from None
        self._finish(run)

    def _end_of_wait(self, run: _Run) -> None:
        """``--wait`` after a prompt: replace the prompt (and its code) by the end, as new
        output of this cell, which every frontend shows (jupyter console applies no
        update). Also after an interrupt, which cancels."""
        controller = run.controller
        # After an interrupt the worker ends at its next wake-up: show that end.
        _wait_until(lambda: controller.state.finished, 30.0)
        old = run.status
        if old is not None:
            controller.unobserve(old.refresh)
        if getattr(self.shell, "kernel", None) is not None:
            clear_output()  # a terminal cannot take back what it printed
        # The widget first: where it does not render, the status line is the cell's last.
        self._show_widget(run)
        status = run.status = _LiveStatus(controller, run.mark)
        controller.observe(status.refresh)
        status.show()

    def _finish_in_thread(self, run: _Run, controller: LoginController) -> None:
        try:
            self._finish(run)
        except Exception as exc:  # from the worker thread: say it, never lose it
            logger.warning("ssooidc: could not finish the sign-in: %s", exc)

    def _finish(self, run: _Run) -> None:
        """Once signed in, put the real objects in place of the pending ones. Idempotent:
        it runs from the worker thread and, for --wait and cached tokens, from the cell."""
        from ._controller import LoginState

        controller = run.controller
        token = controller.token
        if controller.state is not LoginState.SIGNED_IN or token is None:
            return
        with run.finish_lock:
            if run.finished:
                return
            run.finished = True
            with self._lock:
                if run not in self._signed_in_runs:
                    self._signed_in_runs.append(run)
            self.binder.rebind(run.options.variable, run.pending_token, token)
            pending = run.pending_session
            if pending is not None:
                try:
                    session = pending.resolve(token)
                except SSOOIDCError as exc:
                    # The stand-in stays: using it raises this again, where the user looks.
                    logger.warning("ssooidc: no session for the role: %s", exc)
                    return
                self.binder.rebind(run.options.session_variable, pending, session)
            if run.options.export and run.account and run.role:
                self.profile.write(controller.context, run.account, run.role)

    def _picked(self, run: _Run, account_id: str, role_name: str) -> None:
        """The widget's account/role selector: bind the Session (and export it, and
        forward it to Dask when its box is ticked)."""
        token = run.controller.token
        if token is None:
            return
        run.account, run.role = account_id, role_name
        session = token.session(account_id, role_name)
        self.binder.bind(run.options.session_variable, session)
        if run.options.export:
            self.profile.write(run.controller.context, account_id, role_name)
        picker = getattr(run.view, "picker", None)
        if picker is not None and picker.forward.value:
            # From the picker's own thread (never the kernel's): the first send waits for
            # the workers. A failure is shown by the picker under the selector.
            self._forward(token, session, self._dask_client("client"))

    def _show_widget(self, run: _Run) -> None:
        if getattr(self.shell, "kernel", None) is None:
            return  # terminal IPython, tests: nothing renders widgets
        try:
            from ._widget import LoginView
        except ImportError:  # no ipywidgets: the plain output is enough
            return
        # Where it renders, the view shows the prompt and the status itself and hides the
        # plain output above (marked run.mark); elsewhere that output stands alone.
        view = LoginView(
            run.controller, on_pick=functools.partial(self._picked, run), hide=run.mark
        )
        run.view = view
        data = dict(view._repr_mimebundle_() or {})
        if data:
            data["text/plain"] = _WIDGET_TEXT
            display(data, raw=True)

    def _stop_current(self) -> None:
        run = self.current
        if run is not None and not run.controller.state.finished:
            run.controller.cancel()

    # -- the other commands ---------------------------------------------------------------

    def cancel(self) -> None:
        run = self.current
        if run is None or run.controller.state.finished:
            _show_line("No sign-in is running.")
            return
        waiting = run.controller.waiting
        if waiting is not None:
            from ..auth._inflight import ORIGINS

            # This kernel waits for another process's sign-in: cancel that one (issue 20);
            # this kernel's own then takes over at once, with a prompt of its own.
            if run.controller.cancel_other():
                _show_line(
                    f"Cancelled the sign-in to {waiting.name} started from "
                    f"{ORIGINS[waiting.origin]}; this kernel's sign-in takes over."
                )
            else:
                _show_line("The other sign-in has ended; this kernel's sign-in takes over.")
            return
        run.controller.cancel()
        # An HTTP poll already in flight finishes first; wait for it so that, when this
        # cell returns, polling has stopped.
        _wait_until(lambda: run.controller.state.finished, 30.0)
        final = run.controller.status_line()
        terminal = getattr(self.shell, "kernel", None) is None
        if not (terminal and run.status is not None and run.status.last_text == final):
            # In a notebook the login cell's output changed up there: say it here too. A
            # terminal has just printed that very line.
            _show_line(final)

    def status(self, source: Source) -> None:
        context, token, controller = self._lookup(source, latest=True)
        request = context.request
        rows = [
            ("Start URL", request.start_url),
            ("Region", request.region),
            ("sso-session", request.session_name or "(none: cached by start URL)"),
        ]
        if controller is not None and token is None:
            rows.append(("State", controller.status_line()))
        elif token is None:
            rows.append(("State", "Not signed in (no valid token in the cache)."))
        else:
            rows.append(("State", "Signed in."))
            rows.append(("Expires", _expiry(token.expires_at)))
            rows.append(("Accounts", self._accounts_summary(token)))
        if self.profile.path is not None:
            rows.append(("Exported", f"AWS_PROFILE={EXPORT_PROFILE}, config {self.profile.path}"))
        display(Table("IAM Identity Center sign-in", ("", ""), rows, header=False))

    def accounts(self, source: Source) -> None:
        token = self._signed_in(source)
        try:
            accounts = token.accounts()
        except SSOOIDCError as exc:
            self._refused(token, exc)
            raise one_line(exc) from None
        rows = [
            (a.account_id, a.account_name, a.email, ", ".join(a.roles) or "(no roles)")
            for a in accounts
        ]
        title = f"{len(rows)} account{'s' if len(rows) != 1 else ''} at {token.start_url}"
        display(Table(title, ("Account", "Name", "Email", "Roles"), rows))

    def refresh(self, source: Source) -> None:
        token = self._signed_in(source)
        try:
            token.refresh()
        except SSOOIDCError as exc:
            self._refused(token, exc)
            raise one_line(exc) from None
        _show_line(f"Refreshed: signed in to {token.start_url} until {_expiry(token.expires_at)}.")

    def _accounts_summary(self, token: SSOToken) -> str:
        try:
            accounts = token.accounts()
        except SSOOIDCError as exc:
            self._refused(token, exc)
            return f"unavailable: {exc}"
        names = ", ".join(f"{a.account_name or '?'} ({a.account_id})" for a in accounts)
        return f"{len(accounts)} reachable" + (f": {names}" if names else "")

    def _refused(self, token: SSOToken, error: BaseException) -> None:
        """The service refused ``token`` (a portal 401, an ended session): the run that holds
        it turns to signed out, so its output and widget offer a new sign-in."""
        from .._exceptions import SessionEndedError, UnauthorizedException

        if not isinstance(error, UnauthorizedException | SessionEndedError):
            return
        for run in (self.current, *self._signed_in_runs):
            if run is not None and run.controller.token is token:
                run.controller.signed_out(error)

    def logout(self, source: Source) -> None:
        context, token, _ = self._lookup(source)
        run = self._active() if not source.explicit else None
        run = run or self.current
        # The kernel's own sign-in is undone too when the logout is about the same one.
        ours = run is not None and run.controller.context.slot.token_key == context.slot.token_key
        if run is not None and ours:
            run.controller.cancel()
            if run.view is not None:
                # Before the portal's Logout: an account listing still in flight then fails
                # quietly (expected after a logout) instead of warning in this cell.
                run.view.close()
        note = ""
        # The one logout (SSOToken.logout): the portal's Logout, the cache's token and -- the
        # notebook's choice -- the client registration. An expired entry is still logged out
        # (its refresh token may be alive); with no entry at all only the local part remains.
        from ..auth._aws import forget_sign_in
        from ..auth._token import SSOToken

        cached = context.slot.load_token() if token is None else None
        if token is None and cached is not None:
            token = SSOToken(cached, context=context)
        if token is None:
            forget_sign_in(context.slot, forget_registration=True)
        else:
            try:
                token.logout(forget_registration=True)
            except SSOOIDCError as exc:
                note = f" The portal's Logout failed ({exc}); the local sign-in is removed."
            finally:
                token.close()  # its portal client: nothing more to ask the portal
        removed: list[str] = []
        name = context.request.session_name
        which = f" (sso-session {name})" if name else ""
        text = f"Signed out of {context.request.start_url}{which}."
        if run is not None and ours:
            # The login cell's output must not keep saying "Signed in" (nor offer roles).
            if run.status is not None:
                run.status.end(text)
            removed = self.binder.unbind_all()
            self.profile.remove()
            with self._lock:
                self._signed_in_runs = [r for r in self._signed_in_runs if r is not run]
            self.current = None
            self._signed_out = context
        names = f" Removed {', '.join(removed)}." if removed else ""
        _show_line(f"{text}{names}{note}")

    # -- Dask ------------------------------------------------------------------------------

    def dask(self, source: Source, account: str | None, role: str | None, client_var: str) -> None:
        """``%ssooidc dask``: forward the role's credentials to the Dask cluster of
        ``client_var``, renewed in the background while the sign-in lasts."""
        client = self._dask_client(client_var)
        token = self._signed_in(source)
        if account is None or role is None:
            run = self._active()
            account, role = (run.account, run.role) if run is not None else (None, None)
        if not account or not role:
            raise UsageError(
                "Which role? Pass --account ID --role NAME, or choose one first "
                "(%ssooidc login --account ID --role NAME, or the panel's role picker)."
            )
        try:
            self._forward(token, token.session(account, role), client)
        except SSOOIDCError as exc:
            self._refused(token, exc)
            raise one_line(exc) from None
        workers = len(client.scheduler_info().get("workers", {}))
        _show_line(
            f"Forwarding {role} ({account}) credentials to the Dask workers of {client_var} "
            f"({workers} now, and any that join), renewed while you are signed in. "
            "%ssooidc dask --stop removes them."
        )

    def dask_stop(self) -> None:
        forwarder, self.forwarder = self.forwarder, None
        if forwarder is None:
            _show_line("No credentials are being forwarded to Dask.")
            return
        forwarder.stop()
        _show_line(f"Removed the {forwarder.role_name} credentials from the Dask workers.")

    def _dask_client(self, name: str) -> Any:
        client = self.shell.user_ns.get(name)
        if client is None or not hasattr(client, "register_plugin"):
            raise UsageError(
                f"No Dask client named {name!r} in this notebook: make one first "
                "(client = distributed.Client(...)), or name yours with --client-var."
            )
        return client

    def _forward(self, token: SSOToken, session: Any, client: Any) -> CredentialForwarder:
        # Lazy: only forwarding needs distributed (the dask extra).
        from ..dask._forward import forward

        def ended(error: BaseException) -> None:
            # The renewal found the session over: the sign-in turns to "signed out" (its
            # output and widget offer a new sign-in); the workers' credentials lapse.
            self._refused(token, error)

        forwarder = forward(client, session, on_ended=ended)
        self.forwarder = forwarder
        return forwarder

    def close(self) -> None:
        """Unloading the extension: stop a running sign-in, undo --export, stop
        forwarding credentials to Dask."""
        self._stop_current()
        self.profile.remove()
        if self.forwarder is not None:
            self.forwarder.stop()
            self.forwarder = None


# ---- small helpers ----------------------------------------------------------------------


def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    # Short sleeps, not an Event: the kernel's interrupt button must get through.
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _expiry(when: datetime) -> str:
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


def _show_line(text: str) -> None:
    display(line_bundle(text), raw=True)
