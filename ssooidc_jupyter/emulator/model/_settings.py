"""Configuration: the constructor's settings (checked here), the accounts, the fixed IAM
identity, and the scopes every service uses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The scope that makes IAM Identity Center issue a refresh token from CreateToken (for the
# device_code and authorization_code grants): a registration without it gets an access
# token only, which is how the real service treats legacy, scope-less clients.
ACCOUNT_ACCESS_SCOPE = "sso:account:access"
DEFAULT_SCOPES = (ACCOUNT_ACCESS_SCOPE,)
DEFAULT_IAM_SCOPES = ("openid", "aws", "sts:identity_context")

IAM_ACCOUNT_ID = "111111111111"
IAM_CLIENT_ID = f"arn:aws:sso::{IAM_ACCOUNT_ID}:application/ssoins-emulator/apl-emulator"
# Fixed, well-known test credentials: tests and notebooks need to sign CreateTokenWithIAM
# without any setup. They unlock nothing but this emulator.
IAM_ACCESS_KEY_ID = "AKIAEMULATORIAMUSER1"
IAM_SECRET_ACCESS_KEY = "emulatorIamUserSecretKey/0000000000000000"  # noqa: S105

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


def _account(entry: object, seen: set[str]) -> Account:
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
    return Account(account_id, name, email, tuple(dict.fromkeys(roles)))


def parse_accounts(accounts: Iterable[Mapping[str, Any]] | None) -> tuple[Account, ...]:
    """Validate the ``accounts`` constructor argument (ValueError on anything malformed)."""
    source = DEFAULT_ACCOUNTS if accounts is None else tuple(accounts)
    seen: set[str] = set()
    return tuple(_account(entry, seen) for entry in source)


def _number(name: str, value: object, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    # Returned unchanged: an int stays an int, so e.g. ``interval`` reads back as configured.
    return value


def make_settings(
    *,
    region: str,
    auto_approve: float | None,
    interval: float,
    code_ttl: float,
    token_ttl: float,
    role_credentials_ttl: float,
    registration_ttl: float,
    accounts: Iterable[Mapping[str, Any]] | None,
    page_size: int,
    user_name: str,
) -> Settings:
    """The ``Emulator`` constructor's arguments, checked (ValueError on the first bad one)."""
    if not isinstance(region, str) or not region:
        raise ValueError("region must be a non-empty string")
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise ValueError(f"page_size must be a positive integer, got {page_size!r}")
    if not isinstance(user_name, str) or not user_name or "/" in user_name:
        raise ValueError("user_name must be a non-empty string without '/'")
    return Settings(
        region=region,
        auto_approve=(
            None if auto_approve is None else _number("auto_approve", auto_approve, allow_zero=True)
        ),
        interval=_number("interval", interval),
        code_ttl=_number("code_ttl", code_ttl),
        token_ttl=_number("token_ttl", token_ttl),
        role_credentials_ttl=_number("role_credentials_ttl", role_credentials_ttl),
        registration_ttl=_number("registration_ttl", registration_ttl),
        page_size=page_size,
        user_name=user_name,
        accounts=parse_accounts(accounts),
    )
