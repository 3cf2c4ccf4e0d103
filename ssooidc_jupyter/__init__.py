"""Sign in to AWS IAM Identity Center from Jupyter.

Importing the package is nearly free: the error classes load at once, everything that needs
httpx (the clients) loads on first use, so ``%load_ext ssooidc_jupyter`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exceptions import (
    AccessDeniedException,
    AuthorizationPendingException,
    CacheError,
    CacheLockTimeout,
    CacheWarning,
    ConfigurationError,
    EndpointConnectionError,
    ExpiredTokenException,
    InternalServerException,
    InvalidClientException,
    InvalidClientMetadataException,
    InvalidGrantException,
    InvalidRedirectUriException,
    InvalidRegionError,
    InvalidRequestException,
    InvalidRequestRegionException,
    InvalidResponseError,
    InvalidScopeException,
    LoginCancelledError,
    LoginDeniedError,
    LoginError,
    LoginExpiredError,
    MissingDependencyError,
    ParamValidationError,
    RequestTimeoutError,
    ResourceNotFoundException,
    ServiceError,
    SessionEndedError,
    SlowDownException,
    SSOOIDCError,
    TooManyRequestsException,
    TransportError,
    UnauthorizedClientException,
    UnauthorizedException,
    UnsupportedGrantTypeException,
)

if TYPE_CHECKING:
    from ._secret import Secret
    from .auth._aws import Account, RoleCredentials
    from .auth._flow import DevicePrompt
    from .auth._iam import IAMToken, iam_token, iam_token_async
    from .auth._login import cancel_pending, login, login_async, session
    from .auth._token import SSOToken
    from .notebook._widget import LoginView, LoginWidget
    from .oidc._client import AsyncSSOOIDCClient, SSOOIDCClient, ssooidc

    # Read from the installed metadata on first access (its one source is package.json).
    __version__: str

# name -> module that defines it, imported on first attribute access (PEP 562).
_LAZY = {
    "SSOOIDCClient": ".oidc._client",
    "AsyncSSOOIDCClient": ".oidc._client",
    "ssooidc": ".oidc._client",
    "login": ".auth._login",
    "login_async": ".auth._login",
    "cancel_pending": ".auth._login",
    "session": ".auth._login",
    "SSOToken": ".auth._token",
    "Secret": "._secret",
    "DevicePrompt": ".auth._flow",
    "Account": ".auth._aws",
    "RoleCredentials": ".auth._aws",
    "IAMToken": ".auth._iam",
    "iam_token": ".auth._iam",
    "iam_token_async": ".auth._iam",
    "LoginView": ".notebook._widget",
    "LoginWidget": ".notebook._widget",
}

__all__ = [
    "AccessDeniedException",
    "Account",
    "AsyncSSOOIDCClient",
    "AuthorizationPendingException",
    "CacheError",
    "CacheLockTimeout",
    "CacheWarning",
    "ConfigurationError",
    "DevicePrompt",
    "EndpointConnectionError",
    "ExpiredTokenException",
    "IAMToken",
    "InternalServerException",
    "InvalidClientException",
    "InvalidClientMetadataException",
    "InvalidGrantException",
    "InvalidRedirectUriException",
    "InvalidRegionError",
    "InvalidRequestException",
    "InvalidRequestRegionException",
    "InvalidResponseError",
    "InvalidScopeException",
    "LoginCancelledError",
    "LoginDeniedError",
    "LoginError",
    "LoginExpiredError",
    "LoginView",
    "LoginWidget",
    "MissingDependencyError",
    "ParamValidationError",
    "RequestTimeoutError",
    "ResourceNotFoundException",
    "RoleCredentials",
    "SSOOIDCClient",
    "SSOOIDCError",
    "SSOToken",
    "Secret",
    "ServiceError",
    "SessionEndedError",
    "SlowDownException",
    "TooManyRequestsException",
    "TransportError",
    "UnauthorizedClientException",
    "UnauthorizedException",
    "UnsupportedGrantTypeException",
    "__version__",
    "cancel_pending",
    "iam_token",
    "iam_token_async",
    "load_ipython_extension",
    "login",
    "login_async",
    "session",
    "ssooidc",
    "unload_ipython_extension",
]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext ssooidc_jupyter``: register ``%ssooidc`` and the ``SSOOIDC`` configurable.

    Imports no httpx, ipywidgets, boto3 or botocore: they load at first use.
    """
    from .notebook._extension import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .notebook._extension import unload

    unload(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """``jupyter server extension enable ssooidc_jupyter``: the REST routes live in
    :mod:`ssooidc_jupyter.server` (imported by the server, not here)."""
    return [{"module": "ssooidc_jupyter.server"}]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from .oidc._version import package_version

        return package_version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"__version__"})
