"""The README's demo command, as a newcomer runs it: the scripted terminal sign-in, and the
JupyterLab server with the quickstart notebook against the emulator."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

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
            found = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=(\w+)", line)
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
