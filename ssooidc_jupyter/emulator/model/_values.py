"""The values the services hand out and take in: identifiers and secrets (generated),
sso-oidc request members (read, or ``invalid_request``), and redirect URIs (judged).

Every secret comes from :mod:`secrets` so two emulators (or two runs) never share a value;
the few *stable* identifiers (role ids, ARN suffixes) are derived from a hash of their
inputs so that an ARN does not change between calls, as it would not on AWS.

Redirect URIs, shared by RegisterClient and /authorize:

* Registration (what IAM Identity Center accepts): ``https`` with a host anywhere, plain
  ``http`` only on a loopback host (the native-app pattern), never a fragment.
* Matching (RFC 8252 section 7.3): a native app cannot know in advance which port its
  loopback listener gets, so a registered loopback redirect matches the same URI with any
  port. Everything else, including a different loopback host spelling, must match exactly.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ._store import OAuthError, OAuthErrorCode

# No vowels and none of I/O/0/1: a user code can never spell a word and is hard to misread.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LETTERS = 8

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def b64url(data: bytes) -> str:
    """Unpadded base64url, as used in JWTs and PKCE."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url; raises ValueError on bad input."""
    if not text or any(c not in string.ascii_letters + string.digits + "-_" for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def opaque(prefix: str, nbytes: int = 48) -> str:
    """A random opaque token; the prefix only helps a human tell token kinds apart."""
    return prefix + secrets.token_urlsafe(nbytes)


def user_code() -> str:
    letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LETTERS))
    half = USER_CODE_LETTERS // 2
    return f"{letters[:half]}-{letters[half:]}"


def normalize_user_code(raw: str) -> str | None:
    """Canonical ``ABCD-EFGH`` form of what a person typed, or None if it cannot be a code.

    People type codes in lower case, with spaces, or without the dash; all of that is
    accepted, anything else is not a code we could have issued.
    """
    letters = "".join(raw.split()).replace("-", "").upper()
    if len(letters) != USER_CODE_LETTERS or any(c not in USER_CODE_ALPHABET for c in letters):
        return None
    half = USER_CODE_LETTERS // 2
    return f"{letters[:half]}-{letters[half:]}"


def access_key_id(prefix: str) -> str:
    """AWS-looking access key id: 4-letter prefix (ASIA = temporary) + 16 characters."""
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def session_token() -> str:
    # Real session tokens are long base64 blobs; length matters to clients that store them.
    return base64.b64encode(secrets.token_bytes(180)).decode("ascii")


def jwt_shaped(claims: Mapping[str, object]) -> str:
    """A JWT-shaped string with real header/payload JSON and a random (unverifiable) signature.

    Clients may decode the payload for display; nobody can verify it, which is the point:
    the emulator must never look like a trustworthy issuer.
    """
    header = {"alg": "RS256", "kid": "emulator", "typ": "JWT"}
    parts = (
        b64url(json.dumps(header, separators=(",", ":")).encode()),
        b64url(json.dumps(dict(claims), separators=(",", ":"), sort_keys=True).encode()),
        b64url(secrets.token_bytes(64)),
    )
    return ".".join(parts)


def stable_hex(*parts: str, length: int = 16) -> str:
    """Deterministic lowercase hex derived from ``parts`` (e.g. the SSO role-name suffix)."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:length]


def stable_key(prefix: str, *parts: str, length: int = 17) -> str:
    """Deterministic upper-case id such as an ``AROA...`` role id."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    chars = "".join(_KEY_ALPHABET[b % len(_KEY_ALPHABET)] for b in digest)
    return prefix + chars[:length]


def pkce_s256(verifier: str) -> str:
    """The S256 code challenge for a PKCE code verifier (RFC 7636 section 4.2)."""
    return b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())


def required(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise OAuthError(OAuthErrorCode.INVALID_REQUEST, f"Missing required parameter: {name}")
    if not isinstance(value, str):
        raise OAuthError(OAuthErrorCode.INVALID_REQUEST, f"Invalid parameter: {name}")
    return value


def optional(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise OAuthError(OAuthErrorCode.INVALID_REQUEST, f"Invalid parameter: {name}")
    return value


def string_list(params: Mapping[str, Any], name: str) -> tuple[str, ...] | None:
    """A list-of-strings member (scopes, grantTypes, redirectUris); None when absent."""
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        raise OAuthError(OAuthErrorCode.INVALID_REQUEST, f"Invalid parameter: {name}")
    return tuple(value)


def ceil_seconds(value: float) -> int:
    # Wire fields such as expiresIn are integers, and tests use sub-second TTLs: round up so
    # the advertised lifetime is never shorter than the real one, and never reads as 0.
    return max(1, math.ceil(value))


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _split(uri: str) -> SplitResult | None:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    return parts


def _is_loopback_http(parts: SplitResult) -> bool:
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def registrable(uri: str) -> bool:
    """Whether RegisterClient accepts ``uri`` as a redirect URI."""
    parts = _split(uri)
    if parts is None or parts.fragment or "#" in uri or parts.username or parts.password:
        return False
    if parts.scheme == "https" and parts.hostname:
        return True
    return _is_loopback_http(parts)


def matches(registered: str, presented: str) -> bool:
    """Whether ``presented`` (from /authorize) is the ``registered`` redirect URI."""
    if registered == presented:
        return True
    reg, pres = _split(registered), _split(presented)
    if reg is None or pres is None or not _is_loopback_http(reg) or not registrable(presented):
        return False
    # Everything but the port must be the same: scheme, host spelling, path and query.
    # An empty path and "/" are the same resource (RFC 3986 section 6.2.3).
    return (pres.scheme, pres.hostname, pres.path or "/", pres.query) == (
        reg.scheme,
        reg.hostname,
        reg.path or "/",
        reg.query,
    )


def matches_any(registered: tuple[str, ...], presented: str) -> bool:
    return any(matches(uri, presented) for uri in registered)
