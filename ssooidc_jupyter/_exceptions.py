"""The error tree of ssooidc-jupyter.

Every error the package raises on purpose derives from :class:`SSOOIDCError`::

    SSOOIDCError
    ├── ConfigurationError            bad region, endpoint, credentials or config file
    │   ├── InvalidRegionError        a region that is not a region name
    │   └── ParamValidationError      unknown, missing or mistyped operation parameters
    ├── MissingDependencyError        an optional extra (``aws``) is not installed
    ├── TransportError                the request never got a usable answer
    │   ├── EndpointConnectionError   refused, reset or dropped connection
    │   ├── RequestTimeoutError       connect or read timeout
    │   └── InvalidResponseError      HTML, empty or truncated body, unknown status
    ├── ServiceError                  the service answered with an error shape
    │   ├── AuthorizationPendingException … InternalServerException (one per sso-oidc shape)
    │   ├── UnauthorizedException, TooManyRequestsException, ResourceNotFoundException
    │   │                             (the portal's shapes, with InvalidRequestException)
    │   └── (unmodeled codes are raised as ServiceError itself)
    ├── CacheError                    the token cache cannot be written (or locked)
    │   └── CacheLockTimeout          another process held the cache lock too long
    │                                 (also a ``TimeoutError``)
    └── LoginError                    the device login did not end signed in
        ├── LoginCancelledError       cancelled by the user (Cancel, interrupt)
        ├── LoginDeniedError          denied on the verification page
        ├── LoginExpiredError         the user code expired before approval
        └── SessionEndedError         the IAM Identity Center session ended (refresh refused)

One warning, not an error (the call goes on without the file)::

    UserWarning
    └── CacheWarning                  a cache file or directory cannot be used (corrupt,
                                      foreign, unreadable, unwritable): treated as absent

Messages never contain a secret: they name the operation, the status and what to do.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "MODELED_EXCEPTIONS",
    "PORTAL_EXCEPTIONS",
    "AccessDeniedException",
    "AuthorizationPendingException",
    "CacheError",
    "CacheLockTimeout",
    "CacheWarning",
    "ConfigurationError",
    "EndpointConnectionError",
    "ExpiredTokenException",
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
    "MissingDependencyError",
    "ParamValidationError",
    "RequestTimeoutError",
    "ResourceNotFoundException",
    "SSOOIDCError",
    "ServiceError",
    "SessionEndedError",
    "SlowDownException",
    "TooManyRequestsException",
    "TransportError",
    "UnauthorizedClientException",
    "UnauthorizedException",
    "UnsupportedGrantTypeException",
]


class SSOOIDCError(Exception):
    """Root of every error raised by ssooidc-jupyter."""


class ConfigurationError(SSOOIDCError, ValueError):
    """The client or login was configured with something unusable."""


class InvalidRegionError(ConfigurationError):
    """A region that is not an AWS region name; refused before any request."""


class ParamValidationError(ConfigurationError, TypeError):
    """An operation was called with unknown, missing or mistyped parameters (nothing sent)."""


class MissingDependencyError(SSOOIDCError, ImportError):
    """An optional dependency (the ``aws`` extra) is needed for this call."""


class CacheError(SSOOIDCError):
    """The token cache could not be written (the previous file is left intact)."""


class CacheLockTimeout(CacheError, TimeoutError):
    """Another process held the cache lock for longer than the timeout."""


class CacheWarning(UserWarning):
    """A cache file exists but cannot be used (corrupt, truncated, foreign or unreadable)."""


class TransportError(SSOOIDCError):
    """The request did not get a usable answer from the service.

    ``operation`` names the API call; ``status_code`` is the HTTP status when there was one.
    """

    def __init__(self, message: str, *, operation: str = "", status_code: int | None = None):
        super().__init__(message)
        self.operation = operation
        self.status_code = status_code


class EndpointConnectionError(TransportError):
    """The connection was refused, reset or dropped before a full response arrived."""


class RequestTimeoutError(TransportError):
    """Connecting or reading the response took longer than the configured timeout."""


class InvalidResponseError(TransportError):
    """The service (or a proxy in front of it) answered with something that is not its API."""


class ServiceError(SSOOIDCError):
    """The service answered with an error shape.

    Attributes mirror what the service sent: ``code`` is the shape name (for example
    ``"AuthorizationPendingException"``), ``error`` the OAuth error code
    (``"authorization_pending"``), ``error_description`` the optional text (may be ``None``),
    ``status_code`` the HTTP status and ``request_id`` the ``x-amzn-RequestId`` header.
    Other members of the error body (``reason``, ``endpoint``, ``region``) are in ``details``.
    """

    code: str = ""

    def __init__(
        self,
        *,
        operation: str,
        code: str | None = None,
        error: str | None = None,
        error_description: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
    ):
        if code is not None:
            self.code = code
        self.operation = operation
        self.error = error
        self.error_description = error_description
        self.status_code = status_code
        self.request_id = request_id
        self.details = dict(details or {})
        super().__init__(self._message())

    def _message(self) -> str:
        what = self.error or self.code
        text = f"{self.operation} failed: {self.code} ({what}, HTTP {self.status_code})"
        if self.error_description:
            text += f": {self.error_description}"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only __init__: pickle (used by multiprocessing) needs help.
        return (
            _rebuild_service_error,
            (
                type(self),
                {
                    "operation": self.operation,
                    "code": self.code,
                    "error": self.error,
                    "error_description": self.error_description,
                    "status_code": self.status_code,
                    "request_id": self.request_id,
                    "details": self.details,
                },
            ),
        )


def _rebuild_service_error(cls: type[ServiceError], kwargs: dict[str, Any]) -> ServiceError:
    return cls(**kwargs)


class AuthorizationPendingException(ServiceError):
    """The user has not yet approved (or denied) the device authorization."""

    code = "AuthorizationPendingException"


class SlowDownException(ServiceError):
    """The client polled faster than the interval; poll 5 seconds slower from now on."""

    code = "SlowDownException"


class ExpiredTokenException(ServiceError):
    """The device code (or token) has expired."""

    code = "ExpiredTokenException"


class AccessDeniedException(ServiceError):
    """The user denied the request, or the caller may not do this."""

    code = "AccessDeniedException"


class InvalidClientException(ServiceError):
    """The client registration is unknown, expired or its secret is wrong."""

    code = "InvalidClientException"


class InvalidGrantException(ServiceError):
    """The grant (device code, refresh token, auth code) is invalid, used or expired."""

    code = "InvalidGrantException"


class InvalidRequestException(ServiceError):
    """A required parameter is missing or a parameter is malformed."""

    code = "InvalidRequestException"


class InvalidScopeException(ServiceError):
    """A requested scope is not valid for this client."""

    code = "InvalidScopeException"


class UnauthorizedClientException(ServiceError):
    """The client is not authorized for this grant type or operation."""

    code = "UnauthorizedClientException"


class UnsupportedGrantTypeException(ServiceError):
    """The grant type is not supported by the service."""

    code = "UnsupportedGrantTypeException"


class InvalidClientMetadataException(ServiceError):
    """The client metadata sent to RegisterClient is invalid."""

    code = "InvalidClientMetadataException"


class InvalidRedirectUriException(ServiceError):
    """A redirect URI sent to RegisterClient is invalid."""

    code = "InvalidRedirectUriException"


class InvalidRequestRegionException(ServiceError):
    """The request was sent to a region other than the IAM Identity Center instance's."""

    code = "InvalidRequestRegionException"


