"""From an SSO token to AWS: the portal API (accounts, role credentials, logout) and boto3
sessions.

The portal calls go through our own client (:mod:`..oidc._portal`, on httpx), so listing
accounts, getting role credentials and signing out need no boto3; its endpoint honours
``AWS_ENDPOINT_URL_SSO`` / ``AWS_ENDPOINT_URL`` as boto3 does (that is how the emulator stands
in for AWS). Only :func:`refreshable_session` -- a real ``boto3.Session`` -- needs the ``aws``
extra; boto3 and botocore are imported there, on first use.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .._exceptions import MissingDependencyError
from .._secret import Secret, as_secret

if TYPE_CHECKING:
    import asyncio

    from ..oidc._portal import (
        AccountInfo,
        AsyncPortalClient,
        GetRoleCredentialsResponse,
        PortalClient,
    )
    from ._context import LoginContext
    from ._drivers import CacheSlot

__all__ = [
    "NOT_PICKLABLE",
    "Account",
    "PortalClients",
    "RoleCredentials",
    "aget_role_credentials",
    "alist_accounts",
    "aportal_logout",
    "async_portal_client",
    "forget_sign_in",
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
    and expiry, none of the keys. The secret key and the session token are
    :class:`~.._secret.Secret` (``.get_secret_value()`` gives the string); the access key
    id is an identifier (it appears in CloudTrail and in error messages), kept plain."""

    access_key_id: str = field(repr=False)
    secret_access_key: Secret = field(repr=False)
    session_token: Secret = field(repr=False)
    expiration: datetime
    account_id: str = ""
    role_name: str = ""

    def __post_init__(self) -> None:
        # Plain strings given by a caller are wrapped: the fields are always Secret.
        object.__setattr__(self, "secret_access_key", as_secret(self.secret_access_key))
        object.__setattr__(self, "session_token", as_secret(self.session_token))

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
            "A boto3 Session needs boto3: pip install 'ssooidc-jupyter[aws]' (accounts, role "
            "credentials and logout work without it)."
        ) from exc
    return boto3


# ---- the portal, on our client ----------------------------------------------------------------


def _portal_config(context: LoginContext) -> dict[str, Any]:
    # The same timeout, CA bundle and profile as the sign-in's sso-oidc calls.
    return context.client_config()


def portal_client(context: LoginContext) -> PortalClient:
    """A blocking portal client for the sign-in's IAM Identity Center region."""
    # Lazy: the client pulls in httpx, which a cached sign-in never needs.
    from ..oidc._portal import PortalClient

    return PortalClient(
        config=_portal_config(context),
        endpoint=context.portal_endpoint,
        region=context.request.region,
    )


def async_portal_client(context: LoginContext) -> AsyncPortalClient:
    """:func:`portal_client` for asyncio (one per event loop: its connections belong to it)."""
    # Lazy, as portal_client.
    from ..oidc._portal import AsyncPortalClient

    return AsyncPortalClient(
        config=_portal_config(context),
        endpoint=context.portal_endpoint,
        region=context.request.region,
    )


class PortalClients:
    """The portal clients of one :class:`~._token.SSOToken`: one lifetime in both modes.

    A call opens its client and closes it when done, unless the token's ``with`` / ``async
    with`` block keeps one open for its calls (:meth:`keep` / :meth:`akeep`, closed by
    :meth:`close` / :meth:`aclose`). No client is ever left to the garbage collector: an
    async one belongs to its event loop (``asyncio.run`` closes it), and an unclosed TLS
    socket warns. A kept async client serves only the loop it was made on."""

    def __init__(self, context: LoginContext) -> None:
        self._context = context
        self._lock = threading.Lock()
        self._keep_sync = self._keep_async = False
        self._sync: PortalClient | None = None
        self._async: tuple[asyncio.AbstractEventLoop, AsyncPortalClient] | None = None

    @property
    def kept(self) -> int:
        """How many clients are open beyond a call (0 outside a block)."""
        return (self._sync is not None) + (self._async is not None)

    def keep(self) -> None:
        with self._lock:
            self._keep_sync = True

    def akeep(self) -> None:
        with self._lock:
            self._keep_async = True

    @contextlib.contextmanager
    def sync(self) -> Iterator[PortalClient]:
        """The blocking client for one call: the block's, else one for this call."""
        with self._lock:
            if self._keep_sync and self._sync is None:
                self._sync = portal_client(self._context)
            kept = self._sync
        if kept is not None:
            yield kept
            return
        with portal_client(self._context) as client:
            yield client

    @contextlib.asynccontextmanager
    async def asynchronous(self) -> AsyncIterator[AsyncPortalClient]:
        """:meth:`sync` for asyncio."""
        import asyncio  # lazy: the sync path stays asyncio-free

        loop = asyncio.get_running_loop()
        with self._lock:
            if self._keep_async and self._async is None:
                self._async = (loop, async_portal_client(self._context))
            kept = self._async
        if kept is not None and kept[0] is loop:
            yield kept[1]
            return
        async with async_portal_client(self._context) as client:
            yield client

    def close(self) -> None:
        with self._lock:
            client, self._sync, self._keep_sync = self._sync, None, False
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        with self._lock:
            kept, self._async, self._keep_async = self._async, None, False
        if kept is not None:
            await kept[1].aclose()
        self.close()


def _accounts(listing: list[tuple[AccountInfo, list[str]]]) -> list[Account]:
    return [
        Account(
            account_id=info["accountId"],
            account_name=info.get("accountName", ""),
            email=info.get("emailAddress", ""),
            roles=roles,
        )
        for info, roles in listing
    ]


