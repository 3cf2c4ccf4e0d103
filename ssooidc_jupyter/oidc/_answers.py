"""The sso-oidc answers' models: each member checked against what it means.

No I/O. botocore's service model marks no output member as required and checks no range:
it hands back whatever JSON arrived. We use these members to build tokens that the AWS CLI
shares, so each answer is checked before anyone uses it: strings we rely on are non-empty
strings, lifetimes are real integers in a sane range (JSON ``1e12`` is a float, ``true`` is
not a number), and a required member is never null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import InvalidResponseError
from .._secret import Secret
from ._wire import json_type

__all__ = ["RESPONSE_MODELS", "validate_response"]

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
            return self._string_problem(value)
        if self.kind in ("int", "number"):
            return self._number_problem(value)
        if self.kind == "list":
            if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
                return "is not a list of strings"
            return None
        if not isinstance(value, dict):
            return f"is {json_type(value)}, not an object"
        return None

    def _string_problem(self, value: Any) -> str | None:
        if isinstance(value, Secret):  # a model already wrapped by a client of ours
            return None if value or not self.required else "is an empty string"
        if not isinstance(value, str):
            return f"is {json_type(value)}, not a string"
        if not value and self.required:
            return "is an empty string"
        return None

    def _number_problem(self, value: Any) -> str | None:
        # bool is an int subclass in Python, and JSON true is not a number.
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"is {json_type(value)}, not a number"
        if self.kind == "int" and not isinstance(value, int):
            return f"is {json_type(value)}, not an integer"
        if value != value:  # NaN compares false with every bound
            return "is not a number"
        if not self.low <= value <= self.high:
            return f"is out of range (expected {self.low} to {self.high})"
        return None


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
