"""The SSO portal (rest-json, bearer token in ``x-amz-sso_bearer_token``)."""

from __future__ import annotations

from typing import Any

from . import _wire
from ._errors import PortalError, PortalErrorKind
from ._operations import Operation
from ._request import Handler, Request
from ._state import EmulatorState
from ._wire import Response

BEARER_HEADER = "x-amz-sso_bearer_token"


def _max_results(req: Request) -> int | None:
    raw = req.param("max_result")
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= 100:
        raise PortalError(PortalErrorKind.INVALID_REQUEST, "max_result must be between 1 and 100")
    return value


class PortalApi:
    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    def handlers(self) -> dict[Operation, Handler]:
        return {
            Operation.GET_ROLE_CREDENTIALS: self._get_role_credentials,
            Operation.LIST_ACCOUNTS: self._list_accounts,
            Operation.LIST_ACCOUNT_ROLES: self._list_account_roles,
            Operation.LOGOUT: self._logout,
        }

    def _bearer(self, req: Request, note: dict[str, Any]) -> str | None:
        token = req.headers.get(BEARER_HEADER)
        client_id = self._state.client_for_token(token)
        if client_id is not None:
            note["client_id"] = client_id
        return token

    def _get_role_credentials(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        creds = self._state.get_role_credentials(
            self._bearer(req, note), req.param("account_id"), req.param("role_name")
        )
        return _wire.json_response(
            {
                "roleCredentials": {
                    "accessKeyId": creds.access_key_id,
                    "secretAccessKey": creds.secret_access_key,
                    "sessionToken": creds.session_token,
                    "expiration": creds.expiration_ms,
                }
            }
        )

    def _list_accounts(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        accounts, next_token = self._state.list_accounts(
            self._bearer(req, note), req.param("next_token"), _max_results(req)
        )
        payload: dict[str, Any] = {
            "accountList": [
                {
                    "accountId": a.account_id,
                    "accountName": a.account_name,
                    "emailAddress": a.email_address,
                }
                for a in accounts
            ]
        }
        if next_token is not None:
            payload["nextToken"] = next_token
        return _wire.json_response(payload)

    def _list_account_roles(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        account_id = req.param("account_id")
        roles, next_token = self._state.list_account_roles(
            self._bearer(req, note), account_id, req.param("next_token"), _max_results(req)
        )
        payload: dict[str, Any] = {
            "roleList": [{"roleName": role, "accountId": account_id} for role in roles]
        }
        if next_token is not None:
            payload["nextToken"] = next_token
        return _wire.json_response(payload)

    def _logout(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        self._state.logout(self._bearer(req, note))
        return Response(status=200)
