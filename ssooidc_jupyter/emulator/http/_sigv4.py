"""SigV4 verification, delegated to botocore's own signer, and the per-protocol spelling of
each failure.

The emulator never implements the SigV4 algorithm itself: it rebuilds the request the client
signed and lets ``botocore.auth.SigV4Auth`` compute what the signature should be, so whatever
botocore signs, the emulator accepts, and nothing else. botocore is imported lazily so the
rest of the emulator works without it; signed operations then fail with a clear 403.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..model import IdentityCenter, WireEnum
from ._wire import Request

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_CLOCK_SKEW = 15 * 60  # seconds, as AWS allows
_AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


class SigV4Failure(WireEnum):
    """Why a request fails verification; the HTTP layer maps it to per-service error codes."""

    MISSING = "missing"  # no Authorization header at all
    INCOMPLETE = "incomplete"  # an Authorization header we cannot parse
    UNKNOWN_KEY = "unknown_key"  # access key (or its session token) not issued by us
    MISMATCH = "mismatch"  # wrong signature, wrong scope, stale timestamp
    EXPIRED = "expired"  # temporary credentials past their expiration
    UNAVAILABLE = "unavailable"  # botocore is not installed


class SignatureError(Exception):
    def __init__(self, reason: SigV4Failure, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Credential:
    secret_access_key: str
    session_token: str | None
    expires_at: float | None


@dataclass(frozen=True)
class Verified:
    access_key_id: str
    region: str


def _parse_authorization(value: str) -> tuple[list[str], list[str], str]:
    """Split ``AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureError(
            SigV4Failure.INCOMPLETE, f"Unsupported authorization algorithm; use {ALGORITHM}"
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key] = val
    try:
        scope = fields["Credential"].split("/")
        signed_headers = [h for h in fields["SignedHeaders"].lower().split(";") if h]
        signature = fields["Signature"]
    except KeyError as exc:
        raise SignatureError(
            SigV4Failure.INCOMPLETE, f"Authorization header requires '{exc.args[0]}' parameter"
        ) from None
    if len(scope) != 5 or scope[4] != "aws4_request" or not all(scope):
        raise SignatureError(
            SigV4Failure.INCOMPLETE,
            "Credential must have the form KEY/DATE/REGION/SERVICE/aws4_request",
        )
    if "host" not in signed_headers:
        raise SignatureError(SigV4Failure.INCOMPLETE, "SignedHeaders must include host")
    return scope, signed_headers, signature


def _check_date(headers: Mapping[str, str], scope_date: str, now: float) -> str:
    """The X-Amz-Date, checked against the credential scope and the clock."""
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.datetime.strptime(amz_date, _AMZ_DATE_FORMAT).replace(
            tzinfo=datetime.timezone.utc
        )
    except ValueError:
        raise SignatureError(
            SigV4Failure.INCOMPLETE, "Missing or malformed X-Amz-Date header"
        ) from None
    if scope_date != amz_date[:8]:
        raise SignatureError(SigV4Failure.MISMATCH, "Credential date does not match X-Amz-Date")
    if abs(now - signed_at.timestamp()) > MAX_CLOCK_SKEW:
        raise SignatureError(SigV4Failure.MISMATCH, "Signature expired: request time too skewed")
    return amz_date


def _credential(
    lookup: Callable[[str], Credential | None], access_key_id: str, headers: Mapping[str, str]
) -> Credential:
    """The credential behind the key, with its session token (if any) presented too."""
    credential = lookup(access_key_id)
    invalid = "The security token included in the request is invalid"
    if credential is None:
        raise SignatureError(SigV4Failure.UNKNOWN_KEY, invalid)
    if credential.session_token is not None:
        presented = headers.get("x-amz-security-token", "")
        if not hmac.compare_digest(presented.encode(), credential.session_token.encode()):
            raise SignatureError(SigV4Failure.UNKNOWN_KEY, invalid)
    return credential


def _check_signed_content(
    headers: Mapping[str, str], signed_headers: list[str], body: bytes
) -> None:
    missing = [h for h in signed_headers if h not in headers]
    if missing:
        raise SignatureError(
            SigV4Failure.MISMATCH, f"Signed header {missing[0]!r} is not in the request"
        )
    content_sha = headers.get("x-amz-content-sha256")
    # The signature covers this header, not the body; make sure it really describes the body.
    if content_sha is not None and content_sha != hashlib.sha256(body).hexdigest():
        raise SignatureError(
            SigV4Failure.MISMATCH, "x-amz-content-sha256 does not match the request body"
        )


def verify(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    service: str,
    lookup: Callable[[str], Credential | None],
    now: float,
) -> Verified:
    """Check a SigV4-signed request; raise :class:`SignatureError` if it is not acceptable.

    ``headers`` maps lower-case names to values as received. Any region is accepted in the
    credential scope (the emulator serves every region), the service must match.
    """
    authorization = headers.get("authorization")
    if not authorization:
        raise SignatureError(SigV4Failure.MISSING, "Missing Authentication Token")
    scope, signed_headers, signature = _parse_authorization(authorization)
    access_key_id, date, region, scope_service, _ = scope
    if scope_service != service:
        raise SignatureError(
            SigV4Failure.MISMATCH, f"Credential should be scoped to correct service: '{service}'"
        )
    amz_date = _check_date(headers, date, now)
    credential = _credential(lookup, access_key_id, headers)
    _check_signed_content(headers, signed_headers, body)
    expected = _expected_signature(
        method=method,
        url=url,
        headers={h: headers[h] for h in signed_headers},
        body=body,
        amz_date=amz_date,
        access_key_id=access_key_id,
        credential=credential,
        service=service,
        region=region,
    )
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SignatureError(
            SigV4Failure.MISMATCH,
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method.",
        )
    # Checked last, as AWS does: an expired token is only reported for a genuine signature.
    if credential.expires_at is not None and now >= credential.expires_at:
        raise SignatureError(
            SigV4Failure.EXPIRED, "The security token included in the request is expired"
        )
    return Verified(access_key_id=access_key_id, region=region)


def _expected_signature(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    amz_date: str,
    access_key_id: str,
    credential: Credential,
    service: str,
    region: str,
) -> str:
    try:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
    except ImportError:
        raise SignatureError(
            SigV4Failure.UNAVAILABLE,
            "This emulator cannot verify SigV4 signatures because botocore is not installed "
            "in its Python environment (pip install botocore).",
        ) from None
    request = AWSRequest(method=method, url=url, headers=headers, data=body)
    # The signer reads the signing time from the context instead of the clock, which is what
    # lets us recompute a signature made earlier by the client.
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(
        Credentials(access_key_id, credential.secret_access_key, credential.session_token),
        service,
        region,
    )
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    return str(signer.signature(string_to_sign, request))


# -- the HTTP layer's side: verify against the model's identities, spell each failure ----


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


def verify_request(center: IdentityCenter, req: Request, service: str, now: float) -> Verified:
    """Raises ``SignatureError`` unless the request is signed by an identity we issued."""

    def lookup(access_key_id: str) -> Credential | None:
        identity = center.identities.signing_identity(access_key_id)
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
