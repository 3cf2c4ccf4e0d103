"""Everything the emulator knows, and the OAuth / portal rules that change it. No HTTP here.

One lock guards all of it: requests arrive on many server threads and the test thread calls
``approve``/``deny``/``expire_*`` concurrently, and the operations are tiny, so a single lock
is both correct and cheap.

Failures are raised as :class:`OAuthError` (named by their OAuth error code) or
:class:`PortalError`; the HTTP layer decides which modeled AWS shape and status they become.
"""

from __future__ import annotations

import base64
import hmac
import json
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import _tokens

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
AUTH_CODE_GRANT = "authorization_code"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a URN

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a URN
REFRESH_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:refresh_token"  # noqa: S105 - a URN

# What a public client (RegisterClient/CreateToken) may use; the other two are IAM-only.
PUBLIC_CLIENT_GRANTS = frozenset({DEVICE_CODE_GRANT, REFRESH_GRANT, AUTH_CODE_GRANT})
IAM_GRANTS = frozenset({AUTH_CODE_GRANT, REFRESH_GRANT, JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT})

# RFC 8628 section 3.5: each slow_down adds 5 seconds to the polling interval.
SLOW_DOWN_STEP = 5.0
# A poll that arrives this much early still counts as on time: timers and scheduling on a
# busy machine are not exact, and a client sleeping exactly `interval` must not be punished.
POLL_TOLERANCE = 0.01

IAM_ACCOUNT_ID = "111111111111"
IAM_CLIENT_ID = f"arn:aws:sso::{IAM_ACCOUNT_ID}:application/ssoins-emulator/apl-emulator"
# Fixed, well-known test credentials: tests and notebooks need to sign CreateTokenWithIAM
# without any setup. They unlock nothing but this emulator.
IAM_ACCESS_KEY_ID = "AKIAEMULATORIAMUSER1"
IAM_SECRET_ACCESS_KEY = "emulatorIamUserSecretKey/0000000000000000"  # noqa: S105

DEFAULT_SCOPES = ("sso:account:access",)
DEFAULT_IAM_SCOPES = ("openid", "aws", "sts:identity_context")

DEFAULT_ACCOUNTS: tuple[Mapping[str, Any], ...] = (
    {
        "accountId": "111111111111",
        "accountName": "Sandbox",
        "emailAddress": "sandbox@example.com",
        "roles": ["ReadOnly", "Administrator"],
    },
    {
        "accountId": "222222222222",
        "accountName": "Production",
        "emailAddress": "production@example.com",
        "roles": ["ReadOnly", "PowerUser"],
    },
)


class OAuthError(Exception):
    """An sso-oidc failure named by its OAuth error code (``invalid_grant``, ...)."""

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.description = description


class PortalError(Exception):
    """A portal (``sso``) failure; kind: ``unauthorized``, ``not_found``, ``invalid_request``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(kind)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Account:
    account_id: str
    account_name: str
    email_address: str
    roles: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "accountId": self.account_id,
            "accountName": self.account_name,
            "emailAddress": self.email_address,
            "roles": list(self.roles),
        }


@dataclass(frozen=True)
class Settings:
    region: str
    auto_approve: float | None
    interval: float
    code_ttl: float
    token_ttl: float
    role_credentials_ttl: float
    registration_ttl: float
    page_size: int
    user_name: str
    accounts: tuple[Account, ...]


@dataclass(frozen=True)
class ClientRegistration:
    client_id: str
    client_secret: str
    issued_at: int
    expires_at: int
    authorization_code: bool


@dataclass(frozen=True)
class DeviceAuthorization:
    device_code: str
    user_code: str
    expires_in: int
    interval: float


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_in: int
    refresh_token: str | None
    id_token: str
    scopes: tuple[str, ...]
    issued_token_type: str
    identity_context: str | None


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration_ms: int


@dataclass(frozen=True)
class SigningIdentity:
    """Credentials the emulator accepts for SigV4, and who they belong to (for STS)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None
    expires_at: float | None
    account_id: str
    arn: str
    user_id: str


@dataclass(frozen=True)
class UserCodeInfo:
    """What the verification page may show about a code (nothing secret)."""

    user_code: str
    client_name: str
    status: str


