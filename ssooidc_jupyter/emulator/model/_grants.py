"""CreateToken and CreateTokenWithIAM: which grant, which client, which tokens come back.

The device and authorization-code legs live in ``_device`` and ``_authcode``; here are the
grant dispatch, the refresh-token rotation, the IAM-only grants (JWT bearer, token
exchange) and the refresh-token rule of CreateToken.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import _values
from ._authcode import AuthCodes
from ._clients import Clients, Sessions, TokenGrant
from ._device import DeviceFlow
from ._settings import DEFAULT_IAM_SCOPES, DEFAULT_SCOPES, IAM_CLIENT_ID
from ._store import (
    IAM_GRANTS,
    PUBLIC_CLIENT_GRANTS,
    GrantType,
    OAuthError,
    OAuthErrorCode,
    Store,
    TokenType,
)
from ._values import optional, required, string_list


def _grant_type(params: Mapping[str, Any], allowed: frozenset[GrantType]) -> GrantType:
    name = required(params, "grantType")
    try:
        grant = GrantType(name)
    except ValueError:
        grant = None
    if grant is None or grant not in allowed:
        raise OAuthError(OAuthErrorCode.UNSUPPORTED_GRANT_TYPE, f"Unsupported grant type: {name}")
    return grant


def _jwt_subject(assertion: str) -> str | None:
    """The ``sub`` of a JWT-shaped assertion; the signature is not (cannot be) checked."""
    parts = assertion.split(".")
    if len(parts) != 3:
        return None
    try:
        _values.b64url_decode(parts[2])
        json.loads(_values.b64url_decode(parts[0]))
        payload = json.loads(_values.b64url_decode(parts[1]))
    except ValueError:  # covers binascii.Error, UnicodeDecodeError and JSON errors
        return None
    subject = payload.get("sub") if isinstance(payload, dict) else None
    return subject if isinstance(subject, str) and subject else None


class Grants:
    def __init__(
        self,
        store: Store,
        clients: Clients,
        sessions: Sessions,
        devices: DeviceFlow,
        codes: AuthCodes,
    ) -> None:
        self._s = store
        self._clients = clients
        self._sessions = sessions
        self._devices = devices
        self._codes = codes

    def create_token(self, params: Mapping[str, Any]) -> TokenGrant:
        client_id = required(params, "clientId")
        client_secret = required(params, "clientSecret")
        required(params, "grantType")
        with self._s.lock:
            reg = self._clients.authenticate(client_id, client_secret)
            grant = _grant_type(params, PUBLIC_CLIENT_GRANTS)
            self._clients.check_grant_allowed(reg, grant)
            scopes = string_list(params, "scope")
            if grant is GrantType.DEVICE_CODE:
                return self._devices.poll(reg, required(params, "deviceCode"))
            if grant is GrantType.REFRESH_TOKEN:
                return self._refresh(client_id, params, scopes, iam=False)
            code = self._codes.redeem(client_id, params)
            session = self._sessions.new(client_id, self._s.settings.user_name)
            granted = scopes or code.scopes or DEFAULT_SCOPES
            # Like the device grant: a refresh token only for a registration that asked for
            # sso:account:access (IAM Identity Center gives scope-less clients none).
            return self._sessions.issue(
                session, client_id, granted, iam=False, with_refresh=reg.refreshable
            )

    def create_token_with_iam(self, params: Mapping[str, Any]) -> TokenGrant:
        client_id = required(params, "clientId")
        required(params, "grantType")
        with self._s.lock:
            if client_id != IAM_CLIENT_ID:
                raise OAuthError(OAuthErrorCode.INVALID_CLIENT, "Unknown application ARN")
            grant = _grant_type(params, IAM_GRANTS)
            scopes = string_list(params, "scope")
            if grant is GrantType.REFRESH_TOKEN:
                return self._refresh(client_id, params, scopes, iam=True)
            if grant is GrantType.AUTHORIZATION_CODE:
                code = self._codes.redeem(client_id, params)
                session = self._sessions.new(client_id, self._s.settings.user_name)
                granted = scopes or code.scopes or DEFAULT_IAM_SCOPES
                return self._sessions.issue(
                    session, client_id, granted, iam=True, with_refresh=True
                )
            if grant is GrantType.JWT_BEARER:
                return self._jwt_bearer(client_id, params, scopes)
            return self._token_exchange(client_id, params, scopes)

    def _refresh(
        self,
        client_id: str,
        params: Mapping[str, Any],
        scopes: tuple[str, ...] | None,
        *,
        iam: bool,
    ) -> TokenGrant:
        token = required(params, "refreshToken")
        record = self._s.refresh_tokens.get(token)
        if record is None or record.client_id != client_id:
            raise OAuthError(OAuthErrorCode.INVALID_GRANT, "Invalid refresh token provided")
        if record.used:
            raise OAuthError(OAuthErrorCode.INVALID_GRANT, "Refresh token has already been used")
        session = self._s.sessions[record.session_id]
        if session.logged_out:
            raise OAuthError(OAuthErrorCode.INVALID_GRANT, "Session has ended")
        if scopes is not None and not set(scopes) <= set(record.scopes):
            raise OAuthError(
                OAuthErrorCode.INVALID_SCOPE, "Requested scope exceeds the original grant"
            )
        # Rotation: the presented refresh token dies now; the new one replaces it.
        record.used = True
        return self._sessions.issue(
            session,
            client_id,
            scopes or record.scopes,
            iam=iam,
            with_refresh=True,
            issued_type=TokenType.REFRESH_TOKEN,
        )

    def _jwt_bearer(
        self, client_id: str, params: Mapping[str, Any], scopes: tuple[str, ...] | None
    ) -> TokenGrant:
        subject = _jwt_subject(required(params, "assertion"))
        if subject is None:
            raise OAuthError(OAuthErrorCode.INVALID_GRANT, "Invalid JWT assertion")
        session = self._sessions.new(client_id, subject)
        return self._sessions.issue(
            session, client_id, scopes or DEFAULT_IAM_SCOPES, iam=True, with_refresh=True
        )

    def _token_exchange(
        self, client_id: str, params: Mapping[str, Any], scopes: tuple[str, ...] | None
    ) -> TokenGrant:
        subject = required(params, "subjectToken")
        subject_type = required(params, "subjectTokenType")
        requested = optional(params, "requestedTokenType")
        if subject_type != TokenType.ACCESS_TOKEN:
            raise OAuthError(OAuthErrorCode.INVALID_REQUEST, "Unsupported subjectTokenType")
        if requested is not None and requested != TokenType.ACCESS_TOKEN:
            raise OAuthError(OAuthErrorCode.INVALID_REQUEST, "Unsupported requestedTokenType")
        session = self._sessions.live(subject)
        if session is None:
            raise OAuthError(OAuthErrorCode.INVALID_GRANT, "Invalid subject token provided")
        # An exchanged token is a view of an existing session: it cannot be refreshed.
        return self._sessions.issue(
            session, client_id, scopes or DEFAULT_IAM_SCOPES, iam=True, with_refresh=False
        )
