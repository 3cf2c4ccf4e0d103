"""The kernel's PKCE listener against a co-tenant: real sockets, the emulator's /authorize.

A sign-in with ``login(flow="pkce")`` outside a Jupyter server waits on a loopback port that
every local user can reach, and its prompt sits in a notebook file other users may read. The
co-tenant here is a second process, run as ``nobody`` when the tests run as root (as
``tests/auth/test_nonroot.py`` does), so the cases are truly cross-user: reading the launch link
from the saved notebook, holding idle connections, squatting the IPv6 half of ``localhost``.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter.auth import sign_in
from ssooidc_jupyter.auth._context import resolve_login
from ssooidc_jupyter.auth._flow import DevicePrompt
from ssooidc_jupyter.auth._loopback import MAX_CONNECTIONS, REUSED_LAUNCH, LoopbackReceiver
from ssooidc_jupyter.auth._pkce import CallbackBox
from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture

NOBODY = 65534
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
CROSS_USER = IS_ROOT and shutil.which("setpriv") is not None


emu = emulator_fixture(interval=0.1, auto_approve=None)


def co_tenant(code: str) -> subprocess.Popen[str]:
    """Another local user's Python (``nobody`` when we are root): stdlib only, lines on
    stdin and stdout to talk to the test."""
    prefix = (
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        if CROSS_USER
        else []
    )
    return subprocess.Popen(
        [*prefix, "/usr/bin/python3" if CROSS_USER else sys.executable, "-I", "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd="/",
        env={"PATH": "/usr/bin:/bin"},
    )


def finish(proc: subprocess.Popen[str]) -> int:
    """Close its pipes and reap it (killed if it hangs)."""
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()
    try:
        return proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def ask(proc: subprocess.Popen[str], line: str) -> Any:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    answer = proc.stdout.readline()
    assert answer, "the co-tenant process died"
    return json.loads(answer)


def context(emu: Emulator, redirect_uri: str | None = None) -> Any:
    return resolve_login(
        emu.start_url,
        emu.region,
        endpoint=emu.url,
        flow="pkce",
        timeout=20,
        redirect_uri=redirect_uri,
    )


class SignIn:
    """A PKCE sign-in in a thread; ``prompts`` get the prompts, the opener the opened links."""

    def __init__(
        self, emu: Emulator, *, redirect_uri: str | None = None, opener: Any = None
    ) -> None:
        self.prompt: DevicePrompt | None = None
        self.shown = threading.Event()
        self.opened: list[str] = []
        self.token: Any = None
        self.error: BaseException | None = None
        self._opener = opener
        self._thread = threading.Thread(
            target=self._run, args=(context(emu, redirect_uri),), daemon=True
        )
        self._thread.start()

    def _open(self, url: str) -> bool:
        self.opened.append(url)
        return bool(self._opener(url)) if self._opener else False

    def _show(self, prompt: DevicePrompt) -> None:
        self.prompt = prompt
        self.shown.set()

    def _run(self, ctx: Any) -> None:
        try:
            self.token = sign_in(ctx, on_prompt=self._show, open_browser=self._open)
        except BaseException as exc:
            self.error = exc
        finally:
            self.shown.set()

    @property
    def link(self) -> str:
        assert self.shown.wait(20) and self.prompt is not None, self.error
        return self.prompt.verification_uri_complete

    def result(self) -> Any:
        self._thread.join(30)
        assert not self._thread.is_alive()
        return self.token


def browse(link: str, emu: Emulator) -> tuple[httpx.Client, str, str]:
    """A browser at the launch link: its cookie jar, the authorize URL, the callback URL."""
    browser = httpx.Client(timeout=10)
    launched = browser.get(link)
    assert launched.status_code == 302, launched.text
    authorize = launched.headers["location"]
    return browser, authorize, emu.consent(authorize)


# ---- point 3: the launch link and the cookie ---------------------------------------------------


def test_the_browser_opened_by_the_kernel_signs_in_and_the_prompt_shows_the_launch_link(
    emu: Emulator,
) -> None:
    def real_browser(url: str) -> bool:
        browser, _, callback = browse(url, emu)
        with closing(browser):
            assert browser.get(callback).status_code == 200
        return True

    signin = SignIn(emu, opener=real_browser)
    token = signin.result()
    assert token is not None and token.access_token in emu.secrets, signin.error
    link = signin.link
    # The opener got the very link the prompt shows (the fallback), and that link holds no
    # state and no authorization endpoint: only a path on the kernel's listener and a nonce.
    assert signin.opened == [link]
    parts = urlsplit(link)
    assert parts.hostname == "127.0.0.1" and parts.path == "/start"
    assert "state" not in link and "authorize" not in link and "code" not in link
    assert signin.prompt is not None and signin.prompt.verification_uri == link


def test_a_callback_without_the_browsers_cookie_is_refused(emu: Emulator) -> None:
    """Someone who has the full redirect (code and state) but not the cookie: refused, and the
    real browser still completes the sign-in."""
    signin = SignIn(emu)
    browser, authorize, callback = browse(signin.link, emu)
    with closing(browser):
        # The co-tenant approves with its own identity the same authorization request (the
        # state is in the URL) and delivers its redirect without the cookie.
        stranger = emu.consent(authorize)
        refused = httpx.get(stranger, timeout=10)
        assert refused.status_code == 403
        assert "did not start this sign-in" in refused.text
        # A cookie of the right name with a wrong value is no better.
        name = next(iter(browser.cookies.keys()))
        forged = httpx.get(stranger, cookies={name: "guess"}, timeout=10)
        assert forged.status_code == 403
        assert browser.get(callback).status_code == 200
    token = signin.result()
    assert token is not None and not token.expired
    # The token is from the browser's code, not the stranger's.
    redeemed = [r for r in emu.requests if r["operation"] == "CreateToken"]
    assert len(redeemed) == 1


def test_a_replayed_launch_link_aborts_the_sign_in_and_says_why(emu: Emulator) -> None:
    """The saved-notebook reader: the prompt (with the launch link) is in a 0644 .ipynb; the
    co-tenant opens the link after the user did. The sign-in stops; nobody's session lands."""
    signin = SignIn(emu)
    link = signin.link
    # Not pytest's tmp_path: it lies under a 0700 directory of ours that nobody cannot enter.
    shared = Path(tempfile.mkdtemp(prefix="ssooidc-saved-"))
    shared.chmod(0o755)
    notebook = shared / "saved.ipynb"
    notebook.write_text(json.dumps({"cells": [{"outputs": [{"text": f"open {link}"}]}]}))
    notebook.chmod(0o644)
    browser, _, callback = browse(link, emu)
    reader = co_tenant(
        "import json, re, sys, urllib.request, urllib.error\n"
        "path = sys.stdin.readline().strip()\n"
        "link = re.search(r'http://[^/\\s\"]+/start\\?[\\w-]+', open(path).read()).group(0)\n"
        "body = ''\n"
        "try:\n"
        "    urllib.request.urlopen(link, timeout=10); status = 200\n"
        "except urllib.error.HTTPError as e:\n"
        "    status = e.code; body = e.read().decode()\n"
        "print(json.dumps([status, body])); sys.stdout.flush()\n"
    )
    try:
        status, body = ask(reader, str(notebook))
    finally:
        finish(reader)
        shutil.rmtree(shared)
    assert status == 409 and "opened a second time" in body
    with closing(browser):
        # The user's own redirect now finds the sign-in stopped.
        try:
            late = browser.get(callback).status_code
        except httpx.TransportError:
            late = "closed"
        assert late in (400, "closed")
    assert signin.result() is None
    assert isinstance(signin.error, sj.LoginError)
    assert str(signin.error) == REUSED_LAUNCH
    assert "CreateToken" not in [r["operation"] for r in emu.requests]