@dataclass
class _Registration:
    client_id: str
    client_secret: str
    client_name: str
    grant_types: frozenset[str] | None
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    issued_at: float
    expires_at: float


@dataclass
class _Device:
    device_code: str
    user_code: str
    client_id: str
    scopes: tuple[str, ...]
    created: float
    expires_at: float
    interval: float
    last_poll: float | None = None
    # pending -> approved|denied; approved -> consumed on the first successful poll.
    status: str = "pending"


@dataclass
class _Session:
    session_id: str
    client_id: str
    user_name: str
    logged_out: bool = False


@dataclass
class _AccessToken:
    session_id: str
    client_id: str
    expires_at: float


@dataclass
class _RefreshToken:
    session_id: str
    client_id: str
    scopes: tuple[str, ...]
    used: bool = False


@dataclass
class _AuthCode:
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    scopes: tuple[str, ...]
    expires_at: float
    used: bool = False


@dataclass
class _IssuedRole:
    identity: SigningIdentity
    role_name: str


@dataclass
class _Store:
    registrations: dict[str, _Registration] = field(default_factory=dict)
    devices: dict[str, _Device] = field(default_factory=dict)
    user_codes: dict[str, str] = field(default_factory=dict)  # user code -> device code
    user_code_order: list[str] = field(default_factory=list)
    sessions: dict[str, _Session] = field(default_factory=dict)
    access_tokens: dict[str, _AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, _RefreshToken] = field(default_factory=dict)
    auth_codes: dict[str, _AuthCode] = field(default_factory=dict)
    roles: dict[str, _IssuedRole] = field(default_factory=dict)  # access key id -> creds
    secrets: set[str] = field(default_factory=set)


def parse_accounts(accounts: Iterable[Mapping[str, Any]] | None) -> tuple[Account, ...]:
    """Validate the ``accounts`` constructor argument (ValueError on anything malformed)."""
    source = DEFAULT_ACCOUNTS if accounts is None else tuple(accounts)
    parsed: list[Account] = []
    seen: set[str] = set()
    for entry in source:
        if not isinstance(entry, Mapping):
            raise ValueError(f"each account must be a mapping, got {type(entry).__name__}")
        account_id = entry.get("accountId")
        if not isinstance(account_id, str) or len(account_id) != 12 or not account_id.isdigit():
            raise ValueError(f"accountId must be a 12-digit string, got {account_id!r}")
        if account_id in seen:
            raise ValueError(f"duplicate accountId {account_id!r}")
        seen.add(account_id)
        name = entry.get("accountName", account_id)
        email = entry.get("emailAddress", f"{account_id}@example.com")
        roles = entry.get("roles", [])
        if not isinstance(name, str) or not isinstance(email, str):
            raise ValueError("accountName and emailAddress must be strings")
        if isinstance(roles, str) or not all(isinstance(r, str) and r for r in roles):
            raise ValueError("roles must be a list of non-empty strings")
        parsed.append(Account(account_id, name, email, tuple(dict.fromkeys(roles))))
    return tuple(parsed)


def _ceil_seconds(value: float) -> int:
    # Wire fields such as expiresIn are integers, and tests use sub-second TTLs: round up so
    # the advertised lifetime is never shorter than the real one, and never reads as 0.
    return max(1, math.ceil(value))


