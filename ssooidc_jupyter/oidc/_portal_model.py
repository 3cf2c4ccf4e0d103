"""The AWS access portal API (``sso``) on the wire: its four operations, their requests and
their answers' checks.

No I/O. As botocore's ``sso`` model (rest-json, API version 2019-06-10): GetRoleCredentials,
ListAccounts, ListAccountRoles and Logout, unsigned, the bearer token in the
``x-amz-sso_bearer_token`` header. Every answer is checked against its model before anyone
sees it: a wrong one is an :class:`InvalidResponseError` naming the operation and the member
(never its value). What this API shares with sso-oidc's is in :mod:`._wire`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from .._exceptions import (
    PORTAL_EXCEPTIONS,
    InvalidResponseError,
    ParamValidationError,
    ServiceError,
    SSOOIDCError,
)
from .._redact import register_secret
from .._secret import Secret, as_secret
from ._wire import (
    SECRET_MEMBERS,
    Answer,
    Response,
    answer_object,
    error_members,
    present_params,
    with_metadata,
)

__all__ = [
    "BEARER_HEADER",
    "MAX_PAGES",
    "OPERATIONS",
    "AccountInfo",
    "GetRoleCredentialsRequest",
    "GetRoleCredentialsResponse",
    "ListAccountRolesRequest",
    "ListAccountRolesResponse",
    "ListAccountsRequest",
    "ListAccountsResponse",
    "LogoutRequest",
    "Operation",
    "RoleCredentialsInfo",
    "RoleInfo",
    "build_request",
    "invalid_answer",
    "parse_error",
    "parse_success",
]

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


class Wrong(Exception):
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
            raise Wrong(f"{where}{key}", "is missing")
        return None
    if not isinstance(value, str):
        raise Wrong(f"{where}{key}", f"is a {_kind(value)}, not a string")
    if required and not value:
        raise Wrong(f"{where}{key}", "is empty")
    return value


def _kind(value: object) -> str:
    return {dict: "object", list: "list", bool: "boolean", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )


def _list_of_objects(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = data.get(key)
    if items is None:
        raise Wrong(key, "is missing")
    if not isinstance(items, list):
        raise Wrong(key, f"is a {_kind(items)}, not a list")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise Wrong(f"{key}[{index}]", f"is a {_kind(item)}, not an object")
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
        raise Wrong("roleCredentials", "is missing" if creds is None else "is not an object")
    checked: dict[str, Any] = {
        key: _string(creds, key, "roleCredentials.", required=True)
        for key in ("accessKeyId", "secretAccessKey", "sessionToken")
    }
    # Masked in every log line from now on (botocore logs them when boto3 is used too).
    register_secret(checked["secretAccessKey"], checked["sessionToken"])
    expiration = creds.get("expiration")
    if expiration is None:
        raise Wrong("roleCredentials.expiration", "is missing")
    if isinstance(expiration, bool) or not isinstance(expiration, int):
        raise Wrong("roleCredentials.expiration", f"is a {_kind(expiration)}, not an integer")
    if not 0 < expiration <= _MAX_EXPIRATION_MS:
        raise Wrong("roleCredentials.expiration", "is not a time in milliseconds")
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


def build_request(operation: Operation, params: Mapping[str, Any]) -> tuple[dict[str, str], Secret]:
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


# ---- answers -------------------------------------------------------------------------------


def invalid_answer(
    name: str, host: str, status: int, field: str, problem: str
) -> InvalidResponseError:
    return InvalidResponseError(
        f"{name} got HTTP {status} from {host} with an answer whose {field} "
        f"{problem}; that is not the AWS access portal's answer. Check the endpoint "
        "(AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL) and any proxy in between, then try again.",
        operation=name,
        status_code=status,
    )


def parse_success(operation: Operation, answer: Answer, host: str, attempts: int) -> Response:
    """The checked answer, with boto3's ``ResponseMetadata``; raises when it is unusable."""
    data = answer_object(
        operation.name,
        answer,
        host,
        service="the AWS access portal's",
        empty_ok=operation.empty_body_ok,
    )
    try:
        response = Response(operation.check(data))
    except Wrong as wrong:
        raise invalid_answer(
            operation.name, host, answer.status, wrong.field, wrong.problem
        ) from None
    return with_metadata(response, answer, attempts)


def parse_error(operation: Operation, answer: Answer, host: str) -> SSOOIDCError:
    """Turn an error answer into the exception to raise (never raises itself)."""
    found = error_members(operation.name, answer, host, service="AWS access portal")
    if isinstance(found, InvalidResponseError):
        return found
    code, members = found
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
