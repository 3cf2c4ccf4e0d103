"""The ``SSOOIDC`` configurable: notebook-wide defaults for ``%ssooidc login``.

Set them where IPython reads configuration -- ``ipython_config.py`` or
``ipython_kernel_config.py`` (``c.SSOOIDC.start_url = ...``, for example system-wide in
``/etc/ipython/`` on a JupyterHub image) -- or at run time with
``%config SSOOIDC.region = "eu-west-1"``. ``%config SSOOIDC`` lists them with their current
values. An option given to the magic wins over the value here.

Each option defaults to the admin's environment variable (``SSOOIDC_START_URL``,
``SSOOIDC_REGION``, ``SSOOIDC_SESSION_NAME``, ``SSOOIDC_PROFILE``, ``SSOOIDC_ENDPOINT``,
``SSOOIDC_SCOPES``; see ``auth._context.ADMIN_ENV``): the one place the Jupyter server
extension reads too, so this configurable is a thin alias of it. A value set here applies to
this kernel only.

Values are checked when they are set, so a typo in an admin's config file shows up as a
trait error naming the option, not as a failed request later. An empty string means "not
set" (so ``%config SSOOIDC.start_url = ""`` clears a default).
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import Any

from traitlets import Any as TraitAny
from traitlets import Float, List, TraitError, Unicode, default, validate
from traitlets.config import Configurable

from .._exceptions import ConfigurationError

__all__ = ["SSOOIDC", "check_variable"]


def check_variable(what: str, value: str) -> str:
    """``value`` if it can name a notebook variable, else ConfigurationError."""
    if not value.isidentifier() or keyword.iskeyword(value):
        raise ConfigurationError(f"{what} must be a Python identifier, not {value!r}")
    return value


class SSOOIDC(Configurable):
    """Defaults for ``%ssooidc login`` (IAM Identity Center sign-in from a notebook).

    Where to sign in is the first of: ``start_url`` (with ``region``), ``sso_session``,
    ``profile`` -- or, when none is set, the default profile of the AWS config file.
    """

    start_url = Unicode(
        None,
        allow_none=True,
        help="AWS access portal URL, like https://d-1234567890.awsapps.com/start.",
    ).tag(config=True)
    region = Unicode(
        None,
        allow_none=True,
        help="Region of the IAM Identity Center instance (sso_region), like us-east-1.",
    ).tag(config=True)
    sso_session = Unicode(
        None,
        allow_none=True,
        help="An [sso-session NAME] of the AWS config file to sign in with. With start_url "
        "and region also set, only names the token's cache entry (shared with the AWS CLI).",
    ).tag(config=True)
    profile = Unicode(
        None,
        allow_none=True,
        help="A profile of the AWS config file whose sso-session (or legacy sso_start_url) "
        "to sign in with.",
    ).tag(config=True)
    scopes = List(
        Unicode(),
        help="Scopes to register the client for; empty: the sso-session's "
        "sso_registration_scopes, else sso:account:access.",
    ).tag(config=True)
    variable = Unicode(
        "ssooidc_token", help="Notebook variable that %ssooidc login binds the token to."
    ).tag(config=True)
    session_variable = Unicode(
        "session",
        help="Notebook variable bound to the boto3 Session of --account/--role.",
    ).tag(config=True)
    endpoint = Unicode(
        None,
        allow_none=True,
        help="sso-oidc endpoint URL; unset: AWS_ENDPOINT_URL_SSO_OIDC / AWS_ENDPOINT_URL, "
        "else the region's AWS endpoint.",
    ).tag(config=True)
    timeout = Float(
        None,
        allow_none=True,
        help="Seconds to wait for the user's approval (unset: until the code expires).",
    ).tag(config=True)

    # The Jupyter server extension's options (server/_options.SSOOIDC, the same section in
    # jupyter_server_config.py): declared so that naming them here draws no warning.
    flow = TraitAny(
        None, allow_none=True, help="The server extension's option: not used by kernels."
    ).tag(config=True)
    redirect_base_url = TraitAny(
        None, allow_none=True, help="The server extension's option: not used by kernels."
    ).tag(config=True)

    # The admin's defaults from the environment (invalid ones are left out here; a sign-in
    # that falls back to them says what is wrong, naming the variable).

    @staticmethod
    def _admin(name: str) -> Any:
        # Lazy: the validators load when an option is first read, not with %load_ext.
        from ..auth._context import admin_defaults

        return getattr(admin_defaults(), name)

    @default("start_url")
    def _default_start_url(self) -> str | None:
        return self._admin("start_url")  # type: ignore[no-any-return]

    @default("region")
    def _default_region(self) -> str | None:
        return self._admin("region")  # type: ignore[no-any-return]

    @default("sso_session")
    def _default_sso_session(self) -> str | None:
        return self._admin("session_name")  # type: ignore[no-any-return]

    @default("profile")
    def _default_profile(self) -> str | None:
        return self._admin("profile")  # type: ignore[no-any-return]

    @default("endpoint")
    def _default_endpoint(self) -> str | None:
        return self._admin("endpoint")  # type: ignore[no-any-return]

    @default("scopes")
    def _default_scopes(self) -> list[str]:
        return list(self._admin("scopes") or ())

    # traitlets calls these with the proposal; a TraitError names the trait for the user
    # (``%config`` shows it, a config file fails to apply with it).

    @staticmethod
    def _checked(check: Callable[[Any], str], what: str, value: Any) -> str:
        # The package's one validator of the value, its message prefixed with the option.
        try:
            return check(value)
        except ConfigurationError as exc:
            raise TraitError(f"{what}: {exc}") from exc

    @validate("start_url")
    def _check_start_url(self, proposal: Any) -> str | None:
        value = proposal["value"]
        # Lazy (here and below): the validators (ipaddress, the partition table) load when
        # a value is set, not with %load_ext.
        from ..oidc._values import validate_start_url

        return self._checked(validate_start_url, "SSOOIDC.start_url", value) if value else None

    @validate("endpoint")
    def _check_endpoint(self, proposal: Any) -> str | None:
        value = proposal["value"]
        from ..oidc._values import validate_endpoint

        return self._checked(validate_endpoint, "SSOOIDC.endpoint", value) if value else None

    @validate("region")
    def _check_region(self, proposal: Any) -> str | None:
        value = proposal["value"]
        if not value:
            return None
        from ..oidc._values import validate_region

        return self._checked(
            lambda region: validate_region(region, known=True), "SSOOIDC.region", value
        )

    @validate("sso_session", "profile")
    def _check_name(self, proposal: Any) -> str | None:
        value = proposal["value"]
        if not value:
            return None
        if value != value.strip() or any(ch.isspace() for ch in value):
            raise TraitError(f"SSOOIDC.{proposal['trait'].name} cannot contain spaces: {value!r}")
        return value  # type: ignore[no-any-return]

    @validate("scopes")
    def _check_scopes(self, proposal: Any) -> list[str]:
        from ..oidc._values import validate_scopes

        try:
            return list(validate_scopes(list(proposal["value"]), "SSOOIDC.scopes"))
        except ConfigurationError as exc:
            raise TraitError(str(exc)) from exc

    @validate("variable", "session_variable")
    def _check_variable(self, proposal: Any) -> str:
        name = proposal["trait"].name
        return self._checked(
            lambda value: check_variable(f"SSOOIDC.{name}", value),
            f"SSOOIDC.{name}",
            proposal["value"],
        )

    @validate("timeout")
    def _check_timeout(self, proposal: Any) -> float | None:
        value = proposal["value"]
        if value is None:
            return None
        from ..oidc._values import validate_timeout

        try:
            return validate_timeout(value, "SSOOIDC.timeout")
        except ConfigurationError as exc:
            raise TraitError(str(exc)) from exc
