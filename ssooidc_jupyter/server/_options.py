"""The server extension's options, read once at load, and what follows from them per request:
the default flow and the PKCE redirect URI.

Each option is checked on its own: a bad one is refused (left unset) and its message kept in
:attr:`ServerOptions.errors`, which the status route shows the user, so one mistake of the
admin's never disables the routes (the device flow still works without a redirect base).

Where the options come from, first wins: ``c.SSOOIDC.flow`` / ``c.SSOOIDC.redirect_base_url``
in the server's config (``jupyter_server_config.py``), then the environment the spawner set
(``SSOOIDC_FLOW`` / ``SSOOIDC_REDIRECT_BASE_URL``, the one place of the admin's defaults).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from jupyter_server.utils import url_path_join
from traitlets import Any as TraitAny
from traitlets.config import Configurable

from .._exceptions import ConfigurationError
from ..auth._context import ADMIN_ENV
from ..oidc._values import validate_flow

__all__ = ["CALLBACK_PATH", "SSOOIDC", "ServerOptions", "read_options", "terminals_see_environment"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
CALLBACK_PATH = ("ssooidc", "oauth", "callback")


def _kernels_option() -> Any:
    return TraitAny(
        None,
        allow_none=True,
        help="An option of %ssooidc in kernels (IPython's config): not used by the server.",
    ).tag(config=True)


class SSOOIDC(Configurable):
    """The server extension's options: ``c.SSOOIDC.*`` in ``jupyter_server_config.py``.

    The section is the one the kernels' ``SSOOIDC`` (``notebook/_configurable.py``, read
    from IPython's config) uses: each class declares the other's options too, so an admin's
    config naming one side's option in the other's file draws no "not recognized" warning.
    Values are loaded by traitlets as they are, and judged by :func:`read_options` with the
    package's validators, each refused alone (a bad one never stops the extension)."""

    flow = TraitAny(
        None,
        allow_none=True,
        help="The sign-in flow of the status bar: 'device' or 'pkce' (unset: SSOOIDC_FLOW, "
        "else PKCE on a loopback server and the device flow elsewhere).",
    ).tag(config=True)
    redirect_base_url = TraitAny(
        None,
        allow_none=True,
        help="The public base URL of this server for the PKCE callback (unset: "
        "SSOOIDC_REDIRECT_BASE_URL, else JUPYTERHUB_PUBLIC_URL, else the request's).",
    ).tag(config=True)

    # The kernels' options (see notebook/_configurable.SSOOIDC).
    start_url = _kernels_option()
    region = _kernels_option()
    sso_session = _kernels_option()
    profile = _kernels_option()
    scopes = _kernels_option()
    variable = _kernels_option()
    session_variable = _kernels_option()
    endpoint = _kernels_option()
    timeout = _kernels_option()


@dataclass(frozen=True)
class ServerOptions:
    flow: str | None = None
    redirect_base_url: str | None = None
    #: The server listens on loopback only: a personal Jupyter (not behind a hub).
    loopback: bool = False
    #: ``JUPYTERHUB_SERVICE_PREFIX`` (``/user/NAME/``): this server was spawned by a hub.
    service_prefix: str | None = None
    #: ``JUPYTERHUB_PUBLIC_URL``: the hub's public URL for this server, when the hub knows it.
    public_url: str | None = None
    errors: tuple[str, ...] = field(default_factory=tuple)

    @property
    def hub(self) -> bool:
        return self.service_prefix is not None

    def default_flow(self) -> str:
        """The admin's flow when set; under JupyterHub the device flow (PKCE there needs the
        hub's public URL accepted by IAM Identity Center: the admin opts in); else PKCE on a
        personal (loopback) server, where the callback is reachable as for the AWS CLI."""
        if self.flow is not None:
            return self.flow
        if self.hub:
            return "device"
        return "pkce" if self.loopback else "device"

    def redirect_uri(self, request: Any, base_url: str) -> str:
        """This server's callback route as the user's browser reaches it."""
        return url_path_join(self.public_base(request, base_url), *CALLBACK_PATH)

    def public_base(self, request: Any, base_url: str) -> str:
        """The admin's public base (``redirect_base_url``, else the hub's
        ``JUPYTERHUB_PUBLIC_URL``) plus the service prefix when it lacks it; else the
        request's OUTERMOST forwarded scheme and host, as JupyterHub's own
        ``get_browser_protocol`` takes them: each proxy appends its own value
        (configurable-http-proxy turns ``https`` into ``https,http``), so the first one is
        what the browser used."""
        root = self.redirect_base_url or self.public_url
        if root:
            prefix = self.service_prefix
            path = urlsplit(root).path.rstrip("/")
            if prefix and not path.endswith(prefix.rstrip("/")):
                return url_path_join(root, prefix)
            return root
        proto = _outermost(
            request.headers.get("X-Scheme") or request.headers.get("X-Forwarded-Proto")
        )
        forwarded = _forwarded_proto(request.headers.get("Forwarded"))
        scheme = forwarded or (proto if proto in ("http", "https") else request.protocol)
        host = _outermost(request.headers.get("X-Forwarded-Host")) or request.host
        return f"{scheme}://{host}{base_url}"


