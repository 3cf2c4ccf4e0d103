"""``SSOOIDCClient`` and ``AsyncSSOOIDCClient``: the sso-oidc API on httpx.

As in httpx, everything that does no I/O lives in :class:`_BaseClient`: a call is a small
generator (:meth:`_BaseClient._call_flow`) that yields "send this" or "wait this long" and
is sent the outcome, so the retry rules exist once. The two clients differ only in their
transport (:mod:`._transport`, shared with the portal clients), which carries the steps out.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

from .. import _exceptions
from .._exceptions import ConfigurationError, SSOOIDCError
from .._redact import register_secret
from ._config import build_config
from ._http import MAX_RESPONSE_BYTES, ServiceClientBase
from ._protocol import (
    OPERATIONS,
    SECRET_MEMBERS,
    CreateTokenResponse,
    CreateTokenWithIAMResponse,
    Operation,
    RegisterClientResponse,
    Response,
    StartDeviceAuthorizationResponse,
    build_body,
    parse_error,
    parse_success,
    wrap_secret_members,
)
from ._retry import Answer, retrying
from ._signing import load_credentials, sign
from ._transport import (
    AsyncClosing,
    AsyncSleepHook,
    AsyncTransport,
    Closing,
    Flow,
    Outcome,
    Send,
    SleepHook,
    Transport,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._protocol import (
        CreateTokenRequest,
        CreateTokenWithIAMRequest,
        RegisterClientRequest,
        StartDeviceAuthorizationRequest,
    )

__all__ = ["MAX_RESPONSE_BYTES", "AsyncSSOOIDCClient", "SSOOIDCClient", "ssooidc"]

logger = logging.getLogger("ssooidc_jupyter.client")


class _BaseClient(ServiceClientBase):
    """Configuration, request building, response parsing and the retry flow. No I/O."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        credentials: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
        region: str | None = None,
    ) -> None:
        modeled = {name: getattr(_exceptions, name) for name in _exceptions.MODELED_EXCEPTIONS}
        super().__init__(build_config(config, credentials, endpoint, region), "sso-oidc", modeled)
        self._signing_credentials: Any = None

    def _signing_region(self, operation: Operation) -> str:
        if self._config.region is None:
            raise ConfigurationError(
                f"{operation.name} is signed for a region, and none is configured: pass "
                "region= (the region of your IAM Identity Center instance) or set AWS_REGION."
            )
        return self._config.region

    def _operation(self, name: str, params: Mapping[str, Any]) -> Operation:
        wrap_secret_members(params)  # first: no frame of this call shows a plain secret
        return OPERATIONS[name]

    def _call_flow(self, operation: Operation, params: Mapping[str, Any]) -> Flow:
        body = build_body(operation, params)
        # Registered before anything is sent or logged: from here on no log line (ours,
        # httpx's, httpcore's) can carry them.
        register_secret(*(params[k] for k in SECRET_MEMBERS.intersection(params)))
        url = self._endpoint + operation.path
        base_headers = {"Content-Type": "application/json"}
        if self._config.close_connection:
            base_headers["Connection"] = "close"

        def attempt(number: int) -> Generator[Send, Outcome, Response | SSOOIDCError]:
            headers = dict(base_headers)
            if operation.signed:
                # Signed anew each attempt: the signature carries the time.
                headers = sign(
                    self._signing_credentials,
                    self._signing_region(operation),
                    url,
                    body.get_secret_value().encode(),
                    headers,
                )
            logger.debug("%s: POST %s (attempt %d)", operation.name, url, number)
            outcome = yield Send(operation.name, "POST", url, headers, body=body)
            if not isinstance(outcome, Answer):
                assert outcome is not None
                return outcome
            return self._parse(operation, outcome, number)

        response: Response = yield from retrying(
            operation.name,
            attempt,
            max_attempts=self._config.max_attempts,
            backoff=self._config.retry_backoff,
        )
        return response

    def _parse(self, operation: Operation, outcome: Answer, number: int) -> Response | SSOOIDCError:
        if not 200 <= outcome.status < 300:
            return parse_error(
                operation, outcome.status, outcome.headers, outcome.body, host=self._host
            )
        answer = parse_success(
            operation,
            outcome.status,
            outcome.headers,
            outcome.body,
            host=self._host,
            attempts=number,
        )
        register_secret(*(answer[k] for k in SECRET_MEMBERS.intersection(answer)))
        return answer


