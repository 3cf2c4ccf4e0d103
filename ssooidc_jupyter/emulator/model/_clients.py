"""Registered clients and their sign-in sessions: RegisterClient, client authentication
(the ``invalid_client`` rules), and the sessions and tokens every grant mints.

A session is one sign-in of one user through one client. Its access tokens authorise the
portal; its refresh tokens (when issued) mint new access tokens; logout ends all of them.
"""

from __future__ import annotations

import base64
import hmac
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import _values
from ._store import (
    PUBLIC_CLIENT_GRANTS,
    AccessToken,
    GrantType,
    OAuthError,
    OAuthErrorCode,
    RefreshToken,
    Registration,
    Session,
    Store,
    TokenType,
)
from ._values import ceil_seconds, optional, required, string_list


@dataclass(frozen=True)
class ClientRegistration:
    """What RegisterClient answers."""

    client_id: str
    client_secret: str = field(repr=False)
    issued_at: int
    expires_at: int
    authorization_code: bool  # registered for the browser flow: endpoints are advertised


def _grant_types(params: Mapping[str, Any]) -> frozenset[GrantType] | None:
    names = string_list(params, "grantTypes")
    if names is None:
        return None
    grants: set[GrantType] = set()
    for name in names:
        try:
            grant = GrantType(name)
        except ValueError:
            grant = None
        if grant is None or grant not in PUBLIC_CLIENT_GRANTS:
            raise OAuthError(
                OAuthErrorCode.UNSUPPORTED_GRANT_TYPE, f"Unsupported grant type: {name}"
            )
        grants.add(grant)
    return frozenset(grants)


def _redirect_uris(params: Mapping[str, Any], wants_code: bool) -> tuple[str, ...]:
    uris = string_list(params, "redirectUris") or ()
    for uri in uris:
        if not _values.registrable(uri):
            raise OAuthError(OAuthErrorCode.INVALID_REDIRECT_URI, "Invalid redirect URI")
    if wants_code and not uris:
        raise OAuthError(
            OAuthErrorCode.INVALID_REDIRECT_URI, "authorization_code requires redirectUris"
        )
    return uris


class Clients:
    def __init__(self, store: Store) -> None:
        self._s = store

    def register(self, params: Mapping[str, Any]) -> ClientRegistration:
        name = required(params, "clientName")
        if required(params, "clientType") != "public":
            raise OAuthError(
                OAuthErrorCode.INVALID_CLIENT_METADATA, "Only public clients are supported"
            )
        scopes = string_list(params, "scopes") or ()
        grants = _grant_types(params)
        wants_code = grants is not None and GrantType.AUTHORIZATION_CODE in grants
        redirect_uris = _redirect_uris(params, wants_code)
        for member in ("issuerUrl", "entitledApplicationArn"):
            optional(params, member)
        store = self._s
        with store.lock:
            now = store.clock()
            reg = Registration(
                client_id=_values.opaque("emu-client-", 18),
                client_secret=store.secret(_values.opaque("emu-secret-", 64)),
                client_name=name,
                grant_types=grants,
                redirect_uris=redirect_uris,
                scopes=scopes,
                issued_at=now,
                expires_at=now + store.settings.registration_ttl,
            )
            store.registrations[reg.client_id] = reg
        return ClientRegistration(
            client_id=reg.client_id,
            client_secret=reg.client_secret,
            issued_at=int(now),
            expires_at=int(reg.expires_at),
            authorization_code=wants_code,
        )

    def authenticate(self, client_id: str, client_secret: str) -> Registration:
        """The live registration for these credentials, or ``invalid_client``."""
        with self._s.lock:
            reg = self._s.registrations.get(client_id)
            # Constant-time compare: this is the one place a secret is checked against input.
            if reg is None or not hmac.compare_digest(
                reg.client_secret.encode(), client_secret.encode()
            ):
                raise OAuthError(OAuthErrorCode.INVALID_CLIENT, "Invalid client credentials")
            self._check_live(reg)
            return reg

    def public_lookup(self, client_id: str) -> Registration:
        """A live registration by id alone: /authorize gets no secret, only a client id."""
        with self._s.lock:
            reg = self._s.registrations.get(client_id)
            if reg is None:
                raise OAuthError(OAuthErrorCode.INVALID_CLIENT, "Unknown client")
            self._check_live(reg)
            return reg

    def expire(self, client_id: str) -> None:
        """Age a registration past its lifetime (a test hook: ``Emulator.expire_registration``)."""
        with self._s.lock:
            reg = self._s.registrations.get(client_id)
            if reg is None:
                raise KeyError(f"unknown client id {client_id!r}")
            reg.expires_at = self._s.clock() - 1

    def _check_live(self, reg: Registration) -> None:
        if self._s.clock() >= reg.expires_at:
            raise OAuthError(OAuthErrorCode.INVALID_CLIENT, "Client registration has expired")

    @staticmethod
    def check_grant_allowed(reg: Registration, grant: GrantType) -> None:
        # grantTypes restrict the *primary* grants only; a refresh token, once issued, is
        # always honoured, so a client that registered just the device grant can refresh.
        if grant is GrantType.REFRESH_TOKEN or reg.grant_types is None:
            return
        if grant not in reg.grant_types:
            raise OAuthError(
                OAuthErrorCode.UNAUTHORIZED_CLIENT, f"Client is not authorized for {grant}"
            )


