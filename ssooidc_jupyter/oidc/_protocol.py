"""The ``sso-oidc`` wire format: operations, request bodies, responses and errors.

No I/O here. The shapes and routes are those of botocore's ``sso-oidc`` model (rest-json,
API version 2019-06-10); the error parsing follows botocore's rest-json parser: the shape
name comes from the ``x-amzn-ErrorType`` header first, then from the body.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from .._exceptions import (
    MODELED_EXCEPTIONS,
    OAUTH_ERROR_TO_SHAPE,
    InvalidResponseError,
    ParamValidationError,
    ServiceError,
)
from .._secret import Secret

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
    "validate_response",
    "wrap_secret_members",
    "wrap_secret_response",
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
    clientSecret: str | Secret
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
    clientSecret: str | Secret
    grantType: str


class CreateTokenRequest(_CreateTokenRequired, total=False):
    deviceCode: str | Secret
    code: str | Secret
    refreshToken: str | Secret
    scope: list[str]
    redirectUri: str
    codeVerifier: str | Secret


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
    code: str | Secret
    refreshToken: str | Secret
    assertion: str | Secret
    scope: list[str]
    redirectUri: str
    subjectToken: str | Secret
    subjectTokenType: str
    requestedTokenType: str
    codeVerifier: str | Secret


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


def present_params(
    python_name: str,
    params: Mapping[str, Any],
    allowed: Collection[str],
    required: Collection[str],
) -> dict[str, Any]:
    """The parameters given (``None`` counts as omitted), after refusing unknown and
    missing ones with a :class:`ParamValidationError` that names members, never values.
    Shared by the sso-oidc and the portal requests."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ParamValidationError(
            f"{python_name}() got unknown parameter(s) {', '.join(unknown)}; "
            f"valid parameters: {', '.join(sorted(allowed))}"
        )
    present = {key: value for key, value in params.items() if value is not None}
    missing = sorted(set(required) - set(present))
    if missing:
        raise ParamValidationError(
            f"{python_name}() is missing required parameter(s) {', '.join(missing)}"
        )
    return present


def wrap_secret_members(params: Any) -> None:
    """Wrap every secret member of a request's ``**params`` in :class:`Secret`, in place.

    In place on purpose: ``params`` is the ``**kwargs`` dict of the public method, shared
    by every frame of the call, so none of them shows a caller's plain token in a
    traceback's locals. A caller's own dict is never mutated (``**`` makes a new one)."""
    if isinstance(params, dict):
        for key in SECRET_MEMBERS.intersection(params):
            if isinstance(params[key], str):
                params[key] = Secret(params[key])


