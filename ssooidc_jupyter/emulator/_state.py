"""``EmulatorState``: one facade over the services, for the HTTP layer and ``Emulator``.

Each service owns one part of IAM Identity Center and they all share one locked
:class:`~._store.Store`; nothing here has rules of its own. No HTTP here either.

==================  ==========================================================
``_clients``        RegisterClient, client authentication
``_device``         StartDeviceAuthorization, approve/deny, device_code polls
``_authcode``       /authorize, the consent, authorization codes and PKCE
``_oidc``           CreateToken / CreateTokenWithIAM grant dispatch, refresh
``_sessions``       sessions and the tokens minted for them
``_portal``         accounts, roles, role credentials, logout
``_identities``     SigV4 signing identities (IAM user, issued role credentials)
``_hooks``          test-only shortcuts (expire_*, issue_authorization_code)
==================  ==========================================================
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._authcode import AuthCodes, ConsentPrompt, Redirect
from ._clients import ClientRegistration, Clients
from ._device import DeviceAuthorization, DeviceFlow, UserCodeInfo
from ._hooks import Hooks
from ._identities import Identities, RoleCredentials
from ._oidc import Grants
from ._portal import Portal
from ._sessions import Sessions, TokenGrant
from ._settings import Account, Settings
from ._store import DeviceStatus, SigningIdentity, Store


class EmulatorState:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        store = self._store = Store(settings, clock)
        clients = Clients(store)
        sessions = Sessions(store)
        identities = Identities(store)
        self._clients = clients
        self._devices = DeviceFlow(store, clients, sessions)
        self._codes = AuthCodes(store, clients)
        self._grants = Grants(store, clients, sessions, self._devices, self._codes)
        self._portal = Portal(store, sessions, identities)
        self._identities = identities
        self._hooks = Hooks(store, self._codes)

    # -- observation ---------------------------------------------------------------------

    @property
    def secrets(self) -> set[str]:
        return self._store.secrets()

    @property
    def user_codes(self) -> list[str]:
        with self._store.lock:
            return list(self._store.user_code_order)

    @property
    def accounts(self) -> tuple[Account, ...]:
        return self.settings.accounts

    # -- sso-oidc --------------------------------------------------------------------------

    def register_client(self, params: Mapping[str, Any]) -> ClientRegistration:
        return self._clients.register(params)

    def start_device_authorization(self, params: Mapping[str, Any]) -> DeviceAuthorization:
        return self._devices.start(params)

    def create_token(self, params: Mapping[str, Any]) -> TokenGrant:
        return self._grants.create_token(params)

    def create_token_with_iam(self, params: Mapping[str, Any]) -> TokenGrant:
        return self._grants.create_token_with_iam(params)

    # -- the person: verification page, consent page ----------------------------------------

    def approve(self, user_code: str) -> None:
        """Approve a pending code. KeyError: never issued; ValueError: expired/used/denied."""
        self._devices.decide(user_code, DeviceStatus.APPROVED)

    def deny(self, user_code: str) -> None:
        """Deny a pending code. KeyError: never issued; ValueError: expired/used/approved."""
        self._devices.decide(user_code, DeviceStatus.DENIED)

    def describe_user_code(self, user_code: str) -> UserCodeInfo | None:
        return self._devices.describe(user_code)

    def begin_authorization(self, query: Mapping[str, Sequence[str]]) -> Redirect | ConsentPrompt:
        """GET /authorize. Raises AuthorizeRejected for a request that must not redirect."""
        return self._codes.begin(query)

    def decide_authorization(self, consent_id: str, *, approve: bool) -> Redirect:
        """POST /authorize. Raises AuthorizeRejected for an unknown or already used consent."""
        return self._codes.decide(consent_id, approve=approve)

    # -- portal ------------------------------------------------------------------------------

    def client_for_token(self, access_token: str | None) -> str | None:
        return self._portal.client_for_token(access_token)

    def list_accounts(
        self, access_token: str | None, next_token: str | None, max_results: int | None
    ) -> tuple[list[Account], str | None]:
        return self._portal.list_accounts(access_token, next_token, max_results)

    def list_account_roles(
        self,
        access_token: str | None,
        account_id: str | None,
        next_token: str | None,
        max_results: int | None,
    ) -> tuple[list[str], str | None]:
        return self._portal.list_account_roles(access_token, account_id, next_token, max_results)

    def get_role_credentials(
        self, access_token: str | None, account_id: str | None, role_name: str | None
    ) -> RoleCredentials:
        return self._portal.get_role_credentials(access_token, account_id, role_name)

    def logout(self, access_token: str | None) -> None:
        self._portal.logout(access_token)

    # -- SigV4 --------------------------------------------------------------------------------

    def signing_identity(self, access_key_id: str) -> SigningIdentity | None:
        return self._identities.signing_identity(access_key_id)

    # -- test hooks ---------------------------------------------------------------------------

    def issue_authorization_code(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        code_challenge: str | None,
        scopes: Sequence[str] = (),
    ) -> str:
        return self._hooks.issue_authorization_code(
            client_id=client_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            scopes=scopes,
        )

    def expire_registration(self, client_id: str) -> None:
        self._hooks.expire_registration(client_id)

    def expire_access_token(self, token: str) -> None:
        self._hooks.expire_access_token(token)
