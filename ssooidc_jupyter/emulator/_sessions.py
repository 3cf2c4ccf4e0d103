"""Sign-in sessions and the tokens minted for them (shared by every grant and the portal).

A session is one sign-in of one user through one client. Its access tokens authorise the
portal; its refresh tokens (when issued) mint new access tokens; logout ends all of them.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import _tokens
from ._params import ceil_seconds
from ._store import AccessToken, RefreshToken, Session, Store, TokenType

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
            access = store.secret(_tokens.opaque("aoa", 96))
            store.access_tokens[access] = AccessToken(session.session_id, client_id, now + ttl)
            refresh: str | None = None
            if with_refresh:
                refresh = store.secret(_tokens.opaque("aor", 96))
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
            id_token = store.secret(_tokens.jwt_shaped(claims))
        return TokenGrant(
            access_token=access,
            expires_in=ceil_seconds(ttl),
            refresh_token=refresh,
            id_token=id_token,
            scopes=tuple(scopes),
            issued_token_type=issued_type,
            identity_context=context,
        )
