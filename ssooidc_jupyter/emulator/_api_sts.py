"""STS (query protocol): GetCallerIdentity for the credentials the emulator accepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _wire
from ._operations import Operation
from ._request import Handler, Request
from ._signed import STS_AUTH_ERRORS, verify_request
from ._sigv4 import SignatureError
from ._state import EmulatorState
from ._wire import Response


class StsApi:
    def __init__(self, state: EmulatorState, clock: Callable[[], float]) -> None:
        self._state = state
        self._clock = clock

    def handlers(self) -> dict[Operation, Handler]:
        return {Operation.GET_CALLER_IDENTITY: self._get_caller_identity}

    def _get_caller_identity(self, req: Request, rid: str, _note: dict[str, Any]) -> Response:
        try:
            verified = verify_request(self._state, req, "sts", self._clock())
        except SignatureError as exc:
            status, code = STS_AUTH_ERRORS[exc.reason]
            return _wire.sts_error(status, code, exc.message, rid)
        identity = self._state.signing_identity(verified.access_key_id)
        if identity is None:  # only if the credentials vanished mid-request; be defensive
            return _wire.sts_error(403, "InvalidClientTokenId", "Invalid token", rid)
        return _wire.sts_response(
            "GetCallerIdentity",
            {"UserId": identity.user_id, "Account": identity.account_id, "Arn": identity.arn},
            rid,
        )
