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

The sockets and the bounded loop are ``_listener.py``'s (:class:`~._listener.SocketLoop`);
this module is what the listener answers: the launch link, the cookie, the callback.
Nothing here knows the flow: the listener hands the redirect's query to a :class:`Delivery`
(the flow's callback box) and tells it to abort.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import sys
import threading
import webbrowser
from collections.abc import Callable, Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

from .._exceptions import ConfigurationError
from ..oidc._values import is_loopback_host, validate_redirect_uri
from ._listener import CONNECTION_TIMEOUT, MAX_CONNECTIONS, Answer, SocketLoop, listen

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


def _page(status: int, reason: str, title: str, outcome: str, text: str) -> Answer:
    script = _CLOSE if outcome == "accepted" else ""
    body = _PAGE.format(title=title, outcome=outcome, text=text, script=script)
    return Answer(status, reason, body.encode("utf-8"))


class LoopbackReceiver(SocketLoop):
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
        listeners = listen(host, parts.port or 0)
        port = listeners[0].getsockname()[1]
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
        super().__init__(
            listeners, max_connections=max_connections, connection_timeout=connection_timeout
        )
        self._start()

    def __repr__(self) -> str:
        return f"<LoopbackReceiver {self._origin} {'closed' if self._closing else 'open'}>"

    def launch_url(self, authorize_url: str) -> str:
        """The link to show and open instead of ``authorize_url``: used once, it sets this
        listener's cookie and redirects to ``authorize_url``."""
        with self._lock:
            self._authorize_url = authorize_url
        return f"{self._origin}{LAUNCH_PATH}?{self._nonce}"

    def _malformed(self) -> Answer:
        return _page(400, "Bad Request", "Not here", "refused", "Not expected here.")

    # ---- what it answers ---------------------------------------------------------------------

    def _answer(self, head: bytes) -> Answer:
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

    def _launch(self, nonce: str) -> Answer:
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
        return Answer(302, "Found", b"", (("Location", url), ("Set-Cookie", cookie)))

    def _callback(self, params: dict[str, str], cookie_headers: list[str]) -> Answer:
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
