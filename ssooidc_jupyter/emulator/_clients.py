"""RegisterClient and client authentication (the ``invalid_client`` rules)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _redirects, _tokens
from ._errors import OAuthError, OAuthErrorCode
from ._params import optional, required, string_list
from ._store import PUBLIC_CLIENT_GRANTS, GrantType, Registration, Store


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
        if not _redirects.registrable(uri):
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
                client_id=_tokens.opaque("emu-client-", 18),
                client_secret=store.secret(_tokens.opaque("emu-secret-", 64)),
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
