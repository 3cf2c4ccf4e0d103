"""The ``sso-oidc`` wire format: operations, request bodies, responses and errors.

No I/O here. What this API shares with the portal's (secrets, parameters, JSON answers) is
in :mod:`._wire`, the answers' models in :mod:`._answers`; both are re-exported here. The
shapes and routes are those of botocore's ``sso-oidc`` model (rest-json,
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
    InvalidResponseError,
    ParamValidationError,
    ServiceError,
)
from .._secret import Secret
from ._answers import RESPONSE_MODELS, validate_response
from ._wire import (
    SECRET_MEMBERS,
    Answer,
    Response,
    answer_object,
    error_code,
    error_members,
    present_params,
    redact,
    with_metadata,
    wrap_secret_members,
    wrap_secret_response,
)

__all__ = [
    "OPERATIONS",
    "RESPONSE_MODELS",
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
    "error_code",
    "parse_error",
    "parse_success",
    "present_params",
    "redact",
    "validate_response",
    "wrap_secret_members",
    "wrap_secret_response",
]


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


def parse_success(
    operation: Operation,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    host: str,
    attempts: int = 1,
) -> Response:
    answer = Answer(status, headers, body)
    data = answer_object(operation.name, answer, host, service="the service's")
    validate_response(operation.name, data, status=status)
    # Nulls of optional members are dropped, as botocore's parser drops them.
    response = Response({key: value for key, value in data.items() if value is not None})
    return with_metadata(response, answer, attempts)


def parse_error(
    operation: Operation,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    host: str,
) -> ServiceError | InvalidResponseError:
    """Turn an error answer into the exception to raise (never raises itself)."""
    found = error_members(
        operation.name, Answer(status, headers, body), host, service="IAM Identity Center"
    )
    if isinstance(found, InvalidResponseError):
        return found
    code, members = found
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
