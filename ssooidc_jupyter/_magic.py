"""``%ssooidc``: sign in to IAM Identity Center from a notebook.

:class:`SSOOIDCMagics` only parses the line (options, with defaults from the ``SSOOIDC``
configurable) and calls :class:`NotebookSignIn`, which does the work for one shell: it
starts a :class:`LoginController` (the device flow runs in its daemon thread, so the cell
returns at once), shows the prompt as a plain rich output that every frontend renders (and
the widget where widgets render), and binds the notebook variables.

Importing this module is cheap: the controller, httpx, ipywidgets and boto3 load when a
command first needs them. Nothing here prints; output goes through ``display`` so that it
lands in the cell that asked for it.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import html
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from IPython.core import magic_arguments as _ma
from IPython.core.error import UsageError
from IPython.core.magic import Magics, magics_class
from IPython.core.magic import line_magic as _line_magic
from IPython.display import DisplayHandle as _DisplayHandle
from IPython.display import display as _display

from ._configurable import SSOOIDC, check_url, check_variable
from ._exceptions import ConfigurationError, LoginError, SSOOIDCError

if TYPE_CHECKING:
    from ._controller import LoginController, PendingSSOToken
    from ._login import LoginContext
    from ._pending_session import PendingSession
    from ._token import SSOToken

__all__ = ["LoginOptions", "NotebookSignIn", "SSOOIDCMagics", "Source"]

logger = logging.getLogger("ssooidc_jupyter.magic")

# IPython's display and magic_arguments helpers carry no annotations; typed names for them
# keep mypy --strict meaningful in the rest of this module.
_F = TypeVar("_F", bound=Callable[..., Any])
_untyped: Any = _ma
display: Callable[..., Any] = _display
DisplayHandle: Callable[[], Any] = _DisplayHandle


def magic_arguments() -> Callable[[_F], _F]:
    return cast("Callable[[_F], _F]", _untyped.magic_arguments())


def argument(*args: Any, **kwargs: Any) -> Callable[[_F], _F]:
    return cast("Callable[[_F], _F]", _untyped.argument(*args, **kwargs))


def line_magic(func: _F) -> _F:
    # IPython's marker is typed as returning a union (it also takes a name).
    return cast("_F", _line_magic(func))


COMMANDS = ("login", "status", "accounts", "refresh", "logout", "cancel")
# Which options each command takes; any other option given is a usage error, so a typo
# such as `%ssooidc status --wait` is not silently ignored.
_SOURCE_OPTIONS = frozenset({"profile", "sso_session", "start_url", "region", "endpoint"})
_LOGIN_ONLY = frozenset(
    {"scopes", "account", "role", "force", "wait", "timeout", "export", "session_var"}
)
_ALLOWED = {
    "login": _SOURCE_OPTIONS | _LOGIN_ONLY | {"var"},
    "status": _SOURCE_OPTIONS,
    "accounts": _SOURCE_OPTIONS,
    "refresh": _SOURCE_OPTIONS,
    "logout": _SOURCE_OPTIONS,
    "cancel": frozenset(),
}
# Shown instead of the widget's repr where widgets do not render (and in saved files):
# the plain status output next to it already says everything.
_WIDGET_TEXT = "(interactive sign-in panel: shown where Jupyter widgets render)"
_EXPORT_PROFILE = "ssooidc-jupyter"
_EXPORT_ENV = ("AWS_CONFIG_FILE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def _one_line(exc: BaseException) -> BaseException:
    """Make IPython show ``exc`` as one line ("LoginDeniedError: ...") without a traceback:
    the reason is what the user needs, not our call stack."""
    message = f"{type(exc).__name__}: {exc}"
    exc._render_traceback_ = lambda: [message]  # type: ignore[attr-defined]
    return exc


def _usage(exc: ConfigurationError, hint: str = "") -> UsageError:
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


def _scopes(value: str) -> list[str]:
    return [scope.strip() for scope in value.split(",") if scope.strip()]


@magics_class
class SSOOIDCMagics(Magics):
    """The ``%ssooidc`` line magic. Its options' defaults are the ``SSOOIDC`` configurable."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.settings = SSOOIDC(parent=shell)
        self.signin = NotebookSignIn(shell, self.settings)

    @magic_arguments()
    @argument(
        "command",
        nargs="?",
        choices=COMMANDS,
        metavar="COMMAND",
        help="login (default options from %%config SSOOIDC), status, accounts, refresh, "
        "logout or cancel. Without one: this help.",
    )
    @argument("-h", "--help", action="store_true", help="Show this help.")
    @argument("--profile", metavar="P", help="Sign in with the profile P of the AWS config file.")
    @argument("--sso-session", metavar="S", help="Sign in with its [sso-session S].")
    @argument("--start-url", metavar="URL", help="The AWS access portal URL to sign in to.")
    @argument("--region", metavar="R", help="The IAM Identity Center region (sso_region).")
    @argument("--endpoint", metavar="URL", help="sso-oidc endpoint (tests, the emulator).")
    @argument("--scopes", type=_scopes, metavar="A,B", help="Scopes to register for.")
    @argument("--var", metavar="NAME", help="Variable for the token (SSOOIDC.variable).")
    @argument("--account", metavar="ID", help="Also bind a boto3 Session for this account...")
    @argument("--role", metavar="NAME", help="... and this role (permission set).")
    @argument("--session-var", metavar="NAME", help="Variable for that Session ('session').")
    @argument("--force", action="store_true", help="Sign in again even with a valid token.")
    @argument("--wait", action="store_true", help="Block this cell until signed in (CI).")
    @argument("--timeout", type=float, metavar="SECONDS", help="Give up waiting for approval.")
    @argument(
        "--export",
        action="store_true",
        help="Make default boto3 clients and !aws commands in this kernel use the chosen "
        "account and role (a kernel-private AWS_CONFIG_FILE and AWS_PROFILE).",
    )
    @line_magic
    def ssooidc(self, line: str = "") -> None:
        """Sign in to AWS IAM Identity Center from this notebook.

        The sign-in runs in the background: the cell returns at once, the token variable is
        usable at once (using it waits for the approval), and other cells keep running.
        """
        args = _untyped.parse_argstring(self.ssooidc, line)
        if args.help or args.command is None:
            # magic_arguments made the docstring the parser's full help text.
            display({"text/plain": type(self).ssooidc.__doc__}, raw=True)
            return
        given = {
            name
            for name in _ALLOWED["login"]
            if getattr(args, name) is not None and getattr(args, name) is not False
        }
        extra = sorted(given - _ALLOWED[args.command])
        if extra:
            options = ", ".join("--" + name.replace("_", "-") for name in extra)
            raise UsageError(f"%ssooidc {args.command} does not take {options}")
        if args.command == "cancel":
            self.signin.cancel()
        elif args.command == "login":
            self.signin.login(self._login_options(args))
        else:
            getattr(self.signin, args.command)(self._source(args))

    def _source(self, args: Any) -> Source:
        named = [
            f"--{n}"
            for n in ("profile", "sso-session", "start-url")
            if getattr(args, n.replace("-", "_"))
        ]
        if len(named) > 1:
            raise UsageError(f"{' and '.join(named)} cannot be combined: pass one of them")
        try:
            if args.start_url:
                check_url("--start-url", args.start_url)
            if args.endpoint:
                check_url("--endpoint", args.endpoint)
        except ConfigurationError as exc:
            raise _usage(exc) from None
        settings = self.settings
        endpoint = args.endpoint or settings.endpoint
        if named:
            # The configurable's region only completes a start URL: a profile or an
            # sso-session carries its own sso_region.
            region = args.region or (settings.region if args.start_url else None)
            return Source(
                start_url=args.start_url,
                region=region,
                sso_session=args.sso_session,
                profile=args.profile,
                endpoint=endpoint,
                explicit=True,
            )
        return Source(
            start_url=settings.start_url,
            region=args.region or settings.region,
            sso_session=settings.sso_session,
            profile=settings.profile,
            endpoint=endpoint,
            explicit=bool(args.region or args.endpoint),
        )

    def _login_options(self, args: Any) -> LoginOptions:
        if bool(args.account) != bool(args.role):
            raise UsageError("--account and --role go together: pass both, or neither")
        if args.session_var and not args.account:
            raise UsageError("--session-var needs --account and --role")
        if args.timeout is not None and not args.timeout > 0:
            raise UsageError(f"--timeout must be a positive number of seconds, not {args.timeout}")
        try:
            variable = check_variable("--var", args.var or self.settings.variable)
            session_variable = check_variable(
                "--session-var", args.session_var or self.settings.session_variable
            )
        except ConfigurationError as exc:
            raise _usage(exc) from None
        if variable == session_variable and args.account:
            raise UsageError(f"--var and --session-var are both {variable!r}")
        scopes = args.scopes if args.scopes is not None else self.settings.scopes
        return LoginOptions(
            source=self._source(args),
            variable=variable,
            scopes=tuple(scopes) if scopes else None,
            account=args.account,
            role=args.role,
            session_variable=session_variable,
            force=args.force,
            wait=args.wait,
            timeout=args.timeout if args.timeout is not None else self.settings.timeout,
            export=args.export,
        )


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


