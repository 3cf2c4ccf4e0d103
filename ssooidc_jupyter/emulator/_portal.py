"""The SSO portal (``sso``): accounts, roles, role credentials and logout, by bearer token."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from . import _tokens
from ._errors import PortalError, PortalErrorKind
from ._identities import Identities, RoleCredentials
from ._sessions import Sessions
from ._settings import Account
from ._store import Session, Store

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
                kind, _, offset = _tokens.b64url_decode(next_token).decode().rpartition(":")
                start = int(offset)
            except ValueError:
                kind, start = "", -1
            if kind != scope or not 0 <= start <= len(items):
                raise PortalError(PortalErrorKind.INVALID_REQUEST, "Invalid nextToken")
        end = start + size
        token = _tokens.b64url(f"{scope}:{end}".encode()) if end < len(items) else None
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
