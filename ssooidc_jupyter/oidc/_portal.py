"""``PortalClient`` and ``AsyncPortalClient``: the AWS access portal API (``sso``) on httpx.

The four calls (their wire format in :mod:`._portal_model`) over the transport the sso-oidc
client uses too (:mod:`._transport`). Built like :mod:`._client`: everything without I/O --
request building, answer checks, botocore's standard retries and the pagination -- lives in
:class:`_BasePortalClient` as small generators that yield "send this" or "wait this long";
the two clients only carry those steps out. The access token and the role credentials never
reach a repr, a log line or a message.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

from .._exceptions import PORTAL_EXCEPTIONS, SSOOIDCError
from .._secret import Secret, as_secret
from ._config import build_config
from ._endpoints import SSO_PORTAL
from ._http import ServiceClientBase
from ._portal_model import (
    BEARER_HEADER,
    MAX_PAGES,
    OPERATIONS,
    AccountInfo,
    GetRoleCredentialsResponse,
    ListAccountRolesResponse,
    ListAccountsResponse,
    RoleCredentialsInfo,
    RoleInfo,
    build_request,
    invalid_answer,
    parse_error,
    parse_success,
)
from ._retry import Answer, retrying
from ._transport import (
    AsyncClosing,
    AsyncSleepHook,
    AsyncTransport,
    Closing,
    Flow,
    Outcome,
    Send,
    SleepHook,
    Transport,
)
from ._wire import Response, wrap_secret_members

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._portal_model import (
        GetRoleCredentialsRequest,
        ListAccountRolesRequest,
        ListAccountsRequest,
        LogoutRequest,
    )

__all__ = [
    "BEARER_HEADER",
    "OPERATIONS",
    "AccountInfo",
    "AsyncPortalClient",
    "GetRoleCredentialsResponse",
    "ListAccountRolesResponse",
    "ListAccountsResponse",
    "PortalClient",
    "RoleCredentialsInfo",
    "RoleInfo",
]

logger = logging.getLogger("ssooidc_jupyter.portal")


class _BasePortalClient(ServiceClientBase):
    """Configuration, request building, answer checks, retries and pagination. No I/O."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
        region: str | None = None,
    ) -> None:
        # The endpoint comes from endpoint=, config["endpoint"], AWS_ENDPOINT_URL_SSO or
        # AWS_ENDPOINT_URL, else botocore's "sso" rules for the region: as a boto3 client.
        super().__init__(
            build_config(config, None, endpoint, region, service=SSO_PORTAL),
            "sso",
            PORTAL_EXCEPTIONS,
        )

    def _call_flow(self, name: str, params: Mapping[str, Any]) -> Flow:
        """One operation: send, retry what botocore's standard mode retries, check the
        answer. Returns the answer as a :class:`Response` (secrets hidden from its repr)."""
        wrap_secret_members(params)  # first: no frame of this call shows a plain token
        operation = OPERATIONS[name]
        query, token = build_request(operation, params)
        headers: dict[str, str] = {}
        if self._config.close_connection:
            headers["Connection"] = "close"
        url = self._endpoint + operation.path
        send = Send(
            name, operation.method, url, headers, query=query, secret_header=(BEARER_HEADER, token)
        )

        def attempt(number: int) -> Generator[Send, Outcome, Response | SSOOIDCError]:
            logger.debug("%s: %s %s (attempt %d)", name, operation.method, url, number)
            outcome = yield send
            if not isinstance(outcome, Answer):
                assert outcome is not None
                return outcome
            if 200 <= outcome.status < 300:
                return parse_success(operation, outcome, self._host, number)
            return parse_error(operation, outcome, self._host)

        response: Response = yield from retrying(
            name,
            attempt,
            max_attempts=self._config.max_attempts,
            backoff=self._config.retry_backoff,
        )
        return response

    def _pages_flow(self, name: str, params: Mapping[str, Any], list_key: str) -> Flow:
        """Every item of a paginated listing, following ``nextToken`` to the end."""
        items: list[Any] = []
        seen: set[str] = set()
        next_token: str | None = None
        for _ in range(MAX_PAGES):
            page = yield from self._call_flow(name, {**params, "nextToken": next_token})
            items.extend(page[list_key])
            next_token = page.get("nextToken")
            if next_token is None:
                return items
            if next_token in seen:
                raise invalid_answer(
                    name, self._host, 200, "nextToken", "repeats an earlier page's token"
                )
            seen.add(next_token)
        raise invalid_answer(
            name, self._host, 200, "nextToken", f"still asks for more after {MAX_PAGES} pages"
        )

    def _accounts_flow(self, access_token: str | Secret) -> Flow:
        """Every account with the names of the user's roles in it (ListAccounts, then
        ListAccountRoles per account)."""
        accounts = yield from self._pages_flow(
            "ListAccounts", {"accessToken": access_token}, "accountList"
        )
        result: list[tuple[AccountInfo, list[str]]] = []
        for account in accounts:
            roles = yield from self._pages_flow(
                "ListAccountRoles",
                {"accessToken": access_token, "accountId": account["accountId"]},
                "roleList",
            )
            result.append((account, [role["roleName"] for role in roles]))
        return result

    def _flow(self, name: str, *args: Any) -> Flow:
        """The flow of a public method: one call, all pages of a listing, or both listings."""
        if name == "accounts_with_roles":
            return self._accounts_flow(as_secret(args[0]))
        if name == "list_all_accounts":
            return self._pages_flow(
                "ListAccounts", {"accessToken": as_secret(args[0])}, "accountList"
            )
        if name == "list_all_account_roles":
            params = {"accessToken": as_secret(args[0]), "accountId": args[1]}
            return self._pages_flow("ListAccountRoles", params, "roleList")
        return self._call_flow(name, args[0])