class _LiveStatus:
    """The plain prompt/status output of a run, kept current from the worker thread.

    Display and updates happen under one lock and each renders the state *at send time*,
    so the last message a frontend gets always shows the newest state.
    """

    def __init__(self, controller: LoginController) -> None:
        self._controller = controller
        self._handle = DisplayHandle()
        self._lock = threading.Lock()
        self._shown = False

    def show(self) -> None:
        from ._display import StatusView

        with self._lock:
            self._handle.display(StatusView(self._controller))
            self._shown = True

    def refresh(self, controller: LoginController) -> None:
        from ._display import StatusView

        with self._lock:
            if self._shown:
                self._handle.update(StatusView(controller))

    def end(self, text: str) -> None:
        """Replace the output by a last line (after a logout) and stop following."""
        with self._lock:
            if self._shown:
                self._handle.update(_line_bundle(text), raw=True)
            self._shown = False


class _KernelProfile:
    """``--export``: a kernel-private AWS config file naming the signed-in role.

    botocore and the AWS CLI then resolve credentials through the sso-session from the
    shared token cache, refreshing as they need, exactly as after ``aws sso login``.
    """

    def __init__(self) -> None:
        self.path: Path | None = None
        self._saved: dict[str, str | None] | None = None

    def write(self, context: LoginContext, account: str, role: str) -> Path:
        from ._awsconfig import write_sso_profile

        request = context.request
        assert request.session_name is not None  # _context() names one for --export
        if self.path is None:
            directory = Path(tempfile.mkdtemp(prefix="ssooidc-jupyter-"))  # 0700
            atexit.register(shutil.rmtree, directory, ignore_errors=True)
            self.path = directory / "config"
        write_sso_profile(
            self.path,
            profile=_EXPORT_PROFILE,
            session_name=request.session_name,
            start_url=request.start_url,
            region=request.region,
            scopes=request.scopes,
            account_id=account,
            role_name=role,
            # A fallback only: AWS_REGION / AWS_DEFAULT_REGION still win.
            default_region=request.region,
        )
        if self._saved is None:
            self._saved = {name: os.environ.get(name) for name in _EXPORT_ENV}
        os.environ["AWS_CONFIG_FILE"] = str(self.path)
        os.environ["AWS_PROFILE"] = _EXPORT_PROFILE
        # botocore reads AWS_DEFAULT_PROFILE before AWS_PROFILE: it would win over ours.
        os.environ.pop("AWS_DEFAULT_PROFILE", None)
        _forget_boto3_default_session()
        return self.path

    def remove(self) -> None:
        if self._saved is not None:
            for name, value in self._saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._saved = None
            _forget_boto3_default_session()
        if self.path is not None:
            shutil.rmtree(self.path.parent, ignore_errors=True)
            self.path = None


