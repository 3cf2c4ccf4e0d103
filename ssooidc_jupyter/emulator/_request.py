"""What every handler gets: the parsed request, where the emulator lives, body parsers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from ._errors import OAuthError, OAuthErrorCode
from ._wire import Response


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
