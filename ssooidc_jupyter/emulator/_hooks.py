"""Test hooks: the shortcuts tests take past things that take a person or time on AWS.

``approve``/``deny`` (in ``_device``) are what the verification page does too; the hooks
here exist only for tests: ageing a registration or an access token, and minting an
authorization code as if a browser sign-in had happened.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._authcode import AuthCodes, valid_challenge
from ._store import Store


class Hooks:
    def __init__(self, store: Store, codes: AuthCodes) -> None:
        self._s = store
        self._codes = codes

    def expire_registration(self, client_id: str) -> None:
        with self._s.lock:
            reg = self._s.registrations.get(client_id)
            if reg is None:
                raise KeyError(f"unknown client id {client_id!r}")
            reg.expires_at = self._s.clock() - 1

    def expire_access_token(self, token: str) -> None:
        with self._s.lock:
            record = self._s.access_tokens.get(token)
            if record is None:
                # Never echo the value: it is (or looks like) a secret.
                raise KeyError("unknown access token")
            record.expires_at = self._s.clock() - 1

    def issue_authorization_code(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        code_challenge: str | None,
        scopes: Sequence[str] = (),
    ) -> str:
        if not isinstance(redirect_uri, str) or not redirect_uri:
            raise ValueError("redirect_uri must be a non-empty string")
        if code_challenge is not None and not valid_challenge(code_challenge):
            raise ValueError("code_challenge must be an S256 challenge (43-128 characters)")
        return self._codes.mint(client_id, redirect_uri, code_challenge, scopes)
