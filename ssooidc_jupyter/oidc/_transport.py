"""The one transport pair under both clients: send a request step, read its answer capped,
and drive a client's flow with a sleep that the caller may make cancellable.

A client's call is a generator (no I/O) that yields :class:`Send` ("send this") or
:class:`~._retry.Sleep` ("wait this long") and is sent the outcome; :class:`Transport` and
:class:`AsyncTransport` carry those steps out, in a thread or on the event loop, with the
same streaming read (never more than :data:`~._http.MAX_RESPONSE_BYTES` in memory) and the
same errors. The sso-oidc and the portal clients differ only in the steps they yield.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias

import httpx

from .._exceptions import SSOOIDCError
from .._secret import Secret
from ._config import ClientConfig
from ._http import MAX_RESPONSE_BYTES, http_options, too_large_error, transport_error
from ._retry import Sleep
from ._wire import Answer

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "AsyncClosing",
    "AsyncSleepHook",
    "AsyncTransport",
    "Closing",
    "Flow",
    "Outcome",
    "Send",
    "SleepHook",
    "Transport",
    "adrive",
    "drive",
]

#: How the sync driver waits between attempts: ``time.sleep``, or a hook that returns early
#: (raising) when the caller cancels, such as one built on ``threading.Event.wait``.
SleepHook: TypeAlias = Callable[[float], object]
AsyncSleepHook: TypeAlias = Callable[[float], Awaitable[object]]


@dataclass(frozen=True)
class Send:
    """A step of a client's flow: send this request. Secrets travel as :class:`Secret` and
    are unwrapped only inside the httpx call, so no repr and no frame's locals show them."""

    operation: str
    method: str
    url: str
    headers: Mapping[str, str]
    body: Secret | None = field(default=None, repr=False)  # sso-oidc: the JSON holds secrets
    query: Mapping[str, str] | None = None
    #: The portal's bearer token: (header name, token), joined to the headers in the call.
    secret_header: tuple[str, Secret] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Send({self.operation} {self.method} {self.url})"


Outcome: TypeAlias = "Answer | SSOOIDCError | None"
Flow: TypeAlias = Generator["Send | Sleep", Outcome, Any]


def _request(http: httpx.Client | httpx.AsyncClient, step: Send) -> httpx.Request:
    # Secrets are unwrapped inside the call: no local of a frame holds them.
    return http.build_request(
        step.method,
        step.url,
        params=step.query,
        content=None if step.body is None else step.body.get_secret_value().encode(),
        headers=(
            step.headers
            if step.secret_header is None
            else {**step.headers, step.secret_header[0]: step.secret_header[1].get_secret_value()}
        ),
    )


class ResponseTooLarge(Exception):
    """Internal: the body went past :data:`~._http.MAX_RESPONSE_BYTES`."""


def _declared_too_large(reply: httpx.Response, limit: int) -> bool:
    declared = reply.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > limit