class InternalServerException(ServiceError):
    """The service failed internally; retried automatically before it reaches you."""

    code = "InternalServerException"


MODELED_EXCEPTIONS: dict[str, type[ServiceError]] = {
    cls.code: cls
    for cls in (
        AuthorizationPendingException,
        SlowDownException,
        ExpiredTokenException,
        AccessDeniedException,
        InvalidClientException,
        InvalidGrantException,
        InvalidRequestException,
        InvalidScopeException,
        UnauthorizedClientException,
        UnsupportedGrantTypeException,
        InvalidClientMetadataException,
        InvalidRedirectUriException,
        InvalidRequestRegionException,
        InternalServerException,
    )
}


class UnauthorizedException(ServiceError):
    """The AWS access portal refused the access token: signed out (also from another tool or
    the portal's web page), or expired. A new sign-in is needed."""

    code = "UnauthorizedException"

    def _message(self) -> str:
        return (
            f"{super()._message().rstrip('.')}. The token is not valid for the AWS access "
            "portal (signed out, or expired): sign in again (%ssooidc login, or "
            "ssooidc_jupyter.login())."
        )


class TooManyRequestsException(ServiceError):
    """The portal throttled the caller; retried automatically before it reaches you."""

    code = "TooManyRequestsException"


class ResourceNotFoundException(ServiceError):
    """The portal knows no such account or role for this user."""

    code = "ResourceNotFoundException"


#: The portal's (``sso``) modeled errors, as botocore's ``sso`` model lists them.
PORTAL_EXCEPTIONS: dict[str, type[ServiceError]] = {
    cls.code: cls
    for cls in (
        InvalidRequestException,
        UnauthorizedException,
        TooManyRequestsException,
        ResourceNotFoundException,
    )
}

# OAuth 2.0 error codes (the body's "error" member) to shapes, for answers without the
# x-amzn-ErrorType header: the header wins when both are present, as in botocore.
OAUTH_ERROR_TO_SHAPE: dict[str, str] = {
    "authorization_pending": "AuthorizationPendingException",
    "slow_down": "SlowDownException",
    "expired_token": "ExpiredTokenException",
    "access_denied": "AccessDeniedException",
    "invalid_client": "InvalidClientException",
    "invalid_grant": "InvalidGrantException",
    "invalid_request": "InvalidRequestException",
    "invalid_scope": "InvalidScopeException",
    "unauthorized_client": "UnauthorizedClientException",
    "unsupported_grant_type": "UnsupportedGrantTypeException",
    "invalid_client_metadata": "InvalidClientMetadataException",
    "invalid_redirect_uri": "InvalidRedirectUriException",
    "invalid_request_region": "InvalidRequestRegionException",
    "server_error": "InternalServerException",
}


class LoginError(SSOOIDCError):
    """The device login did not end signed in."""


class LoginCancelledError(LoginError):
    """The user cancelled the sign-in (Cancel button, ``%ssooidc cancel``, interrupt)."""


class LoginDeniedError(LoginError):
    """The user denied the request on the verification page."""


class LoginExpiredError(LoginError):
    """The user code expired before it was approved."""


class SessionEndedError(LoginError):
    """The IAM Identity Center session has ended: the refresh token was refused."""
