"""What travels on the wire: the parsed request every handler gets, and how AWS spells
successes and errors for each protocol, canned fault answers, and raw HTTP bytes.

* sso-oidc (rest-json): the modeled error shape goes in ``x-amzn-ErrorType`` (botocore keeps
  the part before ':'), the body carries the OAuth ``error``/``error_description`` members.
* sso portal (rest-json): same header, body ``{"message": ...}``.
* sts (query): XML bodies, errors as ``<ErrorResponse><Error><Code>``.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from ..model import FaultKind, OAuthError, OAuthErrorCode, Operation, WireEnum


class Family(WireEnum):
    """The wire protocol of an operation: it decides how errors and faults are spelled."""

    OIDC = "oidc"
    PORTAL = "portal"
    STS = "sts"
    PAGE = "page"


_FAMILIES = {
    Operation.REGISTER_CLIENT: Family.OIDC,
    Operation.START_DEVICE_AUTHORIZATION: Family.OIDC,
    Operation.CREATE_TOKEN: Family.OIDC,
    Operation.CREATE_TOKEN_WITH_IAM: Family.OIDC,
    Operation.GET_ROLE_CREDENTIALS: Family.PORTAL,
    Operation.LIST_ACCOUNTS: Family.PORTAL,
    Operation.LIST_ACCOUNT_ROLES: Family.PORTAL,
    Operation.LOGOUT: Family.PORTAL,
    Operation.GET_CALLER_IDENTITY: Family.STS,
}


def family(operation: Operation) -> Family:
    return _FAMILIES.get(operation, Family.PAGE)


OIDC_NAMESPACE = "http://internal.amazon.com/coral/com.amazonaws.ssooidc/"
PORTAL_NAMESPACE = "http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/"
STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"

# OAuth error code -> (modeled sso-oidc exception shape, HTTP status from the model).
OIDC_ERRORS: dict[OAuthErrorCode, tuple[str, int]] = {
    OAuthErrorCode.AUTHORIZATION_PENDING: ("AuthorizationPendingException", 400),
    OAuthErrorCode.SLOW_DOWN: ("SlowDownException", 400),
    OAuthErrorCode.EXPIRED_TOKEN: ("ExpiredTokenException", 400),
    OAuthErrorCode.ACCESS_DENIED: ("AccessDeniedException", 400),
    OAuthErrorCode.INVALID_CLIENT: ("InvalidClientException", 401),
    OAuthErrorCode.INVALID_GRANT: ("InvalidGrantException", 400),
    OAuthErrorCode.INVALID_REQUEST: ("InvalidRequestException", 400),
    OAuthErrorCode.INVALID_SCOPE: ("InvalidScopeException", 400),
    OAuthErrorCode.UNAUTHORIZED_CLIENT: ("UnauthorizedClientException", 400),
    OAuthErrorCode.UNSUPPORTED_GRANT_TYPE: ("UnsupportedGrantTypeException", 400),
    OAuthErrorCode.INVALID_CLIENT_METADATA: ("InvalidClientMetadataException", 400),
    OAuthErrorCode.INVALID_REDIRECT_URI: ("InvalidRedirectUriException", 400),
    OAuthErrorCode.INVALID_REQUEST_REGION: ("InvalidRequestRegionException", 400),
    OAuthErrorCode.SERVER_ERROR: ("InternalServerException", 500),
}
# The model documents InvalidRequestRegionException's `error` member as "invalid_request".
_OIDC_BODY_ERROR = {OAuthErrorCode.INVALID_REQUEST_REGION: OAuthErrorCode.INVALID_REQUEST}

NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
TRUNCATED_JSON = b'{"accessTok'
# The `truncated` fault advertises this whole document but sends only its first half.
CUT_SHORT_JSON = json.dumps(
    {"message": "This response was cut short by the emulator.", "padding": "." * 128}
).encode()


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Short error code for the request record (never a message: messages may quote input).
    error: str | None = None
    # When set, only this many body bytes are sent (Content-Length still says all of them)
    # and the server hangs up: the `truncated` fault.
    truncate_at: int | None = None


def json_response(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(status=status, body=json.dumps(payload).encode())


def oidc_error(error: OAuthErrorCode, description: str | None = None) -> Response:
    shape, status = OIDC_ERRORS[error]
    body = {"error": _OIDC_BODY_ERROR.get(error, error).value, "error_description": description}
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


# A CSP source expression for an origin: nothing that could end the directive.
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[A-Za-z0-9.\-\[\]:]+")


def _page_headers(form_origin: str | None = None) -> list[tuple[str, str]]:
    # Browsers apply form-action to the redirects that follow a form post too, so the
    # consent page must name the client's redirect origin or its 302 would be blocked.
    form_action = "'self'"
    if form_origin is not None and _ORIGIN.fullmatch(form_origin):
        form_action += f" {form_origin}"
    return [
        # The pages never need scripts, frames or foreign resources; say so.
        (
            "Content-Security-Policy",
            f"default-src 'none'; style-src 'unsafe-inline'; form-action {form_action}; "
            "frame-ancestors 'none'",
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
    ]


def html_response(html: str, status: int = 200, *, form_origin: str | None = None) -> Response:
    return Response(
        status=status,
        body=html.encode(),
        content_type="text/html; charset=utf-8",
        headers=_page_headers(form_origin),
    )


def redirect_response(location: str) -> Response:
    """302 to ``location``: /authorize sending the browser back to the client."""
    return Response(
        status=302,
        content_type="text/html; charset=utf-8",
        # No body naming the location: it carries the authorization code.
        headers=[("Location", location), *_page_headers()],
    )


def fault_response(kind: FaultKind, family: Family, request_id: str) -> Response:
    """The canned answer for an injected fault (not used for ``timeout`` and ``drop``)."""
    if kind is FaultKind.HTML_502:
        return Response(status=502, body=NGINX_502, content_type="text/html", error="502")
    if kind is FaultKind.MALFORMED_JSON:
        return Response(status=200, body=TRUNCATED_JSON)
    if kind is FaultKind.TRUNCATED:
        return Response(status=200, body=CUT_SHORT_JSON, truncate_at=len(CUT_SHORT_JSON) // 2)
    if kind is FaultKind.HTTP_500:
        if family is Family.OIDC:
            return oidc_error(OAuthErrorCode.SERVER_ERROR, "Injected internal server error")
        if family is Family.STS:
            return sts_error(500, "InternalFailure", "Injected failure", request_id, sender=False)
        return aws_json_error(500, "InternalServerException", "Injected internal server error")
    if kind is FaultKind.THROTTLE_429:
        if family is Family.STS:
            response = sts_error(429, "Throttling", "Rate exceeded", request_id)
            response.headers.append(("x-amzn-ErrorType", "TooManyRequestsException"))
            return response
        return aws_json_error(429, "TooManyRequestsException", "Too many requests")
    if kind is FaultKind.SLOW_DOWN:
        if family is Family.OIDC:
            return oidc_error(OAuthErrorCode.SLOW_DOWN, "Injected slow_down")
        if family is Family.STS:
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
    body = response.body
    if response.truncate_at is not None:
        body = body[: response.truncate_at]
    return head.encode("latin-1") + body


# -- the request every handler gets, and its body parsers ----


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]] = field(repr=False)  # may carry a state or a challenge
    headers: dict[str, str] = field(repr=False)  # lower-case names; repeats joined with ","
    body: bytes = field(repr=False)
    url: str = field(repr=False)  # as the client addressed it: what SigV4 signed

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


# (request, request id, note) -> response; ``note`` collects non-secret facts for the record.
Handler = Callable[[Request, str, dict[str, Any]], Response]


class Site:
    """Where the emulator is reachable: known only once the server has bound its port."""

    def __init__(self) -> None:
        self.base_url = ""


def form(body: bytes) -> dict[str, list[str]]:
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}


def form_value(body: bytes, name: str) -> str:
    return (form(body).get(name) or [""])[0]


def json_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, ValueError):
        raise OAuthError(OAuthErrorCode.INVALID_REQUEST, "Request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise OAuthError(OAuthErrorCode.INVALID_REQUEST, "Request body must be a JSON object")
    return parsed


def note_str(note: dict[str, Any], key: str, params: dict[str, Any], member: str) -> None:
    value = params.get(member)
    if isinstance(value, str):
        note[key] = value
