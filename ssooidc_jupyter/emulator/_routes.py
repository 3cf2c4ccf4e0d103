"""Routing and the operations: turn a parsed HTTP request into a state call and a wire response.

Knows URLs, parameter locations and error mapping for the three services; knows nothing
about sockets (see ``_server``) or about OAuth rules (see ``_state``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from . import _pages, _sigv4, _wire
from ._state import EmulatorState, OAuthError, PortalError, TokenGrant
from ._wire import Response

OIDC_OPERATIONS = frozenset(
    {"RegisterClient", "StartDeviceAuthorization", "CreateToken", "CreateTokenWithIAM"}
)
PORTAL_OPERATIONS = frozenset({"GetRoleCredentials", "ListAccounts", "ListAccountRoles", "Logout"})
STS_OPERATIONS = frozenset({"GetCallerIdentity"})

BEARER_HEADER = "x-amz-sso_bearer_token"

# SigV4 failure reason -> (status, code) per protocol family. The sso-oidc codes are what the
# AWS auth layer of JSON services sends; the STS ones are the classic query error codes.
_OIDC_AUTH_ERRORS = {
    _sigv4.MISSING: (403, "MissingAuthenticationTokenException"),
    _sigv4.INCOMPLETE: (403, "IncompleteSignatureException"),
    _sigv4.UNKNOWN_KEY: (403, "UnrecognizedClientException"),
    _sigv4.MISMATCH: (403, "InvalidSignatureException"),
    _sigv4.EXPIRED: (403, "ExpiredTokenException"),
    _sigv4.UNAVAILABLE: (403, "SignatureVerificationUnavailableException"),
}
_STS_AUTH_ERRORS = {
    _sigv4.MISSING: (403, "MissingAuthenticationToken"),
    _sigv4.INCOMPLETE: (400, "IncompleteSignature"),
    _sigv4.UNKNOWN_KEY: (403, "InvalidClientTokenId"),
    _sigv4.MISMATCH: (403, "SignatureDoesNotMatch"),
    _sigv4.EXPIRED: (400, "ExpiredToken"),
    _sigv4.UNAVAILABLE: (403, "SignatureVerificationUnavailable"),
}
_PORTAL_ERRORS = {
    "unauthorized": (401, "UnauthorizedException"),
    "not_found": (404, "ResourceNotFoundException"),
    "invalid_request": (400, "InvalidRequestException"),
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names; repeated headers joined with ","
    body: bytes
    url: str  # as the client addressed it (scheme, Host header, raw path): what SigV4 signed

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


def family(operation: str) -> str:
    """Which protocol an operation speaks, so faults and errors use the right format."""
    if operation in OIDC_OPERATIONS:
        return "oidc"
    if operation in PORTAL_OPERATIONS:
        return "portal"
    if operation in STS_OPERATIONS:
        return "sts"
    return "page"


def _form(body: bytes) -> dict[str, list[str]]:
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}


def route(method: str, path: str, query: dict[str, list[str]], body: bytes) -> str:
    if method == "POST":
        if path == "/client/register":
            return "RegisterClient"
        if path == "/device_authorization":
            return "StartDeviceAuthorization"
        if path == "/token":
            # botocore sends CreateTokenWithIAM to the same path with ?aws_iam=t.
            return "CreateTokenWithIAM" if query.get("aws_iam") == ["t"] else "CreateToken"
        if path == "/logout":
            return "Logout"
        if path == "/device":
            return "VerificationSubmit"
        if path == "/" and _form(body).get("Action") == ["GetCallerIdentity"]:
            return "GetCallerIdentity"
    elif method == "GET":
        if path == "/federation/credentials":
            return "GetRoleCredentials"
        if path == "/assignment/accounts":
            return "ListAccounts"
        if path == "/assignment/roles":
            return "ListAccountRoles"
        if path == "/device":
            return "VerificationPage"
        if path in {"/", "/start", "/start/"}:
            return "StartPage"
    return "Unknown"


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "Request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise OAuthError("invalid_request", "Request body must be a JSON object")
    return parsed


def _note_str(note: dict[str, Any], key: str, params: dict[str, Any], member: str) -> None:
    value = params.get(member)
    if isinstance(value, str):
        note[key] = value


class Api:
    def __init__(self, state: EmulatorState, clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self.base_url = ""  # set by Emulator.start() once the port is known
        self._clock = clock
        self._handlers: dict[str, Callable[[Request, str, dict[str, Any]], Response]] = {
            "RegisterClient": self._register_client,
            "StartDeviceAuthorization": self._start_device_authorization,
            "CreateToken": self._create_token,
            "CreateTokenWithIAM": self._create_token_with_iam,
            "GetRoleCredentials": self._get_role_credentials,
            "ListAccounts": self._list_accounts,
            "ListAccountRoles": self._list_account_roles,
            "Logout": self._logout,
            "GetCallerIdentity": self._get_caller_identity,
            "VerificationPage": self._verification_page,
            "VerificationSubmit": self._verification_submit,
            "StartPage": self._start_page,
            "Unknown": self._unknown,
        }

    def handle(
        self, operation: str, request: Request, request_id: str, note: dict[str, Any]
    ) -> Response:
        """Answer one request; ``note`` collects non-secret facts for the request record."""
        try:
            return self._handlers[operation](request, request_id, note)
        except OAuthError as exc:
            return _wire.oidc_error(exc.error, exc.description)
        except PortalError as exc:
            status, code = _PORTAL_ERRORS[exc.kind]
            return _wire.aws_json_error(status, code, exc.message, _wire.PORTAL_NAMESPACE)

    # -- sso-oidc -------------------------------------------------------------------------

    def _register_client(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        reg = self.state.register_client(_json_body(req.body))
        note["client_id"] = reg.client_id
        payload: dict[str, Any] = {
            "clientId": reg.client_id,
            "clientSecret": reg.client_secret,
            "clientIdIssuedAt": reg.issued_at,
            "clientSecretExpiresAt": reg.expires_at,
        }
        if reg.authorization_code:
            payload["authorizationEndpoint"] = f"{self.base_url}/authorize"
            payload["tokenEndpoint"] = f"{self.base_url}/token"
        return _wire.json_response(payload)

    def _start_device_authorization(
        self, req: Request, _rid: str, note: dict[str, Any]
    ) -> Response:
        params = _json_body(req.body)
        _note_str(note, "client_id", params, "clientId")
        grant = self.state.start_device_authorization(params)
        verification_uri = f"{self.base_url}/device"
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
        params = _json_body(req.body)
        _note_str(note, "client_id", params, "clientId")
        _note_str(note, "grant_type", params, "grantType")
        grant = self.state.create_token(params)
        payload: dict[str, Any] = {
            "accessToken": grant.access_token,
            "tokenType": "Bearer",
            "expiresIn": grant.expires_in,
            "idToken": grant.id_token,
        }
        if grant.refresh_token is not None:
            payload["refreshToken"] = grant.refresh_token
        return _wire.json_response(payload)

    def _create_token_with_iam(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        try:
            self._verify(req, "sso-oauth")
        except _sigv4.SignatureError as exc:
            status, code = _OIDC_AUTH_ERRORS[exc.reason]
            return _wire.aws_json_error(status, code, exc.message)
        params = _json_body(req.body)
        _note_str(note, "client_id", params, "clientId")
        _note_str(note, "grant_type", params, "grantType")
        return _wire.json_response(_iam_payload(self.state.create_token_with_iam(params)))

    # -- portal ---------------------------------------------------------------------------

    def _bearer(self, req: Request, note: dict[str, Any]) -> str | None:
        token = req.headers.get(BEARER_HEADER)
        client_id = self.state.client_for_token(token)
        if client_id is not None:
            note["client_id"] = client_id
        return token

    @staticmethod
    def _max_results(req: Request) -> int | None:
        raw = req.param("max_result")
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if not 1 <= value <= 100:
            raise PortalError("invalid_request", "max_result must be between 1 and 100")
        return value

    def _get_role_credentials(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        creds = self.state.get_role_credentials(
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
        accounts, next_token = self.state.list_accounts(
            self._bearer(req, note), req.param("next_token"), self._max_results(req)
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
        roles, next_token = self.state.list_account_roles(
            self._bearer(req, note), account_id, req.param("next_token"), self._max_results(req)
        )
        payload: dict[str, Any] = {
            "roleList": [{"roleName": role, "accountId": account_id} for role in roles]
        }
        if next_token is not None:
            payload["nextToken"] = next_token
        return _wire.json_response(payload)

    def _logout(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        self.state.logout(self._bearer(req, note))
        return Response(status=200)

    # -- sts ------------------------------------------------------------------------------

    def _get_caller_identity(self, req: Request, rid: str, _note: dict[str, Any]) -> Response:
        try:
            verified = self._verify(req, "sts")
        except _sigv4.SignatureError as exc:
            status, code = _STS_AUTH_ERRORS[exc.reason]
            return _wire.sts_error(status, code, exc.message, rid)
        identity = self.state.signing_identity(verified.access_key_id)
        if identity is None:  # only if the credentials vanished mid-request; be defensive
            return _wire.sts_error(403, "InvalidClientTokenId", "Invalid token", rid)
        return _wire.sts_response(
            "GetCallerIdentity",
            {"UserId": identity.user_id, "Account": identity.account_id, "Arn": identity.arn},
            rid,
        )

    def _verify(self, req: Request, service: str) -> _sigv4.Verified:
        def lookup(access_key_id: str) -> _sigv4.Credential | None:
            identity = self.state.signing_identity(access_key_id)
            if identity is None:
                return None
            return _sigv4.Credential(
                identity.secret_access_key, identity.session_token, identity.expires_at
            )

        return _sigv4.verify(
            method=req.method,
            url=req.url,
            headers=req.headers,
            body=req.body,
            service=service,
            lookup=lookup,
            now=self._clock(),
        )

    # -- pages ----------------------------------------------------------------------------

    def _verification_page(self, req: Request, _rid: str, _note: dict[str, Any]) -> Response:
        user_code = req.param("user_code") or ""
        info = self.state.describe_user_code(user_code) if user_code else None
        client_name = info.client_name if info is not None and info.status == "pending" else None
        return _wire.html_response(_pages.verification_page(user_code, client_name))

    def _verification_submit(self, req: Request, _rid: str, _note: dict[str, Any]) -> Response:
        form = _form(req.body)
        user_code = (form.get("user_code") or [""])[0]
        action = (form.get("action") or [""])[0]
        if action not in {"approve", "deny"}:
            return _wire.html_response(_pages.verification_page(user_code), status=400)
        try:
            if action == "approve":
                self.state.approve(user_code)
            else:
                self.state.deny(user_code)
        except (KeyError, ValueError):
            return _wire.html_response(_pages.result_page("unknown", user_code), status=400)
        outcome = "approved" if action == "approve" else "denied"
        return _wire.html_response(_pages.result_page(outcome, user_code))

    def _start_page(self, _req: Request, _rid: str, _note: dict[str, Any]) -> Response:
        accounts = [(a.account_id, a.account_name, a.roles) for a in self.state.accounts]
        return _wire.html_response(_pages.start_page(self.state.settings.region, accounts))

    def _unknown(self, req: Request, rid: str, _note: dict[str, Any]) -> Response:
        if req.method == "POST" and req.path == "/" and "Action" in _form(req.body):
            action = _form(req.body)["Action"][0]
            return _wire.sts_error(400, "InvalidAction", f"Could not find operation {action}", rid)
        response = _wire.aws_json_error(404, "UnknownOperationException", "Unknown operation")
        return response


def _iam_payload(grant: TokenGrant) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "accessToken": grant.access_token,
        "tokenType": "Bearer",
        "expiresIn": grant.expires_in,
        "idToken": grant.id_token,
        "issuedTokenType": grant.issued_token_type,
        "scope": list(grant.scopes),
    }
    if grant.refresh_token is not None:
        payload["refreshToken"] = grant.refresh_token
    if grant.identity_context is not None:
        payload["awsAdditionalDetails"] = {"identityContext": grant.identity_context}
    return payload
