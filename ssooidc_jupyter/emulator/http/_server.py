"""The HTTP transport: a threaded stdlib server speaking keep-alive HTTP/1.1, fault
delivery, and the request log behind ``Emulator.requests``.

Latency matters more than throughput here (tests poll and retry a lot), so:

* every accepted socket gets TCP_NODELAY, and every response is assembled into one buffer
  and sent with one write: a header write followed by a body write would otherwise meet
  Nagle's algorithm and the peer's delayed ACK, costing ~40 ms per response;
* keep-alive connections are tracked so ``stop()`` can shut them down instead of waiting
  for clients to hang up.

With a server-side SSL context (``Emulator(tls=True)``) every accepted socket is wrapped in
TLS; the handshake runs in the connection's own handler thread, so a slow or silent client
cannot hold up the accept loop.

A request record is opened when a request arrives (so the log is in arrival order even when
handlers finish out of order) and completed before the response is written (so a client
that has its answer always sees the finished record). Records hold no secret values.
"""

from __future__ import annotations

import logging
import socket
import ssl
import struct
import threading
import time
import uuid
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..model import Fault, FaultKind, FaultPlan, OAuthErrorCode, Operation
from . import _wire
from ._api import Api, route
from ._wire import Family, Request, family


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []

    def open(self, **fields: Any) -> int:
        with self._lock:
            self._records.append(dict(fields))
            return len(self._records) - 1

    def update(self, index: int, **fields: Any) -> None:
        with self._lock:
            self._records[index].update(fields)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(record) for record in self._records]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # nothing legitimate comes close; refuse instead of buffering forever
#: A TLS client that has not finished its handshake by then is dropped.
HANDSHAKE_TIMEOUT = 10.0


# Every record has the same keys; these are filled in when known.
_RECORD_DEFAULTS: dict[str, Any] = {
    "client_id": None,
    "grant_type": None,
    "fault": None,
    "error": None,
}


class _BadRequest(Exception):
    pass


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        api: Api,
        log: RequestLog,
        faults: FaultPlan,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.tls = tls
        self.scheme = "https" if tls is not None else "http"
        self.api = api
        self.log = log
        self.faults = faults
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind() resolves socket.getfqdn(host), a reverse DNS lookup that
        # can stall for seconds without network access. We never need the name.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            # No handshake here (this is the accept loop): _Handler.setup() does it.
            conn = self.tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        with self._connections_lock:
            self._connections.add(conn)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake every handler blocked on an idle keep-alive connection so it exits."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Resets by clients and by stop() land here; the stock version prints a traceback.
        logger.debug("connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ssooidc-emulator"
    server: EmulatorHTTPServer

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            # In this connection's thread; a failure (an untrusting client hangs up) ends
            # up in handle_error, logged at debug level.
            self.request.settimeout(HANDSHAKE_TIMEOUT)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        # The stock handler prints every request line to stderr: noise in tests and
        # notebooks, and request lines carry query strings. The request log replaces it.
        return

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
        except ValueError:
            raise _BadRequest("invalid Content-Length") from None
        if not 0 <= length <= MAX_BODY:
            raise _BadRequest("unacceptable Content-Length")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest("invalid chunk size") from None
            if size == 0:
                while self.rfile.readline(1024) not in {b"\r\n", b"\n", b""}:
                    pass  # skip trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise _BadRequest("body too large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        return headers

    def _nodelay(self) -> bool:
        try:
            return bool(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        except OSError:
            return False

    def _open_record(self, operation: Operation, path: str, arrival: float, request_id: str) -> int:
        return self.server.log.open(
            operation=operation.value,  # plain strings: records are copied, dumped, compared
            method=self.command,
            path=path,
            time=arrival,
            status=None,
            request_id=request_id,
            tcp_nodelay=self._nodelay(),
            **_RECORD_DEFAULTS,
        )

    def _dispatch(self) -> None:
        arrival = time.time()
        request_id = str(uuid.uuid4())
        split = urlsplit(self.path)
        log = self.server.log
        try:
            body = self._read_body()
        except _BadRequest as exc:
            # We could not find the end of this request, so the connection cannot be reused.
            self.close_connection = True
            index = self._open_record(Operation.UNKNOWN, split.path, arrival, request_id)
            response = _wire.aws_json_error(400, "BadRequestException", str(exc))
            log.update(index, status=response.status, error=response.error)
            self._send(response, request_id)
            return
        query = parse_qs(split.query, keep_blank_values=True)
        operation = route(self.command, split.path, query, body)
        index = self._open_record(operation, split.path, arrival, request_id)
        fault = self.server.faults.take(operation)
        if fault is not None and self._deliver_fault(fault, operation, index, request_id):
            return
        request = Request(
            method=self.command,
            path=split.path,
            query=query,
            headers=self._headers(),
            body=body,
            url=f"{self.server.scheme}://{self.headers.get('Host', '')}{self.path}",
        )
        note: dict[str, Any] = {}
        try:
            response = self.server.api.handle(operation, request, request_id, note)
        except Exception as exc:
            # Only the type is logged: exception messages can quote tokens or secrets.
            logger.error("internal error in %s: %s", operation.value, type(exc).__name__)
            response = _wire.oidc_error(OAuthErrorCode.SERVER_ERROR, "Internal emulator error")
            if family(operation) is not Family.OIDC:
                response = _wire.aws_json_error(500, "InternalServerException", "Internal error")
        log.update(index, status=response.status, error=response.error, **note)
        self._send(response, request_id)

    def _deliver_fault(
        self, fault: Fault, operation: Operation, index: int, request_id: str
    ) -> bool:
        """Act out an injected fault; False when the request is to be answered normally."""
        self.server.log.update(index, fault=fault.kind.value)
        # Waiting on the stop event rather than sleeping lets stop() cut a delay short.
        if fault.delay and self.server.stopping.wait(fault.delay):
            self._drop()
            return True
        if fault.kind is FaultKind.TIMEOUT:
            return False
        if fault.kind is FaultKind.DROP:
            self._drop()
            return True
        response = _wire.fault_response(fault.kind, family(operation), request_id)
        self.server.log.update(index, status=response.status, error=response.error)
        self._send(response, request_id)
        return True

    def _send(self, response: _wire.Response, request_id: str) -> None:
        if self.server.stopping.is_set():
            self.close_connection = True
        data = _wire.serialize(response, request_id, close=self.close_connection)
        try:
            self.wfile.write(data)  # unbuffered socket writer: a single sendall()
        except OSError:
            self.close_connection = True
        if response.truncate_at is not None:
            self._reset()

    def _reset(self) -> None:
        """Abort the connection (RST, not FIN) after a partial body: the `truncated` fault.

        A clean FIN after a short body is not an error to every client: botocore reads with
        ``enforce_content_length=False`` and would parse the fragment as a whole answer. A
        reset mid-body is what a crashed server or a load balancer cutting in looks like,
        and every client reports it. The bytes already sent are still delivered first.
        """
        self.close_connection = True
        with suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    def _drop(self) -> None:
        """Hang up without a response, like a crashed proxy or a reset connection."""
        self.close_connection = True
        with suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