def _required(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise OAuthError("invalid_request", f"Missing required parameter: {name}")
    if not isinstance(value, str):
        raise OAuthError("invalid_request", f"Invalid parameter: {name}")
    return value


def _optional(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise OAuthError("invalid_request", f"Invalid parameter: {name}")
    return value


def _scope_member(params: Mapping[str, Any], name: str) -> tuple[str, ...] | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        raise OAuthError("invalid_request", f"Invalid parameter: {name}")
    return tuple(value)


def _valid_redirect_uri(uri: str) -> bool:
    # AWS accepts https anywhere and plain http only on loopback (native-app pattern).
    parts = urlsplit(uri)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}


class EmulatorState:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.RLock()
        self._s = _Store()
        self._secret(IAM_SECRET_ACCESS_KEY)
        self._accounts = {a.account_id: a for a in settings.accounts}

    # -- bookkeeping ---------------------------------------------------------------------

    def _secret(self, value: str) -> str:
        self._s.secrets.add(value)
        return value

    @property
    def secrets(self) -> set[str]:
        with self._lock:
            return set(self._s.secrets)

    @property
    def user_codes(self) -> list[str]:
        with self._lock:
            return list(self._s.user_code_order)

    @property
    def accounts(self) -> tuple[Account, ...]:
        return self.settings.accounts

    # -- RegisterClient ------------------------------------------------------------------

    def register_client(self, params: Mapping[str, Any]) -> ClientRegistration:
        name = _required(params, "clientName")
        client_type = _required(params, "clientType")
        if client_type != "public":
            raise OAuthError("invalid_client_metadata", "Only public clients are supported")
        scopes = _scope_member(params, "scopes") or ()
        grants = _scope_member(params, "grantTypes")
        if grants is not None:
            unknown = [g for g in grants if g not in PUBLIC_CLIENT_GRANTS]
            if unknown:
                raise OAuthError("unsupported_grant_type", f"Unsupported grant type: {unknown[0]}")
        redirect_uris = _scope_member(params, "redirectUris") or ()
        for uri in redirect_uris:
            if not _valid_redirect_uri(uri):
                raise OAuthError("invalid_redirect_uri", "Invalid redirect URI")
        wants_code = grants is not None and AUTH_CODE_GRANT in grants
        if wants_code and not redirect_uris:
            raise OAuthError("invalid_redirect_uri", "authorization_code requires redirectUris")
        for member in ("issuerUrl", "entitledApplicationArn"):
            _optional(params, member)
        now = self._clock()
        with self._lock:
            reg = _Registration(
                client_id=_tokens.opaque("emu-client-", 18),
                client_secret=self._secret(_tokens.opaque("emu-secret-", 64)),
                client_name=name,
                grant_types=None if grants is None else frozenset(grants),
                redirect_uris=redirect_uris,
                scopes=scopes,
                issued_at=now,
                expires_at=now + self.settings.registration_ttl,
            )
            self._s.registrations[reg.client_id] = reg
        return ClientRegistration(
            client_id=reg.client_id,
            client_secret=reg.client_secret,
            issued_at=int(now),
            expires_at=int(reg.expires_at),
            authorization_code=wants_code,
        )

    def _authenticate(self, client_id: str, client_secret: str) -> _Registration:
        reg = self._s.registrations.get(client_id)
        # Constant-time compare: this is the one place a secret is checked against input.
        if reg is None or not hmac.compare_digest(
            reg.client_secret.encode(), client_secret.encode()
        ):
            raise OAuthError("invalid_client", "Invalid client credentials")
        if self._clock() >= reg.expires_at:
            raise OAuthError("invalid_client", "Client registration has expired")
        return reg

    def _check_grant_allowed(self, reg: _Registration, grant: str) -> None:
        # grantTypes restrict the *primary* grants only; refresh tokens are always issued and
        # honoured, so a client that registered just the device grant can still refresh.
        if grant == REFRESH_GRANT or reg.grant_types is None:
            return
        if grant not in reg.grant_types:
            raise OAuthError("unauthorized_client", f"Client is not authorized for {grant}")

    # -- StartDeviceAuthorization --------------------------------------------------------

    def start_device_authorization(self, params: Mapping[str, Any]) -> DeviceAuthorization:
        client_id = _required(params, "clientId")
        client_secret = _required(params, "clientSecret")
        _required(params, "startUrl")
        now = self._clock()
        with self._lock:
            reg = self._authenticate(client_id, client_secret)
            self._check_grant_allowed(reg, DEVICE_CODE_GRANT)
            code = _tokens.user_code()
            while code in self._s.user_codes:  # astronomically rare, but codes must be unique
                code = _tokens.user_code()
            device = _Device(
                device_code=self._secret(_tokens.opaque("emu-device-", 48)),
                user_code=code,
                client_id=client_id,
                scopes=reg.scopes,
                created=now,
                expires_at=now + self.settings.code_ttl,
                interval=float(self.settings.interval),
            )
            self._s.devices[device.device_code] = device
            self._s.user_codes[code] = device.device_code
            self._s.user_code_order.append(code)
        return DeviceAuthorization(
            device_code=device.device_code,
            user_code=code,
            expires_in=_ceil_seconds(self.settings.code_ttl),
            interval=self.settings.interval,
        )

    # -- approval (API and verification page) --------------------------------------------

    def _status(self, device: _Device, now: float) -> str:
        """Current status, applying expiry and auto-approval lazily (no timers needed)."""
        if device.status == "pending":
            auto = self.settings.auto_approve
            if auto is not None and now >= device.created + auto and now < device.expires_at:
                device.status = "approved"
        if device.status in {"pending", "approved", "denied"} and now >= device.expires_at:
            return "expired"
        return device.status

    def _device_for_user_code(self, user_code: str) -> _Device:
        normalized = _tokens.normalize_user_code(user_code) if isinstance(user_code, str) else None
        device_code = self._s.user_codes.get(normalized) if normalized else None
        if device_code is None:
            raise KeyError(f"unknown user code {user_code!r}")
        return self._s.devices[device_code]

    def _decide(self, user_code: str, decision: str, verb: str) -> None:
        with self._lock:
            device = self._device_for_user_code(user_code)
            status = self._status(device, self._clock())
            if status == decision:
                return  # idempotent: approving twice is harmless
            if status != "pending":
                raise ValueError(f"user code {device.user_code} is {status}; cannot {verb} it")
            device.status = decision

    def approve(self, user_code: str) -> None:
        """Approve a pending code. KeyError: never issued; ValueError: expired/used/denied."""
        self._decide(user_code, "approved", "approve")

    def deny(self, user_code: str) -> None:
        """Deny a pending code. KeyError: never issued; ValueError: expired/used/approved."""
        self._decide(user_code, "denied", "deny")

    def describe_user_code(self, user_code: str) -> UserCodeInfo | None:
        with self._lock:
            try:
                device = self._device_for_user_code(user_code)
            except KeyError:
                return None
            reg = self._s.registrations.get(device.client_id)
            return UserCodeInfo(
                user_code=device.user_code,
                client_name=reg.client_name if reg else "",
                status=self._status(device, self._clock()),
            )

    # -- CreateToken / CreateTokenWithIAM -------------------------------------------------

    def create_token(self, params: Mapping[str, Any]) -> TokenGrant:
        client_id = _required(params, "clientId")
        client_secret = _required(params, "clientSecret")
        grant = _required(params, "grantType")
        with self._lock:
            reg = self._authenticate(client_id, client_secret)
            if grant not in PUBLIC_CLIENT_GRANTS:
                raise OAuthError("unsupported_grant_type", f"Unsupported grant type: {grant}")
            self._check_grant_allowed(reg, grant)
            scopes = _scope_member(params, "scope")
            if grant == DEVICE_CODE_GRANT:
                device_code = _required(params, "deviceCode")
                return self._poll_device(reg, device_code)
            if grant == REFRESH_GRANT:
                return self._refresh(client_id, params, scopes, iam=False)
            return self._redeem_code(client_id, params, scopes, iam=False)

    def create_token_with_iam(self, params: Mapping[str, Any]) -> TokenGrant:
        client_id = _required(params, "clientId")
        grant = _required(params, "grantType")
        with self._lock:
            if client_id != IAM_CLIENT_ID:
                raise OAuthError("invalid_client", "Unknown application ARN")
            if grant not in IAM_GRANTS:
                raise OAuthError("unsupported_grant_type", f"Unsupported grant type: {grant}")
            scopes = _scope_member(params, "scope")
            if grant == REFRESH_GRANT:
                return self._refresh(client_id, params, scopes, iam=True)
            if grant == AUTH_CODE_GRANT:
                return self._redeem_code(client_id, params, scopes, iam=True)
            if grant == JWT_BEARER_GRANT:
                return self._jwt_bearer(client_id, params, scopes)
            return self._token_exchange(client_id, params, scopes)

    def _poll_device(self, reg: _Registration, device_code: str) -> TokenGrant:
        now = self._clock()
        device = self._s.devices.get(device_code)
        if device is None or device.client_id != reg.client_id:
            raise OAuthError("invalid_grant", "Invalid device code provided")
        if device.status == "consumed":
            raise OAuthError("invalid_grant", "Device code has already been used")
        status = self._status(device, now)
        if status == "expired":
            raise OAuthError("expired_token", "Device code has expired")
        # RFC 8628 slow_down: measured from the previous poll of this code (every poll
        # counts, the first one has nothing to be measured against), whatever the approval.
        previous, device.last_poll = device.last_poll, now
        if previous is not None and now - previous + POLL_TOLERANCE < device.interval:
            device.interval += SLOW_DOWN_STEP
            raise OAuthError("slow_down", "Client is polling too quickly")
        if status == "denied":
            raise OAuthError("access_denied", "The user denied the authorization request")
        if status == "pending":
            raise OAuthError("authorization_pending", "Authorization is still pending")
        device.status = "consumed"
        session = self._new_session(reg.client_id, self.settings.user_name)
        return self._issue(session, reg.client_id, device.scopes or DEFAULT_SCOPES, iam=False)

    def _refresh(
        self,
        client_id: str,
        params: Mapping[str, Any],
        scopes: tuple[str, ...] | None,
        *,
        iam: bool,
    ) -> TokenGrant:
        token = _required(params, "refreshToken")
        record = self._s.refresh_tokens.get(token)
        if record is None or record.client_id != client_id:
            raise OAuthError("invalid_grant", "Invalid refresh token provided")
        if record.used:
            raise OAuthError("invalid_grant", "Refresh token has already been used")
        session = self._s.sessions[record.session_id]
        if session.logged_out:
            raise OAuthError("invalid_grant", "Session has ended")
        if scopes is not None and not set(scopes) <= set(record.scopes):
            raise OAuthError("invalid_scope", "Requested scope exceeds the original grant")
        # Rotation: the presented refresh token dies now; the new one replaces it.
        record.used = True
        return self._issue(
            session, client_id, scopes or record.scopes, iam=iam, issued_type=REFRESH_TOKEN_TYPE
        )

    def _redeem_code(
        self,
        client_id: str,
        params: Mapping[str, Any],
        scopes: tuple[str, ...] | None,
        *,
        iam: bool,
    ) -> TokenGrant:
        code = _required(params, "code")
        redirect_uri = _optional(params, "redirectUri")
        verifier = _optional(params, "codeVerifier")
        record = self._s.auth_codes.get(code)
        if record is None or record.client_id != client_id:
            raise OAuthError("invalid_grant", "Invalid authorization code provided")
        if record.used:
            raise OAuthError("invalid_grant", "Authorization code has already been used")
        # Any redemption attempt burns the code, so a guessed verifier gets one try only.
        record.used = True
        if self._clock() >= record.expires_at:
            raise OAuthError("invalid_grant", "Authorization code has expired")
        if redirect_uri != record.redirect_uri:
            raise OAuthError("invalid_grant", "redirectUri does not match the authorization")
        if record.code_challenge is not None and (
            verifier is None
            or not hmac.compare_digest(_tokens.pkce_s256(verifier), record.code_challenge)
        ):
            raise OAuthError("invalid_grant", "PKCE code verifier does not match")
        session = self._new_session(client_id, self.settings.user_name)
        default = DEFAULT_IAM_SCOPES if iam else DEFAULT_SCOPES
        return self._issue(session, client_id, scopes or record.scopes or default, iam=iam)

    def _jwt_bearer(
        self, client_id: str, params: Mapping[str, Any], scopes: tuple[str, ...] | None
    ) -> TokenGrant:
        assertion = _required(params, "assertion")
        parts = assertion.split(".")
        subject: object = None
        if len(parts) == 3:
            try:
                _tokens.b64url_decode(parts[2])
                json.loads(_tokens.b64url_decode(parts[0]))
                payload = json.loads(_tokens.b64url_decode(parts[1]))
            except ValueError:  # covers binascii.Error, UnicodeDecodeError and JSON errors
                payload = None
            if isinstance(payload, dict):
                subject = payload.get("sub")
        if not isinstance(subject, str) or not subject:
            raise OAuthError("invalid_grant", "Invalid JWT assertion")
        session = self._new_session(client_id, subject)
        return self._issue(session, client_id, scopes or DEFAULT_IAM_SCOPES, iam=True)

    def _token_exchange(
        self, client_id: str, params: Mapping[str, Any], scopes: tuple[str, ...] | None
    ) -> TokenGrant:
        subject = _required(params, "subjectToken")
        subject_type = _required(params, "subjectTokenType")
        requested = _optional(params, "requestedTokenType")
        if subject_type != ACCESS_TOKEN_TYPE:
            raise OAuthError("invalid_request", "Unsupported subjectTokenType")
        if requested is not None and requested != ACCESS_TOKEN_TYPE:
            raise OAuthError("invalid_request", "Unsupported requestedTokenType")
        session = self._live_session(subject)
        if session is None:
            raise OAuthError("invalid_grant", "Invalid subject token provided")
        return self._issue(
            session, client_id, scopes or DEFAULT_IAM_SCOPES, iam=True, with_refresh=False
        )

    def _new_session(self, client_id: str, user_name: str) -> _Session:
        session = _Session(session_id=uuid.uuid4().hex, client_id=client_id, user_name=user_name)
        self._s.sessions[session.session_id] = session
        return session

    def _issue(
        self,
        session: _Session,
        client_id: str,
        scopes: Sequence[str],
        *,
        iam: bool,
        with_refresh: bool = True,
        issued_type: str = ACCESS_TOKEN_TYPE,
    ) -> TokenGrant:
        now = self._clock()
        ttl = self.settings.token_ttl
        access = self._secret(_tokens.opaque("aoa", 96))
        self._s.access_tokens[access] = _AccessToken(session.session_id, client_id, now + ttl)
        refresh: str | None = None
        if with_refresh:
            refresh = self._secret(_tokens.opaque("aor", 96))
            self._s.refresh_tokens[refresh] = _RefreshToken(
                session.session_id, client_id, tuple(scopes)
            )
        claims: dict[str, object] = {
            "iss": "https://identitycenter.emulator.invalid",
            "sub": session.user_name,
            "aud": client_id,
            "iat": int(now),
            "exp": int(now + ttl),
            "jti": uuid.uuid4().hex,
        }
        context: str | None = None
        if iam:
            context = self._secret(
                "emu-ctx-" + base64.urlsafe_b64encode(uuid.uuid4().bytes * 3).decode()
            )
            claims["sts:identity_context"] = context
        id_token = self._secret(_tokens.jwt_shaped(claims))
        return TokenGrant(
            access_token=access,
            expires_in=_ceil_seconds(ttl),
            refresh_token=refresh,
            id_token=id_token,
            scopes=tuple(scopes),
            issued_token_type=issued_type,
            identity_context=context,
        )

    # -- authorization codes (Python API) ------------------------------------------------

    def issue_authorization_code(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        code_challenge: str | None,
        scopes: Sequence[str] = (),
    ) -> str:
        if not isinstance(redirect_uri, str) or not redirect_uri:
            raise ValueError("redirect_uri must be a non-empty string")
        if code_challenge is not None and (
            not isinstance(code_challenge, str) or not 43 <= len(code_challenge) <= 128
        ):
            raise ValueError("code_challenge must be an S256 challenge (43-128 characters)")
        with self._lock:
            code = self._secret(_tokens.opaque("emu-code-", 32))
            self._s.auth_codes[code] = _AuthCode(
                client_id=client_id,
                redirect_uri=redirect_uri,
                code_challenge=code_challenge,
                scopes=tuple(scopes),
                expires_at=self._clock() + self.settings.code_ttl,
            )
            return code

    # -- portal ---------------------------------------------------------------------------

    def _live_session(self, access_token: str) -> _Session | None:
        record = self._s.access_tokens.get(access_token)
        if record is None or self._clock() >= record.expires_at:
            return None
        session = self._s.sessions[record.session_id]
        return None if session.logged_out else session

    def _portal_session(self, access_token: str | None) -> _Session:
        session = self._live_session(access_token) if access_token else None
        if session is None:
            raise PortalError("unauthorized", "Session token not found or invalid")
        return session

    def client_for_token(self, access_token: str | None) -> str | None:
        """The client id behind a bearer token, for request records (None if unknown)."""
        if not access_token:
            return None
        with self._lock:
            record = self._s.access_tokens.get(access_token)
            return record.client_id if record else None

    def _page(
        self, items: Sequence[Any], scope: str, next_token: str | None, max_results: int | None
    ) -> tuple[list[Any], str | None]:
        size = self.settings.page_size if max_results is None else max_results
        start = 0
        if next_token is not None:
            # The token is opaque to clients but bound to what it paginates, so a token from
            # ListAccounts cannot be replayed against ListAccountRoles.
            try:
                kind, _, offset = _tokens.b64url_decode(next_token).decode().rpartition(":")
                start = int(offset)
            except ValueError:
                kind, start = "", -1
            if kind != scope or not 0 <= start <= len(items):
                raise PortalError("invalid_request", "Invalid nextToken")
        end = start + size
        token = None
        if end < len(items):
            token = _tokens.b64url(f"{scope}:{end}".encode())
        return list(items[start:end]), token

    def list_accounts(
        self, access_token: str | None, next_token: str | None, max_results: int | None
    ) -> tuple[list[Account], str | None]:
        with self._lock:
            self._portal_session(access_token)
            return self._page(self.settings.accounts, "accounts", next_token, max_results)

    def list_account_roles(
        self,
        access_token: str | None,
        account_id: str | None,
        next_token: str | None,
        max_results: int | None,
    ) -> tuple[list[str], str | None]:
        with self._lock:
            self._portal_session(access_token)
            if not account_id:
                raise PortalError("invalid_request", "account_id is required")
            account = self._accounts.get(account_id)
            if account is None:
                raise PortalError("not_found", "Account not found")
            return self._page(account.roles, f"roles/{account_id}", next_token, max_results)

    def get_role_credentials(
        self, access_token: str | None, account_id: str | None, role_name: str | None
    ) -> RoleCredentials:
        with self._lock:
            session = self._portal_session(access_token)
            if not account_id or not role_name:
                raise PortalError("invalid_request", "role_name and account_id are required")
            account = self._accounts.get(account_id)
            if account is None or role_name not in account.roles:
                raise PortalError("not_found", "No access")
            expires_at = self._clock() + self.settings.role_credentials_ttl
            session_token = self._secret(_tokens.session_token())
            identity = SigningIdentity(
                access_key_id=_tokens.access_key_id("ASIA"),
                secret_access_key=self._secret(_tokens.secret_access_key()),
                session_token=session_token,
                expires_at=expires_at,
                account_id=account_id,
                arn=role_arn(account_id, role_name, session.user_name),
                user_id=f"{role_id(account_id, role_name)}:{session.user_name}",
            )
            self._s.roles[identity.access_key_id] = _IssuedRole(identity, role_name)
            return RoleCredentials(
                access_key_id=identity.access_key_id,
                secret_access_key=identity.secret_access_key,
                session_token=session_token,
                expiration_ms=int(expires_at * 1000),
            )

    def logout(self, access_token: str | None) -> None:
        with self._lock:
            # Ending the session kills every access and refresh token derived from it;
            # role credentials already handed out stay valid until they expire, as on AWS.
            self._portal_session(access_token).logged_out = True

    # -- SigV4 identities -----------------------------------------------------------------

    def signing_identity(self, access_key_id: str) -> SigningIdentity | None:
        if access_key_id == IAM_ACCESS_KEY_ID:
            return SigningIdentity(
                access_key_id=IAM_ACCESS_KEY_ID,
                secret_access_key=IAM_SECRET_ACCESS_KEY,
                session_token=None,
                expires_at=None,
                account_id=IAM_ACCOUNT_ID,
                arn=f"arn:aws:iam::{IAM_ACCOUNT_ID}:user/{self.settings.user_name}",
                user_id=_tokens.stable_key("AIDA", IAM_ACCOUNT_ID, self.settings.user_name),
            )
        with self._lock:
            issued = self._s.roles.get(access_key_id)
            return issued.identity if issued else None

    # -- test helpers ----------------------------------------------------------------------

    def expire_registration(self, client_id: str) -> None:
        with self._lock:
            reg = self._s.registrations.get(client_id)
            if reg is None:
                raise KeyError(f"unknown client id {client_id!r}")
            reg.expires_at = self._clock() - 1

    def expire_access_token(self, token: str) -> None:
        with self._lock:
            record = self._s.access_tokens.get(token)
            if record is None:
                # Never echo the value: it is (or looks like) a secret.
                raise KeyError("unknown access token")
            record.expires_at = self._clock() - 1


def role_id(account_id: str, role_name: str) -> str:
    return _tokens.stable_key("AROA", account_id, role_name)


def role_arn(account_id: str, role_name: str, user_name: str) -> str:
    suffix = _tokens.stable_hex(account_id, role_name)
    return f"arn:aws:sts::{account_id}:assumed-role/AWSReservedSSO_{role_name}_{suffix}/{user_name}"
