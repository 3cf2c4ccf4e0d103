"""What the SSO cache holds, and under which names: tokens, client registrations, keys.

Pure data: no file, no lock, no clock of its own, so the I/O-free flow (``_flow``) can import
it without dragging in files, locks or asyncio. The shapes are exactly botocore's
(``SSOTokenLoader`` / ``SSOTokenProvider``) and the AWS CLI v2's (``SSOTokenFetcher``), so a
token written through this package is read by ``aws`` and boto3, and the other way round.

How each JSON member is read and written (timestamps, typed members) is ``_cachejson.py``'s;
this module holds the cached objects and the keys they are filed under.

Nothing here ever puts a token, refresh token or client secret in a ``repr`` or an error.
The secret members are held as :class:`~.._secret.Secret` (wrapped as a file is read, or as
a model is built from plain strings) and unwrapped only by ``to_json``, for the cache file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .._redact import register_secret
from .._secret import Secret, as_optional_secret, as_secret, reveal
from ._cachejson import (
    as_utc,
    format_timestamp,
    now_utc,
    optional_secret,
    optional_str,
    optional_timestamp,
    parse_timestamp,
    required_secret,
    required_str,
    required_timestamp,
    string_list,
)

__all__ = [
    "DEFAULT_SCOPES",
    "REGISTRATION_EXPIRY_WINDOW",
    "CachedRegistration",
    "CachedToken",
    "format_timestamp",
    "legacy_registration_key",
    "parse_timestamp",
    "registration_cache_key",
    "token_cache_key",
]

#: What a client registers for when ``sso_registration_scopes`` is not configured: the scope
#: that lets the token call the SSO portal API (``GetRoleCredentials``) and be refreshed.
DEFAULT_SCOPES: tuple[str, ...] = ("sso:account:access",)

#: The CLI treats a registration as expired 15 minutes early (``_EXPIRY_WINDOW``).
REGISTRATION_EXPIRY_WINDOW = timedelta(minutes=15)


# -- keys ---------------------------------------------------------------------------------


def token_cache_key(session_name: str | None, start_url: str) -> str:
    """The token file name (without ``.json``) botocore and the CLI use.

    sha1 of the sso-session name, or of the start URL for legacy profiles that have none
    (``botocore.utils.SSOTokenLoader._generate_cache_key``).
    """
    input_str = start_url if session_name is None else session_name
    # sha1 is botocore's choice of file name, not a security measure.
    return hashlib.sha1(input_str.encode("utf-8"), usedforsecurity=False).hexdigest()


def legacy_registration_key(region: str) -> str:
    """The registration file name the AWS CLI uses for legacy profiles (no sso-session):
    ``botocore-client-id-<region>`` (``SSOTokenFetcher._registration``), shared by every
    legacy sign-in in that region."""
    return f"botocore-client-id-{region}"


def registration_cache_key(
    *,
    start_url: str,
    region: str,
    scopes: Sequence[str] | None,
    session_name: str | None,
) -> str:
    """The client-registration file name the AWS CLI v2 uses.

    ``BaseSSOTokenFetcher._registration_cache_key`` in the CLI's botocore: all five members
    are always present (``None`` becomes JSON ``null``), default ``json.dumps`` separators,
    ``sort_keys=True``. ``scopes=None`` (no ``sso_registration_scopes`` in the config) and
    ``scopes=[]`` give different keys, exactly as in the CLI.
    """
    args = {
        "tool": "botocore",
        "startUrl": start_url,
        "region": region,
        "scopes": None if scopes is None else list(scopes),
        "session_name": session_name,
    }
    cache_args = json.dumps(args, sort_keys=True).encode("utf-8")
    return hashlib.sha1(cache_args, usedforsecurity=False).hexdigest()


# -- the cached objects -------------------------------------------------------------------

_TOKEN_KEYS = frozenset(
    {
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "refreshToken",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
    }
)


@dataclass(frozen=True, repr=False)
class CachedToken:
    """An SSO access token as botocore caches it (``~/.aws/sso/cache/<key>.json``).

    ``extra`` holds members we do not know that were in a file written by another tool; they
    are written back unchanged by :meth:`to_json`, so a round trip through this package does
    not strip what, say, a newer CLI added. botocore itself drops them on its own refresh,
    which is its business. A freshly built token has no extras and serialises to exactly
    botocore's format.
    """

    start_url: str
    region: str
    access_token: Secret
    expires_at: datetime
    refresh_token: Secret | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    registration_expires_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # Plain strings given by a caller are wrapped: the fields are always Secret.
        object.__setattr__(self, "access_token", as_secret(self.access_token))
        object.__setattr__(self, "refresh_token", as_optional_secret(self.refresh_token))
        object.__setattr__(self, "client_secret", as_optional_secret(self.client_secret))
        # Normalise to UTC once so comparisons and to_json never meet a foreign zone.
        object.__setattr__(self, "expires_at", as_utc(self.expires_at, "expires_at"))
        if self.registration_expires_at is not None:
            object.__setattr__(
                self,
                "registration_expires_at",
                as_utc(self.registration_expires_at, "registration_expires_at"),
            )
        object.__setattr__(
            self, "extra", {k: v for k, v in self.extra.items() if k not in _TOKEN_KEYS}
        )
        # Whether it came from the service or from a file the CLI wrote, from now on these
        # values are masked in every log line on our path (botocore logs the bearer token).
        register_secret(self.access_token, self.refresh_token, self.client_secret)

    def __repr__(self) -> str:
        return (
            f"CachedToken(start_url={self.start_url!r}, region={self.region!r}, "
            f"expires_at={format_timestamp(self.expires_at)!r})"
        )

    def to_json(self) -> dict[str, Any]:
        """The dict botocore writes (``SSOTokenProvider._attempt_create_token``), with the
        secrets as plain strings: the cache file's content (and :meth:`SSOToken.export`).
        Nothing after the first unwrapping can raise."""
        expires_at = format_timestamp(self.expires_at)
        registration_expires_at = (
            None
            if self.registration_expires_at is None
            else format_timestamp(self.registration_expires_at)
        )
        data: dict[str, Any] = {
            "startUrl": self.start_url,
            "region": self.region,
            "accessToken": reveal(self.access_token),
            "expiresAt": expires_at,
        }
        if self.refresh_token is not None:
            data["refreshToken"] = reveal(self.refresh_token)
        if self.client_id is not None:
            data["clientId"] = self.client_id
        if self.client_secret is not None:
            data["clientSecret"] = reveal(self.client_secret)
        if registration_expires_at is not None:
            data["registrationExpiresAt"] = registration_expires_at
        for key, value in self.extra.items():
            data.setdefault(key, value)
        return data

    @classmethod
    def from_json(cls, data: object) -> CachedToken:
        """Build from what botocore or the CLI wrote; ValueError names the bad member."""
        if not isinstance(data, dict):
            raise ValueError("token cache file is not a JSON object")
        return cls(
            start_url=required_str(data, "startUrl"),
            region=required_str(data, "region"),
            access_token=required_secret(data, "accessToken"),
            expires_at=required_timestamp(data, "expiresAt"),
            refresh_token=optional_secret(data, "refreshToken"),
            client_id=optional_str(data, "clientId"),
            client_secret=optional_secret(data, "clientSecret"),
            registration_expires_at=optional_timestamp(data, "registrationExpiresAt"),
            extra={k: v for k, v in data.items() if k not in _TOKEN_KEYS},
        )


_REGISTRATION_KEYS = frozenset({"clientId", "clientSecret", "expiresAt", "scopes", "grantTypes"})


@dataclass(frozen=True, repr=False)
class CachedRegistration:
    """An sso-oidc client registration as the AWS CLI v2 caches it.

    ``scopes`` is empty when the registration was made without scopes (the CLI then omits the
    member). ``grant_types`` is only written by the CLI's authorization-code flow; such a
    registration cannot be used for the device flow (see :meth:`usable`). Unknown members
    are kept in ``extra`` and written back, as for :class:`CachedToken`.
    """

    client_id: str
    client_secret: Secret
    expires_at: datetime
    scopes: list[str] = field(default_factory=list, hash=False)
    grant_types: list[str] | None = field(default=None, hash=False)
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "client_secret", as_secret(self.client_secret))
        object.__setattr__(self, "expires_at", as_utc(self.expires_at, "expires_at"))
        object.__setattr__(self, "scopes", list(self.scopes))
        if self.grant_types is not None:
            object.__setattr__(self, "grant_types", list(self.grant_types))
        object.__setattr__(
            self, "extra", {k: v for k, v in self.extra.items() if k not in _REGISTRATION_KEYS}
        )
        register_secret(self.client_secret)

    def __repr__(self) -> str:
        return (
            f"CachedRegistration(expires_at={format_timestamp(self.expires_at)!r}, "
            f"scopes={self.scopes!r})"
        )

    @property
    def supports_device_flow(self) -> bool:
        """False for a registration the CLI made for its authorization-code flow.

        Same test as the CLI's ``_is_registration_for_auth_code``: such a client was not
        registered for the device grant, so reusing it would fail at the service.
        """
        return not (self.grant_types and "authorization_code" in self.grant_types)

    def usable(self, now: datetime | None = None) -> bool:
        """True until 15 minutes before expiry (the CLI's window), for the device flow."""
        remaining = self.expires_at - now_utc(now)
        return remaining >= REGISTRATION_EXPIRY_WINDOW and self.supports_device_flow

    def to_json(self) -> dict[str, Any]:
        """The dict the CLI writes (``SSOTokenFetcher._register_client``), the secret as a
        plain string: the cache file's content."""
        expires_at = format_timestamp(self.expires_at)
        data: dict[str, Any] = {
            "clientId": self.client_id,
            "clientSecret": reveal(self.client_secret),
            "expiresAt": expires_at,
        }
        # The CLI omits "scopes" when it registered without any; keep that shape.
        if self.scopes:
            data["scopes"] = list(self.scopes)
        if self.grant_types is not None:
            data["grantTypes"] = list(self.grant_types)
        for key, value in self.extra.items():
            data.setdefault(key, value)
        return data

    @classmethod
    def from_json(cls, data: object) -> CachedRegistration:
        """Build from what the CLI wrote; ValueError names the bad member."""
        if not isinstance(data, dict):
            raise ValueError("registration cache file is not a JSON object")
        if "accessToken" in data:
            # A token file carries clientId/clientSecret too (botocore caches the registration
            # alongside the token); its accessToken is what tells them apart.
            raise ValueError("file holds an SSO token, not a client registration")
        return cls(
            client_id=required_str(data, "clientId"),
            client_secret=required_secret(data, "clientSecret"),
            expires_at=required_timestamp(data, "expiresAt"),
            scopes=string_list(data, "scopes") or [],
            grant_types=string_list(data, "grantTypes"),
            extra={k: v for k, v in data.items() if k not in _REGISTRATION_KEYS},
        )
