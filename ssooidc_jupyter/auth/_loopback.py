"""The kernel's loopback listener for the PKCE redirect, tied to the browser that started it.

``login(flow="pkce")`` outside a Jupyter server receives the redirect itself, on
``http://127.0.0.1:PORT/...`` as the AWS CLI does. Two things make that listener safe on a
machine shared with other local users, who can connect to any loopback port and may read the
saved notebook (where the prompt is shown):

* **A launch link, used once.** The prompt never shows the authorization URL (with its
  ``state``): it shows ``http://127.0.0.1:PORT/start?<nonce>``. Opening it sets a cookie for
  this listener and redirects to the authorization page; the callback is accepted only with
  that cookie. A second use of the launch link aborts the sign-in (someone else has the link),
  so a URL read from a saved notebook is not enough to deliver another identity's code.
* **Bounded.** One thread runs a ``selectors`` loop (no thread per connection); a connection
  has :data:`CONNECTION_TIMEOUT` seconds in all to send its request, at most
  :data:`MAX_CONNECTIONS` are open (the oldest is dropped for a new one, so idle connections of
  another user cannot keep the browser out), running out of descriptors pauses accepting
  instead of spinning, and :meth:`LoopbackReceiver.close` closes everything.

``localhost`` is listened on at 127.0.0.1, ::1 and every other address it resolves to, on one
port (a browser may try either family -- Chromium tries ::1 first -- and a port left free on
one would let another local user receive the redirect), and refused when it resolves to a
non-loopback address (RFC 8252 section 8.3: a name can be resolved off the machine).
``http://[::1]:PORT`` works as well.

Nothing here knows the flow: the listener hands the redirect's query to a :class:`Delivery`
(the flow's callback box) and tells it to abort.
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import os
import secrets
import selectors
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from ipaddress import ip_address
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

from .._exceptions import ConfigurationError
from ..oidc._values import is_loopback_host, validate_redirect_uri

__all__ = [
    "CONNECTION_TIMEOUT",
    "LAUNCH_PATH",
    "MAX_CONNECTIONS",
    "REUSED_LAUNCH",
    "BrowserOpener",
    "Delivery",
    "LoopbackReceiver",
    "open_browser",
]

LAUNCH_PATH = "/start"
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

REUSED_LAUNCH = (
    "The sign-in link was opened a second time, so someone else may have it (for example "
    "from the saved notebook): this sign-in was stopped so that nobody else's session can "
    "take its place. Start the sign-in again, and open its link only once."
)

BrowserOpener = Callable[[str], bool]


class Delivery(Protocol):
    """Where the listener puts the redirect (the flow's callback box)."""

    def deliver(self, params: Mapping[str, str]) -> bool: ...

    def abort(self, reason: str) -> None: ...


def open_browser(url: str) -> bool:
    """Open ``url`` in this machine's graphical browser, as the AWS CLI does; False when there
    is none to open (a headless server, a JupyterHub kernel whose user's browser is on
    another machine, ``SSOOIDC_NO_BROWSER`` set). Console browsers are never started: they
    would take over the kernel's terminal."""
    if os.environ.get("SSOOIDC_NO_BROWSER") or os.environ.get("JUPYTERHUB_USER"):
        return False
    if sys.platform not in ("darwin", "win32") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        return webbrowser.get().open(url, new=2)
    except (webbrowser.Error, OSError):
        return False


def _open_in_background(opener: BrowserOpener, url: str) -> None:
    def run() -> None:
        # A browser that cannot be started leaves the link in the prompt: that is the fallback.
        with contextlib.suppress(Exception):
            opener(url)

    threading.Thread(target=run, name="ssooidc-open-browser", daemon=True).start()


_PAGE = (
    "<!doctype html><meta charset=utf-8><title>{title}</title>"
    '<p id="ssooidc-callback" data-outcome="{outcome}">{text}</p>{script}'
)
_CLOSE = "<script>window.close()</script>"


@dataclass
class _Connection:
    sock: socket.socket
    deadline: float
    data: bytearray = field(default_factory=bytearray)


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def _page(status: int, reason: str, title: str, outcome: str, text: str) -> _Answer:
    script = _CLOSE if outcome == "accepted" else ""
    body = _PAGE.format(title=title, outcome=outcome, text=text, script=script)
    return _Answer(status, reason, body.encode("utf-8"))


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


def _listen(host: str, port: int) -> list[socket.socket]:
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


class LoopbackReceiver:
    """A listener on a loopback address that delivers the PKCE redirect to ``box``, only to
    the browser that opened :meth:`launch_url`. Runs in one daemon thread; close it when done.

    ``redirect_uri`` defaults to ``http://127.0.0.1:0/oauth/callback`` (any free port)."""

    def __init__(
        self,
        box: Delivery,
        redirect_uri: str | None = None,
        *,
        max_connections: int = MAX_CONNECTIONS,
        connection_timeout: float = CONNECTION_TIMEOUT,
    ) -> None:
        uri = redirect_uri or "http://127.0.0.1:0/oauth/callback"
        parts = urlsplit(validate_redirect_uri(uri))
        host = parts.hostname or ""
        if parts.scheme != "http" or not is_loopback_host(host):
            raise ConfigurationError(
                f"redirect_uri {uri!r} is not on this machine: login(flow='pkce') can only "
                "receive a loopback http redirect itself; use the Jupyter server extension "
                "for another redirect."
            )
        self._path = parts.path or "/"
        if self._path == LAUNCH_PATH:
            raise ConfigurationError(
                f"redirect_uri {uri!r}: the path {LAUNCH_PATH} is the sign-in's launch link; "
                "use another path (such as /oauth/callback)."
            )
        self._box = box
        self._max = max(1, max_connections)
        self._timeout = connection_timeout
        self._listeners = _listen(host, parts.port or 0)
        port = self._listeners[0].getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        # The launch link, the cookie and the callback share this host: cookies are per host.
        self._origin = f"http://{shown_host}:{port}"
        self.redirect_uri = f"{self._origin}{self._path}"
        self._nonce = secrets.token_urlsafe(24)
        self._cookie_name = f"ssooidc_signin_{port}"
        self._cookie = secrets.token_urlsafe(24)
        self._lock = threading.Lock()
        self._authorize_url: str | None = None
        self._launched = False
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
        self._thread.start()

    def __repr__(self) -> str:
        return f"<LoopbackReceiver {self._origin} {'closed' if self._closing else 'open'}>"

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """Where it listens (address, port), one entry per address family."""
        return [sock.getsockname()[:2] for sock in self._listeners]

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    def launch_url(self, authorize_url: str) -> str:
        """The link to show and open instead of ``authorize_url``: used once, it sets this
        listener's cookie and redirects to ``authorize_url``."""
        with self._lock:
            self._authorize_url = authorize_url
        return f"{self._origin}{LAUNCH_PATH}?{self._nonce}"

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
                now = time.monotonic()
                if self._paused_until and now >= self._paused_until:
                    self._paused_until = 0.0
                    for sock in self._listeners:
                        self._selector.register(sock, selectors.EVENT_READ, "listen")
                wake_at = [c.deadline for c in self._connections.values()]
                if self._paused_until:
                    wake_at.append(self._paused_until)
                timeout = max(0.0, min(wake_at) - now) if wake_at else None
                for key, _ in self._selector.select(timeout):
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
            answer = _page(400, "Bad Request", "Not here", "refused", "Not expected here.")
        self._send(sock, answer)
        self._drop(sock)

    def _send(self, sock: socket.socket, answer: _Answer) -> None:
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

    def _answer(self, head: bytes) -> _Answer:
        lines = head.decode("latin-1").split("\r\n")
        request = lines[0].split(" ")
        # GET only: a HEAD (a link checker, a preview) must not use up the launch link.
        if len(request) != 3 or request[0] != "GET":
            return _page(405, "Method Not Allowed", "Not here", "refused", "Not expected here.")
        target = urlsplit(request[1])
        if target.path == LAUNCH_PATH:
            return self._launch(target.query)
        if target.path == self._path:
            cookies = [line.split(":", 1)[1] for line in lines[1:] if _is_header(line, "cookie")]
            return self._callback(dict(parse_qsl(target.query)), cookies)
        return _page(404, "Not Found", "Not here", "refused", "Not expected here.")

    def _launch(self, nonce: str) -> _Answer:
        with self._lock:
            url = self._authorize_url
            expected = url is not None and _same(nonce, self._nonce)
            reused = expected and self._launched
            self._launched = self._launched or expected
        if not expected or url is None:
            return _page(
                400,
                "Bad Request",
                "Sign-in refused",
                "refused",
                "This sign-in link is not expected here (wrong, expired or from an ended "
                "sign-in). Start the sign-in again.",
            )
        if reused:
            self._box.abort(REUSED_LAUNCH)
            return _page(409, "Conflict", "Sign-in stopped", "aborted", REUSED_LAUNCH)
        cookie = f"{self._cookie_name}={self._cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600"
        # Lax, not Strict: the callback is a top-level navigation from the authorization page
        # (another site), and Strict cookies are not sent on those.
        return _Answer(302, "Found", b"", (("Location", url), ("Set-Cookie", cookie)))

    def _callback(self, params: dict[str, str], cookie_headers: list[str]) -> _Answer:
        if not self._has_cookie(cookie_headers):
            return _page(
                403,
                "Forbidden",
                "Sign-in refused",
                "refused",
                "This browser did not start this sign-in: the redirect is accepted only in "
                "the browser that opened the sign-in link shown by the notebook. Open that "
                "link here, or start the sign-in again.",
            )
        if not self._box.deliver(params):
            return _page(
                400,
                "Bad Request",
                "Sign-in refused",
                "refused",
                "This sign-in answer is not expected (already used, or not from this "
                "sign-in). Start the sign-in again if it did not complete.",
            )
        text = "Sign-in received. You can close this tab."
        return _page(200, "OK", "Signed in", "accepted", text)

    def _has_cookie(self, headers: list[str]) -> bool:
        with self._lock:
            if not self._launched:
                return False
        for header in headers:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(header.strip())
            except CookieError:
                continue
            morsel = jar.get(self._cookie_name)
            if morsel is not None and _same(morsel.value, self._cookie):
                return True
        return False


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison that also takes non-ASCII input (which is simply wrong)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _is_header(line: str, name: str) -> bool:
    return line.split(":", 1)[0].strip().lower() == name
