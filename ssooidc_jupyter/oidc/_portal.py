"""``PortalClient`` and ``AsyncPortalClient``: the AWS access portal API (``sso``) on httpx.

Four unsigned REST calls, the bearer token in the ``x-amz-sso_bearer_token`` header, as in
botocore's ``sso`` model (rest-json, API version 2019-06-10): GetRoleCredentials,
ListAccounts, ListAccountRoles and Logout. Built like :mod:`._client`: everything without
I/O -- request building, answer validation, errors, botocore's standard retries and the
pagination -- lives in :class:`_BasePortalClient` as small generators that yield "send
this" or "wait this long"; the two clients only carry those steps out.

Every answer is checked against its model before anyone sees it: a wrong one is an
:class:`InvalidResponseError` naming the operation and the member (never its value). The
access token and the role credentials never reach a repr, a log line or a message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

import httpx

from .._exceptions import (
    PORTAL_EXCEPTIONS,
    InvalidResponseError,
    ParamValidationError,
    ServiceError,
    SSOOIDCError,
    TransportError,
)
from .._redact import register_secret
from .._secret import Secret, as_secret
from ._config import build_config
from ._endpoints import SSO_PORTAL
from ._http import (
    ResponseTooLarge,
    ServiceClientBase,
    adrive,
    aread_capped,
    drive,
    read_capped,
    too_large_error,
    transport_error,
)
from ._protocol import (
    SECRET_MEMBERS,
    Response,
    _decode_json,
    _describe_body,
    error_code,
    present_params,
    wrap_secret_members,
)
from ._retry import Answer, Sleep, retrying

if TYPE_CHECKING:
    from typing_extensions import Unpack

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

BEARER_HEADER = "x-amz-sso_bearer_token"
#: A paginated listing that is still going after this many pages is a broken endpoint (a
#: real user has a few hundred accounts at most, 100 a page).
MAX_PAGES = 1000
#: The latest expiry a datetime can hold (9999-12-31), in ms: beyond it is not a time.
_MAX_EXPIRATION_MS = 253_402_300_799_000


# ---- requests and answers (boto3's member names) ----------------------------------------


class GetRoleCredentialsRequest(TypedDict):
    roleName: str
    accountId: str
    accessToken: str | Secret


class _ListAccountsRequired(TypedDict):
    accessToken: str | Secret


class ListAccountsRequest(_ListAccountsRequired, total=False):
    nextToken: str
    maxResults: int


class _ListAccountRolesRequired(TypedDict):
    accessToken: str | Secret
    accountId: str


class ListAccountRolesRequest(_ListAccountRolesRequired, total=False):
    nextToken: str
    maxResults: int


class LogoutRequest(TypedDict):
    accessToken: str | Secret


class RoleCredentialsInfo(TypedDict):
    accessKeyId: str
    secretAccessKey: str
    sessionToken: str
    expiration: int  # ms since the epoch


class GetRoleCredentialsResponse(TypedDict, total=False):
    roleCredentials: RoleCredentialsInfo
    ResponseMetadata: dict[str, Any]


class _AccountInfoRequired(TypedDict):
    accountId: str


class AccountInfo(_AccountInfoRequired, total=False):
    accountName: str
    emailAddress: str


class ListAccountsResponse(TypedDict, total=False):
    accountList: list[AccountInfo]
    nextToken: str
    ResponseMetadata: dict[str, Any]


class _RoleInfoRequired(TypedDict):
    roleName: str


class RoleInfo(_RoleInfoRequired, total=False):
    accountId: str


class ListAccountRolesResponse(TypedDict, total=False):
    roleList: list[RoleInfo]
    nextToken: str
    ResponseMetadata: dict[str, Any]


# ---- answer validation --------------------------------------------------------------------


class _Wrong(Exception):
    """Internal: ``field`` of an answer is not what the model says (``problem``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(field, problem)
        self.field = field
        self.problem = problem


def _string(data: Mapping[str, Any], key: str, where: str, *, required: bool) -> str | None:
    value = data.get(key)
    if value is None:
        # JSON null is "absent" in AWS's JSON protocols, as botocore's parser reads it.
        if required:
            raise _Wrong(f"{where}{key}", "is missing")
        return None
    if not isinstance(value, str):
        raise _Wrong(f"{where}{key}", f"is a {_kind(value)}, not a string")
    if required and not value:
        raise _Wrong(f"{where}{key}", "is empty")
    return value


def _kind(value: object) -> str:
    return {dict: "object", list: "list", bool: "boolean", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )


def _list_of_objects(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = data.get(key)
    if items is None:
        raise _Wrong(key, "is missing")
    if not isinstance(items, list):
        raise _Wrong(key, f"is a {_kind(items)}, not a list")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _Wrong(f"{key}[{index}]", f"is a {_kind(item)}, not an object")
    return items


def _next_token(data: Mapping[str, Any]) -> dict[str, str]:
    token = _string(data, "nextToken", "", required=False)
    return {"nextToken": token} if token else {}


def _check_accounts(data: Mapping[str, Any]) -> dict[str, Any]:
    accounts: list[dict[str, str]] = []
    for index, item in enumerate(_list_of_objects(data, "accountList")):
        where = f"accountList[{index}]."
        account = {"accountId": _string(item, "accountId", where, required=True)}
        for key in ("accountName", "emailAddress"):
            value = _string(item, key, where, required=False)
            if value is not None:
                account[key] = value
        accounts.append(account)  # type: ignore[arg-type]
    return {"accountList": accounts, **_next_token(data)}


def _check_roles(data: Mapping[str, Any]) -> dict[str, Any]:
    roles: list[dict[str, str]] = []
    for index, item in enumerate(_list_of_objects(data, "roleList")):
        where = f"roleList[{index}]."
        role = {"roleName": _string(item, "roleName", where, required=True)}
        account_id = _string(item, "accountId", where, required=False)
        if account_id is not None:
            role["accountId"] = account_id
        roles.append(role)  # type: ignore[arg-type]
    return {"roleList": roles, **_next_token(data)}


def _check_role_credentials(data: Mapping[str, Any]) -> dict[str, Any]:
    creds = data.get("roleCredentials")
    if not isinstance(creds, dict):
        raise _Wrong("roleCredentials", "is missing" if creds is None else "is not an object")
    checked: dict[str, Any] = {
        key: _string(creds, key, "roleCredentials.", required=True)
        for key in ("accessKeyId", "secretAccessKey", "sessionToken")
    }
    # Masked in every log line from now on (botocore logs them when boto3 is used too).
    register_secret(checked["secretAccessKey"], checked["sessionToken"])
    expiration = creds.get("expiration")
    if expiration is None:
        raise _Wrong("roleCredentials.expiration", "is missing")
    if isinstance(expiration, bool) or not isinstance(expiration, int):
        raise _Wrong("roleCredentials.expiration", f"is a {_kind(expiration)}, not an integer")
    if not 0 < expiration <= _MAX_EXPIRATION_MS:
        raise _Wrong("roleCredentials.expiration", "is not a time in milliseconds")
    checked["expiration"] = expiration
    return {"roleCredentials": checked}


def _check_nothing(data: Mapping[str, Any]) -> dict[str, Any]:
    return {}


# ---- operations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One portal operation: its route, where each member goes, and its answer's check."""

    name: str
    python_name: str
    method: str
    path: str
    query: Mapping[str, str]  # member -> query-string name; accessToken goes in the header
    required: frozenset[str]
    check: Callable[[Mapping[str, Any]], dict[str, Any]]
    empty_body_ok: bool = False


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "GetRoleCredentials",
            "get_role_credentials",
            "GET",
            "/federation/credentials",
            {"roleName": "role_name", "accountId": "account_id"},
            frozenset({"roleName", "accountId", "accessToken"}),
            _check_role_credentials,
        ),
        Operation(
            "ListAccounts",
            "list_accounts",
            "GET",
            "/assignment/accounts",
            {"nextToken": "next_token", "maxResults": "max_result"},
            frozenset({"accessToken"}),
            _check_accounts,
        ),
        Operation(
            "ListAccountRoles",
            "list_account_roles",
            "GET",
            "/assignment/roles",
            {"nextToken": "next_token", "maxResults": "max_result", "accountId": "account_id"},
            frozenset({"accessToken", "accountId"}),
            _check_roles,
        ),
        Operation(
            "Logout",
            "logout",
            "POST",
            "/logout",
            {},
            frozenset({"accessToken"}),
            _check_nothing,
            empty_body_ok=True,
        ),
    )
}


