"""The ``sso-oidc`` wire format: operations, request bodies, responses and errors.

No I/O here. The shapes and routes are those of botocore's ``sso-oidc`` model (rest-json,
API version 2019-06-10); the error parsing follows botocore's rest-json parser: the shape
name comes from the ``x-amzn-ErrorType`` header first, then from the body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from .._exceptions import (
    MODELED_EXCEPTIONS,
    OAUTH_ERROR_TO_SHAPE,
    InvalidResponseError,
    ParamValidationError,
    ServiceError,
)

__all__ = [
    "OPERATIONS",
    "SECRET_MEMBERS",
    "CreateTokenRequest",
    "CreateTokenResponse",
    "CreateTokenWithIAMRequest",
    "CreateTokenWithIAMResponse",
    "Operation",
    "RegisterClientRequest",
    "RegisterClientResponse",
    "Response",
    "StartDeviceAuthorizationRequest",
    "StartDeviceAuthorizationResponse",
    "build_body",
    "parse_error",
    "parse_success",
    "redact",
]

# Every member whose value is a credential. They never reach a repr, a log line or a message.
SECRET_MEMBERS = frozenset(
    {
        "clientSecret",
        "accessToken",
        "refreshToken",
        "idToken",
        "deviceCode",
        "codeVerifier",
        "code",
        "assertion",
        "subjectToken",
        "accessKeyId",
        "secretAccessKey",
        "sessionToken",
    }
)

_REDACTED = "***"


class _RegisterClientRequired(TypedDict):
    clientName: str
    clientType: str


class RegisterClientRequest(_RegisterClientRequired, total=False):
    scopes: list[str]
    redirectUris: list[str]
    grantTypes: list[str]
    issuerUrl: str
    entitledApplicationArn: str


class RegisterClientResponse(TypedDict, total=False):
    clientId: str
    clientSecret: str
    clientIdIssuedAt: int
    clientSecretExpiresAt: int
    authorizationEndpoint: str
    tokenEndpoint: str
    ResponseMetadata: dict[str, Any]


class StartDeviceAuthorizationRequest(TypedDict):
    clientId: str
    clientSecret: str
    startUrl: str


class StartDeviceAuthorizationResponse(TypedDict, total=False):
    deviceCode: str
    userCode: str
    verificationUri: str
    verificationUriComplete: str
    expiresIn: int
    interval: int
    ResponseMetadata: dict[str, Any]


class _CreateTokenRequired(TypedDict):
    clientId: str
    clientSecret: str
    grantType: str


class CreateTokenRequest(_CreateTokenRequired, total=False):
    deviceCode: str
    code: str
    refreshToken: str
    scope: list[str]
    redirectUri: str
    codeVerifier: str


class CreateTokenResponse(TypedDict, total=False):
    accessToken: str
    tokenType: str
    expiresIn: int
    refreshToken: str
    idToken: str
    ResponseMetadata: dict[str, Any]


class _CreateTokenWithIAMRequired(TypedDict):
    clientId: str
    grantType: str


class CreateTokenWithIAMRequest(_CreateTokenWithIAMRequired, total=False):
    code: str
    refreshToken: str
    assertion: str
    scope: list[str]
    redirectUri: str
    subjectToken: str
    subjectTokenType: str
    requestedTokenType: str
    codeVerifier: str


class CreateTokenWithIAMResponse(TypedDict, total=False):
    accessToken: str
    tokenType: str
    expiresIn: int
    refreshToken: str
    idToken: str
    issuedTokenType: str
    scope: list[str]
    awsAdditionalDetails: dict[str, Any]
    ResponseMetadata: dict[str, Any]


@dataclass(frozen=True)
class Operation:
    """One API operation: its route, its members and which of them are required."""

    name: str
    python_name: str
    path: str
    required: frozenset[str]
    members: Mapping[str, type]  # member name -> str or list (of str)
    signed: bool = False


def _operation(
    name: str, python_name: str, path: str, request: type, *, signed: bool = False
) -> Operation:
    annotations: dict[str, Any] = {}
    for klass in reversed(request.__mro__):
        annotations.update(getattr(klass, "__annotations__", {}))
    members = {key: (list if "list" in str(kind) else str) for key, kind in annotations.items()}
    required = frozenset(getattr(request, "__required_keys__", frozenset()))
    return Operation(name, python_name, path, required, members, signed)


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        _operation("RegisterClient", "register_client", "/client/register", RegisterClientRequest),
        _operation(
            "StartDeviceAuthorization",
            "start_device_authorization",
            "/device_authorization",
            StartDeviceAuthorizationRequest,
        ),
        _operation("CreateToken", "create_token", "/token", CreateTokenRequest),
        _operation(
            "CreateTokenWithIAM",
            "create_token_with_iam",
            "/token?aws_iam=t",
            CreateTokenWithIAMRequest,
            signed=True,
        ),
    )
}


def build_body(operation: Operation, params: Mapping[str, Any]) -> bytes:
    """Validate ``params`` against the operation and encode the JSON body.

    Raises :class:`ParamValidationError` (naming members, never values) before any request,
    as boto3 does. Members passed as ``None`` count as omitted and are not sent.
    """
    unknown = sorted(set(params) - set(operation.members))
    if unknown:
        raise ParamValidationError(
            f"{operation.python_name}() got unknown parameter(s) {', '.join(unknown)}; "
            f"valid parameters: {', '.join(sorted(operation.members))}"
        )
    present = {key: value for key, value in params.items() if value is not None}
    missing = sorted(operation.required - set(present))
    if missing:
        raise ParamValidationError(
            f"{operation.python_name}() is missing required parameter(s) {', '.join(missing)}"
        )
    body: dict[str, Any] = {}
    for key, value in present.items():
        if operation.members[key] is list:
            if isinstance(value, str) or not all(isinstance(item, str) for item in value):
                raise ParamValidationError(
                    f"{operation.python_name}(): {key} must be a list of strings"
                )
            body[key] = list(value)
        else:
            if not isinstance(value, str):
                raise ParamValidationError(
                    f"{operation.python_name}(): {key} must be a string, not {type(value).__name__}"
                )
            body[key] = value
    return json.dumps(body, separators=(",", ":")).encode()


class Response(dict[str, Any]):
    """A plain ``dict`` of response members whose repr hides the credentials in it.

    Equality, iteration and ``json.dumps`` see the real values; ``repr``, ``str`` and
    IPython's pretty printer show ``'***'`` in place of every secret member.
    """

    def __repr__(self) -> str:
        return repr(redact(dict(self)))

    __str__ = __repr__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text("{...}" if cycle else repr(self))


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret member replaced by ``'***'``."""
    if isinstance(value, Mapping):
        return {
            key: (_REDACTED if key in SECRET_MEMBERS and item is not None else redact(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def _decode_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _NOT_JSON


_NOT_JSON = object()


def _describe_body(content_type: str, body: bytes) -> str:
    if not body:
        return "an empty body"
    kind = content_type.split(";")[0].strip() or "untyped"
    if "html" in kind or body.lstrip()[:1] == b"<":
        return f"an HTML page ({kind})"
    if "json" in kind:
        return f"a truncated or malformed JSON body ({len(body)} bytes)"
    return f"a {kind} body that is not JSON ({len(body)} bytes)"


def parse_success(
    operation: Operation,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    host: str,
    attempts: int = 1,
) -> Response:
    data = _decode_json(body)
    if not isinstance(data, dict):
        raise InvalidResponseError(
            f"{operation.name} got HTTP {status} from {host} with "
            f"{_describe_body(headers.get('content-type', ''), body)} instead of the service's "
            "JSON answer. A proxy or a broken connection may be in the way: check the endpoint "
            "and region, then try again.",
            operation=operation.name,
            status_code=status,
        )
    response = Response(data)
    response["ResponseMetadata"] = {
        "RequestId": headers.get("x-amzn-requestid", ""),
        "HTTPStatusCode": status,
        "RetryAttempts": attempts - 1,
    }
    return response


def error_code(headers: Mapping[str, str], data: Any) -> str | None:
    """The error shape name, found as botocore finds it: header first, then the body."""
    header = headers.get("x-amzn-errortype")
    if header:
        return header.split(":", 1)[0].strip() or None
    if isinstance(data, dict):
        for key in ("__type", "code", "Code"):
            value = data.get(key)
            if isinstance(value, str) and value:
                # "__type" may be "namespace#Shape".
                return value.rsplit("#", 1)[-1]
        oauth = data.get("error")
        if isinstance(oauth, str) and oauth in OAUTH_ERROR_TO_SHAPE:
            return OAUTH_ERROR_TO_SHAPE[oauth]
    return None


def parse_error(
    operation: Operation,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    host: str,
) -> ServiceError | InvalidResponseError:
    """Turn an error answer into the exception to raise (never raises itself)."""
    data = _decode_json(body)
    code = error_code(headers, data)
    if code is None:
        return InvalidResponseError(
            f"{operation.name} got HTTP {status} from {host} with "
            f"{_describe_body(headers.get('content-type', ''), body)}, not an IAM Identity "
            "Center error. A proxy or gateway answered instead of the service: check the "
            "endpoint and region and your network, then try again later.",
            operation=operation.name,
            status_code=status,
        )
    members = data if isinstance(data, dict) else {}
    description = members.get("error_description")
    if description is None:
        description = members.get("message") or members.get("Message")
    details = {
        key: value
        for key, value in members.items()
        if key not in ("error", "error_description") and key not in SECRET_MEMBERS
    }
    cls = MODELED_EXCEPTIONS.get(code, ServiceError)
    return cls(
        operation=operation.name,
        code=code,
        error=members.get("error") if isinstance(members.get("error"), str) else None,
        error_description=description if isinstance(description, str) else None,
        status_code=status,
        request_id=headers.get("x-amzn-requestid"),
        details=details,
    )
