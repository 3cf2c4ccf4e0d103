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
from typing import TYPE_CHECKING

from .._exceptions import SSOOIDCError
from ._display import Table
from ._export import EXPORT_PROFILE
from ._kernelruns import KernelSignIns
from ._outputs import (
    WIDGET_TEXT,
    LiveStatus,
    Run,
    clear_output,
    display,
    expiry,
    one_line,
    show_line,
    usage_error,
    wait_until,
)
from ._source import LoginOptions, Source, resolve_source

if TYPE_CHECKING:
    from ..auth._context import LoginContext
    from ..auth._token import SSOToken
    from ..dask._forward import CredentialForwarder
    from ._controller import LoginController

# Their names stay importable from here (the magic imports them lazily from this module).
__all__ = ["LoginOptions", "NotebookSignIn", "Source", "one_line", "usage_error"]

logger = logging.getLogger("ssooidc_jupyter.magic")


class NotebookSignIn(KernelSignIns):
    """What ``%ssooidc`` does in one shell: each command, on this kernel's sign-ins."""

    # -- login ----------------------------------------------------------------------------

    def login(self, options: LoginOptions) -> None:
        from ._controller import LoginController
        from ._pending import PendingSession, PendingSSOToken

        context = resolve_source(
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
        run = Run(controller, options)
        self.current = run
        status = run.status = LiveStatus(controller, run.mark)
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

    def _end_of_wait(self, run: Run) -> None:
        """``--wait`` after a prompt: replace the prompt (and its code) by the end, as new
        output of this cell, which every frontend shows (jupyter console applies no
        update). Also after an interrupt, which cancels."""
        controller = run.controller
        # After an interrupt the worker ends at its next wake-up: show that end.
        wait_until(lambda: controller.state.finished, 30.0)
        old = run.status
        if old is not None:
            controller.unobserve(old.refresh)
        if getattr(self.shell, "kernel", None) is not None:
            clear_output()  # a terminal cannot take back what it printed
        # The widget first: where it does not render, the status line is the cell's last.
        self._show_widget(run)
        status = run.status = LiveStatus(controller, run.mark)
        controller.observe(status.refresh)
        status.show()

    def _finish_in_thread(self, run: Run, controller: LoginController) -> None:
        try:
            self._finish(run)
        except Exception as exc:  # from the worker thread: say it, never lose it
            logger.warning("ssooidc: could not finish the sign-in: %s", exc)

    def _finish(self, run: Run) -> None:
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

    def _picked(self, run: Run, account_id: str, role_name: str) -> None:
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
            self._dask.forward(token, session, self._dask.client("client"))

    def _show_widget(self, run: Run) -> None:
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
            data["text/plain"] = WIDGET_TEXT
            display(data, raw=True)

    # -- the other commands ---------------------------------------------------------------

    def cancel(self) -> None:
        run = self.current
        if run is None or run.controller.state.finished:
            show_line("No sign-in is running.")
            return
        waiting = run.controller.waiting
        if waiting is not None:
            from ..auth._inflight import ORIGINS

            # This kernel waits for another process's sign-in: cancel that one (issue 20);
            # this kernel's own then takes over at once, with a prompt of its own.
            if run.controller.cancel_other():
                show_line(
                    f"Cancelled the sign-in to {waiting.name} started from "
                    f"{ORIGINS[waiting.origin]}; this kernel's sign-in takes over."
                )
            else:
                show_line("The other sign-in has ended; this kernel's sign-in takes over.")
            return
        run.controller.cancel()
        # An HTTP poll already in flight finishes first; wait for it so that, when this
        # cell returns, polling has stopped.
        wait_until(lambda: run.controller.state.finished, 30.0)
        final = run.controller.status_line()
        terminal = getattr(self.shell, "kernel", None) is None
        if not (terminal and run.status is not None and run.status.last_text == final):
            # In a notebook the login cell's output changed up there: say it here too. A
            # terminal has just printed that very line.
            show_line(final)

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
            rows.append(("Expires", expiry(token.expires_at)))
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
        show_line(f"Refreshed: signed in to {token.start_url} until {expiry(token.expires_at)}.")

    def _accounts_summary(self, token: SSOToken) -> str:
        try:
            accounts = token.accounts()
        except SSOOIDCError as exc:
            self._refused(token, exc)
            return f"unavailable: {exc}"
        names = ", ".join(f"{a.account_name or '?'} ({a.account_id})" for a in accounts)
        return f"{len(accounts)} reachable" + (f": {names}" if names else "")

    def logout(self, source: Source) -> None:
        context, token, _ = self._lookup(source)
        run = self._run_about(context, source)
        if run is not None:
            # The kernel's own sign-in is undone too when the logout is about the same one.
            run.controller.cancel()
            if run.view is not None:
                # Before the portal's Logout: an account listing still in flight then fails
                # quietly (expected after a logout) instead of warning in this cell.
                run.view.close()
        note = _sign_out(context, token)
        name = context.request.session_name
        which = f" (sso-session {name})" if name else ""
        text = f"Signed out of {context.request.start_url}{which}."
        removed = self._forget(run, context, text) if run is not None else []
        names = f" Removed {', '.join(removed)}." if removed else ""
        show_line(f"{text}{names}{note}")

    # -- Dask ------------------------------------------------------------------------------

    @property
    def forwarder(self) -> CredentialForwarder | None:
        """``%ssooidc dask``: the credentials forwarded to a Dask cluster, renewed."""
        return self._dask.forwarder

    def dask(self, source: Source, account: str | None, role: str | None, client_var: str) -> None:
        """``%ssooidc dask``: forward the role's credentials to the Dask cluster of
        ``client_var``, renewed in the background while the sign-in lasts."""
        client = self._dask.client(client_var)
        token = self._signed_in(source)
        if account is None or role is None:
            run = self._active()
            account, role = (run.account, run.role) if run is not None else (None, None)
        self._dask.start(token, account, role, client, client_var)

    def dask_stop(self) -> None:
        self._dask.stop()

    def close(self) -> None:
        """Unloading the extension: stop a running sign-in, undo --export, stop
        forwarding credentials to Dask."""
        self._stop_current()
        self.profile.remove()
        self._dask.stop(quiet=True)


def _sign_out(context: LoginContext, token: SSOToken | None) -> str:
    """The one logout (``SSOToken.logout``): the portal's Logout, the cache's token and --
    the notebook's choice -- the client registration. An expired entry is still logged out
    (its refresh token may be alive); with no entry at all only the local part remains.
    Returns a note when the portal's Logout failed (the local sign-in is gone anyway)."""
    from ..auth._aws import forget_sign_in
    from ..auth._token import SSOToken

    if token is None:
        cached = context.slot.load_token()
        if cached is None:
            forget_sign_in(context.slot, forget_registration=True)
            return ""
        token = SSOToken(cached, context=context)
    try:
        token.logout(forget_registration=True)
    except SSOOIDCError as exc:
        return f" The portal's Logout failed ({exc}); the local sign-in is removed."
    finally:
        token.close()  # its portal client: nothing more to ask the portal
    return ""