def build_body(operation: Operation, params: Mapping[str, Any]) -> Secret:
    """Validate ``params`` against the operation and encode the JSON body.

    Raises :class:`ParamValidationError` (naming members, never values) before any request,
    as boto3 does. Members passed as ``None`` count as omitted and are not sent. A string
    member may be a :class:`Secret`; the body, which then holds it, is a :class:`Secret`
    too, unwrapped only as it is sent.
    """
    present = present_params(
        operation.python_name, params, set(operation.members), operation.required
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
            if not isinstance(value, str | Secret):
                raise ParamValidationError(
                    f"{operation.python_name}(): {key} must be a string, not {type(value).__name__}"
                )
            body[key] = value
    return _encode(body)


def _encode(body: Mapping[str, Any]) -> Secret:
    # One expression: the plain JSON text never sits in a named local of a frame that can
    # raise (json.dumps of strings cannot), so no traceback shows it.
    return Secret(json.dumps(body, separators=(",", ":"), default=_unwrap))


def _unwrap(value: object) -> str:
    if isinstance(value, Secret):
        return value.get_secret_value()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


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


def wrap_secret_response(value: Any) -> Any:
    """``value`` (an answer) with its secret members as :class:`Secret`, or ``value`` as it
    is when it is not a mapping (an error). For whoever keeps an answer in a local while it
    works on it (the sign-in flows): a traceback then shows no plain token, whatever it
    walks into. The public clients' answers stay plain strings, as boto3's."""
    if not isinstance(value, Mapping):
        return value
    return Response(
        {
            key: Secret(item) if key in SECRET_MEMBERS and isinstance(item, str) else item
            for key, item in value.items()
        }
    )


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


# ---- response models ---------------------------------------------------------------------
#
# botocore's service model marks no output member as required and checks no range: it hands
# back whatever JSON arrived. We use these members to build tokens that the AWS CLI shares,
# so each answer is checked against what the member means before anyone uses it: strings we
# rely on are non-empty strings, lifetimes are real integers in a sane range (JSON ``1e12``
# is a float, ``true`` is not a number), and a required member is never null.

_YEAR = 366 * 24 * 3600
_EPOCH_MAX = 253402300799  # 9999-12-31T23:59:59Z, the largest a datetime can hold


@dataclass(frozen=True)
class _Member:
    kind: str  # "str", "int", "number", "list", "dict"
    required: bool = False
    low: int = 0
    high: int = 0

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, or None. Never quotes the value (a secret)."""
        if self.kind == "str":
            if isinstance(value, Secret):  # a model already wrapped by a client of ours
                return None if value or not self.required else "is an empty string"
            if not isinstance(value, str):
                return f"is {_json_type(value)}, not a string"
            if not value and self.required:
                return "is an empty string"
            return None
        if self.kind in ("int", "number"):
            # bool is an int subclass in Python, and JSON true is not a number.
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"is {_json_type(value)}, not a number"
            if self.kind == "int" and not isinstance(value, int):
                return f"is {_json_type(value)}, not an integer"
            if value != value:  # NaN compares false with every bound
                return "is not a number"
            if not self.low <= value <= self.high:
                return f"is out of range (expected {self.low} to {self.high})"
            return None
        if self.kind == "list":
            if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
                return "is not a list of strings"
            return None
        if not isinstance(value, dict):
            return f"is {_json_type(value)}, not an object"
        return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a non-integer number" if isinstance(value, float) else "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


_STR = _Member("str")
_REQUIRED_STR = _Member("str", required=True)
_LIFETIME = _Member("int", required=True, low=1, high=_YEAR)
_TOKEN_RESPONSE: dict[str, _Member] = {
    "accessToken": _REQUIRED_STR,
    "tokenType": _STR,
    "expiresIn": _LIFETIME,
    "refreshToken": _STR,
    "idToken": _STR,
}

RESPONSE_MODELS: dict[str, dict[str, _Member]] = {
    "RegisterClient": {
        "clientId": _REQUIRED_STR,
        "clientSecret": _REQUIRED_STR,
        "clientIdIssuedAt": _Member("int", low=0, high=_EPOCH_MAX),
        "clientSecretExpiresAt": _Member("int", low=0, high=_EPOCH_MAX),
        "authorizationEndpoint": _STR,
        "tokenEndpoint": _STR,
    },
    "StartDeviceAuthorization": {
        "deviceCode": _REQUIRED_STR,
        "userCode": _REQUIRED_STR,
        "verificationUri": _REQUIRED_STR,
        "verificationUriComplete": _STR,
        # A device code lives minutes (600 s at AWS); a day is already absurd.
        "expiresIn": _Member("int", required=True, low=1, high=24 * 3600),
        # RFC 8628 polling interval; 0 is legal (poll at once), minutes are not. A number
        # rather than an integer: the emulator polls sub-second to keep tests fast.
        "interval": _Member("number", low=0, high=300),
    },
    "CreateToken": dict(_TOKEN_RESPONSE),
    "CreateTokenWithIAM": {
        **_TOKEN_RESPONSE,
        "issuedTokenType": _STR,
        "scope": _Member("list"),
        "awsAdditionalDetails": _Member("dict"),
    },
}


def validate_response(
    operation: str, data: Mapping[str, Any], *, status: int | None = None
) -> None:
    """Raise :class:`InvalidResponseError` if ``data`` does not fit ``operation``'s model.

    The message names the operation and the member, never the value. Members sent as null
    count as absent, as in botocore's parser; unknown members are left alone.
    """
    model = RESPONSE_MODELS.get(operation)
    if model is None:
        return
    for name, member in model.items():
        value = data.get(name)
        problem: str | None
        if value is None:
            if member.required:
                problem = "is missing" if name not in data else "is null"
            else:
                continue
        else:
            problem = member.problem(value)
        if problem is not None:
            raise InvalidResponseError(
                f"{operation} answered with an unusable {name!r}: it {problem}. The service "
                "(or something in front of it) sent an answer that is not IAM Identity "
                "Center's; nothing was saved. Check the endpoint and region, then try again.",
                operation=operation,
                status_code=status,
            )


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
    validate_response(operation.name, data, status=status)
    # Nulls of optional members are dropped, as botocore's parser drops them.
    response = Response({key: value for key, value in data.items() if value is not None})
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