def read_capped(reply: httpx.Response, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """The body of a streamed ``reply``, or :class:`ResponseTooLarge` past ``limit`` bytes
    (decided from Content-Length when there is one, else while reading)."""
    if _declared_too_large(reply, limit):
        raise ResponseTooLarge
    return _collect(reply.iter_bytes(), limit)


async def aread_capped(reply: httpx.Response, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """:func:`read_capped` for an ``httpx.AsyncClient`` stream."""
    if _declared_too_large(reply, limit):
        raise ResponseTooLarge
    return await _acollect(reply.aiter_bytes(), limit)


def _collect(chunks: Iterable[bytes], limit: int) -> bytes:
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise ResponseTooLarge
    return bytes(body)


async def _acollect(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    body = bytearray()
    # Stopping early (too large) closes httpx's stream generator now, on this loop, rather
    # than leaving it to the garbage collector (whose aclose() may find the loop gone: Python
    # 3.13 warns that it was never awaited). httpx types it as a mere AsyncIterator.
    async with contextlib.aclosing(chunks):  # type: ignore[type-var]
        async for chunk in chunks:
            body += chunk
            if len(body) > limit:
                raise ResponseTooLarge
    return bytes(body)


class Transport:
    """Sends a client's steps in this thread, over one ``httpx.Client``."""

    def __init__(self, config: ClientConfig, host: str) -> None:
        self._config = config
        self._host = host
        self._http = httpx.Client(**http_options(config))

    def send(self, step: Send) -> Outcome:
        """The answer (read at most MAX_RESPONSE_BYTES, streaming), or the error to retry
        or raise: never raises for a failed exchange."""
        try:
            reply = self._http.send(_request(self._http, step), stream=True)
            try:
                return Answer(reply.status_code, reply.headers, read_capped(reply))
            except ResponseTooLarge:
                return too_large_error(step.operation, self._host, reply.status_code)
            finally:
                reply.close()
        except httpx.HTTPError as exc:
            return transport_error(
                step.operation, self._host, self._config.timeout, exc, self._config
            )

    def run(self, flow: Flow, sleep: SleepHook | None = None) -> Any:
        return drive(flow, self.send, sleep)

    def close(self) -> None:
        self._http.close()


class AsyncTransport:
    """:class:`Transport` on the running event loop, over one ``httpx.AsyncClient``."""

    def __init__(self, config: ClientConfig, host: str) -> None:
        self._config = config
        self._host = host
        self._http = httpx.AsyncClient(**http_options(config))

    async def send(self, step: Send) -> Outcome:
        """:meth:`Transport.send` on the event loop."""
        try:
            reply = await self._http.send(_request(self._http, step), stream=True)
            try:
                return Answer(reply.status_code, reply.headers, await aread_capped(reply))
            except ResponseTooLarge:
                return too_large_error(step.operation, self._host, reply.status_code)
            finally:
                await reply.aclose()
        except httpx.HTTPError as exc:
            return transport_error(
                step.operation, self._host, self._config.timeout, exc, self._config
            )

    async def run(self, flow: Flow, sleep: AsyncSleepHook | None = None) -> Any:
        return await adrive(flow, self.send, sleep)

    async def aclose(self) -> None:
        await self._http.aclose()


def drive(
    flow: Generator[Any, Any, Any], send: Callable[[Any], Any], sleep: SleepHook | None = None
) -> Any:
    """Run a client's flow in this thread: ``send`` each request step, ``sleep`` (default
    ``time.sleep``) each :class:`~._retry.Sleep`; return what the flow returns. Whatever
    ``sleep`` raises (a cancellation) ends the flow there."""
    wait = time.sleep if sleep is None else sleep
    outcome: Any = None
    with contextlib.closing(flow):  # ended by a cancelled sleep too: closed here, at once
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                return done.value
            if isinstance(step, Sleep):
                wait(step.seconds)
                outcome = None
            else:
                outcome = send(step)


async def adrive(
    flow: Generator[Any, Any, Any],
    send: Callable[[Any], Awaitable[Any]],
    sleep: AsyncSleepHook | None = None,
) -> Any:
    """:func:`drive` on the running event loop (default ``asyncio.sleep``: cancelling the
    task interrupts a back-off at once)."""
    # Lazy: only the async clients wait on a loop; the sync path stays free of asyncio (and
    # the ssl it imports). On a running loop the import is free.
    import asyncio

    wait = asyncio.sleep if sleep is None else sleep
    outcome: Any = None
    with contextlib.closing(flow):  # a cancelled task too: the flow is closed at once
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                return done.value
            if isinstance(step, Sleep):
                await wait(step.seconds)
                outcome = None
            else:
                outcome = await send(step)


class Closing:
    """``close()`` and the ``with`` block of a sync client over a :class:`Transport`."""

    _transport: Transport

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClosing:
    """``aclose()`` and the ``async with`` block of an async client."""

    _transport: AsyncTransport

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
