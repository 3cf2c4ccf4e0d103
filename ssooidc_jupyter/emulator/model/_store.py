"""Everything the emulator knows: the records, the single lock that guards them, and the
words the services speak (the wire enums and the errors they raise).

Requests arrive on many server threads while the test thread calls ``approve``/``deny``/
``expire_*``; every operation is tiny, so one lock over all records is both correct and
cheap. It is re-entrant because a service may call another while holding it (CreateToken
polls a device code and mints tokens in one atomic step).

Secret fields are excluded from every ``repr``: records end up in tracebacks and debuggers.
The errors say *what* failed; the HTTP layer decides their wire shape and status.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ._settings import ACCOUNT_ACCESS_SCOPE, IAM_SECRET_ACCESS_KEY, Settings


class WireEnum(str, enum.Enum):
    """A ``str`` enum whose ``str()`` and ``format()`` are its value, on every Python.

    The members compare equal to their wire strings (so callers may keep passing plain
    strings), and formatting one into a message or a URL never yields ``Class.MEMBER``:
    Python 3.12 changed ``format()`` of mixed-in enums to follow ``Enum.__str__``.
    """

    def __str__(self) -> str:
        return str.__str__(self)


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


class GrantType(WireEnum):
    DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
    REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a grant name
    AUTHORIZATION_CODE = "authorization_code"
    JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a URN


# What a public client (RegisterClient/CreateToken) may use; the other two are IAM-only.
PUBLIC_CLIENT_GRANTS = frozenset(
    {GrantType.DEVICE_CODE, GrantType.REFRESH_TOKEN, GrantType.AUTHORIZATION_CODE}
)
IAM_GRANTS = frozenset(
    {
        GrantType.AUTHORIZATION_CODE,
        GrantType.REFRESH_TOKEN,
        GrantType.JWT_BEARER,
        GrantType.TOKEN_EXCHANGE,
    }
)


class TokenType(WireEnum):
    ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a URN
    REFRESH_TOKEN = "urn:ietf:params:oauth:token-type:refresh_token"  # noqa: S105 - a URN


class DeviceStatus(WireEnum):
    """pending -> approved | denied; approved -> consumed by the first successful poll.

    ``expired`` is never stored: it is derived from the clock whenever a code is looked at.
    """

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    CONSUMED = "consumed"
    EXPIRED = "expired"


@dataclass
class Registration:
    client_id: str
    client_secret: str = field(repr=False)
    client_name: str
    grant_types: frozenset[GrantType] | None  # None: registered without grantTypes
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    issued_at: float
    expires_at: float

    @property
    def refreshable(self) -> bool:
        """Whether CreateToken issues refresh tokens to this client (see ACCOUNT_ACCESS_SCOPE)."""
        return ACCOUNT_ACCESS_SCOPE in self.scopes


@dataclass
class Device:
    device_code: str = field(repr=False)
    user_code: str
    client_id: str
    scopes: tuple[str, ...]
    created: float
    expires_at: float
    interval: float
    last_poll: float | None = None
    status: DeviceStatus = DeviceStatus.PENDING


@dataclass
class Session:
    session_id: str
    client_id: str
    user_name: str
    logged_out: bool = False


@dataclass
class AccessToken:
    session_id: str
    client_id: str
    expires_at: float


@dataclass
class RefreshToken:
    session_id: str
    client_id: str
    scopes: tuple[str, ...]
    used: bool = False


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    scopes: tuple[str, ...]
    expires_at: float
    used: bool = False


@dataclass
class Consent:
    """A validated /authorize request waiting for the person's Approve or Deny."""

    consent_id: str = field(repr=False)
    client_id: str
    client_name: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None = field(repr=False)
    code_challenge: str
    expires_at: float
    decided: bool = False


@dataclass(frozen=True)
class SigningIdentity:
    """Credentials the emulator accepts for SigV4, and who they belong to (for STS)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(repr=False)
    expires_at: float | None
    account_id: str
    arn: str
    user_id: str


class Store:
    def __init__(self, settings: Settings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock
        self.lock = threading.RLock()
        self.registrations: dict[str, Registration] = {}
        self.devices: dict[str, Device] = {}  # device code -> device
        self.user_codes: dict[str, str] = {}  # user code -> device code
        self.user_code_order: list[str] = []
        self.sessions: dict[str, Session] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self.consents: dict[str, Consent] = {}
        self.roles: dict[str, SigningIdentity] = {}  # access key id -> issued role creds
        self._secrets: set[str] = set()
        self.secret(IAM_SECRET_ACCESS_KEY)

    def secret(self, value: str) -> str:
        """Remember ``value`` as secret (for ``Emulator.secrets``) and return it."""
        with self.lock:
            self._secrets.add(value)
        return value

    def secrets(self) -> set[str]:
        with self.lock:
            return set(self._secrets)

    def __repr__(self) -> str:
        return f"<Store registrations={len(self.registrations)} sessions={len(self.sessions)}>"
