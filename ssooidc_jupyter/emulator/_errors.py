"""The failures the services raise; the HTTP layer decides their wire shape and status."""

from __future__ import annotations

from ._enum import WireEnum


class OAuthErrorCode(WireEnum):
    """The OAuth ``error`` codes sso-oidc answers with (each has a modeled exception)."""

    AUTHORIZATION_PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    EXPIRED_TOKEN = "expired_token"  # noqa: S105 - an error code
    ACCESS_DENIED = "access_denied"
    INVALID_CLIENT = "invalid_client"
    INVALID_GRANT = "invalid_grant"
    INVALID_REQUEST = "invalid_request"
    INVALID_SCOPE = "invalid_scope"
    UNAUTHORIZED_CLIENT = "unauthorized_client"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    INVALID_CLIENT_METADATA = "invalid_client_metadata"
    INVALID_REDIRECT_URI = "invalid_redirect_uri"
    INVALID_REQUEST_REGION = "invalid_request_region"
    SERVER_ERROR = "server_error"
    # Only ever sent to a redirect URI by /authorize (RFC 6749 section 4.1.2.1), never as an
    # API error: sso-oidc has no modeled exception for it.
    UNSUPPORTED_RESPONSE_TYPE = "unsupported_response_type"


class OAuthError(Exception):
    """An sso-oidc failure named by its OAuth error code (``invalid_grant``, ...)."""

    def __init__(self, error: OAuthErrorCode, description: str | None = None) -> None:
        super().__init__(error.value)
        self.error = error
        self.description = description


class PortalErrorKind(WireEnum):
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    INVALID_REQUEST = "invalid_request"


class PortalError(Exception):
    """A portal (``sso``) failure; the kind picks the modeled exception."""

    def __init__(self, kind: PortalErrorKind, message: str) -> None:
        super().__init__(kind.value)
        self.kind = kind
        self.message = message
