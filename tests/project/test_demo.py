"""The README's demo command, as a newcomer runs it: the scripted terminal sign-in, and the
JupyterLab server with the quickstart notebook against the emulator."""

from __future__ import annotations

import contextlib
import os
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

from tests._support import ROOT, wait_for

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


def _ignore_sigint() -> None:
    # What nohup and a script's background job (`cmd &`) do: the demo inherits SIG_IGN.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Demo:
    """``python -m ssooidc_jupyter.demo`` in JupyterLab mode, read line by line."""

    def __init__(
        self, port: int, *, ignore_sigint: bool = False, env: dict[str, str] | None = None
    ) -> None:
        self.port = port
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ssooidc_jupyter.demo", "--no-browser", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=_ignore_sigint if ignore_sigint else None,
        )
        self.lines: list[str] = []
        self.seen: set[int] = set()  # every process ever seen below the demo

    def read_until(self, pattern: str, timeout: float = 90) -> re.Match[str]:
        """The first line matching ``pattern`` (fails at EOF or after ``timeout``)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if found := re.search(pattern, line):
                return found
        raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(self.lines)}")

    def started(self) -> tuple[int, str, str]:
        """Port, token and temporary HOME, from the block printed once the server answers."""
        url = self.read_until(
            r"Open: http://127\.0\.0\.1:(\d+)/lab/tree/quickstart\.ipynb\?token=(\w+)"
        )
        home = self.read_until(r"Temporary HOME \(removed at the end\): (\S+)")
        return int(url.group(1)), url.group(2), home.group(1)

    def watch(self) -> list[int]:
        from ssooidc_jupyter.demo import _descendants

        found = _descendants(self.process.pid)
        self.seen.update(found)
        return found

    def close(self) -> None:
        """The test's own clean-up: whatever the demo left is killed, group by group."""
        self.watch()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in self.seen:
            with contextlib.suppress(OSError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        assert self.process.stdout is not None
        self.process.stdout.close()


def _get(port: int, path: str, token: str, method: str = "GET") -> int:
    """One request, no retry: the demo says a URL only once it answers."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=b"{}" if method == "POST" else None,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as reply:
        return int(reply.status)


def test_the_url_is_printed_once_jupyterlab_answers_and_its_log_stays_out_of_the_way() -> None:
    port = _free_port()
    demo = Demo(port)
    try:
        printed_port, token, home = demo.started()
        # At once, no retry: the URL printed is the one that works, now.
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        assert printed_port == port
        assert _get(port, "/api/contents/quickstart.ipynb?content=0", token) == 200
        assert any("IAM Identity Center emulator: http://127.0.0.1:" in x for x in demo.lines)
        # The server's log is in a file of the demo's temporary directory, not on screen.
        logged = re.search(r"Server log: (\S+)", "".join(demo.lines))
        assert logged, demo.lines
        log = Path(logged.group(1))
        assert log.parent == Path(home).parent
        assert "Jupyter Server" in log.read_text()
        text = "".join(demo.lines)
        assert "ServerApp]" not in text and "[I " not in text, text
        assert len(demo.lines) <= 12, text
        demo.process.send_signal(signal.SIGINT)
        assert demo.process.wait(timeout=60) == 0
        assert not log.exists(), "the log (and the temporary directory) is left on disk"
    finally:
        demo.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_demo_verbose_shows_the_server_log() -> None:
    demo = Demo(_free_port(), env={**os.environ, "DEMO_VERBOSE": "1"})
    try:
        demo.started()
        text = "".join(demo.lines)
        assert "ServerApp]" in text, text  # JupyterLab's own log lines, here
        assert "Server log: shown here" in text
        demo.process.send_signal(signal.SIGINT)
        assert demo.process.wait(timeout=60) == 0
    finally:
        demo.close()


def test_a_busy_port_gives_a_url_that_works() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        demo = Demo(port)
        try:
            printed_port, token, _home = demo.started()
            assert printed_port != port
            assert any(f"Port {port} is busy" in x for x in demo.lines), demo.lines
            assert _get(printed_port, "/api/contents/quickstart.ipynb?content=0", token) == 200
        finally:
            demo.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                demo.process.wait(timeout=60)
            demo.close()


def _processes_under(path: str) -> list[tuple[int, str]]:
    """Every process whose command line names ``path`` (the server's root dir, a kernel's
    connection file in the temporary HOME), from the process table."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if path in cmdline and _running(int(entry.name)):
            found.append((int(entry.name), cmdline))
    return found


@pytest.mark.parametrize(
    ("how", "ignore_sigint"),
    [
        (signal.SIGTERM, False),
        (signal.SIGINT, False),
        (signal.SIGHUP, False),
        (signal.SIGINT, True),
    ],
    ids=["SIGTERM", "Ctrl-C", "SIGHUP", "Ctrl-C-started-with-SIGINT-ignored"],
)
def test_the_demo_stops_everything_it_started(how: signal.Signals, ignore_sigint: bool) -> None:
    port = _free_port()
    demo = Demo(port, ignore_sigint=ignore_sigint)
    try:
        _, token, home = demo.started()
        assert _get(port, "/api/kernels", token, method="POST") == 201  # as the notebook does
        wait_for(lambda: len(demo.watch()) >= 2, "server and kernel", timeout=30, interval=0.1)
        temporary = str(Path(home).parent)
        assert len(_processes_under(temporary)) >= 2  # the check below can see them
        demo.process.send_signal(how)
        assert demo.process.wait(timeout=60) == 0
        stopped = demo.process.stdout.read()  # type: ignore[union-attr]
        assert "Stopped" in stopped, stopped
        # Gone at once: the demo waited for them before it exited.
        assert not [pid for pid in demo.seen if _running(pid)]
        assert not _processes_under(temporary), "a JupyterLab server or kernel is left running"
        assert not Path(home).exists(), "the temporary HOME (with its token cache) is left on disk"
    finally:
        demo.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is in Python 3.11 and later")
def test_make_demo_installs_the_demo_extra_only_and_passes_the_port(tmp_path: Path) -> None:
    """`make demo` (dry run, every target out of date): its own stamp and extra, PORT
    passed through; the demo extra has JupyterLab and boto3, not the test toolchain."""
    import tomllib

    root = ROOT
    venv = tmp_path / "venv"
    dry = subprocess.run(
        ["make", "-n", "-B", "demo", f"VENV={venv}", "PORT=9123"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "-e '.[demo]'" in dry, dry
    assert "[test" not in dry, dry
    assert "-m ssooidc_jupyter.demo --port 9123" in dry, dry
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    demo = " ".join(extras["demo"])
    for needed in ("jupyterlab", "boto3"):
        assert needed in demo
    for heavy in ("playwright", "mypy", "stubs", "pytest"):
        assert heavy not in demo


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie is dead, only not reaped yet
