"""The README's demo command, as a newcomer runs it: the scripted terminal sign-in, and the
JupyterLab server with the quickstart notebook against the emulator."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_terminal_demo_signs_in() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ssooidc_jupyter.demo", "--terminal", "--approve-after", "0.5"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    text = out.stdout
    code = re.search(r"confirm the code:\s+([A-Z]{4}-[A-Z]{4})", text)
    assert code, text
    assert f"/device?user_code={code.group(1)}" in text
    assert "Signed in after" in text
    assert "no network call" in text
    assert "assumed-role/AWSReservedSSO_" in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_jupyterlab_demo_serves_the_quickstart_notebook() -> None:
    port = _free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "ssooidc_jupyter.demo", "--no-browser", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        token = None
        deadline = time.monotonic() + 90
        assert demo.stdout is not None
        while token is None and time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(
                rf"Open: http://127\.0\.0\.1:{port}/lab/tree/quickstart\.ipynb\?token=(\w+)", line
            )
            token = found.group(1) if found else None
        assert token, "".join(lines)
        assert any("IAM Identity Center emulator: http://127.0.0.1:" in x for x in lines)
        url = f"http://127.0.0.1:{port}/api/contents/quickstart.ipynb?content=0&token={token}"
        status = None
        while status is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=10) as reply:
                    status = reply.status
            except urllib.error.URLError:
                time.sleep(0.2)  # the URL is logged just before the socket listens
        assert status == 200
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            raise
        finally:
            assert demo.stdout is not None
            demo.stdout.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2)


def _start_demo(port: int) -> tuple[subprocess.Popen[str], str, str, list[str]]:
    demo = subprocess.Popen(
        [sys.executable, "-m", "ssooidc_jupyter.demo", "--no-browser", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    token = home = ""
    deadline = time.monotonic() + 90
    assert demo.stdout is not None
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
    return demo, token, home, lines


def _api(port: int, path: str, token: str, method: str = "GET") -> dict[str, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=b"{}" if method == "POST" else None,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return json.loads(reply.read() or b"{}")  # type: ignore[no-any-return]
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)  # the URL is printed just before the socket listens


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_the_demo_stops_everything_it_started(how: signal.Signals) -> None:
    from ssooidc_jupyter.demo import _descendants

    port = _free_port()
    demo, token, home, _ = _start_demo(port)
    try:
        _api(port, "/api/kernels", token, method="POST")  # a kernel, as the notebook makes
        deadline = time.monotonic() + 30
        started = _descendants(demo.pid)
        while len(started) < 2 and time.monotonic() < deadline:  # the server and its kernel
            time.sleep(0.2)
            started = _descendants(demo.pid)
        assert len(started) >= 2, started
        assert Path(home).is_dir()
        demo.send_signal(how)
        assert demo.wait(timeout=60) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
        assert demo.stdout is not None
        demo.stdout.close()
    deadline = time.monotonic() + 10
    alive = [pid for pid in started if _running(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in started if _running(pid)]
    assert not alive, f"left running: {alive}"
    assert not Path(home).exists(), "the temporary HOME (with its token cache) is left on disk"
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie is dead, only not reaped yet
