"""`make demo` keeps the JupyterLab token out of every process's command line.

Any local user reads ``/proc/<pid>/cmdline`` of every process; with the server's token they
could start a kernel in the demo's server and run code as the person running the demo. The
token must reach the server another way (a 0600 config file in the demo's private
``JUPYTER_CONFIG_DIR``), and must not be in the environment kernels inherit either.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ssooidc_jupyter.demo import _descendants

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _request(port: int, path: str, token: str, method: str = "GET") -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=b"{}" if method == "POST" else None,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _wait_listening(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)  # the URL is printed just before the server binds its socket
    raise AssertionError("the demo's JupyterLab never listened")


def test_no_process_of_the_demo_has_the_token_in_its_command_line() -> None:
    port = _free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "ssooidc_jupyter.demo", "--no-browser", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None
        token = home = ""
        deadline = time.monotonic() + 90
        lines: list[str] = []
        while not (token and home) and time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            lines.append(line)
            if found := re.search(r"/lab/tree/quickstart\.ipynb\?token=(\w+)", line):
                token = found.group(1)
            if found := re.search(r"Temporary HOME \(removed at the end\): (\S+)", line):
                home = found.group(1)
        assert token and home, "".join(lines)
        _wait_listening(port, deadline)
        # The token is the server's (a wrong one is refused), and it starts kernels.
        assert _request(port, "/api/kernels", "wrong-" + token) == 403
        assert _request(port, "/api/kernels", token, method="POST") == 201
        processes = [demo.pid]
        while len(processes) < 3 and time.monotonic() < deadline:  # demo, server, kernel
            time.sleep(0.2)
            processes = [demo.pid, *_descendants(demo.pid)]
        assert len(processes) >= 3, processes
        secret = token.encode()
        for pid in processes:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            assert cmdline, pid
            assert secret not in cmdline, f"the token is in the command line of {pid}"
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            assert secret not in environ, f"the token is in the environment of {pid}"
        config = Path(home) / ".jupyter" / "jupyter_server_config.json"
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        assert json.loads(config.read_text())["IdentityProvider"]["token"] == token
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
        assert demo.stdout is not None
        demo.stdout.close()
