"""``login()`` and ``login_async()``: one call that returns a usable :class:`SSOToken`.

They resolve where to sign in (arguments, a profile or an sso-session from
``~/.aws/config``), then run it with the one runner, :func:`._runner.sign_in` /
``asign_in``. A valid cached token is returned after one cache read and no network call.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from .._exceptions import ConfigurationError
from ._context import LoginContext, resolve_login
from ._drivers import NoticeHandler, PromptHandler
from ._inflight import request_cancel
from ._runner import asign_in, sign_in
from ._token import SSOToken

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "LoginArguments",
    "LoginContext",
    "cancel_pending",
    "login",
    "login_async",
    "resolve_login",
    "session",
]

logger = logging.getLogger("ssooidc_jupyter.login")


class LoginArguments(TypedDict, total=False):
    """The keyword arguments that :func:`login` and :func:`login_async` share (one list,
    so the twins cannot drift). See :func:`login` for what each means."""

    endpoint: str | None
    portal_endpoint: str | None
    scopes: Sequence[str] | None
    session_name: str | None
    profile: str | None
    force: bool
    cache: bool | str | Path
    timeout: float | None
    http_timeout: float
    flow: str
    redirect_uri: str | None


def login(
    start_url: str | None = None,
    region: str | None = None,
    *,
    on_prompt: PromptHandler | None = None,
    on_notice: NoticeHandler | None = None,
    cancel: threading.Event | None = None,
    **arguments: Unpack[LoginArguments],
) -> SSOToken:
    """Sign in to IAM Identity Center and return an :class:`SSOToken`.

    Where: ``start_url`` and ``region``, or ``profile=`` / ``session_name=`` naming an SSO
    configuration of ``~/.aws/config`` (arguments win over the file); ``endpoint=`` points
    at another sso-oidc endpoint (the emulator), and the token's portal calls there too
    unless ``portal_endpoint=`` names the portal's; without them both are resolved as
    botocore resolves them (``AWS_ENDPOINT_URL_SSO_OIDC`` / ``_SSO``, ``AWS_ENDPOINT_URL``,
    the profile's ``services`` and ``endpoint_url``, else the region's); ``scopes=`` the
    registration scopes.

    Returns a valid cached token without a network call; refreshes one that is about to
    expire; otherwise runs the device flow, calling ``on_prompt`` once with the
    :class:`DevicePrompt` to show. Blocks this thread until then (``cancel`` stops it; so
    does KeyboardInterrupt). ``timeout`` bounds the wait for approval in seconds;
    ``force=True`` signs in again even with a valid token; ``cache=False`` (or a directory)
    keeps the token out of (or elsewhere than) ``~/.aws/sso/cache``. ``http_timeout``
    (seconds, default 60) bounds each HTTP request, of the sign-in and of the token's portal
    calls (accounts, role credentials, logout).

    ``flow="pkce"`` signs in with the authorization-code flow and PKCE instead (the AWS CLI
    v2's browser flow): ``on_prompt`` gets the authorization page as
    ``verification_uri_complete`` (and no user code), and a listener on 127.0.0.1 receives
    the redirect (``redirect_uri=`` a loopback ``http`` URL to choose its address).
    """
    context = resolve_login(start_url, region, **arguments)
    return sign_in(context, on_prompt=on_prompt, on_notice=on_notice, cancel=cancel)


async def login_async(
    start_url: str | None = None,
    region: str | None = None,
    *,
    on_prompt: PromptHandler | None = None,
    on_notice: NoticeHandler | None = None,
    **arguments: Unpack[LoginArguments],
) -> SSOToken:
    """:func:`login` for asyncio: never blocks the event loop; cancel the task to stop.

    The token's ``a``-methods (:meth:`SSOToken.acurrent_access_token`,
    :meth:`SSOToken.arefresh`, ...) keep it that way after the sign-in."""
    context = resolve_login(start_url, region, **arguments)
    return await asign_in(context, on_prompt=on_prompt, on_notice=on_notice)


def session(
    profile: str | None = None,
    *,
    region_name: str | None = None,
    endpoint: str | None = None,
    on_prompt: PromptHandler | None = None,
    force: bool = False,
    cache: bool | str | Path = True,
    timeout: float | None = None,
) -> Any:
    """A refreshable ``boto3.Session`` for a profile that names an account and a role
    (``sso_account_id``, ``sso_role_name``), signing in first if needed.

    The config file is read once: the sign-in, the account and role, and the profile's
    ``region`` (the default of ``region_name``) all come from that one reading."""
    context = resolve_login(
        profile=profile, endpoint=endpoint, force=force, cache=cache, timeout=timeout
    )
    settings = context.settings
    if settings is None or not settings.account_id or not settings.role_name:
        where = settings.source if settings is not None else "The profile"
        raise ConfigurationError(
            f"{where or 'The profile'} names no sso_account_id and sso_role_name; "
            "add them to the profile, or call login() and token.session(account_id=..., "
            "role_name=...)."
        )
    token = sign_in(context, on_prompt=on_prompt)
    if region_name is None:
        # botocore's order for the region: the environment, then the profile's own value.
        region_name = (
            os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or settings.profile_region
        )
    return token.session(settings.account_id, settings.role_name, region_name=region_name)


def cancel_pending(
    start_url: str | None = None,
    *,
    session_name: str | None = None,
    profile: str | None = None,
    cache: str | Path | None = None,
) -> bool:
    """Cancel the sign-in to ``session_name`` (or ``start_url``, or ``profile``'s) that is
    waiting for approval in another process -- a kernel, a script or JupyterLab's status
    bar. Returns True when one was waiting (it ends within half a second, and whoever
    waits for it takes over), False when none was. ``cache``: another cache directory."""
    # Lazy: only this call needs them; the key is the token cache key, as botocore's.
    from ..oidc._values import validate_start_url
    from ._cache import TokenCache
    from ._models import token_cache_key

    if profile is not None:
        context = resolve_login(profile=profile, cache=cache or True)
        slot = context.slot
        if slot.cache is None:
            return False
        return request_cancel(slot.cache, slot.token_key)
    if session_name is None and start_url is None:
        raise ConfigurationError("Name the sign-in to cancel: session_name=, start_url, profile=.")
    url = "" if start_url is None else validate_start_url(start_url)
    return request_cancel(TokenCache(cache), token_cache_key(session_name, url))