def _build(operation: Operation, params: Mapping[str, Any]) -> tuple[dict[str, str], Secret]:
    """Validate ``params`` (naming members, never values) and split them into the query
    and the bearer token, before any request, as boto3 does."""
    present = present_params(
        operation.python_name, params, {*operation.query, "accessToken"}, operation.required
    )
    query: dict[str, str] = {}
    for key, value in present.items():
        if key == "maxResults":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
                raise ParamValidationError(
                    f"{operation.python_name}(): maxResults must be an integer from 1 to 100"
                )
            query[operation.query[key]] = str(value)
        elif key == "accessToken" and isinstance(value, Secret) and value:
            continue
        elif not isinstance(value, str) or not value:
            raise ParamValidationError(
                f"{operation.python_name}(): {key} must be a non-empty string, not "
                f"{type(value).__name__ if not isinstance(value, str) else 'an empty one'}"
            )
        elif key != "accessToken":
            query[operation.query[key]] = value
    return query, as_secret(present["accessToken"])


# ---- the no-I/O base ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Send:
    operation: str
    method: str
    url: str
    query: dict[str, str]
    headers: dict[str, str]
    token: Secret  # the bearer token: joins the headers only inside the httpx call

    def __repr__(self) -> str:
        return f"_Send({self.operation} {self.method} {self.url})"

    def wire_headers(self) -> dict[str, str]:
        """The headers with the bearer token, for the httpx call (and nothing else)."""
        return {**self.headers, BEARER_HEADER: self.token.get_secret_value()}