def _forget_boto3_default_session() -> None:
    # boto3.client() reuses a default Session that read the profile and config file when
    # it was made; drop it so the next default client sees the exported (or restored) one.
    boto3: Any = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None


def _export_session_name(start_url: str) -> str:
    # A profile's sso-session needs a name; a stable one per start URL keeps the cache
    # entry (sha1 of the name) the same across kernels and restarts.
    return "jupyter-" + hashlib.sha1(start_url.encode()).hexdigest()[:12]  # noqa: S324 - a name


class NotebookSignIn:
    """What ``%ssooidc`` does in one shell: the current sign-in and what it bound."""

    def __init__(self, shell: Any, settings: SSOOIDC) -> None:
        self.shell = shell
        self.settings = settings
        self.current: _Run | None = None
        self.profile = _KernelProfile()
        self._bound: dict[str, object] = {}
        self._signed_out: LoginContext | None = None
        self._lock = threading.Lock()

    # -- resolving ------------------------------------------------------------------------

    def context(
        self,
        source: Source,
        *,
        scopes: Sequence[str] | None = None,
        force: bool = False,
        timeout: float | None = None,
        export: bool = False,
    ) -> LoginContext:
        """Resolve where to sign in (no network); a configuration problem is a one-line
        UsageError."""
        from ._login import resolve_login

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
            )
        except ConfigurationError as exc:
            hint = (
                ""
                if source.named
                else "Or pass --start-url URL --region REGION (or --profile / --sso-session), "
                "or set defaults: %config SSOOIDC.start_url = '...'."
            )
            raise _usage(exc, hint) from None
        if export and context.request.session_name is None:
            name = _export_session_name(context.request.start_url)
            context = replace(context, request=replace(context.request, session_name=name))
        return context

    def _lookup(
        self, source: Source
    ) -> tuple[LoginContext, SSOToken | None, LoginController | None]:
        """The sign-in a command is about: this kernel's, else a valid one in the cache."""
        from ._flow import TokenState, classify
        from ._token import SSOToken

        if not source.explicit and self.current is not None:
            controller = self.current.controller
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

    # -- namespace ------------------------------------------------------------------------

    def _bind(self, name: str, value: object) -> None:
        with self._lock:
            self.shell.user_ns[name] = value
            self._bound[name] = value

    def _rebind(self, name: str, old: object, new: object) -> None:
        """Replace ``old`` by ``new`` unless the user has reassigned the name meanwhile."""
        with self._lock:
            if self.shell.user_ns.get(name) is old:
                self.shell.user_ns[name] = new
                self._bound[name] = new

    def _unbind_all(self) -> list[str]:
        with self._lock:
            removed = [
                name for name, value in self._bound.items() if self.shell.user_ns.get(name) is value
            ]
            for name in removed:
                del self.shell.user_ns[name]
            self._bound.clear()
        return removed

    # -- login ----------------------------------------------------------------------------

    def login(self, options: LoginOptions) -> None:
        from ._controller import LoginController, PendingSSOToken
        from ._pending_session import PendingSession

        context = self.context(
            options.source,
            scopes=options.scopes,
            force=options.force,
            timeout=options.timeout,
            export=options.export,
        )
        self._stop_current()  # a newer login replaces a running one
        self._signed_out = None
        controller = LoginController(context)
        run = _Run(controller, options)
        self.current = run
        status = run.status = _LiveStatus(controller)
        controller.observe(status.refresh)
        controller.observe(functools.partial(self._finish_in_thread, run))

        run.pending_token = PendingSSOToken(controller)
        self._bind(options.variable, run.pending_token)
        if options.account and options.role:
            run.pending_session = PendingSession(run.pending_token, options.account, options.role)
            self._bind(options.session_variable, run.pending_session)

        if not context.request.force and _fresh_in_cache(context):
            # A cache read, no network: finish now so the cell says "Already signed in"
            # and binds the real token, with no prompt shown at all.
            controller.start()
            _wait_until(lambda: controller.state.finished, 5.0)
        status.show()
        self._show_widget(run)
        if not controller.state.finished:
            controller.start()
            if not options.wait:
                return
        if options.wait:
            try:
                controller.wait()  # returns at once if already finished, or says why it failed
            except LoginError as exc:
                raise _one_line(exc) from None
        self._finish(run)

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
        self._rebind(run.options.variable, run.pending_token, token)
        pending = run.pending_session
        if pending is not None:
            try:
                session = pending.resolve()
            except SSOOIDCError as exc:
                # The stand-in stays: using it raises this again, where the user looks.
                logger.warning("ssooidc: no session for the role: %s", exc)
                return
            self._rebind(run.options.session_variable, pending, session)
        if run.options.export and run.account and run.role:
            self.profile.write(controller.context, run.account, run.role)

    def _picked(self, run: _Run, account_id: str, role_name: str) -> None:
        """The widget's account/role selector: bind the Session (and export it)."""
        token = run.controller.token
        if token is None:
            return
        run.account, run.role = account_id, role_name
        self._bind(run.options.session_variable, token.session(account_id, role_name))
        if run.options.export:
            self.profile.write(run.controller.context, account_id, role_name)

    def _show_widget(self, run: _Run) -> None:
        if getattr(self.shell, "kernel", None) is None:
            return  # terminal IPython, tests: nothing renders widgets
        try:
            from ._widget import LoginView
        except ImportError:  # no ipywidgets: the plain output is enough
            return
        # The plain output above already carries the status line: do not show it twice.
        view = LoginView(
            run.controller, on_pick=functools.partial(self._picked, run), show_status=False
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
        run.controller.cancel()
        # An HTTP poll already in flight finishes first; wait for it so that, when this
        # cell returns, polling has stopped.
        _wait_until(lambda: run.controller.state.finished, 30.0)
        _show_line(run.controller.status_line())

    def status(self, source: Source) -> None:
        context, token, controller = self._lookup(source)
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
            rows.append(("Accounts", _accounts_summary(token)))
        if self.profile.path is not None:
            rows.append(("Exported", f"AWS_PROFILE={_EXPORT_PROFILE}, config {self.profile.path}"))
        display(Table("IAM Identity Center sign-in", ("", ""), rows, header=False))

    def accounts(self, source: Source) -> None:
        token = self._signed_in(source)
        try:
            accounts = token.accounts()
        except SSOOIDCError as exc:
            raise _one_line(exc) from None
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
            raise _one_line(exc) from None
        _show_line(f"Refreshed: signed in to {token.start_url} until {_expiry(token.expires_at)}.")

    def logout(self, source: Source) -> None:
        context, token, _ = self._lookup(source)
        run = self.current
        # The kernel's own sign-in is undone too when the logout is about the same one.
        ours = run is not None and run.controller.context.slot.token_key == context.slot.token_key
        if run is not None and ours:
            run.controller.cancel()
        note = ""
        if token is not None:
            try:
                token.logout()  # the portal's Logout, then our token cache entry
            except SSOOIDCError as exc:
                note = f" The portal's Logout failed ({exc}); the local sign-in is removed."
        slot = context.slot
        if slot.cache is not None:
            slot.cache.delete_token(slot.token_key)
            slot.cache.delete_registration(slot.registration_key)
        removed: list[str] = []
        text = f"Signed out of {context.request.start_url}."
        if run is not None and ours:
            # The login cell's output must not keep saying "Signed in" (nor offer roles).
            if run.status is not None:
                run.status.end(text)
            if run.view is not None:
                run.view.close()
            removed = self._unbind_all()
            self.profile.remove()
            self.current = None
            self._signed_out = context
        names = f" Removed {', '.join(removed)}." if removed else ""
        _show_line(f"{text}{names}{note}")

    def close(self) -> None:
        """Unloading the extension: stop a running sign-in, undo --export."""
        self._stop_current()
        self.profile.remove()


# ---- small helpers ----------------------------------------------------------------------


def _fresh_in_cache(context: LoginContext) -> bool:
    from ._flow import TokenState, classify

    cached = context.slot.load_token()
    now = datetime.now(timezone.utc)
    return classify(cached, now, context.request.start_url) is TokenState.FRESH


def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    # Short sleeps, not an Event: the kernel's interrupt button must get through.
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _expiry(when: datetime) -> str:
    minutes = int((when - datetime.now(timezone.utc)).total_seconds() // 60)
    left = f"in {minutes // 60} h {minutes % 60:02d} min" if minutes >= 0 else "expired"
    return f"{when:%Y-%m-%d %H:%M} UTC ({left})"


def _accounts_summary(token: SSOToken) -> str:
    try:
        accounts = token.accounts()
    except SSOOIDCError as exc:
        return f"unavailable: {exc}"
    names = ", ".join(f"{a.account_name or '?'} ({a.account_id})" for a in accounts)
    return f"{len(accounts)} reachable" + (f": {names}" if names else "")


def _line_bundle(text: str) -> dict[str, str]:
    return {
        "text/plain": text,
        "text/html": f'<div class="ssooidc-status">{html.escape(text)}</div>',
    }


def _show_line(text: str) -> None:
    display(_line_bundle(text), raw=True)


class Table:
    """A small table as ``text/html`` and aligned ``text/plain`` (escaped, no secrets)."""

    def __init__(
        self,
        title: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        header: bool = True,
    ) -> None:
        self.title = title
        self.columns = tuple(columns)
        self.rows = [tuple(str(cell) for cell in row) for row in rows]
        self.header = header

    def __repr__(self) -> str:
        lines = [tuple(self.columns)] if self.header else []
        lines += self.rows
        widths = [
            max((len(line[i]) for line in lines), default=0) for i in range(len(self.columns))
        ]
        text = [self.title]
        for n, line in enumerate(lines):
            text.append(
                "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
            )
            if self.header and n == 0:
                text.append("  ".join("-" * w for w in widths))
        return "\n".join(text)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = (
            "<tr>" + "".join(f"<th>{esc(c)}</th>" for c in self.columns) + "</tr>"
            if self.header
            else ""
        )
        body = "".join(
            "<tr>"
            + "".join(
                f"<th style='text-align:left'>{esc(c)}</th>"
                if (i == 0 and not self.header)
                else f"<td style='text-align:left'>{esc(c)}</td>"
                for i, c in enumerate(row)
            )
            + "</tr>"
            for row in self.rows
        )
        return (
            f'<div class="ssooidc-table"><div><b>{esc(self.title)}</b></div>'
            f"<table>{head}{body}</table></div>"
        )
