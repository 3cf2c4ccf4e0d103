"""``SSOOIDCClient`` and ``AsyncSSOOIDCClient``: the sso-oidc API on httpx.

As in httpx, everything that does no I/O lives in :class:`_BaseClient`; the two clients
differ only in how they send and how they sleep. A call is a small generator
(:meth:`_BaseClient._call_flow`) that yields "send this" or "wait this long" and is sent the
outcome, so the retry rules exist once and the sync and async drivers mirror each other.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias

import httpx

from .. import _exceptions
from .._exceptions import (
    ConfigurationError,
    InvalidResponseError,
    SSOOIDCError,
)
from .._redact import register_secret
from .._secret import Secret
from ._config import build_config
from ._http import (
    MAX_RESPONSE_BYTES,
    ResponseTooLarge,
    ServiceClientBase,
    adrive,
    aread_capped,
    drive,
    read_capped,
    transport_error,
)
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
from ._retry import Answer, Sleep, retrying
from ._signing import load_credentials, sign

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


@dataclass(frozen=True)
class _Send:
    url: str
    headers: dict[str, str]  # signed requests: X-Amz-Security-Token of the signer
    body: Secret  # the JSON carries the client secret, codes and tokens: masked in reprs

    def __repr__(self) -> str:
        return f"_Send(POST {self.url})"


_Step: TypeAlias = "_Send | Sleep"
_Outcome: TypeAlias = "Answer | SSOOIDCError | None"


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

    def _call_flow(
        self, operation: Operation, params: Mapping[str, Any]
    ) -> Generator[_Step, _Outcome, Response]:
        body = build_body(operation, params)
        # Registered before anything is sent or logged: from here on no log line (ours,
        # httpx's, httpcore's) can carry them.
        register_secret(*(params[k] for k in SECRET_MEMBERS.intersection(params)))
        url = self._endpoint + operation.path
        base_headers = {"Content-Type": "application/json"}
        if self._config.close_connection:
            base_headers["Connection"] = "close"

        def attempt(number: int) -> Generator[_Step, _Outcome, Response | SSOOIDCError]:
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
            outcome = yield _Send(url, headers, body)
            if not isinstance(outcome, Answer):
                assert outcome is not None
                return outcome
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

        response: Response = yield from retrying(
            operation.name,
            attempt,
            max_attempts=self._config.max_attempts,
            backoff=self._config.retry_backoff,
        )
        return response

    def _too_large(self, operation: Operation, status: int) -> InvalidResponseError:
        return InvalidResponseError(
            f"{operation.name}: the answer from {self._host} (HTTP {status}) is larger than "
            f"{MAX_RESPONSE_BYTES // 1024} KiB, far more than any IAM Identity Center answer; "
            "it was not read further. Something other than the service may be answering: "
            "check the endpoint and region.",
            operation=operation.name,
            status_code=status,
        )

    def _transport_error(self, operation: Operation, exc: httpx.HTTPError) -> SSOOIDCError:
        return transport_error(operation.name, self._host, self._config.timeout, exc, self._config)


class SSOOIDCClient(_BaseClient):
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
        self._http = httpx.Client(**self._http_options())

    def _call(self, name: str, params: Mapping[str, Any]) -> Any:
        wrap_secret_members(params)  # first: no frame of this call shows a plain secret
        operation = OPERATIONS[name]
        if operation.signed and self._signing_credentials is None:
            self._signing_credentials = load_credentials(self._config, name)
        return drive(self._call_flow(operation, params), functools.partial(self._send, operation))

    def _send(self, operation: Operation, step: _Send) -> _Outcome:
        """POST and read at most MAX_RESPONSE_BYTES, streaming (never buffering more)."""
        try:
            return self._exchange(operation, step)
        except httpx.HTTPError as exc:
            return self._transport_error(operation, exc)

    def _exchange(self, operation: Operation, step: _Send) -> _Outcome:
        # The body is unwrapped inside the call: no local of this frame holds it.
        request = self._http.build_request(
            "POST", step.url, content=step.body.get_secret_value().encode(), headers=step.headers
        )
        reply = self._http.send(request, stream=True)
        try:
            return Answer(reply.status_code, reply.headers, read_capped(reply))
        except ResponseTooLarge:
            return self._too_large(operation, reply.status_code)
        finally:
            reply.close()

    def register_client(self, **params: Unpack[RegisterClientRequest]) -> RegisterClientResponse:
        """Register a public client (RegisterClient)."""
        return self._call("RegisterClient", params)  # type: ignore[no-any-return]

    def start_device_authorization(
        self, **params: Unpack[StartDeviceAuthorizationRequest]
    ) -> StartDeviceAuthorizationResponse:
        """Start a device authorization: user code, verification URI (StartDeviceAuthorization)."""
        return self._call("StartDeviceAuthorization", params)  # type: ignore[no-any-return]

    def create_token(self, **params: Unpack[CreateTokenRequest]) -> CreateTokenResponse:
        """Exchange a grant for tokens (CreateToken)."""
        return self._call("CreateToken", params)  # type: ignore[no-any-return]

    def create_token_with_iam(
        self, **params: Unpack[CreateTokenWithIAMRequest]
    ) -> CreateTokenWithIAMResponse:
        """Exchange a grant for tokens as an IAM principal, SigV4-signed (CreateTokenWithIAM)."""
        return self._call("CreateTokenWithIAM", params)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SSOOIDCClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncSSOOIDCClient(_BaseClient):
    """The same client for asyncio: ``await client.create_token(...)``."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        credentials: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(config, credentials, endpoint, region)
        self._http = httpx.AsyncClient(**self._http_options())

    async def _call(self, name: str, params: Mapping[str, Any]) -> Any:
        # Lazy: asyncio costs ~25 ms to import and only this client uses it; a coroutine
        # runs on a loop, so here it is already loaded and the import is free.
        import asyncio

        wrap_secret_members(params)  # first: no frame of this call shows a plain secret
        operation = OPERATIONS[name]
        if operation.signed and self._signing_credentials is None:
            # The credential chain may read files or call a metadata service: not on the loop.
            self._signing_credentials = await asyncio.to_thread(
                load_credentials, self._config, name
            )
        return await adrive(
            self._call_flow(operation, params), functools.partial(self._send, operation)
        )

    async def _send(self, operation: Operation, step: _Send) -> _Outcome:
        """:meth:`SSOOIDCClient._send` on the event loop."""
        try:
            return await self._exchange(operation, step)
        except httpx.HTTPError as exc:
            return self._transport_error(operation, exc)

    async def _exchange(self, operation: Operation, step: _Send) -> _Outcome:
        # The body is unwrapped inside the call: no local of this frame holds it.
        request = self._http.build_request(
            "POST", step.url, content=step.body.get_secret_value().encode(), headers=step.headers
        )
        reply = await self._http.send(request, stream=True)
        try:
            return Answer(reply.status_code, reply.headers, await aread_capped(reply))
        except ResponseTooLarge:
            return self._too_large(operation, reply.status_code)
        finally:
            await reply.aclose()

    async def register_client(
        self, **params: Unpack[RegisterClientRequest]
    ) -> RegisterClientResponse:
        """Register a public client (RegisterClient)."""
        return await self._call("RegisterClient", params)  # type: ignore[no-any-return]

    async def start_device_authorization(
        self, **params: Unpack[StartDeviceAuthorizationRequest]
    ) -> StartDeviceAuthorizationResponse:
        """Start a device authorization: user code, verification URI (StartDeviceAuthorization)."""
        return await self._call("StartDeviceAuthorization", params)  # type: ignore[no-any-return]

    async def create_token(self, **params: Unpack[CreateTokenRequest]) -> CreateTokenResponse:
        """Exchange a grant for tokens (CreateToken)."""
        return await self._call("CreateToken", params)  # type: ignore[no-any-return]

    async def create_token_with_iam(
        self, **params: Unpack[CreateTokenWithIAMRequest]
    ) -> CreateTokenWithIAMResponse:
        """Exchange a grant for tokens as an IAM principal, SigV4-signed (CreateTokenWithIAM)."""
        return await self._call("CreateTokenWithIAM", params)  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncSSOOIDCClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


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
