"""Reading sso-oidc request members: presence and type checks that answer invalid_request."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ._errors import OAuthError, OAuthErrorCode


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
