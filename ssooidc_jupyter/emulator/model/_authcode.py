"""The authorization code grant with PKCE: /authorize, the consent, and code redemption.

The browser leg follows RFC 6749 section 4.1 as IAM Identity Center serves it on
``oidc.{region}.amazonaws.com/authorize``: a request naming an unknown client or a redirect
URI the client did not register is refused on a page (redirecting there would hand an
attacker the browser), every other problem is reported to the redirect URI. Codes are bound
to the client, the exact redirect URI and the S256 challenge; each is redeemable once.
"""

from __future__ import annotations

import hmac
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard
from urllib.parse import urlencode, urlsplit, urlunsplit

from . import _values
from ._clients import Clients
from ._store import AuthCode, Consent, GrantType, OAuthError, OAuthErrorCode, Registration, Store
from ._values import optional, required

_BASE64URL = frozenset(string.ascii_letters + string.digits + "-_")


class AuthorizeRejected(Exception):
    """An /authorize request that must be answered with an error page, never a redirect."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Redirect:
    """Send the browser back to the client (with a code or an OAuth error)."""

    location: str = field(repr=False)  # carries the code
    client_id: str
    error: OAuthErrorCode | None = None  # for the request record


@dataclass(frozen=True)
class ConsentPrompt:
    """Ask the person: the consent page shows these and posts ``consent_id`` back."""

    consent_id: str = field(repr=False)
    client_name: str
    scopes: tuple[str, ...]
    redirect_uri: str  # where Approve and Deny lead: the page's form-action must allow it


def valid_challenge(value: object) -> TypeGuard[str]:
    # RFC 7636: an S256 challenge is base64url without padding; 43 characters for SHA-256.
    return isinstance(value, str) and 43 <= len(value) <= 128 and set(value) <= _BASE64URL


def redirect_to(uri: str, params: Mapping[str, str | None]) -> str:
    """``uri`` with ``params`` appended to any query it already has (None values left out)."""
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _single(query: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = query.get(name) or []
    if len(values) > 1:
        # RFC 6749 section 3.1: parameters must not be included more than once.
        raise OAuthError(OAuthErrorCode.INVALID_REQUEST, f"Repeated parameter: {name}")
    return values[0] if values else None


class AuthCodes:
    def __init__(self, store: Store, clients: Clients) -> None:
        self._s = store
        self._clients = clients

    # -- GET /authorize ---------------------------------------------------------------------

    def _client_and_redirect(self, query: Mapping[str, Sequence[str]]) -> tuple[Registration, str]:
        try:
            client_id, redirect_uri = _single(query, "client_id"), _single(query, "redirect_uri")
        except OAuthError as exc:
            raise AuthorizeRejected(f"{exc.description}.") from None
        if not client_id:
            raise AuthorizeRejected("The request has no client_id.")
        try:
            reg = self._clients.public_lookup(client_id)
        except OAuthError:
            raise AuthorizeRejected(
                "The application is not registered, or its registration has expired."
            ) from None
        if not redirect_uri or not _values.matches_any(reg.redirect_uris, redirect_uri):
            raise AuthorizeRejected("The redirect_uri is not registered for this application.")
        return reg, redirect_uri

    def _grantable_scopes(
        self, reg: Registration, query: Mapping[str, Sequence[str]]
    ) -> tuple[str, ...]:
        # IAM Identity Center names the parameter "scopes" (space-separated); accept the
        # RFC 6749 spelling "scope" too.
        requested = tuple(
            dict.fromkeys(
                s for name in ("scopes", "scope") for v in query.get(name, []) for s in v.split()
            )
        )
        if reg.scopes and not set(requested) <= set(reg.scopes):
            raise OAuthError(OAuthErrorCode.INVALID_SCOPE, "Requested scope was not registered")
        return requested or reg.scopes

    def _checked_challenge(self, reg: Registration, query: Mapping[str, Sequence[str]]) -> str:
        if _single(query, "response_type") != "code":
            raise OAuthError(OAuthErrorCode.UNSUPPORTED_RESPONSE_TYPE, "response_type must be code")
        if reg.grant_types is not None and GrantType.AUTHORIZATION_CODE not in reg.grant_types:
            raise OAuthError(
                OAuthErrorCode.UNAUTHORIZED_CLIENT,
                "Client is not authorized for authorization_code",
            )
        if _single(query, "code_challenge_method") != "S256":
            raise OAuthError(OAuthErrorCode.INVALID_REQUEST, "code_challenge_method must be S256")
        challenge = _single(query, "code_challenge")
        if not valid_challenge(challenge):
            raise OAuthError(
                OAuthErrorCode.INVALID_REQUEST, "A valid S256 code_challenge is required"
            )
        return challenge

    def begin(self, query: Mapping[str, Sequence[str]]) -> Redirect | ConsentPrompt:
        """Validate an /authorize request; AuthorizeRejected when it may not be redirected."""
        reg, redirect_uri = self._client_and_redirect(query)
        state: str | None = None
        try:
            state = _single(query, "state")
            challenge = self._checked_challenge(reg, query)
            scopes = self._grantable_scopes(reg, query)
        except OAuthError as exc:
            params = {"error": exc.error.value, "error_description": exc.description}
            location = redirect_to(redirect_uri, {**params, "state": state})
            return Redirect(location, reg.client_id, exc.error)
        with self._s.lock:
            consent = Consent(
                consent_id=_values.opaque("emu-consent-", 24),
                client_id=reg.client_id,
                client_name=reg.client_name,
                redirect_uri=redirect_uri,
                scopes=scopes,
                state=state,
                code_challenge=challenge,
                expires_at=self._s.clock() + self._s.settings.code_ttl,
            )
            self._s.consents[consent.consent_id] = consent
            # auto_approve stands in for a person who always clicks Approve at once.
            if self._s.settings.auto_approve is not None:
                return self.decide(consent.consent_id, approve=True)
        return ConsentPrompt(consent.consent_id, reg.client_name, scopes, redirect_uri)

    # -- POST /authorize (the consent form) --------------------------------------------------

    def decide(self, consent_id: str, *, approve: bool) -> Redirect:
        with self._s.lock:
            consent = self._s.consents.get(consent_id)
            if consent is None or consent.decided or self._s.clock() >= consent.expires_at:
                raise AuthorizeRejected(
                    "This sign-in request is no longer valid. Start again from the application."
                )
            consent.decided = True  # one answer per request, whatever it is
            if not approve:
                params = {
                    "error": OAuthErrorCode.ACCESS_DENIED.value,
                    "error_description": "The user denied the authorization request",
                    "state": consent.state,
                }
                location = redirect_to(consent.redirect_uri, params)
                return Redirect(location, consent.client_id, OAuthErrorCode.ACCESS_DENIED)
            code = self.mint(
                consent.client_id, consent.redirect_uri, consent.code_challenge, consent.scopes
            )
            location = redirect_to(consent.redirect_uri, {"code": code, "state": consent.state})
            return Redirect(location, consent.client_id)

    # -- codes --------------------------------------------------------------------------------

    def mint(
        self, client_id: str, redirect_uri: str, code_challenge: str | None, scopes: Sequence[str]
    ) -> str:
        with self._s.lock:
            code = self._s.secret(_values.opaque("emu-code-", 32))
            self._s.auth_codes[code] = AuthCode(
                client_id=client_id,
                redirect_uri=redirect_uri,
                code_challenge=code_challenge,
                scopes=tuple(scopes),
                expires_at=self._s.clock() + self._s.settings.code_ttl,
            )
            return code

    def issue(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        code_challenge: str | None,
        scopes: Sequence[str] = (),
    ) -> str:
        """A code as if a browser sign-in had happened (``Emulator.issue_authorization_code``)."""
        if not isinstance(redirect_uri, str) or not redirect_uri:
            raise ValueError("redirect_uri must be a non-empty string")
        if code_challenge is not None and not valid_challenge(code_challenge):
            raise ValueError("code_challenge must be an S256 challenge (43-128 characters)")
        return self.mint(client_id, redirect_uri, code_challenge, scopes)

    def redeem(self, client_id: str, params: Mapping[str, Any]) -> AuthCode:
        """Check ``code``, ``redirectUri`` and ``codeVerifier``; the code is burnt either way."""
        code = required(params, "code")
        redirect_uri = optional(params, "redirectUri")
        verifier = optional(params, "codeVerifier")
        with self._s.lock:
            record = self._s.auth_codes.get(code)
            if record is None or record.client_id != client_id:
                raise OAuthError(
                    OAuthErrorCode.INVALID_GRANT, "Invalid authorization code provided"
                )
            if record.used:
                raise OAuthError(
                    OAuthErrorCode.INVALID_GRANT, "Authorization code has already been used"
                )
            # Any redemption attempt burns the code, so a guessed verifier gets one try only.
            record.used = True
            if self._s.clock() >= record.expires_at:
                raise OAuthError(OAuthErrorCode.INVALID_GRANT, "Authorization code has expired")
        if redirect_uri != record.redirect_uri:
            raise OAuthError(
                OAuthErrorCode.INVALID_GRANT, "redirectUri does not match the authorization"
            )
        if record.code_challenge is not None and (
            verifier is None
            or not hmac.compare_digest(_values.pkce_s256(verifier), record.code_challenge)
        ):
            raise OAuthError(OAuthErrorCode.INVALID_GRANT, "PKCE code verifier does not match")
        return record