def test_the_launch_link_is_refused_with_a_wrong_nonce(emu: Emulator) -> None:
    signin = SignIn(emu)
    link = signin.link
    wrong = httpx.get(link + "x", timeout=10, follow_redirects=False)
    assert wrong.status_code == 400 and "location" not in wrong.headers
    # A wrong guess does not burn the link.
    browser, _, callback = browse(link, emu)
    with closing(browser):
        assert browser.get(callback).status_code == 200
    assert signin.result() is not None


# ---- point 6: bounded ---------------------------------------------------------------------------

_HOLDER = """
import json, socket, sys, time
port = int(sys.stdin.readline())
held = []
for _ in range(int(sys.stdin.readline())):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    held.append(s)
drip = socket.create_connection(("127.0.0.1", port), timeout=10)
drip.sendall(b"GET /oauth/callback?")
print(json.dumps(len(held))); sys.stdout.flush()
sys.stdin.readline()  # the test says: the sign-in ended; now count what the listener closed
closed = 0
for s in held + [drip]:
    s.settimeout(10)
    try:
        closed += s.recv(1) == b""
    except OSError:
        closed += 1
print(json.dumps(closed)); sys.stdout.flush()
"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def test_idle_connections_of_another_user_do_not_pin_the_listener(emu: Emulator) -> None:
    signin = SignIn(emu)
    link = signin.link
    port = urlsplit(link).port
    holder = co_tenant(_HOLDER)
    cpu_before, wall_before = _cpu(), time.monotonic()
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write(f"{port}\n50\n")
    holder.stdin.flush()
    assert json.loads(holder.stdout.readline()) == 50
    # 51 connections of the co-tenant are open towards the listener; the real browser still
    # gets through, first time.
    browser, _, callback = browse(link, emu)
    with closing(browser):
        assert browser.get(callback).status_code == 200
    token = signin.result()
    cpu, wall = _cpu() - cpu_before, time.monotonic() - wall_before
    assert token is not None and not token.expired
    # Everything was closed when the sign-in ended: the co-tenant's sockets see EOF.
    assert ask(holder, "count") == 51
    finish(holder)
    assert cpu < 0.8 * wall + 0.5, f"{cpu:.2f} s CPU in {wall:.2f} s"
    assert not [t for t in threading.enumerate() if t.name == "ssooidc-pkce"]


class _Box:
    def __init__(self) -> None:
        self.box = CallbackBox()

    def deliver(self, params: Any) -> bool:
        return self.box.deliver(params)

    def abort(self, reason: str) -> None:
        self.box.abort(reason)


def test_a_connection_gets_a_deadline_and_the_count_stays_small() -> None:
    box = _Box()
    receiver = LoopbackReceiver(box, connection_timeout=0.5)
    try:
        port = receiver.addresses[0][1]
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(20)]
        started = time.monotonic()
        # The oldest were dropped for the newer ones (at most MAX_CONNECTIONS open), and the
        # rest are cut at their deadline: every socket sees the listener close it.
        for sock in idle:
            assert sock.recv(1) == b""
            sock.close()
        assert time.monotonic() - started < 5
        assert receiver.open_connections == 0
        assert MAX_CONNECTIONS <= 8
    finally:
        receiver.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


_NO_DESCRIPTORS = """
import json, os, resource, socket, sys, time
from ssooidc_jupyter.auth._loopback import LoopbackReceiver
class Box:
    def deliver(self, params): return False
    def abort(self, reason): pass
