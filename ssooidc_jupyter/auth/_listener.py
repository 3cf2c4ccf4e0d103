"""The socket side of the PKCE loopback listener: bind every loopback address of the
redirect's host on one port, and serve connections in one bounded ``selectors`` loop.

:class:`SocketLoop` knows sockets, not HTTP: it reads a request's head (bounded in size and
time), asks its subclass for the :class:`Answer` (``_loopback.LoopbackReceiver``: the launch
link, the cookie, the callback), sends it and closes. One thread, no thread per connection;
at most ``max_connections`` open (the oldest is dropped for a new one); out of descriptors,
it pauses accepting instead of spinning.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from ipaddress import ip_address

from .._exceptions import ConfigurationError

__all__ = ["CONNECTION_TIMEOUT", "MAX_CONNECTIONS", "Answer", "SocketLoop", "listen"]

#: At most this many connections are open at once; a new one replaces the oldest.
MAX_CONNECTIONS = 8
#: Seconds a connection has, in all, to send its request line and headers (a browser takes
#: milliseconds; a slow-drip or idle client is cut off).
CONNECTION_TIMEOUT = 10.0
# A request line and headers larger than this are no browser's redirect.
_MAX_REQUEST = 16 * 1024
# Out of descriptors with nothing of ours to drop: stop accepting for this long (no spin).
_ACCEPT_PAUSE = 0.1
_SEND_TIMEOUT = 2.0


@dataclass
class _Connection:
    sock: socket.socket
    deadline: float
    data: bytearray = field(default_factory=bytearray)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status line, body, extra headers (the loop adds the common ones)."""

    status: int
    reason: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def _addresses(host: str) -> list[tuple[socket.AddressFamily, str]]:
    """The loopback addresses to listen on for ``host`` of the redirect URI."""
    if host.lower() != "localhost":
        literal = ip_address(host)
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        return [(family, str(literal))]
    try:
        infos = socket.getaddrinfo("localhost", None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigurationError(
            f"localhost does not resolve here ({exc.strerror}); use "
            "redirect_uri='http://127.0.0.1:PORT/...' instead."
        ) from None
    # Browsers resolve localhost to both loopback addresses themselves (Chromium tries ::1
    # first), whatever /etc/hosts says: both are ours, plus whatever the resolver adds.
    found: list[tuple[socket.AddressFamily, str]] = [
        (socket.AF_INET, "127.0.0.1"),
        (socket.AF_INET6, "::1"),
    ]
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = str(sockaddr[0]).split("%", 1)[0]
        if not ip_address(address).is_loopback:
            # RFC 8252 section 8.3: a name can resolve off the machine; a loopback IP cannot.
            raise ConfigurationError(
                f"localhost resolves to {address}, which is not a loopback address; use "
                "redirect_uri='http://127.0.0.1:PORT/...' instead."
            )
        if (family, address) not in found:
            found.append((family, address))
    return found


def _bind(family: socket.AddressFamily, address: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        # TIME_WAIT only: on Linux this never lets two live listeners share a port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        # A roomy backlog: a flood of connections must not make the browser's wait in SYN
        # retries; the loop accepts (and drops the oldest) at once.
        sock.listen(64)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def listen(host: str, port: int) -> list[socket.socket]:
    """Listening sockets on every address of ``host``, all on one port (``port``, or one free
    on all of them when 0)."""
    addresses = _addresses(host)
    for _ in range(20):  # port 0: the first address picks, the others must have it free too
        sockets: list[socket.socket] = []
        chosen = port
        try:
            for family, address in addresses:
                try:
                    sock = _bind(family, address, chosen)
                except OSError as exc:
                    if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) and sockets:
                        # IPv6 (or IPv4) is off here: nobody can listen there, nothing to hold.
                        continue
                    raise
                sockets.append(sock)
                chosen = sock.getsockname()[1]
            return sockets
        except OSError as exc:
            for sock in sockets:
                sock.close()
            if exc.errno == errno.EADDRINUSE and port == 0:
                continue
            shown = f"{host}:{port}" if port else host
            raise ConfigurationError(
                f"Cannot listen for the sign-in's redirect on {shown} "
                f"({exc.strerror or exc}): "
                + (
                    "another program holds that port; choose another port in redirect_uri "
                    "(or port 0 for any free one)."
                    if exc.errno == errno.EADDRINUSE
                    else "use redirect_uri='http://127.0.0.1:PORT/...'."
                )
            ) from None
    raise ConfigurationError(  # pragma: no cover - 20 collisions in a row
        f"No port is free on every address of {host}; use redirect_uri='http://127.0.0.1:0/...'."
    )


class SocketLoop:
    """Serve ``listeners`` from one daemon thread until :meth:`close`. A subclass answers
    each request's head (``_answer``) and gives the answer to a head it cannot read
    (``_malformed``); it calls :meth:`_start` once it is ready to answer."""

    def __init__(
        self,
        listeners: list[socket.socket],
        *,
        max_connections: int = MAX_CONNECTIONS,
        connection_timeout: float = CONNECTION_TIMEOUT,
    ) -> None:
        self._max = max(1, max_connections)
        self._timeout = connection_timeout
        self._listeners = listeners
        self._connections: dict[socket.socket, _Connection] = {}
        self._selector = selectors.DefaultSelector()
        self._wake_in, self._wake_out = socket.socketpair()
        self._closing = False
        self._paused_until = 0.0
        for sock in self._listeners:
            self._selector.register(sock, selectors.EVENT_READ, "listen")
        self._wake_in.setblocking(False)
        self._selector.register(self._wake_in, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._serve, name="ssooidc-pkce", daemon=True)

    def _start(self) -> None:
        self._thread.start()

    def _answer(self, head: bytes) -> Answer:
        raise NotImplementedError

    def _malformed(self) -> Answer:
        raise NotImplementedError

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """Where it listens (address, port), one entry per address family."""
        return [sock.getsockname()[:2] for sock in self._listeners]

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    def close(self) -> None:
        """Stop listening and close every connection (idempotent)."""
        self._closing = True
        with contextlib.suppress(OSError):
            self._wake_out.send(b"x")
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    # ---- the loop (its own thread) ----------------------------------------------------------

    def _serve(self) -> None:
        try:
            while not self._closing:
                for key, _ in self._selector.select(self._next_timeout()):
                    if key.data == "wake":
                        with contextlib.suppress(OSError):
                            self._wake_in.recv(64)
                    elif key.data == "listen":
                        self._accept(key.fileobj)  # type: ignore[arg-type]
                    else:
                        self._read(key.fileobj)  # type: ignore[arg-type]
                now = time.monotonic()
                for conn in [c for c in self._connections.values() if c.deadline <= now]:
                    self._drop(conn.sock)
        finally:
            for sock in list(self._connections):
                self._drop(sock)
            for sock in self._listeners:
                sock.close()
            self._selector.close()
            self._wake_in.close()
            self._wake_out.close()

    def _next_timeout(self) -> float | None:
        """Resume accepting when a pause is over; how long the next select may wait (until
        the first connection's deadline or the pause's end; None: until something happens)."""
        now = time.monotonic()
        if self._paused_until and now >= self._paused_until:
            self._paused_until = 0.0
            for sock in self._listeners:
                self._selector.register(sock, selectors.EVENT_READ, "listen")
        wake_at = [c.deadline for c in self._connections.values()]
        if self._paused_until:
            wake_at.append(self._paused_until)
        return max(0.0, min(wake_at) - now) if wake_at else None

    def _accept(self, listener: socket.socket) -> None:
        try:
            sock, _ = listener.accept()
        except BlockingIOError:
            return
        except OSError:
            # Out of descriptors (EMFILE, ENFILE, ENOBUFS): free one of ours, or stop
            # accepting for a moment; retrying at once would spin the CPU.
            if self._connections:
                self._drop(self._oldest())
            else:
                self._pause()
            return
        if len(self._connections) >= self._max:
            self._drop(self._oldest())
        sock.setblocking(False)
        self._connections[sock] = _Connection(sock, time.monotonic() + self._timeout)
        self._selector.register(sock, selectors.EVENT_READ, "conn")

    def _pause(self) -> None:
        if not self._paused_until:
            for sock in self._listeners:
                self._selector.unregister(sock)
        self._paused_until = time.monotonic() + _ACCEPT_PAUSE

    def _oldest(self) -> socket.socket:
        return min(self._connections.values(), key=lambda c: c.deadline).sock

    def _drop(self, sock: socket.socket) -> None:
        if self._connections.pop(sock, None) is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)
        sock.close()

    def _read(self, sock: socket.socket) -> None:
        conn = self._connections.get(sock)
        if conn is None:
            return
        try:
            data = sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(sock)
            return
        conn.data += data
        end = conn.data.find(b"\r\n\r\n")
        if end < 0:
            if len(conn.data) > _MAX_REQUEST:
                self._drop(sock)
            return
        try:
            answer = self._answer(bytes(conn.data[:end]))
        except Exception:  # a malformed request must never stop the listener
            answer = self._malformed()
        self._send(sock, answer)
        self._drop(sock)

    def _send(self, sock: socket.socket, answer: Answer) -> None:
        head = [f"HTTP/1.1 {answer.status} {answer.reason}"]
        head += [f"{name}: {value}" for name, value in answer.headers]
        head += [
            "Content-Type: text/html; charset=utf-8",
            f"Content-Length: {len(answer.body)}",
            "Cache-Control: no-store",
            "Referrer-Policy: no-referrer",
            "Connection: close",
        ]
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + answer.body
        try:
            # A few hundred bytes: they fit the socket's buffer, the wait is bounded anyway.
            sock.settimeout(_SEND_TIMEOUT)
            sock.sendall(payload)
        except OSError:
            pass

    # ---- what it answers ---------------------------------------------------------------------