class SSOOIDCClient(_BaseClient, Closing):
    """Blocking sso-oidc client. Operations take the API's member names as keywords and
    return the response members as a dict, like boto3's ``sso-oidc`` client.

    Retries sleep with ``time.sleep``: call it from a worker thread, not an event loop
    (use :class:`AsyncSSOOIDCClient` there).
    """

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        credentials: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(config, credentials, endpoint, region)
        self._transport = Transport(self._config, self._host)

    def invoke(
        self, operation: str, params: dict[str, Any], *, sleep: SleepHook | None = None
    ) -> Any:
        """Run the operation of that API name (``"CreateToken"``) with ``params`` (boto3's
        member names; secret members are wrapped in place). ``sleep`` waits between retries
        (default ``time.sleep``): the sign-in driver passes one that a Cancel interrupts."""
        op = self._operation(operation, params)
        if op.signed and self._signing_credentials is None:
            self._signing_credentials = load_credentials(self._config, operation)
        return self._transport.run(self._call_flow(op, params), sleep)

    def register_client(self, **params: Unpack[RegisterClientRequest]) -> RegisterClientResponse:
        """Register a public client (RegisterClient)."""
        return self.invoke("RegisterClient", params)  # type: ignore[no-any-return,arg-type]

    def start_device_authorization(
        self, **params: Unpack[StartDeviceAuthorizationRequest]
    ) -> StartDeviceAuthorizationResponse:
        """Start a device authorization: user code, verification URI (StartDeviceAuthorization)."""
        return self.invoke("StartDeviceAuthorization", params)  # type: ignore[no-any-return,arg-type]

    def create_token(self, **params: Unpack[CreateTokenRequest]) -> CreateTokenResponse:
        """Exchange a grant for tokens (CreateToken)."""
        return self.invoke("CreateToken", params)  # type: ignore[no-any-return,arg-type]

    def create_token_with_iam(
        self, **params: Unpack[CreateTokenWithIAMRequest]
    ) -> CreateTokenWithIAMResponse:
        """Exchange a grant for tokens as an IAM principal, SigV4-signed (CreateTokenWithIAM)."""
        return self.invoke("CreateTokenWithIAM", params)  # type: ignore[no-any-return,arg-type]


class AsyncSSOOIDCClient(_BaseClient, AsyncClosing):
    """The same client for asyncio: ``await client.create_token(...)``."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        credentials: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(config, credentials, endpoint, region)
        self._transport = AsyncTransport(self._config, self._host)

    async def invoke(
        self, operation: str, params: dict[str, Any], *, sleep: AsyncSleepHook | None = None
    ) -> Any:
        """:meth:`SSOOIDCClient.invoke` on the event loop (default ``asyncio.sleep``:
        cancelling the task interrupts a back-off at once)."""
        # Lazy: asyncio costs ~25 ms to import and only this client uses it; a coroutine
        # runs on a loop, so here it is already loaded and the import is free.
        import asyncio

        op = self._operation(operation, params)
        if op.signed and self._signing_credentials is None:
            # The credential chain may read files or call a metadata service: not on the loop.
            self._signing_credentials = await asyncio.to_thread(
                load_credentials, self._config, operation
            )
        return await self._transport.run(self._call_flow(op, params), sleep)

    async def register_client(
        self, **params: Unpack[RegisterClientRequest]
    ) -> RegisterClientResponse:
        """Register a public client (RegisterClient)."""
        return await self.invoke("RegisterClient", params)  # type: ignore[no-any-return,arg-type]

    async def start_device_authorization(
        self, **params: Unpack[StartDeviceAuthorizationRequest]
    ) -> StartDeviceAuthorizationResponse:
        """Start a device authorization: user code, verification URI (StartDeviceAuthorization)."""
        return await self.invoke("StartDeviceAuthorization", params)  # type: ignore[no-any-return,arg-type]

    async def create_token(self, **params: Unpack[CreateTokenRequest]) -> CreateTokenResponse:
        """Exchange a grant for tokens (CreateToken)."""
        return await self.invoke("CreateToken", params)  # type: ignore[no-any-return,arg-type]

    async def create_token_with_iam(
        self, **params: Unpack[CreateTokenWithIAMRequest]
    ) -> CreateTokenWithIAMResponse:
        """Exchange a grant for tokens as an IAM principal, SigV4-signed (CreateTokenWithIAM)."""
        return await self.invoke("CreateTokenWithIAM", params)  # type: ignore[no-any-return,arg-type]


def ssooidc(
    config: Mapping[str, Any] | None = None,
    credentials: Mapping[str, Any] | None = None,
    endpoint: str | None = None,
    region: str | None = None,
) -> SSOOIDCClient:
    """Make an sso-oidc client, as the reference SDK's ``ssooidc()``.

    ``config`` takes ``credentials`` (``creds`` with ``access_key_id`` /
    ``secret_access_key`` / ``session_token``, ``profile``, ``anonymous``), ``endpoint``,
    ``region``, ``close_connection`` and ``timeout`` (seconds, default 60), plus
    ``use_fips_endpoint``, ``use_dualstack_endpoint``, ``max_attempts`` (default 3) and
    ``retry_backoff`` (seconds, default 1). The shorthand arguments win over ``config``.
    """
    return SSOOIDCClient(config=config, credentials=credentials, endpoint=endpoint, region=region)
