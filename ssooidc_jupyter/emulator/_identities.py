"""SigV4 signing identities: the fixed IAM user, and role credentials the portal issued.

``signing_identity`` is what the SigV4 verifier looks keys up in (CreateTokenWithIAM, STS)
and what GetCallerIdentity describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import _tokens
from ._settings import IAM_ACCESS_KEY_ID, IAM_ACCOUNT_ID, IAM_SECRET_ACCESS_KEY
from ._store import SigningIdentity, Store


@dataclass(frozen=True)
class RoleCredentials:
    """What GetRoleCredentials answers."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration_ms: int


def role_id(account_id: str, role_name: str) -> str:
    return _tokens.stable_key("AROA", account_id, role_name)


def role_arn(account_id: str, role_name: str, user_name: str) -> str:
    suffix = _tokens.stable_hex(account_id, role_name)
    return f"arn:aws:sts::{account_id}:assumed-role/AWSReservedSSO_{role_name}_{suffix}/{user_name}"


class Identities:
    def __init__(self, store: Store) -> None:
        self._s = store

    def issue_role(self, account_id: str, role_name: str, user_name: str) -> RoleCredentials:
        """Mint temporary credentials for a role, as GetRoleCredentials hands them out."""
        store = self._s
        with store.lock:
            expires_at = store.clock() + store.settings.role_credentials_ttl
            session_token = store.secret(_tokens.session_token())
            identity = SigningIdentity(
                access_key_id=_tokens.access_key_id("ASIA"),
                secret_access_key=store.secret(_tokens.secret_access_key()),
                session_token=session_token,
                expires_at=expires_at,
                account_id=account_id,
                arn=role_arn(account_id, role_name, user_name),
                user_id=f"{role_id(account_id, role_name)}:{user_name}",
            )
            store.roles[identity.access_key_id] = identity
        return RoleCredentials(
            access_key_id=identity.access_key_id,
            secret_access_key=identity.secret_access_key,
            session_token=session_token,
            expiration_ms=int(expires_at * 1000),
        )

    def signing_identity(self, access_key_id: str) -> SigningIdentity | None:
        if access_key_id == IAM_ACCESS_KEY_ID:
            user_name = self._s.settings.user_name
            return SigningIdentity(
                access_key_id=IAM_ACCESS_KEY_ID,
                secret_access_key=IAM_SECRET_ACCESS_KEY,
                session_token=None,
                expires_at=None,
                account_id=IAM_ACCOUNT_ID,
                arn=f"arn:aws:iam::{IAM_ACCOUNT_ID}:user/{user_name}",
                user_id=_tokens.stable_key("AIDA", IAM_ACCOUNT_ID, user_name),
            )
        with self._s.lock:
            return self._s.roles.get(access_key_id)
