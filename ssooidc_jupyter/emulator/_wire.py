"""Wire formats: how AWS spells successes and errors for each protocol, and raw HTTP bytes.

* sso-oidc (rest-json): the modeled error shape goes in ``x-amzn-ErrorType`` (botocore keeps
  the part before ':'), the body carries the OAuth ``error``/``error_description`` members.
* sso portal (rest-json): same header, body ``{"message": ...}``.
* sts (query): XML bodies, errors as ``<ErrorResponse><Error><Code>``.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from xml.sax.saxutils import escape

OIDC_NAMESPACE = "http://internal.amazon.com/coral/com.amazonaws.ssooidc/"
PORTAL_NAMESPACE = "http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/"
STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"

# OAuth error code -> (modeled sso-oidc exception shape, HTTP status from the model).
OIDC_ERRORS: dict[str, tuple[str, int]] = {
    "authorization_pending": ("AuthorizationPendingException", 400),
    "slow_down": ("SlowDownException", 400),
    "expired_token": ("ExpiredTokenException", 400),
    "access_denied": ("AccessDeniedException", 400),
    "invalid_client": ("InvalidClientException", 401),
    "invalid_grant": ("InvalidGrantException", 400),
    "invalid_request": ("InvalidRequestException", 400),
    "invalid_scope": ("InvalidScopeException", 400),
    "unauthorized_client": ("UnauthorizedClientException", 400),
    "unsupported_grant_type": ("UnsupportedGrantTypeException", 400),
    "invalid_client_metadata": ("InvalidClientMetadataException", 400),
    "invalid_redirect_uri": ("InvalidRedirectUriException", 400),
    "invalid_request_region": ("InvalidRequestRegionException", 400),
    "server_error": ("InternalServerException", 500),
}
# The model documents InvalidRequestRegionException's `error` member as "invalid_request".
_OIDC_BODY_ERROR = {"invalid_request_region": "invalid_request"}

NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
TRUNCATED_JSON = b'{"accessTok'


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Short error code for the request record (never a message: messages may quote input).
    error: str | None = None


def json_response(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(status=status, body=json.dumps(payload).encode())


def oidc_error(error: str, description: str | None = None) -> Response:
    shape, status = OIDC_ERRORS[error]
    body = {"error": _OIDC_BODY_ERROR.get(error, error), "error_description": description}
    return Response(
        status=status,
        body=json.dumps(body).encode(),
        headers=[("x-amzn-ErrorType", f"{shape}:{OIDC_NAMESPACE}")],
        error=shape,
    )


def aws_json_error(status: int, code: str, message: str, namespace: str | None = None) -> Response:
    """A JSON error named only by header + ``message`` (portal errors, auth failures)."""
    error_type = f"{code}:{namespace}" if namespace else code
    return Response(
        status=status,
        body=json.dumps({"message": message}).encode(),
        headers=[("x-amzn-ErrorType", error_type)],
        error=code,
    )


def sts_response(action: str, result: dict[str, str], request_id: str) -> Response:
    members = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in result.items())
    xml = (
        f'<{action}Response xmlns="{STS_XMLNS}">'
        f"<{action}Result>{members}</{action}Result>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )
    return Response(status=200, body=xml.encode(), content_type="text/xml")


def sts_error(
    status: int, code: str, message: str, request_id: str, sender: bool = True
) -> Response:
    xml = (
        f'<ErrorResponse xmlns="{STS_XMLNS}">'
        f"<Error><Type>{'Sender' if sender else 'Receiver'}</Type>"
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return Response(status=status, body=xml.encode(), content_type="text/xml", error=code)


def html_response(html: str, status: int = 200) -> Response:
    return Response(
        status=status,
        body=html.encode(),
        content_type="text/html; charset=utf-8",
        headers=[
            # The pages never need scripts, frames or foreign resources; say so.
            (
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                "frame-ancestors 'none'",
            ),
            ("X-Content-Type-Options", "nosniff"),
            ("Cache-Control", "no-store"),
        ],
    )


def fault_response(kind: str, family: str, request_id: str) -> Response:
    """The canned answer for an injected fault (not used for ``timeout`` and ``drop``)."""
    if kind == "html_502":
        return Response(status=502, body=NGINX_502, content_type="text/html", error="502")
    if kind == "malformed_json":
        return Response(status=200, body=TRUNCATED_JSON)
    if kind == "http_500":
        if family == "oidc":
            return oidc_error("server_error", "Injected internal server error")
        if family == "sts":
            return sts_error(500, "InternalFailure", "Injected failure", request_id, sender=False)
        return aws_json_error(500, "InternalServerException", "Injected internal server error")
    if kind == "throttle_429":
        if family == "sts":
            response = sts_error(429, "Throttling", "Rate exceeded", request_id)
            response.headers.append(("x-amzn-ErrorType", "TooManyRequestsException"))
            return response
        return aws_json_error(429, "TooManyRequestsException", "Too many requests")
    if kind == "slow_down":
        if family == "oidc":
            return oidc_error("slow_down", "Injected slow_down")
        if family == "sts":
            return sts_error(400, "Throttling", "Rate exceeded", request_id)
        return aws_json_error(400, "SlowDownException", "Injected slow_down")
    raise ValueError(f"no canned response for fault {kind!r}")


def serialize(response: Response, request_id: str, *, close: bool) -> bytes:
    """The complete HTTP/1.1 response as one buffer, so it leaves in a single send()."""
    reason = http.client.responses.get(response.status, "")
    lines = [
        f"HTTP/1.1 {response.status} {reason}",
        "Server: ssooidc-emulator",
        f"Date: {formatdate(usegmt=True)}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        f"x-amzn-RequestId: {request_id}",
        f"Connection: {'close' if close else 'keep-alive'}",
    ]
    lines.extend(f"{name}: {value}" for name, value in response.headers)
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("latin-1") + response.body
