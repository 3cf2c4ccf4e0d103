"""The three AWS APIs over the model: which operation a request is, its handler (the
parameters and payloads of sso-oidc, the portal and STS), and service failures as wire
errors. The rules live in the model, the pages in ``_pages``, the sockets in ``_server``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..model import IdentityCenter, OAuthError, Operation, PortalError, PortalErrorKind, TokenGrant
from . import _wire
from ._pages import PagesApi
from ._sigv4 import OIDC_AUTH_ERRORS, STS_AUTH_ERRORS, SignatureError, verify_request
from ._wire import Handler, Request, Response, Site, form, json_body, note_str

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
    def __init__(self, center: IdentityCenter, clock: Callable[[], float] = time.time) -> None:
        self._site = Site()
        self._handlers: dict[Operation, Handler] = {
            **OidcApi(center, self._site, clock).handlers(),
            **PortalApi(center).handlers(),
            **StsApi(center, clock).handlers(),
            **PagesApi(center).handlers(),
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


# -- sso-oidc (rest-json): RegisterClient, StartDeviceAuthorization, CreateToken(WithIAM) ----


def _token_payload(grant: TokenGrant) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "accessToken": grant.access_token,
        "tokenType": "Bearer",
        "expiresIn": grant.expires_in,
        "idToken": grant.id_token,
    }
    if grant.refresh_token is not None:
        payload["refreshToken"] = grant.refresh_token
    return payload


def _iam_payload(grant: TokenGrant) -> dict[str, Any]:
    payload = _token_payload(grant)
    payload["issuedTokenType"] = grant.issued_token_type.value
    payload["scope"] = list(grant.scopes)
    if grant.identity_context is not None:
        payload["awsAdditionalDetails"] = {"identityContext": grant.identity_context}
    return payload


class OidcApi:
    def __init__(self, center: IdentityCenter, site: Site, clock: Callable[[], float]) -> None:
        self._center = center
        self._site = site
        self._clock = clock

    def handlers(self) -> dict[Operation, Handler]:
        return {
            Operation.REGISTER_CLIENT: self._register_client,
            Operation.START_DEVICE_AUTHORIZATION: self._start_device_authorization,
            Operation.CREATE_TOKEN: self._create_token,
            Operation.CREATE_TOKEN_WITH_IAM: self._create_token_with_iam,
        }

    def _register_client(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        reg = self._center.clients.register(json_body(req.body))
        note["client_id"] = reg.client_id
        payload: dict[str, Any] = {
            "clientId": reg.client_id,
            "clientSecret": reg.client_secret,
            "clientIdIssuedAt": reg.issued_at,
            "clientSecretExpiresAt": reg.expires_at,
        }
        if reg.authorization_code:
            # The real service answers with its own host: /authorize sits beside the API.
            payload["authorizationEndpoint"] = f"{self._site.base_url}/authorize"
            payload["tokenEndpoint"] = f"{self._site.base_url}/token"
        return _wire.json_response(payload)

    def _start_device_authorization(
        self, req: Request, _rid: str, note: dict[str, Any]
    ) -> Response:
        params = json_body(req.body)
        note_str(note, "client_id", params, "clientId")
        grant = self._center.devices.start(params)
        verification_uri = f"{self._site.base_url}/device"
        interval = grant.interval
        return _wire.json_response(
            {
                "deviceCode": grant.device_code,
                "userCode": grant.user_code,
                "verificationUri": verification_uri,
                "verificationUriComplete": f"{verification_uri}?user_code={grant.user_code}",
                "expiresIn": grant.expires_in,
                # The model says integer; a fractional test interval is sent as is (botocore
                # truncates it, httpx-based clients see the real value).
                "interval": int(interval) if float(interval).is_integer() else interval,
            }
        )

    def _create_token(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        params = json_body(req.body)
        note_str(note, "client_id", params, "clientId")
        note_str(note, "grant_type", params, "grantType")
        return _wire.json_response(_token_payload(self._center.grants.create_token(params)))

    def _create_token_with_iam(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        try:
            verify_request(self._center, req, "sso-oauth", self._clock())
        except SignatureError as exc:
            status, code = OIDC_AUTH_ERRORS[exc.reason]
            return _wire.aws_json_error(status, code, exc.message)
        params = json_body(req.body)
        note_str(note, "client_id", params, "clientId")
        note_str(note, "grant_type", params, "grantType")
        return _wire.json_response(_iam_payload(self._center.grants.create_token_with_iam(params)))


# -- the SSO portal (rest-json, bearer token in x-amz-sso_bearer_token) ----


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
    def __init__(self, center: IdentityCenter) -> None:
        self._center = center

    def handlers(self) -> dict[Operation, Handler]:
        return {
            Operation.GET_ROLE_CREDENTIALS: self._get_role_credentials,
            Operation.LIST_ACCOUNTS: self._list_accounts,
            Operation.LIST_ACCOUNT_ROLES: self._list_account_roles,
            Operation.LOGOUT: self._logout,
        }

    def _bearer(self, req: Request, note: dict[str, Any]) -> str | None:
        token = req.headers.get(BEARER_HEADER)
        client_id = self._center.portal.client_for_token(token)
        if client_id is not None:
            note["client_id"] = client_id
        return token

    def _get_role_credentials(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        creds = self._center.portal.get_role_credentials(
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
        accounts, next_token = self._center.portal.list_accounts(
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
        roles, next_token = self._center.portal.list_account_roles(
            self._bearer(req, note), account_id, req.param("next_token"), _max_results(req)
        )
        payload: dict[str, Any] = {
            "roleList": [{"roleName": role, "accountId": account_id} for role in roles]
        }
        if next_token is not None:
            payload["nextToken"] = next_token
        return _wire.json_response(payload)

    def _logout(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        self._center.portal.logout(self._bearer(req, note))
        return Response(status=200)


# -- STS (query protocol): GetCallerIdentity for the credentials the emulator accepts ----


class StsApi:
    def __init__(self, center: IdentityCenter, clock: Callable[[], float]) -> None:
        self._center = center
        self._clock = clock

    def handlers(self) -> dict[Operation, Handler]:
        return {Operation.GET_CALLER_IDENTITY: self._get_caller_identity}

    def _get_caller_identity(self, req: Request, rid: str, _note: dict[str, Any]) -> Response:
        try:
            verified = verify_request(self._center, req, "sts", self._clock())
        except SignatureError as exc:
            status, code = STS_AUTH_ERRORS[exc.reason]
            return _wire.sts_error(status, code, exc.message, rid)
        identity = self._center.identities.signing_identity(verified.access_key_id)
        if identity is None:  # only if the credentials vanished mid-request; be defensive
            return _wire.sts_error(403, "InvalidClientTokenId", "Invalid token", rid)
        return _wire.sts_response(
            "GetCallerIdentity",
            {"UserId": identity.user_id, "Account": identity.account_id, "Arn": identity.arn},
            rid,
        )