class PortalClient(_BasePortalClient, Closing):
    """Blocking AWS access portal client. Operations take boto3's member names as keywords
    and return the answer members as a dict, like boto3's ``sso`` client.

    Retries sleep with ``time.sleep``: call it from a worker thread, not an event loop (use
    :class:`AsyncPortalClient` there). ``config`` takes ``timeout`` (seconds, default 60),
    ``max_attempts``, ``retry_backoff``, ``close_connection``, ``endpoint``, ``region`` and
    the FIPS / dual-stack switches, as :func:`ssooidc_jupyter.ssooidc`.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(config, endpoint, region)
        self._transport = Transport(self._config, self._host)

    def invoke(
        self, operation: str, params: dict[str, Any], *, sleep: SleepHook | None = None
    ) -> Any:
        """Run the operation of that API name (``"ListAccounts"``) with ``params``; ``sleep``
        waits between retries (default ``time.sleep``; a caller's hook may cancel)."""
        return self._transport.run(self._call_flow(operation, params), sleep)

    def get_role_credentials(
        self, **params: Unpack[GetRoleCredentialsRequest]
    ) -> GetRoleCredentialsResponse:
        """Temporary credentials of a role in an account (GetRoleCredentials)."""
        return self.invoke("GetRoleCredentials", params)  # type: ignore[no-any-return,arg-type]

    def list_accounts(self, **params: Unpack[ListAccountsRequest]) -> ListAccountsResponse:
        """One page of the user's accounts (ListAccounts)."""
        return self.invoke("ListAccounts", params)  # type: ignore[no-any-return,arg-type]

    def list_account_roles(
        self, **params: Unpack[ListAccountRolesRequest]
    ) -> ListAccountRolesResponse:
        """One page of the user's roles in an account (ListAccountRoles)."""
        return self.invoke("ListAccountRoles", params)  # type: ignore[no-any-return,arg-type]

    def logout(self, **params: Unpack[LogoutRequest]) -> dict[str, Any]:
        """End the IAM Identity Center session of the token, for every tool (Logout)."""
        return self.invoke("Logout", params)  # type: ignore[no-any-return,arg-type]

    def list_all_accounts(self, access_token: str | Secret) -> list[AccountInfo]:
        """Every account, all pages."""
        return self._transport.run(self._flow("list_all_accounts", access_token))  # type: ignore[no-any-return]

    def list_all_account_roles(self, access_token: str | Secret, account_id: str) -> list[RoleInfo]:
        """Every role in ``account_id``, all pages."""
        flow = self._flow("list_all_account_roles", access_token, account_id)
        return self._transport.run(flow)  # type: ignore[no-any-return]

    def accounts_with_roles(
        self, access_token: str | Secret
    ) -> list[tuple[AccountInfo, list[str]]]:
        """Every account with its role names (all pages of both listings)."""
        return self._transport.run(self._flow("accounts_with_roles", access_token))  # type: ignore[no-any-return]


class AsyncPortalClient(_BasePortalClient, AsyncClosing):
    """The same client for asyncio: ``await client.list_accounts(...)``."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(config, endpoint, region)
        self._transport = AsyncTransport(self._config, self._host)

    async def invoke(
        self, operation: str, params: dict[str, Any], *, sleep: AsyncSleepHook | None = None
    ) -> Any:
        """:meth:`PortalClient.invoke` on the event loop (cancel the task to stop it)."""
        return await self._transport.run(self._call_flow(operation, params), sleep)

    async def get_role_credentials(
        self, **params: Unpack[GetRoleCredentialsRequest]
    ) -> GetRoleCredentialsResponse:
        """Temporary credentials of a role in an account (GetRoleCredentials)."""
        return await self.invoke("GetRoleCredentials", params)  # type: ignore[no-any-return,arg-type]

    async def list_accounts(self, **params: Unpack[ListAccountsRequest]) -> ListAccountsResponse:
        """One page of the user's accounts (ListAccounts)."""
        return await self.invoke("ListAccounts", params)  # type: ignore[no-any-return,arg-type]

    async def list_account_roles(
        self, **params: Unpack[ListAccountRolesRequest]
    ) -> ListAccountRolesResponse:
        """One page of the user's roles in an account (ListAccountRoles)."""
        return await self.invoke("ListAccountRoles", params)  # type: ignore[no-any-return,arg-type]

    async def logout(self, **params: Unpack[LogoutRequest]) -> dict[str, Any]:
        """End the IAM Identity Center session of the token, for every tool (Logout)."""
        return await self.invoke("Logout", params)  # type: ignore[no-any-return,arg-type]

    async def list_all_accounts(self, access_token: str | Secret) -> list[AccountInfo]:
        """Every account, all pages."""
        return await self._transport.run(self._flow("list_all_accounts", access_token))  # type: ignore[no-any-return]

    async def list_all_account_roles(
        self, access_token: str | Secret, account_id: str
    ) -> list[RoleInfo]:
        """Every role in ``account_id``, all pages."""
        flow = self._flow("list_all_account_roles", access_token, account_id)
        return await self._transport.run(flow)  # type: ignore[no-any-return]

    async def accounts_with_roles(
        self, access_token: str | Secret
    ) -> list[tuple[AccountInfo, list[str]]]:
        """Every account with its role names (all pages of both listings)."""
        return await self._transport.run(self._flow("accounts_with_roles", access_token))  # type: ignore[no-any-return]
