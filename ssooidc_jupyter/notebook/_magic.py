"""``%ssooidc``: sign in to IAM Identity Center from a notebook.

:class:`SSOOIDCMagics` only parses the line (options, with defaults from the ``SSOOIDC``
configurable) and calls :class:`._signin.NotebookSignIn`, which does the work for one shell
(``_signin.py``; ``--export`` is in ``_export.py``, the tables in ``_display.py``).

Importing this module is cheap: the controller, httpx, ipywidgets and boto3 load when a
command first needs them. Nothing here prints; output goes through ``display`` so that it
lands in the cell that asked for it.
"""

from __future__ import annotations

import argparse
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from IPython.core import magic_arguments as _ma
from IPython.core.error import UsageError
from IPython.core.magic import Magics, magics_class
from IPython.core.magic import line_magic as _line_magic
from IPython.display import display as _display

from .._exceptions import ConfigurationError, SSOOIDCError
from ._configurable import SSOOIDC, check_variable

if TYPE_CHECKING:
    from ._signin import LoginOptions, NotebookSignIn, Source

__all__ = ["SSOOIDCMagics"]

logger = logging.getLogger("ssooidc_jupyter.magic")

# IPython's display and magic_arguments helpers carry no annotations; typed names for them
# keep mypy --strict meaningful in the rest of this module.
_F = TypeVar("_F", bound=Callable[..., Any])
_untyped: Any = _ma
display: Callable[..., Any] = _display


