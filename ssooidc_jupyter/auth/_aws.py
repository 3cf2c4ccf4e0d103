"""From an SSO token to AWS: the portal API and boto3 sessions (the ``aws`` extra).

boto3 and botocore are imported here only, on first use. Portal and STS clients are made by
boto3, so they honour ``AWS_ENDPOINT_URL_SSO`` / ``AWS_ENDPOINT_URL_STS`` /
``AWS_ENDPOINT_URL`` as any boto3 code does -- which is how the emulator stands in for AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .._exceptions import MissingDependencyError, ServiceError, SSOOIDCError

__all__ = [
    "Account",
    "RoleCredentials",
    "get_role_credentials",
    "list_accounts",
    "portal_client",
    "portal_logout",
    "refreshable_session",
]


@dataclass(frozen=True)
class Account:
    """An AWS account the user can reach through IAM Identity Center."""

    account_id: str
    account_name: str
    email: str
    roles: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RoleCredentials:
    """Temporary credentials of a permission set's role. The repr shows the account, role
    and expiry, none of the keys."""

    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime
    account_id: str = ""
    role_name: str = ""

    def __repr__(self) -> str:
        return (
            f"RoleCredentials(account_id={self.account_id!r}, role_name={self.role_name!r}, "
            f"expiration='{self.expiration:%Y-%m-%d %H:%M:%S} UTC')"
        )


def _boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:  # pragma: no cover - only without the extra
        raise MissingDependencyError(
            "AWS accounts, role credentials and boto3 sessions need boto3: "
            "pip install 'ssooidc-jupyter[aws]'"
        ) from exc
    return boto3


def portal_client(region: str) -> Any:
    """An unsigned boto3 ``sso`` (portal) client for the IAM Identity Center region."""
    boto3 = _boto3()
    from botocore import UNSIGNED
    from botocore.config import Config

    return boto3.session.Session().client(
        "sso",
        region_name=region,
        config=Config(signature_version=UNSIGNED, retries={"mode": "standard"}),
    )


def _portal_error(operation: str, exc: Exception) -> SSOOIDCError:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    code = error.get("Code") or type(exc).__name__
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    hint = (
        " The token is not valid for the portal (signed out, or expired): sign in again."
        if code == "UnauthorizedException"
        else ""
    )
    return ServiceError(
        operation=operation,
        code=code,
        error_description=(error.get("Message") or "") + hint,
        status_code=status,
        request_id=response.get("ResponseMetadata", {}).get("RequestId"),
    )


def _call(operation: str, fn: Any, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn(**kwargs)
    except ClientError as exc:
        raise _portal_error(operation, exc) from None
    except BotoCoreError as exc:
        raise SSOOIDCError(f"{operation} failed: {exc}") from None


def list_accounts(client: Any, access_token: str) -> list[Account]:
    accounts = []
    pages = client.get_paginator("list_accounts").paginate(accessToken=access_token)
    for page in _call("ListAccounts", lambda: list(pages)):
        for item in page.get("accountList", []):
            account_id = item["accountId"]
            role_pages = client.get_paginator("list_account_roles").paginate(
                accessToken=access_token, accountId=account_id
            )
            roles = [
                role["roleName"]
                for role_page in _call("ListAccountRoles", lambda rp=role_pages: list(rp))
                for role in role_page.get("roleList", [])
            ]
            accounts.append(
                Account(
                    account_id=account_id,
                    account_name=item.get("accountName", ""),
                    email=item.get("emailAddress", ""),
                    roles=roles,
                )
            )
    return accounts


def get_role_credentials(
    client: Any, access_token: str, account_id: str, role_name: str
) -> RoleCredentials:
    reply = _call(
        "GetRoleCredentials",
        client.get_role_credentials,
        roleName=role_name,
        accountId=account_id,
        accessToken=access_token,
    )["roleCredentials"]
    return RoleCredentials(
        access_key_id=reply["accessKeyId"],
        secret_access_key=reply["secretAccessKey"],
        session_token=reply["sessionToken"],
        expiration=datetime.fromtimestamp(reply["expiration"] / 1000, timezone.utc),
        account_id=account_id,
        role_name=role_name,
    )


def portal_logout(client: Any, access_token: str) -> None:
    _call("Logout", client.logout, accessToken=access_token)


def refreshable_session(
    fetch_credentials: Callable[[], RoleCredentials],
    *,
    region_name: str | None,
    default_region: str,
) -> Any:
    """A boto3 Session whose credentials are botocore *refreshable* credentials: each refresh
    calls ``fetch_credentials`` (the token's :meth:`credentials`, which re-reads the cache and
    refreshes silently) for new role credentials. ``default_region`` (the IAM Identity
    Center region) is used when no region is configured anywhere."""
    boto3 = _boto3()
    import botocore.session
    from botocore.credentials import RefreshableCredentials

    def fetch() -> dict[str, str]:
        creds = fetch_credentials()
        return {
            "access_key": creds.access_key_id,
            "secret_key": creds.secret_access_key,
            "token": creds.session_token,
            "expiry_time": creds.expiration.isoformat(),
        }

    core = botocore.session.get_session()
    credentials = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="ssooidc-jupyter"
    )
    # botocore has no public setter for refreshable credentials; assigning _credentials is
    # the way boto3's own documentation and botocore's tests do it.
    core._credentials = credentials  # type: ignore[attr-defined]
    session = boto3.session.Session(botocore_session=core, region_name=region_name)
    if session.region_name is None:
        # No region configured anywhere: the IAM Identity Center region is a sane default.
        session = boto3.session.Session(botocore_session=core, region_name=default_region)
    return session