def _role_credentials(
    reply: GetRoleCredentialsResponse, account_id: str, role_name: str
) -> RoleCredentials:
    creds = reply["roleCredentials"]  # checked by the client: present, typed, in range
    return RoleCredentials(
        access_key_id=creds["accessKeyId"],
        # Wrapped as they are taken from the answer (a Response: its repr masks them).
        secret_access_key=as_secret(creds["secretAccessKey"]),
        session_token=as_secret(creds["sessionToken"]),
        expiration=datetime.fromtimestamp(creds["expiration"] / 1000, timezone.utc),
        account_id=account_id,
        role_name=role_name,
    )


def list_accounts(client: PortalClient, access_token: Secret) -> list[Account]:
    """Every account the user can reach, each with its role names (all pages)."""
    return _accounts(client.accounts_with_roles(access_token))


async def alist_accounts(client: AsyncPortalClient, access_token: Secret) -> list[Account]:
    """:func:`list_accounts` for asyncio."""
    return _accounts(await client.accounts_with_roles(access_token))


def get_role_credentials(
    client: PortalClient, access_token: Secret, account_id: str, role_name: str
) -> RoleCredentials:
    reply = client.get_role_credentials(
        roleName=role_name, accountId=account_id, accessToken=access_token
    )
    return _role_credentials(reply, account_id, role_name)


async def aget_role_credentials(
    client: AsyncPortalClient, access_token: Secret, account_id: str, role_name: str
) -> RoleCredentials:
    """:func:`get_role_credentials` for asyncio."""
    reply = await client.get_role_credentials(
        roleName=role_name, accountId=account_id, accessToken=access_token
    )
    return _role_credentials(reply, account_id, role_name)


def portal_logout(client: PortalClient, access_token: Secret) -> None:
    client.logout(accessToken=access_token)


async def aportal_logout(client: AsyncPortalClient, access_token: Secret) -> None:
    """:func:`portal_logout` for asyncio."""
    await client.logout(accessToken=access_token)


def forget_sign_in(slot: CacheSlot, *, forget_registration: bool) -> None:
    """The local half of a logout: remove the sign-in's token from the cache and, when asked,
    its client registration (the next sign-in then registers a new client)."""
    if slot.cache is None:
        return
    slot.cache.delete_token(slot.token_key)
    if forget_registration:
        slot.cache.delete_registration(slot.registration_key)


# ---- boto3 sessions (the ``aws`` extra) -------------------------------------------------------

#: Why a role session (or a token) cannot be sent to another process, and what to do instead.
NOT_PICKLABLE = (
    "{what} cannot be pickled or sent to another process: it renews its credentials with "
    "your IAM Identity Center sign-in, whose tokens never leave this kernel. To give Dask "
    "workers the role's credentials (renewed before they expire), use "
    "ssooidc_jupyter.dask.forward_credentials(client, session)."
)


@functools.cache
def _role_session_class() -> type[Any]:
    """``boto3.Session`` with a repr that says which account and role it is for.

    A subclass, made on first use (boto3 is imported lazily): nothing of boto3 is patched,
    and every other behaviour is boto3's own."""
    boto3 = _boto3()

    class RoleSession(boto3.session.Session):  # type: ignore[misc,name-defined]
        ssooidc_account_id = ""
        ssooidc_role_name = ""
        #: Fresh role credentials on each call (the token's ``credentials``): what
        #: ``ssooidc_jupyter.dask.forward_credentials`` sends to Dask workers.
        ssooidc_role_credentials: Callable[[], RoleCredentials] | None = None

        def __repr__(self) -> str:
            return (
                f"Session(account_id={self.ssooidc_account_id!r}, "
                f"role_name={self.ssooidc_role_name!r}, region_name={self.region_name!r})"
            )

        def __reduce__(self) -> Any:
            # Its refresh needs the SSO token, which must never leave this process: refuse
            # with the way out, not pickle's "Can't pickle local object" or "_thread.lock".
            raise TypeError(NOT_PICKLABLE.format(what="A role session"))

    return RoleSession


def refreshable_session(
    fetch_credentials: Callable[[], RoleCredentials],
    *,
    region_name: str | None,
    default_region: str,
    account_id: str = "",
    role_name: str = "",
) -> Any:
    """A boto3 Session whose credentials are botocore *refreshable* credentials: each refresh
    calls ``fetch_credentials`` (the token's :meth:`credentials`, which re-reads the cache and
    refreshes silently) for new role credentials. ``default_region`` (the IAM Identity
    Center region) is used when no region is configured anywhere."""
    role_session = _role_session_class()  # first: says clearly when boto3 is missing
    import botocore.session
    from botocore.credentials import RefreshableCredentials

    def fetch() -> dict[str, str]:
        # botocore's credentials need plain strings: the library boundary. The dict is
        # returned at once, never kept in a local of ours.
        creds = fetch_credentials()
        return {
            "access_key": creds.access_key_id,
            "expiry_time": creds.expiration.isoformat(),
            "secret_key": creds.secret_access_key.get_secret_value(),
            "token": creds.session_token.get_secret_value(),
        }

    core = botocore.session.get_session()
    credentials = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="ssooidc-jupyter"
    )
    # botocore has no public setter for refreshable credentials; assigning _credentials is
    # the way boto3's own documentation and botocore's tests do it.
    core._credentials = credentials  # type: ignore[attr-defined]
    session = role_session(botocore_session=core, region_name=region_name)
    if session.region_name is None:
        # No region configured anywhere: the IAM Identity Center region is a sane default.
        session = role_session(botocore_session=core, region_name=default_region)
    session.ssooidc_account_id, session.ssooidc_role_name = account_id, role_name
    session.ssooidc_role_credentials = fetch_credentials
    return session
