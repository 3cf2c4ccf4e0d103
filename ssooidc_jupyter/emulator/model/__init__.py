"""The service model: what IAM Identity Center knows and the rules it applies. No HTTP.

Nothing here opens a socket, parses a request or spells a wire format; the HTTP layer
(``emulator.http``) turns requests into calls of these services and their answers and
failures into AWS's wire formats. Every service shares one locked :class:`Store`.

==================  ==========================================================
``_settings``       the validated settings, the accounts, the fixed IAM identity
``_store``          the records, the lock, the secrets set; enums and errors
``_values``         identifier and secret generators, request members, redirect URIs
``_clients``        RegisterClient, client authentication; sessions and their tokens
``_device``         StartDeviceAuthorization, approve/deny, device_code polls
``_authcode``       /authorize, the consent, authorization codes and PKCE
``_grants``         CreateToken / CreateTokenWithIAM: grant dispatch, refresh rotation
``_portal``         accounts, roles, role credentials, logout; SigV4 identities
``_faults``         the operation names and the scripted faults, as data
==================  ==========================================================
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ._authcode import AuthCodes, AuthorizeRejected, ConsentPrompt, Redirect
from ._clients import Clients, Sessions, TokenGrant
from ._device import DeviceFlow
from ._faults import FAULT_KINDS, OPERATIONS, Fault, FaultKind, FaultPlan, Operation
from ._grants import Grants
from ._portal import Identities, Portal
from ._settings import (
    IAM_ACCESS_KEY_ID,
    IAM_CLIENT_ID,
    IAM_SECRET_ACCESS_KEY,
    Account,
    Settings,
    make_settings,
    parse_accounts,
)
from ._store import (
    DeviceStatus,
    OAuthError,
    OAuthErrorCode,
    PortalError,
    PortalErrorKind,
    Store,
    WireEnum,
)

__all__ = [
    "FAULT_KINDS",
    "IAM_ACCESS_KEY_ID",
    "IAM_CLIENT_ID",
    "IAM_SECRET_ACCESS_KEY",
    "OPERATIONS",
    "Account",
    "AuthorizeRejected",
    "ConsentPrompt",
    "DeviceStatus",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "IdentityCenter",
    "OAuthError",
    "OAuthErrorCode",
    "Operation",
    "PortalError",
    "PortalErrorKind",
    "Redirect",
    "Settings",
    "TokenGrant",
    "WireEnum",
    "make_settings",
    "parse_accounts",
]


class IdentityCenter:
    """The services, wired to one store. Callers (the HTTP layer, ``Emulator``) use the
    service they need directly: ``center.devices.decide(...)``, ``center.grants.create_token(...)``.
    """

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.store = Store(settings, clock)
        self.clients = Clients(self.store)
        self.sessions = Sessions(self.store)
        self.identities = Identities(self.store)
        self.devices = DeviceFlow(self.store, self.clients, self.sessions)
        self.codes = AuthCodes(self.store, self.clients)
        self.grants = Grants(self.store, self.clients, self.sessions, self.devices, self.codes)
        self.portal = Portal(self.store, self.sessions, self.identities)

    def __repr__(self) -> str:
        return f"<IdentityCenter {self.store!r}>"