receiver = LoopbackReceiver(Box())
port = receiver.addresses[0][1]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))
held = []
try:
    while True:
        held.append(os.open("/dev/null", os.O_RDONLY))
except OSError:
    pass
print(json.dumps(port)); sys.stdout.flush()
sys.stdin.readline()  # the test has connected: accept() now fails with EMFILE
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF); return u.ru_utime + u.ru_stime
before, wall = cpu(), time.monotonic()
time.sleep(1.0)  # the window whose CPU time is measured
used = cpu() - before
for fd in held:
    os.close(fd)
print(json.dumps([used, time.monotonic() - wall])); sys.stdout.flush()
sys.stdin.readline()
receiver.close()
"""


def test_out_of_descriptors_the_listener_waits_instead_of_spinning() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _NO_DESCRIPTORS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        port = json.loads(proc.stdout.readline())
        # The kernel completes the handshake in the backlog; the listener cannot accept it.
        client = socket.create_connection(("127.0.0.1", port), timeout=10)
        used, wall = ask(proc, "connected")
        # Out of descriptors, accept() fails at once; retried in a loop that is 100 % CPU.
        assert used < 0.25 * wall, f"{used:.2f} s CPU in {wall:.2f} s"
        # With descriptors back, the waiting connection is served.
        client.sendall(b"GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.recv(64).startswith(b"HTTP/1.1 404")
        client.close()
        proc.stdin.write("done\n")
        proc.stdin.flush()
    finally:
        assert finish(proc) == 0


# ---- point 7: localhost and [::1] -------------------------------------------------------------


def _ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6(), reason="no IPv6 loopback here")
def test_an_ipv6_redirect_signs_in(emu: Emulator) -> None:
    def real_browser(url: str) -> bool:
        browser, _, callback = browse(url, emu)
        with closing(browser):
            assert urlsplit(callback).hostname == "::1"
            assert browser.get(callback).status_code == 200
        return True

    signin = SignIn(emu, redirect_uri="http://[::1]:0/oauth/callback", opener=real_browser)
    token = signin.result()
    assert token is not None, signin.error
    assert urlsplit(signin.link).netloc.startswith("[::1]:")


@pytest.mark.skipif(not _ipv6(), reason="no IPv6 loopback here")
def test_localhost_is_held_on_both_loopback_addresses_against_a_co_tenant() -> None:
    receiver = LoopbackReceiver(_Box(), "http://localhost:0/cb")
    try:
        bound = {address for address, _ in receiver.addresses}
        port = receiver.addresses[0][1]
        resolved = {
            info[4][0] for info in socket.getaddrinfo("localhost", port, type=socket.SOCK_STREAM)
        }
        assert {"127.0.0.1", "::1"} | resolved <= bound
        assert {p for _, p in receiver.addresses} == {port}
        assert receiver.redirect_uri == f"http://localhost:{port}/cb"
        # The co-tenant cannot take the IPv6 half of the port to receive the redirect.
        squatter = co_tenant(
            "import json, socket, sys\n"
            "port = int(sys.stdin.readline())\n"
            "s = socket.socket(socket.AF_INET6)\n"
            "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)\n"
            "try:\n"
            "    s.bind(('::1', port)); s.listen(); print(json.dumps(0))\n"
            "except OSError as e:\n"
            "    print(json.dumps(e.errno))\n"
            "sys.stdout.flush()\n"
        )
        assert ask(squatter, str(port)) == errno.EADDRINUSE
        finish(squatter)
    finally:
        receiver.close()


@pytest.mark.skipif(not _ipv6(), reason="no IPv6 loopback here")
def test_localhost_is_refused_when_a_co_tenant_holds_its_ipv6_port() -> None:
    squatter = co_tenant(
        "import json, socket, sys\n"
        "s = socket.socket(socket.AF_INET6)\n"
        "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)\n"
        "s.bind(('::1', 0)); s.listen()\n"
        "print(json.dumps(s.getsockname()[1])); sys.stdout.flush()\n"
        "sys.stdin.readline()\n"
    )
    try:
        assert squatter.stdout is not None
        port = json.loads(squatter.stdout.readline())
        with pytest.raises(sj.ConfigurationError, match=f"localhost:{port}.*another program"):
            LoopbackReceiver(_Box(), f"http://localhost:{port}/cb")
        # Nothing was left listening on the IPv4 half either.
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2)
    finally:
        assert squatter.stdin is not None
        finish(squatter)


def test_redirect_uri_spellings() -> None:
    for uri in ("http://127.0.0.1:0/cb", "http://[::1]:0/cb", "http://localhost:0/cb"):
        if "::1" in uri and not _ipv6():
            continue
        receiver = LoopbackReceiver(_Box(), uri)
        receiver.close()
    with pytest.raises(sj.ConfigurationError, match="launch link"):
        LoopbackReceiver(_Box(), "http://127.0.0.1:0/start")
    with pytest.raises(sj.ConfigurationError, match="not on this machine"):
        LoopbackReceiver(_Box(), "https://hub.example/cb")


@pytest.mark.parametrize(
    "env",
    [
        {"SSOOIDC_NO_BROWSER": "1", "DISPLAY": ":0"},
        {"JUPYTERHUB_USER": "ann", "DISPLAY": ":0"},
        {} if sys.platform.startswith("linux") else {"SSOOIDC_NO_BROWSER": "1"},
    ],
    ids=["opted-out", "jupyterhub-kernel", "no-display"],
)
def test_no_browser_is_started_where_none_belongs(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel opens the browser only on a desktop: never on a headless server, in a hub
    kernel (the user's browser is elsewhere) or when told not to."""
    from ssooidc_jupyter.auth import _loopback

    for name in ("SSOOIDC_NO_BROWSER", "JUPYTERHUB_USER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    started: list[str] = []
    monkeypatch.setattr(_loopback.webbrowser, "get", lambda *a: started.append("get"))
    assert _loopback.open_browser("http://127.0.0.1:1/start?x") is False
    assert started == []