def _outermost(value: str | None) -> str | None:
    if not value:
        return None
    first = value.split(",", 1)[0].strip()
    return first.lower() if first.isascii() else None


def _forwarded_proto(value: str | None) -> str | None:
    """``proto=`` of the first element of an RFC 7239 ``Forwarded`` header."""
    if not value:
        return None
    for pair in value.split(",", 1)[0].split(";"):
        key, _, item = pair.strip().partition("=")
        if key.strip().lower() == "proto":
            proto = item.strip().strip('"').lower()
            return proto if proto in ("http", "https") else None
    return None


def read_options(serverapp: Any, environ: Mapping[str, str] | None = None) -> ServerOptions:
    """The options, each checked alone: a bad one is refused with a message, the rest kept."""
    env = os.environ if environ is None else environ
    section = SSOOIDC(config=serverapp.config)
    errors: list[str] = []

    def pick(name: str) -> tuple[str, object]:
        value = getattr(section, name)
        if value is not None:
            return f"c.SSOOIDC.{name}", value
        return ADMIN_ENV[name], env.get(ADMIN_ENV[name], "").strip() or None

    where, flow = pick("flow")
    if flow is not None:
        try:
            validate_flow(flow, where)
        except ConfigurationError as exc:
            errors.append(f"{exc}: ignored.")
            flow = None
    where, base = pick("redirect_base_url")
    if base is not None:
        # Lazy: only an admin's redirect base needs the check at start.
        from ..oidc._values import validate_redirect_uri

        try:
            base = validate_redirect_uri(str(base))
        except ConfigurationError as exc:
            errors.append(f"{where} refused ({exc}); PKCE uses this server's own address.")
            base = None
    public = env.get("JUPYTERHUB_PUBLIC_URL", "").strip() or None
    if public is not None and urlsplit(public).scheme not in ("http", "https"):
        errors.append(f"JUPYTERHUB_PUBLIC_URL {public!r} is not an http(s) URL: ignored.")
        public = None
    for message in errors:
        serverapp.log.warning("ssooidc_jupyter: %s", message)
    return ServerOptions(
        flow=str(flow) if flow is not None else None,
        redirect_base_url=str(base) if base is not None else None,
        loopback=str(getattr(serverapp, "ip", "")) in _LOOPBACK,
        service_prefix=env.get("JUPYTERHUB_SERVICE_PREFIX") or None,
        public_url=public,
        errors=tuple(errors),
    )


def terminals_see_environment(serverapp: Any, bindir: str | None = None) -> bool:
    """Make the server's terminals find this environment's programs (``python``, ``aws``,
    ``jupyter``) first on ``PATH``.

    jupyter_server_terminals starts a *login* shell when the server has no tty (as under a
    hub), and the login profile (``/etc/profile``) resets ``PATH``, so the environment the
    server runs in drops out. When the admin set no ``shell_command`` of their own
    (``c.ServerApp.terminado_settings``), the terminal runs the same login shell, puts
    ``bindir`` (default: the directory of this Python) first on ``PATH``, and ``exec``s an
    interactive shell that keeps it. ``SSOOIDC_TERMINAL_PATH=0`` turns this off. Returns
    whether the terminal command was changed."""
    if os.environ.get("SSOOIDC_TERMINAL_PATH", "").strip().lower() in ("0", "false", "no"):
        return False
    manager = serverapp.web_app.settings.get("terminal_manager")
    settings = getattr(serverapp, "terminado_settings", None) or {}
    if manager is None or settings.get("shell_command") is not None:
        return False
    shell = list(getattr(manager, "shell_command", None) or [])
    if len(shell) != 2 or shell[1] != "-l":
        return False  # not the login shell that resets PATH
    program = shlex.quote(shell[0])
    where = shlex.quote(bindir or os.path.dirname(sys.executable))
    manager.shell_command = [
        shell[0],
        "-l",
        "-c",
        f'PATH={where}:"$PATH"; export PATH; exec {program} -i',
    ]
    return True
