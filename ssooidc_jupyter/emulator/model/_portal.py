"""The SSO portal (``sso``): accounts, roles, role credentials and logout, by bearer token;
and the SigV4 signing identities (the fixed IAM user, the role credentials it issued) that
the HTTP layer verifies signatures against and GetCallerIdentity describes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from . import _values
from ._clients import Sessions
from ._settings import IAM_ACCESS_KEY_ID, IAM_ACCOUNT_ID, IAM_SECRET_ACCESS_KEY, Account
from ._store import PortalError, PortalErrorKind, Session, SigningIdentity, Store


@dataclass(frozen=True)
class RoleCredentials:
    """What GetRoleCredentials answers."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration_ms: int


def role_id(account_id: str, role_name: str) -> str:
    return _values.stable_key("AROA", account_id, role_name)


def role_arn(account_id: str, role_name: str, user_name: str) -> str:
    suffix = _values.stable_hex(account_id, role_name)
    return f"arn:aws:sts::{account_id}:assumed-role/AWSReservedSSO_{role_name}_{suffix}/{user_name}"


class Identities:
    def __init__(self, store: Store) -> None:
        self._s = store

    def issue_role(self, account_id: str, role_name: str, user_name: str) -> RoleCredentials:
        """Mint temporary credentials for a role, as GetRoleCredentials hands them out."""
        store = self._s
        with store.lock:
            expires_at = store.clock() + store.settings.role_credentials_ttl
            session_token = store.secret(_values.session_token())
            identity = SigningIdentity(
                access_key_id=_values.access_key_id("ASIA"),
                secret_access_key=store.secret(_values.secret_access_key()),
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
                user_id=_values.stable_key("AIDA", IAM_ACCOUNT_ID, user_name),
            )
        with self._s.lock:
            return self._s.roles.get(access_key_id)


_Item = TypeVar("_Item")


class Portal:
    def __init__(self, store: Store, sessions: Sessions, identities: Identities) -> None:
        self._s = store
        self._sessions = sessions
        self._identities = identities
        self._accounts = {a.account_id: a for a in store.settings.accounts}

    def _session(self, access_token: str | None) -> Session:
        session = self._sessions.live(access_token) if access_token else None
        if session is None:
            raise PortalError(PortalErrorKind.UNAUTHORIZED, "Session token not found or invalid")
        return session

    def _account(self, account_id: str | None) -> Account:
        account = self._accounts.get(account_id) if account_id else None
        if account is None:
            raise PortalError(PortalErrorKind.NOT_FOUND, "Account not found")
        return account

    def client_for_token(self, access_token: str | None) -> str | None:
        """The client id behind a bearer token, for request records (None if unknown)."""
        if not access_token:
            return None
        with self._s.lock:
            record = self._s.access_tokens.get(access_token)
            return record.client_id if record else None

    def _page(
        self,
        items: Sequence[_Item],
        scope: str,
        next_token: str | None,
        max_results: int | None,
    ) -> tuple[list[_Item], str | None]:
        size = self._s.settings.page_size if max_results is None else max_results
        start = 0
        if next_token is not None:
            # The token is opaque to clients but bound to what it paginates, so a token from
            # ListAccounts cannot be replayed against ListAccountRoles.
            try:
                kind, _, offset = _values.b64url_decode(next_token).decode().rpartition(":")
                start = int(offset)
            except ValueError:
                kind, start = "", -1
            if kind != scope or not 0 <= start <= len(items):
                raise PortalError(PortalErrorKind.INVALID_REQUEST, "Invalid nextToken")
        end = start + size
        token = _values.b64url(f"{scope}:{end}".encode()) if end < len(items) else None
        return list(items[start:end]), token

    def list_accounts(
        self, access_token: str | None, next_token: str | None, max_results: int | None
    ) -> tuple[list[Account], str | None]:
        with self._s.lock:
            self._session(access_token)
            return self._page(self._s.settings.accounts, "accounts", next_token, max_results)

    def list_account_roles(
        self,
        access_token: str | None,
        account_id: str | None,
        next_token: str | None,
        max_results: int | None,
    ) -> tuple[list[str], str | None]:
        with self._s.lock:
            self._session(access_token)
            if not account_id:
                raise PortalError(PortalErrorKind.INVALID_REQUEST, "account_id is required")
            account = self._account(account_id)
            return self._page(account.roles, f"roles/{account_id}", next_token, max_results)

    def get_role_credentials(
        self, access_token: str | None, account_id: str | None, role_name: str | None
    ) -> RoleCredentials:
        with self._s.lock:
            session = self._session(access_token)
            if not account_id or not role_name:
                raise PortalError(
                    PortalErrorKind.INVALID_REQUEST, "role_name and account_id are required"
                )
            account = self._accounts.get(account_id)
            if account is None or role_name not in account.roles:
                raise PortalError(PortalErrorKind.NOT_FOUND, "No access")
            return self._identities.issue_role(account_id, role_name, session.user_name)

    def logout(self, access_token: str | None) -> None:
        with self._s.lock:
            # Ending the session kills every access and refresh token derived from it;
            # role credentials already handed out stay valid until they expire, as on AWS.
            self._session(access_token).logged_out = True
