"""What the environment says about every sign-in of this process: the admin's defaults
(:data:`ADMIN_ENV`, each value checked by its one validator) and whether this kernel serves
visitors other than the signed-in user (:func:`multi_visitor`). Read at call time; no file.

``_context.resolve_login`` applies them; the server extension reads the same variables.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import ConfigurationError
from ..oidc._values import (
    validate_endpoint,
    validate_region,
    validate_scopes,
    validate_start_url,
)

__all__ = [
    "ADMIN_ENV",
    "MULTI_VISITOR_ENV",
    "AdminDefaults",
    "admin_defaults",
    "multi_visitor",
]

#: The admin's defaults, as environment variables of the single-user server: the one place
#: that the Jupyter server extension (the status bar) and every kernel both read, because
#: the spawner sets them for the server and kernels inherit them (``c.Spawner.environment``,
#: Zero to JupyterHub's ``singleuser.extraEnv``). The ``SSOOIDC`` configurable defaults to
#: them. ``SSOOIDC_FLOW`` and ``SSOOIDC_REDIRECT_BASE_URL`` are read by the server only.
ADMIN_ENV = {
    "start_url": "SSOOIDC_START_URL",
    "region": "SSOOIDC_REGION",
    "session_name": "SSOOIDC_SESSION_NAME",
    "profile": "SSOOIDC_PROFILE",
    "endpoint": "SSOOIDC_ENDPOINT",
    "scopes": "SSOOIDC_SCOPES",
    "flow": "SSOOIDC_FLOW",
    "redirect_base_url": "SSOOIDC_REDIRECT_BASE_URL",
}

#: ``1``: this kernel serves visitors who are not the signed-in user (a dashboard server other
#: than Voilà); ``0``: it does not, even under Voilà (the owner alone uses it).
MULTI_VISITOR_ENV = "SSOOIDC_MULTI_VISITOR"
# What Voilà puts in the environment of the kernels it starts, one per visitor, all running
# as the dashboard owner (voila/handler.py and voila_kernel_manager.py, Voilà 0.4-0.5; the
# pre-heated pool sets the VOILA_* ones, a kernel per request SERVER_SOFTWARE too).
_VOILA_VARS = ("VOILA_KERNEL_ID", "VOILA_PREHEAT", "VOILA_BASE_URL", "VOILA_SERVER_URL")


def multi_visitor() -> str | None:
    """Why this process may serve people other than the signed-in user, or None.

    A Voilà dashboard gives each visitor a kernel of the owner's server: with the shared
    token cache, visitor 2 would get visitor 1's (or the owner's) session. Where this says
    so, :func:`resolve_login` keeps every sign-in in the kernel's memory only."""
    flag = os.environ.get(MULTI_VISITOR_ENV, "").strip().lower()
    if flag in ("0", "false", "no"):
        return None
    if flag in ("1", "true", "yes"):
        return f"{MULTI_VISITOR_ENV} is set"
    if os.environ.get("SERVER_SOFTWARE", "").startswith("voila/") or any(
        name in os.environ for name in _VOILA_VARS
    ):
        return "this kernel was started by Voilà for one of its visitors"
    return None


@dataclass(frozen=True)
class AdminDefaults:
    """The admin's defaults from the environment (:data:`ADMIN_ENV`), each value checked by
    its one validator; a bad one is left out and its message, naming the variable, is in
    ``errors`` (one mistake does not hide the other defaults)."""

    start_url: str | None = None
    region: str | None = None
    session_name: str | None = None
    profile: str | None = None
    endpoint: str | None = None
    scopes: tuple[str, ...] | None = None
    errors: tuple[str, ...] = ()

    def applies(self, start_url: str | None, session_name: str | None, profile: str | None) -> bool:
        """Whether arguments naming this much leave the sign-in to the admin's default: they
        name nothing, or only the admin's own session name."""
        return (
            start_url is None
            and profile is None
            and (session_name is None or session_name == self.session_name)
        )


def _name_check(value: str) -> str:
    if any(ch.isspace() for ch in value):
        raise ConfigurationError(f"{value!r} cannot contain spaces")
    return value


def admin_defaults(environ: Mapping[str, str] | None = None) -> AdminDefaults:
    """The admin's defaults from ``environ`` (default: ``os.environ``, read at call time).
    An empty variable counts as unset."""
    env = os.environ if environ is None else environ
    checks: dict[str, Callable[[str], Any]] = {
        "start_url": validate_start_url,
        "region": lambda value: validate_region(value, known=True),
        "session_name": _name_check,
        "profile": _name_check,
        "endpoint": validate_endpoint,
        "scopes": lambda value: validate_scopes(value.replace(",", " ").split()) or None,
    }
    values: dict[str, Any] = {}
    errors = []
    for field, check in checks.items():
        raw = env.get(ADMIN_ENV[field], "").strip()
        if not raw:
            continue
        try:
            values[field] = check(raw)
        except ConfigurationError as exc:
            errors.append(f"{ADMIN_ENV[field]}: {exc}")
    return AdminDefaults(**values, errors=tuple(errors))
