"""What a ``%ssooidc`` line names -- where to sign in (:class:`Source`) and how
(:class:`LoginOptions`) -- and :func:`resolve_source`, the magic's front end to the one
resolution (``auth/_context.resolve_login``): it hands the line's values over unchanged and
turns a configuration problem into a one-line ``UsageError`` that names the magic's options.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from .._exceptions import ConfigurationError
from ._export import export_session_name

if TYPE_CHECKING:
    from ..auth._context import LoginContext

__all__ = ["LoginOptions", "Source", "resolve_source"]


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


def resolve_source(
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
