"""SigV4 for the HTTP layer: verify a request against the identities the state knows, and
the per-protocol spelling of each failure."""

from __future__ import annotations

from ._request import Request
from ._sigv4 import Credential, SigV4Failure, Verified, verify
from ._state import EmulatorState

# The sso-oidc codes are what the AWS auth layer of JSON services sends.
OIDC_AUTH_ERRORS = {
    SigV4Failure.MISSING: (403, "MissingAuthenticationTokenException"),
    SigV4Failure.INCOMPLETE: (403, "IncompleteSignatureException"),
    SigV4Failure.UNKNOWN_KEY: (403, "UnrecognizedClientException"),
    SigV4Failure.MISMATCH: (403, "InvalidSignatureException"),
    SigV4Failure.EXPIRED: (403, "ExpiredTokenException"),
    SigV4Failure.UNAVAILABLE: (403, "SignatureVerificationUnavailableException"),
}
# The STS ones are the classic query error codes.
STS_AUTH_ERRORS = {
    SigV4Failure.MISSING: (403, "MissingAuthenticationToken"),
    SigV4Failure.INCOMPLETE: (400, "IncompleteSignature"),
    SigV4Failure.UNKNOWN_KEY: (403, "InvalidClientTokenId"),
    SigV4Failure.MISMATCH: (403, "SignatureDoesNotMatch"),
    SigV4Failure.EXPIRED: (400, "ExpiredToken"),
    SigV4Failure.UNAVAILABLE: (403, "SignatureVerificationUnavailable"),
}


def verify_request(state: EmulatorState, req: Request, service: str, now: float) -> Verified:
    """Raises ``SignatureError`` unless the request is signed by an identity we issued."""

    def lookup(access_key_id: str) -> Credential | None:
        identity = state.signing_identity(access_key_id)
        if identity is None:
            return None
        return Credential(identity.secret_access_key, identity.session_token, identity.expires_at)

    return verify(
        method=req.method,
        url=req.url,
        headers=req.headers,
        body=req.body,
        service=service,
        lookup=lookup,
        now=now,
    )
