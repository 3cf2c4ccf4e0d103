"""``login()`` and ``login_async()``: one call that returns a usable :class:`SSOToken`.

They resolve where to sign in (arguments, a profile or an sso-session from
``~/.aws/config``), then hand :func:`._flow.login_flow` to a driver. A valid cached token is
returned after one cache read and no network call.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ._awsconfig import DEFAULT_SCOPES, SSOSettings, resolve_sso_settings
from ._cache import TokenCache, registration_cache_key, token_cache_key
from ._drivers import CacheSlot, NoticeHandler, PromptHandler, run_async, run_sync
from ._endpoints import validate_region
from ._exceptions import ConfigurationError
from ._flow import DevicePrompt, LoginRequest, login_flow

__all__ = ["LoginContext", "login", "login_async", "resolve_login"]

logger = logging.getLogger("ssooidc_jupyter.login")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def default_prompt(prompt: DevicePrompt) -> None:
    """Show the code on stderr (not stdout: notebooks save stdout with the file)."""
    sys.stderr.write(
        "\nTo sign in to AWS IAM Identity Center, open\n"
        f"    {prompt.verification_uri_complete}\n"
        f"and check that it shows the code {prompt.user_code} "
        f"(valid until {prompt.expires_at:%H:%M:%S} UTC).\n\n"
    )
    sys.stderr.flush()


def default_notice(message: str) -> None:
    logger.warning("%s", message)


@dataclass(frozen=True)
class LoginContext:
    """A resolved sign-in: what to ask for, where, and which cache entries it uses.

    It holds no secret; :class:`SSOToken` keeps one to refresh and re-read the cache.
    """

    request: LoginRequest
    endpoint: str | None
    cache_dir: Path | None
    cache_enabled: bool
    http_timeout: float
    settings: SSOSettings | None = None

    @property
    def slot(self) -> CacheSlot:
        cache = TokenCache(self.cache_dir) if self.cache_enabled else None
        request = self.request
        return CacheSlot(
            cache=cache,
            token_key=token_cache_key(request.session_name, request.start_url),
            registration_key=registration_cache_key(
                start_url=request.start_url,
                region=request.region,
                scopes=list(request.scopes),
                session_name=request.session_name,
            ),
        )

    def client_config(self) -> dict[str, Any]:
        return {"timeout": self.http_timeout}

    def sync_client(self) -> Any:
        from ._client import SSOOIDCClient

        return SSOOIDCClient(
            config=self.client_config(), endpoint=self.endpoint, region=self.request.region
        )

    def async_client(self) -> Any:
        from ._client import AsyncSSOOIDCClient

        return AsyncSSOOIDCClient(
            config=self.client_config(), endpoint=self.endpoint, region=self.request.region
        )


def resolve_login(
    start_url: str | None = None,
    region: str | None = None,
    *,
    endpoint: str | None = None,
    scopes: Sequence[str] | None = None,
    session_name: str | None = None,
    profile: str | None = None,
    force: bool = False,
    cache: bool | str | Path = True,
    timeout: float | None = None,
    http_timeout: float = 60.0,
) -> LoginContext:
    """Resolve the arguments of :func:`login` (no network, reads ``~/.aws/config`` if
    needed). Arguments win over the config file."""
    settings: SSOSettings | None = None
    if profile is not None or start_url is None or (region is None and session_name):
        # The config file is read only when the arguments do not say everything; with
        # start_url and region given, session_name is just the name of the cache entry.
        settings = resolve_sso_settings(profile=profile, session_name=session_name)
    chosen_url = start_url or (settings.start_url if settings else None)
    chosen_region = region or (settings.region if settings else None)
    if not chosen_url:
        raise ConfigurationError(
            "No start URL: pass start_url= (your AWS access portal URL, like "
            "'https://d-1234567890.awsapps.com/start'), or profile= / session_name= naming an "
            "SSO configuration in ~/.aws/config."
        )
    if not chosen_region:
        raise ConfigurationError(
            f"No region for {chosen_url}: pass region= (the region of your IAM Identity Center "
            "instance, as in sso_region)."
        )
    validate_region(chosen_region)
    if not isinstance(chosen_url, str) or not chosen_url.startswith(("https://", "http://")):
        raise ConfigurationError(f"start_url must be an https:// URL, not {chosen_url!r}")
    chosen_scopes = list(scopes) if scopes is not None else None
    if chosen_scopes is None:
        chosen_scopes = list(settings.scopes) if settings else list(DEFAULT_SCOPES)
    if isinstance(scopes, str):
        raise ConfigurationError("scopes must be a list of strings, not one string")
    if timeout is not None and timeout <= 0:
        raise ConfigurationError(f"timeout must be a positive number of seconds, not {timeout!r}")
    if cache is True:
        cache_dir, cache_enabled = None, True
    elif cache is False or cache is None:
        cache_dir, cache_enabled = None, False
    else:
        cache_dir, cache_enabled = Path(cache).expanduser(), True
    return LoginContext(
        request=LoginRequest(
            start_url=chosen_url,
            region=chosen_region,
            scopes=tuple(chosen_scopes),
            session_name=session_name or (settings.session_name if settings else None),
            force=force,
            timeout=timeout,
        ),
        endpoint=endpoint,
        cache_dir=cache_dir,
        cache_enabled=cache_enabled,
        http_timeout=http_timeout,
        settings=settings,
    )


def login(
    start_url: str | None = None,
    region: str | None = None,
    *,
    endpoint: str | None = None,
    scopes: Sequence[str] | None = None,
    session_name: str | None = None,
    profile: str | None = None,
    on_prompt: PromptHandler | None = None,
    on_notice: NoticeHandler | None = None,
    force: bool = False,
    cache: bool | str | Path = True,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
) -> Any:
    """Sign in to IAM Identity Center and return an :class:`SSOToken`.

    Returns a valid cached token without a network call; refreshes one that is about to
    expire; otherwise runs the device flow, calling ``on_prompt`` once with the
    :class:`DevicePrompt` to show. Blocks this thread until then (``cancel`` stops it; so
    does KeyboardInterrupt). ``timeout`` bounds the wait for approval in seconds.
    """
    context = resolve_login(
        start_url,
        region,
        endpoint=endpoint,
        scopes=scopes,
        session_name=session_name,
        profile=profile,
        force=force,
        cache=cache,
        timeout=timeout,
    )
    return complete_login(context, on_prompt=on_prompt, on_notice=on_notice, cancel=cancel)


def complete_login(
    context: LoginContext,
    *,
    on_prompt: PromptHandler | None = None,
    on_notice: NoticeHandler | None = None,
    cancel: threading.Event | None = None,
    client: Any = None,
) -> Any:
    from ._token import SSOToken

    own_client = client is None
    client = _LazyClient(context) if client is None else client
    try:
        cached = run_sync(
            login_flow(context.request, _utcnow),
            client,
            context.slot,
            on_prompt=default_prompt if on_prompt is None else on_prompt,
            on_notice=default_notice if on_notice is None else on_notice,
            cancel=cancel,
        )
    finally:
        if own_client:
            client.close()
    return SSOToken(cached, context=replace(context, request=replace(context.request, force=False)))


async def login_async(
    start_url: str | None = None,
    region: str | None = None,
    *,
    endpoint: str | None = None,
    scopes: Sequence[str] | None = None,
    session_name: str | None = None,
    profile: str | None = None,
    on_prompt: PromptHandler | None = None,
    on_notice: NoticeHandler | None = None,
    force: bool = False,
    cache: bool | str | Path = True,
    timeout: float | None = None,
) -> Any:
    """:func:`login` for asyncio: never blocks the event loop; cancel the task to stop."""
    from ._token import SSOToken

    context = resolve_login(
        start_url,
        region,
        endpoint=endpoint,
        scopes=scopes,
        session_name=session_name,
        profile=profile,
        force=force,
        cache=cache,
        timeout=timeout,
    )
    client = _LazyClient(context, asynchronous=True)
    try:
        cached = await run_async(
            login_flow(context.request, _utcnow),
            client,
            context.slot,
            on_prompt=default_prompt if on_prompt is None else on_prompt,
            on_notice=default_notice if on_notice is None else on_notice,
        )
    finally:
        await client.aclose()
    return SSOToken(cached, context=replace(context, request=replace(context.request, force=False)))


class _LazyClient:
    """Makes the httpx client on the first call: a cached-token login never imports httpx
    or opens a connection pool."""

    def __init__(self, context: LoginContext, *, asynchronous: bool = False) -> None:
        self._context = context
        self._asynchronous = asynchronous
        self._client: Any = None

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if self._client is None:
            self._client = (
                self._context.async_client() if self._asynchronous else self._context.sync_client()
            )
        return getattr(self._client, name)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


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
    (``sso_account_id``, ``sso_role_name``), signing in first if needed."""
    settings = resolve_sso_settings(profile=profile)
    if not settings.account_id or not settings.role_name:
        raise ConfigurationError(
            f"{settings.source or 'The profile'} names no sso_account_id and sso_role_name; "
            "add them to the profile, or call login() and token.session(account_id=..., "
            "role_name=...)."
        )
    token = login(
        profile=profile,
        endpoint=endpoint,
        on_prompt=on_prompt,
        force=force,
        cache=cache,
        timeout=timeout,
    )
    if region_name is None:
        import botocore.session

        region_name = botocore.session.Session(profile=settings.profile).get_config_variable(
            "region"
        )
    return token.session(settings.account_id, settings.role_name, region_name=region_name)