class _HelpFormatter(_ma.MagicHelpFormatter):
    """IPython's help formatter without the ``<...>`` it wraps around a metavar that is not
    a plain name (``--scopes <A,B>``): the options list shows each option as the usage line
    above it does (``--scopes A,B``, ``--flow {device,pkce}``)."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        return argparse.HelpFormatter._format_action_invocation(self, action)


def magic_arguments(name: str | None = None) -> Callable[[_F], _F]:
    return cast("Callable[[_F], _F]", _untyped.magic_arguments(name))


def argument(*args: Any, **kwargs: Any) -> Callable[[_F], _F]:
    return cast("Callable[[_F], _F]", _untyped.argument(*args, **kwargs))


def parser_options(**kwargs: Any) -> Callable[[_F], _F]:
    return cast("Callable[[_F], _F]", _untyped.kwds(**kwargs))


def line_magic(func: _F) -> _F:
    # IPython's marker is typed as returning a union (it also takes a name).
    return cast("_F", _line_magic(func))


def _help_text(doc: str) -> str:
    """The parser's help that magic_arguments made of the docstring, without the ``::``
    reST marker it puts before the usage line (meant for Sphinx, noise in a notebook)."""
    lines = doc.splitlines()
    while lines and lines[0].strip() in ("", "::"):
        lines.pop(0)
    if lines:
        # The usage block was indented under the marker: bring it back to the margin.
        indent = len(lines[0]) - len(lines[0].lstrip())
        for i, line in enumerate(lines):
            if not line.strip():
                break
            lines[i] = line[indent:] if line[:indent].isspace() else line
    return "\n".join(lines)


COMMANDS = ("login", "status", "accounts", "refresh", "logout", "cancel", "dask")
# Which options each command takes; any other option given is a usage error, so a typo
# such as `%ssooidc status --wait` is not silently ignored.
_SOURCE_OPTIONS = frozenset({"profile", "sso_session", "start_url", "region", "endpoint"})
_LOGIN_ONLY = frozenset(
    {"scopes", "account", "role", "force", "wait", "timeout", "export", "session_var", "flow"}
)
_ALLOWED = {
    "login": _SOURCE_OPTIONS | _LOGIN_ONLY | {"var"},
    "status": _SOURCE_OPTIONS,
    "accounts": _SOURCE_OPTIONS,
    "refresh": _SOURCE_OPTIONS,
    "logout": _SOURCE_OPTIONS,
    "cancel": frozenset(),
    # Forward the role's credentials to the Dask cluster of `client` (ssooidc_jupyter.dask).
    "dask": _SOURCE_OPTIONS | {"account", "role", "client_var", "stop"},
}
_EVERY_OPTION = frozenset().union(*_ALLOWED.values())


def _check_values(args: Any) -> None:
    """The package's one validator of each value given, named as this magic's option
    (ConfigurationError)."""
    from ..oidc._values import validate_flow, validate_scopes, validate_timeout

    if args.flow is not None:
        validate_flow(args.flow, "--flow")
    if args.timeout is not None:
        validate_timeout(args.timeout, "--timeout")
    if args.scopes is not None:
        validate_scopes(args.scopes, "--scopes")


def _scopes(value: str) -> list[str]:
    return [scope.strip() for scope in value.split(",") if scope.strip()]


# The options, as argparse will know them. The parser itself is built on first use
# (_usage_parser): building it is most of what %load_ext would otherwise cost, in every
# kernel of a JupyterHub image that auto-loads the extension.
@argument(
    "command",
    nargs="?",
    choices=COMMANDS,
    metavar="COMMAND",
    help="login (default options from %%config SSOOIDC), status, accounts, refresh, "
    "logout, cancel, or dask (send the role's credentials to the Dask workers of `client`, "
    "renewed while signed in). Without one: this help.",
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
@argument("--client-var", metavar="NAME", help="dask: the Dask Client variable ('client').")
@argument("--stop", action="store_true", help="dask: remove the credentials from the workers.")
@argument("--force", action="store_true", help="Sign in again even with a valid token.")
@argument("--wait", action="store_true", help="Block this cell until signed in (CI).")
@argument("--timeout", type=float, metavar="SECONDS", help="Give up waiting for approval.")
@argument(
    "--flow",
    # Checked by the package's one validator (_check_values), not argparse's choices, so
    # a wrong flow reads as it does in %config SSOOIDC and the server's options.
    metavar="{device,pkce}",
    help="device (a code to confirm; default) or pkce (the browser flow with a 127.0.0.1 "
    "callback: for a Jupyter on your own machine).",
)
@argument(
    "--export",
    action="store_true",
    help="Make default boto3 clients and !aws commands in this kernel use the chosen "
    "account and role (a kernel-private AWS_CONFIG_FILE and AWS_PROFILE).",
)
@parser_options(formatter_class=_HelpFormatter)
def _usage(line: str = "") -> None:
    """Sign in to AWS IAM Identity Center from this notebook.

    The sign-in runs in the background: the cell returns at once, the token variable is
    usable at once (using it waits for the approval), and other cells keep running.
    """


@functools.cache
def _usage_parser() -> Callable[..., None]:
    """``_usage`` with its parser built (and its docstring turned into the full help)."""
    return magic_arguments("ssooidc")(_usage)


@magics_class
class SSOOIDCMagics(Magics):
    """The ``%ssooidc`` line magic. Its options' defaults are the ``SSOOIDC`` configurable."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.settings = SSOOIDC(parent=shell)
        self._signin: NotebookSignIn | None = None

    @property
    def signin(self) -> NotebookSignIn:
        """This shell's sign-in, made by the first command."""
        if self._signin is None:
            # Lazy: _signin brings the displays, --export and hashlib (about half of what
            # %load_ext would cost), which a kernel that never signs in need not load.
            from ._signin import NotebookSignIn

            self._signin = NotebookSignIn(self.shell, self.settings)
        return self._signin

    def close(self) -> None:
        """Unloading: stop a running sign-in and undo --export, if a command ever ran."""
        if self._signin is not None:
            self._signin.close()

    @line_magic
    def ssooidc(self, line: str = "") -> None:
        """Sign in to AWS IAM Identity Center from this notebook.

        The sign-in runs in the background: the cell returns at once, the token variable is
        usable at once (using it waits for the approval), and other cells keep running.
        ``%ssooidc --help`` lists the commands and every option.
        """
        usage = _usage_parser()
        args = _untyped.parse_argstring(usage, line)
        if args.help or args.command is None:
            display({"text/plain": _help_text(usage.__doc__ or "")}, raw=True)
            return
        given = {
            name
            for name in _EVERY_OPTION
            if getattr(args, name) is not None and getattr(args, name) is not False
        }
        extra = sorted(given - _ALLOWED[args.command])
        if extra:
            options = ", ".join("--" + name.replace("_", "-") for name in extra)
            raise UsageError(f"%ssooidc {args.command} does not take {options}")
        try:
            if args.command == "cancel":
                self.signin.cancel()
            elif args.command == "login":
                self.signin.login(self._login_options(args))
            elif args.command == "dask":
                self._dask(args)
            else:
                getattr(self.signin, args.command)(self._source(args))
        except SSOOIDCError as exc:
            # Whatever went wrong on the way (a dropped connection, a refused token, a
            # broken cache): one line of what and what to do, never our call stack.
            from ._signin import one_line  # loaded already: a command ran

            raise one_line(exc) from None

    def _source(self, args: Any) -> Source:
        # Lazy, as the signin property: only a command needs _signin.
        from ._signin import Source, usage_error

        named = [
            f"--{n}"
            for n in ("profile", "sso-session", "start-url")
            if getattr(args, n.replace("-", "_"))
        ]
        if len(named) > 1:
            raise UsageError(f"{' and '.join(named)} cannot be combined: pass one of them")
        try:
            # Lazy, as _signin: the validators load with the first command.
            from ..oidc._values import validate_endpoint, validate_start_url

            if args.start_url:
                validate_start_url(args.start_url)
            if args.endpoint:
                validate_endpoint(args.endpoint)
        except ConfigurationError as exc:
            raise usage_error(exc) from None
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

    def _dask(self, args: Any) -> None:
        if args.stop:
            self.signin.dask_stop()
            return
        if bool(args.account) != bool(args.role):
            raise UsageError("--account and --role go together: pass both, or neither")
        try:
            client_var = check_variable("--client-var", args.client_var or "client")
        except ConfigurationError as exc:
            from ._signin import usage_error

            raise usage_error(exc) from None
        self.signin.dask(self._source(args), args.account, args.role, client_var)

    def _login_options(self, args: Any) -> LoginOptions:
        # Lazy, as the signin property: only a command needs _signin.
        from ._signin import LoginOptions, usage_error

        if bool(args.account) != bool(args.role):
            raise UsageError("--account and --role go together: pass both, or neither")
        if args.session_var and not args.account:
            raise UsageError("--session-var needs --account and --role")
        try:
            _check_values(args)
            variable = check_variable("--var", args.var or self.settings.variable)
            session_variable = check_variable(
                "--session-var", args.session_var or self.settings.session_variable
            )
        except ConfigurationError as exc:
            raise usage_error(exc) from None
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
            flow=args.flow or "device",
        )
