"""What the sso-oidc and portal clients share about HTTP: options, reading, transport errors.

Extracted from ``_client.py`` so that both clients build their httpx clients, cap what they
read and explain a failed connection the same way. No requests are sent from here: the
helpers take an httpx response (or exception) the client got.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Mapping
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import httpx

from .._exceptions import (
    EndpointConnectionError,
    InvalidResponseError,
    RequestTimeoutError,
    ServiceError,
    SSOOIDCError,
    TransportError,
)
from ._config import ClientConfig
from ._retry import Sleep

__all__ = [
    "MAX_RESPONSE_BYTES",
    "USER_AGENT",
    "ResponseTooLarge",
    "ServiceClientBase",
    "adrive",
    "aread_capped",
    "drive",
    "exceptions_namespace",
    "http_options",
    "read_capped",
    "ssl_context",
    "too_large_error",
    "transport_error",
]

_VERSION = "0.1.0"
USER_AGENT = (
    f"ssooidc-jupyter/{_VERSION} httpx/{httpx.__version__} python/{platform.python_version()}"
)

#: The largest body read from an endpoint. Real answers are a few KB (a ListAccounts page
#: of 100 accounts is ~15 KB); anything far beyond is not the service, and reading it whole
#: would let a broken or hostile endpoint fill the kernel's memory.
MAX_RESPONSE_BYTES = 256 * 1024


@functools.lru_cache(maxsize=4)
def ssl_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """One verifying SSL context per CA setting, shared by all clients: building one (loading
    the CA bundle) costs ~15 ms, more than the rest of a client's construction."""
    del cert_file, cert_dir  # part of the cache key; httpx reads them from the environment
    return httpx.create_ssl_context(trust_env=True)


def http_options(config: ClientConfig) -> dict[str, Any]:
    """Keyword arguments for ``httpx.Client`` / ``httpx.AsyncClient``."""
    limits = httpx.Limits(max_keepalive_connections=0 if config.close_connection else 10)
    return {
        "verify": ssl_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")),
        "timeout": httpx.Timeout(config.timeout),
        "limits": limits,
        "headers": {"User-Agent": USER_AGENT},
    }


class ResponseTooLarge(Exception):
    """Internal: the body went past :data:`MAX_RESPONSE_BYTES` (turned into
    :func:`too_large_error` by the client, which knows the operation)."""


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


def too_large_error(operation: str, host: str, status: int) -> InvalidResponseError:
    return InvalidResponseError(
        f"{operation} got HTTP {status} from {host} with a body larger than "
        f"{MAX_RESPONSE_BYTES // 1024} KiB, far more than the service ever sends; it was not "
        "read. Something other than IAM Identity Center answered: check the endpoint "
        "(AWS_ENDPOINT_URL...) and any proxy, then try again.",
        operation=operation,
        status_code=status,
    )


def transport_error(operation: str, host: str, timeout: float, exc: Exception) -> TransportError:
    """The error for an httpx failure (no answer at all), saying what happened and what to do."""
    what = "Check the endpoint and region and that the network is up, then try again."
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(
            f"{operation}: no answer from {host} within {timeout:g} s "
            f"({type(exc).__name__}). {what}",
            operation=operation,
        )
    if isinstance(exc, httpx.TransportError):
        return EndpointConnectionError(
            f"{operation}: the connection to {host} failed ({type(exc).__name__}: {exc}). {what}",
            operation=operation,
        )
    return EndpointConnectionError(
        f"{operation}: request to {host} failed ({type(exc).__name__}). {what}",
        operation=operation,
    )


def drive(flow: Generator[Any, Any, Any], send: Callable[[Any], Any]) -> Any:
    """Run a client's flow in this thread: ``send`` each request step, sleep each
    :class:`~._retry.Sleep`; return what the flow returns. The sync driver of both clients."""
    outcome: Any = None
    while True:
        try:
            step = flow.send(outcome)
        except StopIteration as done:
            return done.value
        if isinstance(step, Sleep):
            time.sleep(step.seconds)
            outcome = None
        else:
            outcome = send(step)


async def adrive(flow: Generator[Any, Any, Any], send: Callable[[Any], Awaitable[Any]]) -> Any:
    """:func:`drive` on the running event loop: the async driver of both clients."""
    # Lazy: only the async clients wait on a loop; the sync path stays free of asyncio (and
    # the ssl it imports). On a running loop the import is free.
    import asyncio

    outcome: Any = None
    while True:
        try:
            step = flow.send(outcome)
        except StopIteration as done:
            return done.value
        if isinstance(step, Sleep):
            await asyncio.sleep(step.seconds)
            outcome = None
        else:
            outcome = await send(step)


def exceptions_namespace(modeled: Mapping[str, type[Exception]]) -> SimpleNamespace:
    """``client.exceptions`` as in boto3: the service's modeled errors, and the bases."""
    names: dict[str, type[Exception]] = dict(modeled)
    names["ServiceError"] = ServiceError
    names["SSOOIDCError"] = SSOOIDCError
    names["ClientError"] = ServiceError  # boto3 code catches ClientError
    return SimpleNamespace(**names)


class ServiceClientBase:
    """What the sso-oidc and the portal clients share before any I/O: the resolved
    configuration, the endpoint and its host, boto3's ``meta`` and ``exceptions``, the repr,
    and the httpx options."""

    def __init__(
        self,
        config: ClientConfig,
        service_name: str,
        modeled: Mapping[str, type[Exception]],
    ) -> None:
        self._config = config
        self._endpoint = config.endpoint_url()
        self._host = urlsplit(self._endpoint).netloc
        #: The modeled exceptions, as ``client.exceptions.<Name>`` in boto3.
        self.exceptions = exceptions_namespace(modeled)
        self.meta = SimpleNamespace(
            region_name=config.region,
            endpoint_url=self._endpoint,
            service_name=service_name,
            config=config,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} endpoint={self._endpoint!r} region={self._config.region!r}>"

    def _http_options(self) -> dict[str, Any]:
        return http_options(self._config)
