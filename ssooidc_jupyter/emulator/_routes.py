"""Routing: which operation a request is, and the handler and error mapping that answer it.

Knows URLs and how service failures become wire errors; the handlers (``_api_*``) know the
parameters and payloads of each service, the state knows the rules, ``_server`` the sockets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from . import _wire
from ._api_oidc import OidcApi
from ._api_pages import PagesApi
from ._api_portal import PortalApi
from ._api_sts import StsApi
from ._errors import OAuthError, PortalError, PortalErrorKind
from ._operations import Operation
from ._request import Handler, Request, Site, form
from ._state import EmulatorState
from ._wire import Response

_PORTAL_ERRORS = {
    PortalErrorKind.UNAUTHORIZED: (401, "UnauthorizedException"),
    PortalErrorKind.NOT_FOUND: (404, "ResourceNotFoundException"),
    PortalErrorKind.INVALID_REQUEST: (400, "InvalidRequestException"),
}

_POST_ROUTES = {
    "/client/register": Operation.REGISTER_CLIENT,
    "/device_authorization": Operation.START_DEVICE_AUTHORIZATION,
    "/logout": Operation.LOGOUT,
    "/device": Operation.VERIFICATION_SUBMIT,
    "/authorize": Operation.AUTHORIZE_SUBMIT,
}
_GET_ROUTES = {
    "/federation/credentials": Operation.GET_ROLE_CREDENTIALS,
    "/assignment/accounts": Operation.LIST_ACCOUNTS,
    "/assignment/roles": Operation.LIST_ACCOUNT_ROLES,
    "/device": Operation.VERIFICATION_PAGE,
    "/authorize": Operation.AUTHORIZE,
    "/": Operation.START_PAGE,
    "/start": Operation.START_PAGE,
    "/start/": Operation.START_PAGE,
}


def route(method: str, path: str, query: dict[str, list[str]], body: bytes) -> Operation:
    if method == "POST":
        if path == "/token":
            # botocore sends CreateTokenWithIAM to the same path with ?aws_iam=t.
            iam = query.get("aws_iam") == ["t"]
            return Operation.CREATE_TOKEN_WITH_IAM if iam else Operation.CREATE_TOKEN
        if path == "/" and form(body).get("Action") == ["GetCallerIdentity"]:
            return Operation.GET_CALLER_IDENTITY
        return _POST_ROUTES.get(path, Operation.UNKNOWN)
    if method == "GET":
        return _GET_ROUTES.get(path, Operation.UNKNOWN)
    return Operation.UNKNOWN


class Api:
    def __init__(self, state: EmulatorState, clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self._site = Site()
        self._handlers: dict[Operation, Handler] = {
            **OidcApi(state, self._site, clock).handlers(),
            **PortalApi(state).handlers(),
            **StsApi(state, clock).handlers(),
            **PagesApi(state).handlers(),
            Operation.UNKNOWN: _unknown,
        }

    @property
    def base_url(self) -> str:
        return self._site.base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        # Set by Emulator.start() once the port is known.
        self._site.base_url = value

    def handle(
        self, operation: Operation, request: Request, request_id: str, note: dict[str, Any]
    ) -> Response:
        """Answer one request; ``note`` collects non-secret facts for the request record."""
        try:
            return self._handlers[operation](request, request_id, note)
        except OAuthError as exc:
            return _wire.oidc_error(exc.error, exc.description)
        except PortalError as exc:
            status, code = _PORTAL_ERRORS[exc.kind]
            return _wire.aws_json_error(status, code, exc.message, _wire.PORTAL_NAMESPACE)


def _unknown(req: Request, rid: str, _note: dict[str, Any]) -> Response:
    action = form(req.body).get("Action") if req.method == "POST" and req.path == "/" else None
    if action:
        return _wire.sts_error(400, "InvalidAction", f"Could not find operation {action[0]}", rid)
    return _wire.aws_json_error(404, "UnknownOperationException", "Unknown operation")