_Step: TypeAlias = "_Send | Sleep"
_Outcome: TypeAlias = "Answer | SSOOIDCError | None"
_Flow: TypeAlias = Generator[_Step, _Outcome, Any]


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

    def _call_flow(self, name: str, params: Mapping[str, Any]) -> _Flow:
        """One operation: send, retry what botocore's standard mode retries, check the
        answer. Returns the answer as a :class:`Response` (secrets hidden from its repr)."""
        wrap_secret_members(params)  # first: no frame of this call shows a plain token
        operation = OPERATIONS[name]
        query, token = _build(operation, params)
        headers: dict[str, str] = {}
        if self._config.close_connection:
            headers["Connection"] = "close"
        url = self._endpoint + operation.path

        def attempt(number: int) -> Generator[_Step, _Outcome, Response | SSOOIDCError]:
            logger.debug("%s: %s %s (attempt %d)", name, operation.method, url, number)
            outcome = yield _Send(name, operation.method, url, query, headers, token)
            if not isinstance(outcome, Answer):
                assert outcome is not None
                return outcome
            if 200 <= outcome.status < 300:
                return self._parse_success(operation, outcome, number)
            return self._parse_error(operation, outcome)

        response: Response = yield from retrying(
            name,
            attempt,
            max_attempts=self._config.max_attempts,
            backoff=self._config.retry_backoff,
        )
        return response

    def _pages_flow(self, name: str, params: Mapping[str, Any], list_key: str) -> _Flow:
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
                raise self._invalid(name, 200, "nextToken", "repeats an earlier page's token")
            seen.add(next_token)
        raise self._invalid(name, 200, "nextToken", f"still asks for more after {MAX_PAGES} pages")

    def _accounts_flow(self, access_token: str | Secret) -> _Flow:
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

    def _invalid(self, name: str, status: int, field: str, problem: str) -> InvalidResponseError:
        return InvalidResponseError(
            f"{name} got HTTP {status} from {self._host} with an answer whose {field} "
            f"{problem}; that is not the AWS access portal's answer. Check the endpoint "
            "(AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL) and any proxy in between, then try again.",
            operation=name,
            status_code=status,
        )

    def _parse_success(self, operation: Operation, answer: Answer, attempt: int) -> Response:
        data = _decode_json(answer.body)
        if not answer.body.strip() and operation.empty_body_ok:
            data = {}
        if not isinstance(data, dict):
            raise InvalidResponseError(
                f"{operation.name} got HTTP {answer.status} from {self._host} with "
                f"{_describe_body(answer.headers.get('content-type', ''), answer.body)} "
                "instead of the AWS access portal's JSON answer. A proxy or a broken "
                "connection may be in the way: check the endpoint and region, then try again.",
                operation=operation.name,
                status_code=answer.status,
            )
        try:
            response = Response(operation.check(data))
        except _Wrong as wrong:
            raise self._invalid(operation.name, answer.status, wrong.field, wrong.problem) from None
        response["ResponseMetadata"] = {
            "RequestId": answer.headers.get("x-amzn-requestid", ""),
            "HTTPStatusCode": answer.status,
            "RetryAttempts": attempt - 1,
        }
        return response

    def _parse_error(self, operation: Operation, answer: Answer) -> SSOOIDCError:
        data = _decode_json(answer.body)
        code = error_code(answer.headers, data)
        if code is None:
            return InvalidResponseError(
                f"{operation.name} got HTTP {answer.status} from {self._host} with "
                f"{_describe_body(answer.headers.get('content-type', ''), answer.body)}, not an "
                "AWS access portal error. A proxy or gateway answered instead of the service: "
                "check the endpoint and region and your network, then try again later.",
                operation=operation.name,
                status_code=answer.status,
            )
        members = data if isinstance(data, dict) else {}
        message = members.get("message") or members.get("Message")
        details = {
            key: value
            for key, value in members.items()
            if key not in ("message", "Message")
            and key not in SECRET_MEMBERS
            and isinstance(value, str | int | bool)
        }
        cls = PORTAL_EXCEPTIONS.get(code, ServiceError)
        return cls(
            operation=operation.name,
            code=code,
            error_description=message if isinstance(message, str) else None,
            status_code=answer.status,
            request_id=answer.headers.get("x-amzn-requestid"),
            details=details,
        )

    def _too_large(self, step: _Send, status: int) -> InvalidResponseError:
        return too_large_error(step.operation, self._host, status)

    def _failed(self, step: _Send, exc: httpx.HTTPError) -> TransportError:
        return transport_error(step.operation, self._host, self._config.timeout, exc, self._config)


