"""Where a sign-in goes, resolved once: :class:`LoginContext` and :func:`resolve_login`.

Every entry point (``login()``, ``login_async()``, the magic, the widget, the Jupyter server)
resolves its arguments here, so the start URL, region, endpoint and scopes are validated by
one function each and the cache keys are derived once per sign-in. No network; the AWS
config file is read only when the arguments do not say everything.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigurationError
from ..oidc._values import (
    validate_endpoint,
    validate_redirect_uri,
    validate_region,
    validate_start_url,
)
from ._cache import TokenCache, registration_key
from ._drivers import CacheSlot
from ._flow import LoginRequest
from ._models import (
    DEFAULT_SCOPES,
    token_cache_key,
)

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
    "multi_visitor",
    "resolve_login",
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
class LoginContext:
    """A resolved sign-in: what to ask for, where, and which cache entries it uses.

    It holds no secret; :class:`SSOToken` keeps one to refresh and re-read the cache.

    Two endpoints: ``endpoint`` (sso-oidc: the sign-in and refreshes) and ``portal_endpoint``
    (the AWS access portal, ``sso``: accounts, role credentials, logout), each the argument
    given for it or None; None resolves as botocore does (``AWS_ENDPOINT_URL_SSO_OIDC`` /
    ``AWS_ENDPOINT_URL_SSO``, ``AWS_ENDPOINT_URL``, the profile's ``[services]`` section and
    ``endpoint_url``, else the region's AWS endpoint; see ``oidc/_config.py``).
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

    @functools.cached_property
    def profile_settings(self) -> ProfileSettings | None:
        """The profile's CA bundle and endpoints (read from the config file once, when the
        first client is made: a cached-token sign-in never reads it). The profile is the
        sign-in's, else botocore's default (``AWS_PROFILE``, ``default``)."""
        if self.settings is not None:
            return self.settings.http  # from the reading that said where to sign in
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
        return {"timeout": self.http_timeout, "profile_settings": self.profile_settings}

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
        "scopes": lambda value: tuple(value.replace(",", " ").split()) or None,
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
    if isinstance(scopes, str):
        raise ConfigurationError("scopes must be a list of strings, not one string")
    if timeout is not None and (isinstance(timeout, bool) or timeout <= 0):
        raise ConfigurationError(f"timeout must be a positive number of seconds, not {timeout!r}")
    if flow not in ("device", "pkce"):
        raise ConfigurationError(f"flow must be 'device' or 'pkce', not {flow!r}")
    if redirect_uri is not None:
        if flow != "pkce":
            raise ConfigurationError("redirect_uri is for flow='pkce' only")
        redirect_uri = validate_redirect_uri(redirect_uri)
    defaults = admin_defaults()
    if defaults.applies(start_url, session_name, profile):
        # Nothing named (or only the admin's session name): the admin's default sign-in, so
        # the server extension and every kernel resolve it alike and share its cache entry.
        if defaults.errors:
            raise ConfigurationError(
                f"The administrator's default sign-in is not valid: {defaults.errors[0]}"
            )
        start_url = defaults.start_url
        region = region or (defaults.region if start_url else None)
        session_name = session_name or defaults.session_name
        profile = None if start_url else defaults.profile
        scopes = defaults.scopes if scopes is None else scopes
    if endpoint is None:
        endpoint = defaults.endpoint
    settings: SSOSettings | None = None
    if profile is not None or start_url is None or (region is None and session_name):
        # The config file is read only when the arguments do not say everything; with
        # start_url and region given, session_name is just the name of the cache entry.
        # Lazy: the config reader (configparser, shlex) is needed only when the arguments
        # do not say where to sign in.
        from ._awsconfig import resolve_sso_settings

        settings = resolve_sso_settings(profile=profile, session_name=session_name)
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
    validate_region(chosen_region, known=True)
    chosen_scopes = list(scopes) if scopes is not None else None
    if chosen_scopes is None:
        chosen_scopes = list(settings.scopes) if settings else list(DEFAULT_SCOPES)
    if cache is False or cache is None or multi_visitor() is not None:
        # Many visitors, one owner's files: no visitor may read or write a shared cache.
        cache_dir, cache_enabled = None, False
    elif cache is True:
        cache_dir, cache_enabled = None, True
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
            # Only when the config file said where, and nothing in the arguments overrode it.
            legacy=bool(
                settings is not None
                and settings.legacy
                and scopes is None
                and not session_name
                and chosen_url == settings.start_url
            ),
        ),
        endpoint=None if endpoint is None else validate_endpoint(endpoint),
        portal_endpoint=(
            validate_endpoint(portal_endpoint)
            if portal_endpoint is not None
            else None
            if endpoint is None
            else validate_endpoint(endpoint)
        ),
        cache_dir=cache_dir,
        cache_enabled=cache_enabled,
        http_timeout=http_timeout,
        settings=settings,
        flow=flow,
        redirect_uri=redirect_uri,
    )


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
