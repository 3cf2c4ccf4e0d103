"""What the sso-oidc and the portal wire formats share: secrets, parameters, JSON answers.

No I/O. Both APIs are AWS rest-json (API version 2019-06-10): a request's parameters are
checked by name before anything is sent, an answer is a JSON object whose errors are found as
botocore's rest-json parser finds them (the ``x-amzn-ErrorType`` header first, then the
body), and every credential member is masked in reprs, logs and messages. What differs per
API -- the members, the routes, the answer models, the error members -- stays in
:mod:`._protocol` (sso-oidc) and :mod:`._portal_model` (the portal).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import OAUTH_ERROR_TO_SHAPE, InvalidResponseError, ParamValidationError
from .._secret import Secret

__all__ = [
    "SECRET_MEMBERS",
    "Answer",
    "Response",
    "answer_object",
    "decode_json",
    "describe_body",
    "error_code",
    "error_members",
    "json_type",
    "present_params",
    "redact",
    "with_metadata",
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


@dataclass(frozen=True)
class Answer:
    """What an HTTP exchange gave back (sent into a client's flow)."""

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)  # may hold tokens or a role's keys


# ---- requests -----------------------------------------------------------------------------


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


# ---- answers ------------------------------------------------------------------------------


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


def json_type(value: Any) -> str:
    """What JSON calls ``value``'s type, for a message that must not quote the value."""
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


_NOT_JSON = object()


def decode_json(body: bytes) -> Any:
    """The JSON value of ``body``, or a sentinel that is not a dict when it is not JSON."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _NOT_JSON


def describe_body(content_type: str, body: bytes) -> str:
    """What came instead of JSON, in a few words (never the body itself)."""
    if not body:
        return "an empty body"
    kind = content_type.split(";")[0].strip() or "untyped"
    if "html" in kind or body.lstrip()[:1] == b"<":
        return f"an HTML page ({kind})"
    if "json" in kind:
        return f"a truncated or malformed JSON body ({len(body)} bytes)"
    return f"a {kind} body that is not JSON ({len(body)} bytes)"


def answer_object(
    name: str, answer: Answer, host: str, *, service: str, empty_ok: bool = False
) -> dict[str, Any]:
    """A success answer's JSON object, or :class:`InvalidResponseError` when it is none.
    ``service`` names whose answer it should be ("the service's")."""
    data = {} if empty_ok and not answer.body.strip() else decode_json(answer.body)
    if not isinstance(data, dict):
        raise InvalidResponseError(
            f"{name} got HTTP {answer.status} from {host} with "
            f"{describe_body(answer.headers.get('content-type', ''), answer.body)} "
            f"instead of {service} JSON answer. A proxy or a broken connection may be in the "
            "way: check the endpoint and region, then try again.",
            operation=name,
            status_code=answer.status,
        )
    return data


def with_metadata(response: Response, answer: Answer, attempts: int) -> Response:
    """``response`` with boto3's ``ResponseMetadata`` of ``answer`` added."""
    response["ResponseMetadata"] = {
        "RequestId": answer.headers.get("x-amzn-requestid", ""),
        "HTTPStatusCode": answer.status,
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


def error_members(
    name: str, answer: Answer, host: str, *, service: str
) -> tuple[str, dict[str, Any]] | InvalidResponseError:
    """An error answer's shape name and members, or the :class:`InvalidResponseError` to
    raise when it is not an error of ``service`` ("IAM Identity Center") at all."""
    data = decode_json(answer.body)
    code = error_code(answer.headers, data)
    if code is None:
        return InvalidResponseError(
            f"{name} got HTTP {answer.status} from {host} with "
            f"{describe_body(answer.headers.get('content-type', ''), answer.body)}, not an "
            f"{service} error. A proxy or gateway answered instead of the service: check the "
            "endpoint and region and your network, then try again later.",
            operation=name,
            status_code=answer.status,
        )
    return code, data if isinstance(data, dict) else {}