# ---- the two clients: they differ only in I/O ----------------------------------------------


class PortalClient(_BasePortalClient):
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
        self._http = httpx.Client(**self._http_options())

    def _run(self, flow: _Flow) -> Any:
        return drive(flow, self._send)

    def _send(self, step: _Send) -> _Outcome:
        try:
            with self._http.stream(
                step.method, step.url, params=step.query, headers=step.wire_headers()
            ) as reply:
                try:
                    return Answer(reply.status_code, reply.headers, read_capped(reply))
                except ResponseTooLarge:
                    return self._too_large(step, reply.status_code)
        except httpx.HTTPError as exc:
            return self._failed(step, exc)

    def get_role_credentials(
        self, **params: Unpack[GetRoleCredentialsRequest]
    ) -> GetRoleCredentialsResponse:
        """Temporary credentials of a role in an account (GetRoleCredentials)."""
        return self._run(self._call_flow("GetRoleCredentials", params))  # type: ignore[no-any-return]

    def list_accounts(self, **params: Unpack[ListAccountsRequest]) -> ListAccountsResponse:
        """One page of the user's accounts (ListAccounts)."""
        return self._run(self._call_flow("ListAccounts", params))  # type: ignore[no-any-return]

    def list_account_roles(
        self, **params: Unpack[ListAccountRolesRequest]
    ) -> ListAccountRolesResponse:
        """One page of the user's roles in an account (ListAccountRoles)."""
        return self._run(self._call_flow("ListAccountRoles", params))  # type: ignore[no-any-return]

    def logout(self, **params: Unpack[LogoutRequest]) -> dict[str, Any]:
        """End the IAM Identity Center session of the token, for every tool (Logout)."""
        return self._run(self._call_flow("Logout", params))  # type: ignore[no-any-return]

    def list_all_accounts(self, access_token: str | Secret) -> list[AccountInfo]:
        """Every account, all pages."""
        access_token = as_secret(access_token)
        flow = self._pages_flow("ListAccounts", {"accessToken": access_token}, "accountList")
        return self._run(flow)  # type: ignore[no-any-return]

    def list_all_account_roles(self, access_token: str | Secret, account_id: str) -> list[RoleInfo]:
        """Every role in ``account_id``, all pages."""
        access_token = as_secret(access_token)
        params = {"accessToken": access_token, "accountId": account_id}
        return self._run(self._pages_flow("ListAccountRoles", params, "roleList"))  # type: ignore[no-any-return]

    def accounts_with_roles(
        self, access_token: str | Secret
    ) -> list[tuple[AccountInfo, list[str]]]:
        """Every account with its role names (all pages of both listings)."""
        access_token = as_secret(access_token)
        return self._run(self._accounts_flow(access_token))  # type: ignore[no-any-return]

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncPortalClient(_BasePortalClient):
    """The same client for asyncio: ``await client.list_accounts(...)``."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(config, endpoint, region)
        self._http = httpx.AsyncClient(**self._http_options())

    async def _run(self, flow: _Flow) -> Any:
        return await adrive(flow, self._send)

    async def _send(self, step: _Send) -> _Outcome:
        try:
            async with self._http.stream(
                step.method, step.url, params=step.query, headers=step.wire_headers()
            ) as reply:
                try:
                    return Answer(reply.status_code, reply.headers, await aread_capped(reply))
                except ResponseTooLarge:
                    return self._too_large(step, reply.status_code)
        except httpx.HTTPError as exc:
            return self._failed(step, exc)

    async def get_role_credentials(
        self, **params: Unpack[GetRoleCredentialsRequest]
    ) -> GetRoleCredentialsResponse:
        """Temporary credentials of a role in an account (GetRoleCredentials)."""
        return await self._run(self._call_flow("GetRoleCredentials", params))  # type: ignore[no-any-return]

    async def list_accounts(self, **params: Unpack[ListAccountsRequest]) -> ListAccountsResponse:
        """One page of the user's accounts (ListAccounts)."""
        return await self._run(self._call_flow("ListAccounts", params))  # type: ignore[no-any-return]

    async def list_account_roles(
        self, **params: Unpack[ListAccountRolesRequest]
    ) -> ListAccountRolesResponse:
        """One page of the user's roles in an account (ListAccountRoles)."""
        return await self._run(self._call_flow("ListAccountRoles", params))  # type: ignore[no-any-return]

    async def logout(self, **params: Unpack[LogoutRequest]) -> dict[str, Any]:
        """End the IAM Identity Center session of the token, for every tool (Logout)."""
        return await self._run(self._call_flow("Logout", params))  # type: ignore[no-any-return]

    async def list_all_accounts(self, access_token: str | Secret) -> list[AccountInfo]:
        """Every account, all pages."""
        access_token = as_secret(access_token)
        flow = self._pages_flow("ListAccounts", {"accessToken": access_token}, "accountList")
        return await self._run(flow)  # type: ignore[no-any-return]

    async def list_all_account_roles(
        self, access_token: str | Secret, account_id: str
    ) -> list[RoleInfo]:
        """Every role in ``account_id``, all pages."""
        access_token = as_secret(access_token)
        params = {"accessToken": access_token, "accountId": account_id}
        return await self._run(self._pages_flow("ListAccountRoles", params, "roleList"))  # type: ignore[no-any-return]

    async def accounts_with_roles(
        self, access_token: str | Secret
    ) -> list[tuple[AccountInfo, list[str]]]:
        """Every account with its role names (all pages of both listings)."""
        access_token = as_secret(access_token)
        return await self._run(self._accounts_flow(access_token))  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncPortalClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