ISSUER = "https://identitycenter.emulator.invalid"


@dataclass(frozen=True)
class TokenGrant:
    """What CreateToken / CreateTokenWithIAM answer."""

    access_token: str = field(repr=False)
    expires_in: int
    refresh_token: str | None = field(repr=False)
    id_token: str = field(repr=False)
    scopes: tuple[str, ...]
    issued_token_type: TokenType
    identity_context: str | None = field(repr=False)


class Sessions:
    def __init__(self, store: Store) -> None:
        self._s = store

    def new(self, client_id: str, user_name: str) -> Session:
        session = Session(session_id=uuid.uuid4().hex, client_id=client_id, user_name=user_name)
        with self._s.lock:
            self._s.sessions[session.session_id] = session
        return session

    def live(self, access_token: str) -> Session | None:
        """The session behind an unexpired access token, unless it was logged out."""
        with self._s.lock:
            record = self._s.access_tokens.get(access_token)
            if record is None or self._s.clock() >= record.expires_at:
                return None
            session = self._s.sessions[record.session_id]
            return None if session.logged_out else session

    def expire_access_token(self, token: str) -> None:
        """Age an access token past its lifetime (a test hook: ``Emulator.expire_access_token``)."""
        with self._s.lock:
            record = self._s.access_tokens.get(token)
            if record is None:
                # Never echo the value: it is (or looks like) a secret.
                raise KeyError("unknown access token")
            record.expires_at = self._s.clock() - 1

    def issue(
        self,
        session: Session,
        client_id: str,
        scopes: Sequence[str],
        *,
        iam: bool,
        with_refresh: bool,
        issued_type: TokenType = TokenType.ACCESS_TOKEN,
    ) -> TokenGrant:
        store = self._s
        with store.lock:
            now = store.clock()
            ttl = store.settings.token_ttl
            access = store.secret(_values.opaque("aoa", 96))
            store.access_tokens[access] = AccessToken(session.session_id, client_id, now + ttl)
            refresh: str | None = None
            if with_refresh:
                refresh = store.secret(_values.opaque("aor", 96))
                store.refresh_tokens[refresh] = RefreshToken(
                    session.session_id, client_id, tuple(scopes)
                )
            claims: dict[str, object] = {
                "iss": ISSUER,
                "sub": session.user_name,
                "aud": client_id,
                "iat": int(now),
                "exp": int(now + ttl),
                "jti": uuid.uuid4().hex,
            }
            context: str | None = None
            if iam:
                # CreateTokenWithIAM's identity context (what sts:SetContext would consume).
                raw = base64.urlsafe_b64encode(uuid.uuid4().bytes * 3).decode()
                context = store.secret("emu-ctx-" + raw)
                claims["sts:identity_context"] = context
            id_token = store.secret(_values.jwt_shaped(claims))
        return TokenGrant(
            access_token=access,
            expires_in=ceil_seconds(ttl),
            refresh_token=refresh,
            id_token=id_token,
            scopes=tuple(scopes),
            issued_token_type=issued_type,
            identity_context=context,
        )
