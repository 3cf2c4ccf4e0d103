"""sso-oidc (rest-json): RegisterClient, StartDeviceAuthorization, CreateToken(WithIAM)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _wire
from ._operations import Operation
from ._request import Handler, Request, Site, json_body, note_str
from ._sessions import TokenGrant
from ._signed import OIDC_AUTH_ERRORS, verify_request
from ._sigv4 import SignatureError
from ._state import EmulatorState
from ._wire import Response


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
    def __init__(self, state: EmulatorState, site: Site, clock: Callable[[], float]) -> None:
        self._state = state
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
        reg = self._state.register_client(json_body(req.body))
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
        grant = self._state.start_device_authorization(params)
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
        return _wire.json_response(_token_payload(self._state.create_token(params)))

    def _create_token_with_iam(self, req: Request, _rid: str, note: dict[str, Any]) -> Response:
        try:
            verify_request(self._state, req, "sso-oauth", self._clock())
        except SignatureError as exc:
            status, code = OIDC_AUTH_ERRORS[exc.reason]
            return _wire.aws_json_error(status, code, exc.message)
        params = json_body(req.body)
        note_str(note, "client_id", params, "clientId")
        note_str(note, "grant_type", params, "grantType")
        return _wire.json_response(_iam_payload(self._state.create_token_with_iam(params)))
