"""Where a sign-in goes, resolved once: :class:`LoginContext` and :func:`resolve_login`.

Every entry point (``login()``, ``login_async()``, the magic, the widget, the Jupyter server)
resolves its arguments here, so the start URL, region, endpoint and scopes are validated by
one function each and the cache keys are derived once per sign-in. No network; the AWS
config file is read only when the arguments do not say everything. The admin's defaults and
the multi-visitor switch, read from the environment, are ``_admin.py``'s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigurationError
from ..oidc._values import (
    validate_endpoint,
    validate_flow,
    validate_redirect_uri,
    validate_region,
    validate_scopes,
    validate_start_url,
    validate_timeout,
)
from ._admin import (
    ADMIN_ENV,
    MULTI_VISITOR_ENV,
    AdminDefaults,
    admin_defaults,
    multi_visitor,
)
from ._cache import TokenCache, registration_key
from ._flow import LoginRequest
from ._models import (
    DEFAULT_SCOPES,
    token_cache_key,
)
from ._slot import CacheSlot

if TYPE_CHECKING:
    from ..oidc._config import ProfileSettings
    from ._awsconfig import SSOSettings

__all__ = [
    "ADMIN_ENV",
    "MULTI_VISITOR_ENV",
    "AdminDefaults",
    "LazyClient",
    "LoginContext",
    "admin_defaults",
    "check_where",
    "multi_visitor",
    "resolve_login",
]


@dataclass(frozen=True)
class LoginContext:
    """A resolved sign-in: what to ask for, where, and which cache entries it uses.

    It holds no secret; :class:`SSOToken` keeps one to refresh and re-read the cache.

    Two endpoints, both resolved by :func:`resolve_login` (not later, by the clients):
    ``endpoint`` (sso-oidc: the sign-in and refreshes) and ``portal_endpoint`` (the AWS
    access portal, ``sso``: accounts, role credentials, logout), each the argument given for
    it, else what botocore's configured-endpoint chain says (``AWS_ENDPOINT_URL_SSO_OIDC`` /
    ``AWS_ENDPOINT_URL_SSO``, ``AWS_ENDPOINT_URL``, the profile's ``[services]`` section and
    ``endpoint_url``; see ``oidc/_config.configured_endpoint``); None: the region's AWS
    endpoint (FIPS and dual-stack as the environment says).
    """

    request: LoginRequest
    endpoint: str | None
    cache_dir: Path | None
    cache_enabled: bool
    http_timeout: float
    settings: SSOSettings | None = None
    # "device" (RFC 8628) or "pkce" (authorization code, see ._pkce) and its redirect URI.
    flow: str = "device"
    redirect_uri: str | None = None
    portal_endpoint: str | None = None
    #: The default profile's HTTP side when the config file did not say where to sign in
    #: but was read for the endpoints (None: not read yet).
    http: ProfileSettings | None = field(default=None, compare=False, repr=False)

    @functools.cached_property
    def profile_settings(self) -> ProfileSettings | None:
        """The profile's CA bundle and endpoints (read from the config file once: when the
        sign-in was resolved, or when the first client is made). The profile is the
        sign-in's, else botocore's default (``AWS_PROFILE``, ``default``)."""
        if self.settings is not None:
            return self.settings.http  # from the reading that said where to sign in
        if self.http is not None:
            return self.http
        # Lazy: the config reader (configparser, shlex) only when a client is made.
        from ._awsconfig import profile_settings

        return profile_settings()

    @functools.cached_property
    def slot(self) -> CacheSlot:
        """The cache and the two keys of this sign-in (computed once: the keys are sha1s)."""
        cache = TokenCache(self.cache_dir) if self.cache_enabled else None
        request = self.request
        return CacheSlot(
            cache=cache,
            token_key=token_cache_key(request.session_name, request.start_url),
            # The AWS CLI's naming (legacy profiles: one registration per region, any tool's).
            registration_key=registration_key(
                start_url=request.start_url,
                region=request.region,
                scopes=list(request.scopes),
                session_name=request.session_name,
                legacy=request.legacy,
            ),
        )

    def settled(self) -> LoginContext:
        """This context for a token already signed in: a later refresh never forces a new
        sign-in."""
        if not self.request.force:
            return self
        return replace(self, request=replace(self.request, force=False))

    def client_config(self) -> dict[str, Any]:
        """The ``config`` of every client of this sign-in (sso-oidc and portal, in the kernel
        and in the Jupyter server alike): the timeout, and the profile's CA bundle and
        endpoints."""
        return {
            "timeout": self.http_timeout,
            "profile_settings": self.profile_settings,
            # The endpoints were resolved with the context: the clients take them as given.
            "endpoint_resolved": True,
        }

    def sync_client(self) -> Any:
        # Lazy: the client pulls in httpx, which a cached sign-in never needs.
        from ..oidc._client import SSOOIDCClient

        return SSOOIDCClient(
            config=self.client_config(), endpoint=self.endpoint, region=self.request.region
        )

    def async_client(self) -> Any:
        # Lazy, as sync_client.
        from ..oidc._client import AsyncSSOOIDCClient

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
    flow: str = "device",
    redirect_uri: str | None = None,
    portal_endpoint: str | None = None,
) -> LoginContext:
    """Resolve the arguments of :func:`login` (no network, reads ``~/.aws/config`` if
    needed). Arguments win over the config file.

    The portal's endpoint is ``portal_endpoint``, else ``endpoint`` (one emulator, proxy or
    gateway serving both APIs is what ``endpoint=`` points at in practice), else botocore's
    resolution for ``sso``; pass ``portal_endpoint`` when the two differ."""
    redirect_uri = _checked_options(scopes, timeout, flow, redirect_uri)
    defaults = admin_defaults()
    if defaults.applies(start_url, session_name, profile):
        start_url, region, session_name, profile, scopes = _admin_sign_in(
            defaults, region, session_name, scopes
        )
    if endpoint is None:
        endpoint = defaults.endpoint
    settings = _config_settings(start_url, region, session_name, profile)
    chosen_url, chosen_region = _where(start_url, region, settings)
    chosen_scopes = list(scopes) if scopes is not None else None
    if chosen_scopes is None:
        chosen_scopes = list(settings.scopes) if settings else list(DEFAULT_SCOPES)
    cache_dir, cache_enabled = _cache_choice(cache)
    oidc_url, portal_url, http = _endpoints(endpoint, portal_endpoint, settings)
    return LoginContext(
        request=LoginRequest(
            start_url=chosen_url,
            region=chosen_region,
            scopes=tuple(chosen_scopes),
            session_name=session_name or (settings.session_name if settings else None),
            force=force,
            timeout=timeout,
            legacy=_legacy(settings, scopes, session_name, chosen_url),
        ),
        endpoint=oidc_url,
        portal_endpoint=portal_url,
        http=http,
        cache_dir=cache_dir,
        cache_enabled=cache_enabled,
        http_timeout=http_timeout,
        settings=settings,
        flow=flow,
        redirect_uri=redirect_uri,
    )


def _admin_sign_in(
    defaults: AdminDefaults,
    region: str | None,
    session_name: str | None,
    scopes: Sequence[str] | None,
) -> tuple[str | None, str | None, str | None, str | None, Sequence[str] | None]:
    """Nothing named (or only the admin's session name): the admin's default sign-in, so the
    server extension and every kernel resolve it alike and share its cache entry. Returns
    start URL, region, session name, profile and scopes."""
    if defaults.errors:
        raise ConfigurationError(
            f"The administrator's default sign-in is not valid: {defaults.errors[0]}"
        )
    start_url = defaults.start_url
    region = region or (defaults.region if start_url else None)
    session_name = session_name or defaults.session_name
    profile = None if start_url else defaults.profile
    scopes = defaults.scopes if scopes is None else scopes
    return start_url, region, session_name, profile, scopes


def _checked_options(
    scopes: Sequence[str] | None, timeout: float | None, flow: str, redirect_uri: str | None
) -> str | None:
    """:func:`resolve_login`'s options that need no config file, refused one by one; the
    redirect URI, validated."""
    if scopes is not None:
        validate_scopes(scopes)
    if timeout is not None:
        validate_timeout(timeout)
    validate_flow(flow)
    if redirect_uri is not None:
        if flow != "pkce":
            raise ConfigurationError("redirect_uri is for flow='pkce' only")
        redirect_uri = validate_redirect_uri(redirect_uri)
    return redirect_uri


def _config_settings(
    start_url: str | None, region: str | None, session_name: str | None, profile: str | None
) -> SSOSettings | None:
    """The config file's settings, read only when the arguments do not say everything; with
    start_url and region given, session_name is just the name of the cache entry."""
    if profile is None and start_url is not None and not (region is None and session_name):
        return None
    # Lazy: the config reader (configparser, shlex) is needed only when the arguments do
    # not say where to sign in.
    from ._awsconfig import resolve_sso_settings

    return resolve_sso_settings(profile=profile, session_name=session_name)


def check_where(start_url: str | None, region: str | None) -> str:
    """The start URL, normalised, if a sign-in accepts this start URL and region; else the
    :class:`ConfigurationError` it raises (the server's status route lists the admin's
    default by this rule). No warning for a region newer than the table: a sign-in gives it."""
    return _where(start_url, region, None, warn=False)[0]


def _where(
    start_url: str | None, region: str | None, settings: SSOSettings | None, *, warn: bool = True
) -> tuple[str, str]:
    """The start URL and region (arguments over the config file), validated."""
    chosen_url = start_url or (settings.start_url if settings else None)
    chosen_region = region or (settings.region if settings else None)
    if not chosen_url:
        raise ConfigurationError(
            "No start URL: pass start_url= (your AWS access portal URL, like "
            "'https://d-1234567890.awsapps.com/start'), or profile= / session_name= naming an "
            "SSO configuration in ~/.aws/config."
        )
    chosen_url = validate_start_url(chosen_url)
    if not chosen_region:
        raise ConfigurationError(
            f"No region for {chosen_url}: pass region= (the region of your IAM Identity Center "
            "instance, as in sso_region)."
        )
    validate_region(chosen_region, known=True, warn=warn)
    return chosen_url, chosen_region


def _cache_choice(cache: bool | str | Path | None) -> tuple[Path | None, bool]:
    """(directory or None for the default, enabled)."""
    if cache is False or cache is None or multi_visitor() is not None:
        # Many visitors, one owner's files: no visitor may read or write a shared cache.
        return None, False
    if cache is True:
        return None, True
    return Path(cache).expanduser(), True


def _legacy(
    settings: SSOSettings | None,
    scopes: Sequence[str] | None,
    session_name: str | None,
    chosen_url: str,
) -> bool:
    """A legacy profile's sign-in: only when the config file said where, and nothing in the
    arguments overrode it."""
    return bool(
        settings is not None
        and settings.legacy
        and scopes is None
        and not session_name
        and chosen_url == settings.start_url
    )


def _endpoints(
    endpoint: str | None, portal_endpoint: str | None, settings: SSOSettings | None
) -> tuple[str | None, str | None, ProfileSettings | None]:
    """The sso-oidc and portal endpoints, resolved now, and the profile's HTTP side if the
    file was read for them. The portal's is ``portal_endpoint``, else ``endpoint`` (one
    emulator, proxy or gateway serving both APIs), else botocore's chain for ``sso``; the
    sso-oidc one is ``endpoint``, else botocore's chain for ``sso-oidc``."""
    oidc = None if endpoint is None else validate_endpoint(endpoint)
    portal = validate_endpoint(portal_endpoint) if portal_endpoint is not None else oidc
    if oidc is not None and portal is not None:
        return oidc, portal, None
    # Lazy: the endpoint rule set and the config reader, only when the arguments do not say.
    from ..oidc._config import configured_endpoint
    from ..oidc._endpoints import SSO_OIDC, SSO_PORTAL

    http = None
    if settings is not None:
        profile = settings.http  # the same reading of the file as where to sign in
    else:
        from ._awsconfig import profile_settings

        profile = http = profile_settings()
    if oidc is None:
        found = configured_endpoint(SSO_OIDC, profile)
        oidc = found[0] if found else None
    if portal is None:
        found = configured_endpoint(SSO_PORTAL, profile)
        portal = found[0] if found else None
    return oidc, portal, http


class LazyClient:
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
