"""The prompt in the frontends that render no widget, with the real clients (issue 19).

- ``jupyter console`` and terminal IPython, each driven in a pseudo-terminal (pexpect) whose
  screen is rendered by a VT100 emulator (pyte), as a person would read it: the code and the
  link are on screen from the login cell's first output (jupyter console applies no
  ``update_display_data``), and approving at the emulator completes the sign-in, with and
  without ``--wait``.
- ``jupyter nbconvert --execute``: the converted output of a pending sign-in holds a usable
  prompt (the code, a link that opens the verification page with it); the notebook saved
  after a sign-in (outputs and widget state) holds no user code, no device code, no
  verification link and no secret.

With ``SSOOIDC_SCREENSHOTS=1`` the screens are written to ``docs/screenshots/`` as text and
as PNG (the text drawn by Chromium), for docs/notebook.md.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from ssooidc_jupyter.emulator import Emulator
from tests._support import ROOT, emulator_fixture

pexpect = pytest.importorskip("pexpect")
pyte = pytest.importorskip("pyte")

pytestmark = pytest.mark.slow

SCREENSHOTS = ROOT / "docs" / "screenshots"
CODE = r"[A-Z]{4}-[A-Z]{4}"
#: Upper bound for one step (a kernel start, a cell) on a busy 2-core machine; every wait
#: ends as soon as its text is on screen.
STEP = 60.0


# ---- set-up -------------------------------------------------------------------------------


#: Nobody approves but the test; clients poll every 0.2 s.
emu = emulator_fixture(scope="module", interval=0.2, auto_approve=None)


def client_env(home: Path, emu: Emulator) -> dict[str, str]:
    """A private HOME, IPython and Jupyter dirs; every AWS call goes to the emulator."""
    home.mkdir(parents=True, exist_ok=True)
    drop = ("AWS_", "BOTO_", "SSOOIDC_", "JUPYTER", "IPYTHON", "PYTHONSTARTUP", "JPY_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        HOME=str(home),
        IPYTHONDIR=str(home / ".ipython"),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(home / ".jupyter-runtime"),
        JUPYTER_PLATFORM_DIRS="1",
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        AWS_ENDPOINT_URL=emu.url,
        AWS_EC2_METADATA_DISABLED="true",
        TERM="xterm-256color",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONDONTWRITEBYTECODE="1",
        # The kernel's debugger warns about frozen modules on the console's terminal.
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    return env


def where(emu: Emulator) -> str:
    return f"--start-url {emu.start_url} --region {emu.region}"


def screenshots_wanted() -> bool:
    return os.environ.get("SSOOIDC_SCREENSHOTS", "").strip() not in ("", "0", "false")


# ---- a pseudo-terminal with a screen ------------------------------------------------------


class Terminal:
    """A program in a pseudo-terminal; :meth:`wait` reads its output into a VT100 screen
    until a pattern shows on it (no fixed sleep: it returns as soon as the text is there)."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.rows, self.cols = 50, 140
        self.screen = pyte.Screen(self.cols, self.rows)
        self.stream = pyte.ByteStream(self.screen)
        self.child = pexpect.spawn(
            argv[0], argv[1:], env=env, cwd=str(cwd), dimensions=(self.rows, self.cols)
        )
        # prompt_toolkit asks where the cursor is (CPR); a real terminal answers.
        self.screen.write_process_input = lambda data: self.child.send(data)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display).strip("\n")

    def wait(self, pattern: str, timeout: float = STEP, after: str = "") -> re.Match[str]:
        """The first match of ``pattern`` on screen (below the last ``after``, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.text().rpartition(after)[2] if after else self.text())
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{pattern!r} never showed. The screen:\n{self.text()}")
            try:
                data = self.child.read_nonblocking(65536, timeout=min(left, 1.0))
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF as exc:
                raise AssertionError(f"the program ended. The screen:\n{self.text()}") from exc
            self.stream.feed(data)

    def run(self, line: str, prompt: str) -> None:
        """Type ``line`` and Enter, then wait for the next input prompt ``prompt``."""
        self.child.send(line + "\r")
        self.wait(re.escape(prompt))

    def close(self) -> None:
        if self.child.isalive():
            self.child.sendcontrol("d")  # EOF: "Do you really want to exit?"
            self.child.send("y\r")
            with contextlib.suppress(pexpect.TIMEOUT, pexpect.EOF):
                self.child.expect(pexpect.EOF, timeout=15)  # the console stops its kernel
        self.child.close(force=True)

    def save(self, name: str, title: str) -> None:
        """With SSOOIDC_SCREENSHOTS=1: the screen as docs/screenshots/<name>.txt and .png."""
        if not screenshots_wanted():
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        text = self.text() + "\n"
        (SCREENSHOTS / f"{name}.txt").write_text(text, encoding="utf-8")
        render_text_png(text, title, SCREENSHOTS / f"{name}.png")


def render_text_png(text: str, title: str, target: Path) -> None:
    """Draw a terminal's text with Chromium (headless ``--screenshot``)."""
    chromium = shutil.which(os.environ.get("SSOOIDC_CHROMIUM", "chromium"))
    if chromium is None:
        return
    lines = text.count("\n") + 3
    page = target.with_suffix(".html")
    page.write_text(
        "<!doctype html><meta charset='utf-8'><body style='margin:0;background:#1e1e1e'>"
        f"<div style='font:13px sans-serif;color:#aaa;padding:6px 10px'>{html.escape(title)}</div>"
        '<pre style=\'margin:0;padding:4px 10px;color:#ddd;font:14px/1.3 "DejaVu Sans Mono",'
        f"monospace'>{html.escape(text)}</pre></body>",
        encoding="utf-8",
    )
    try:
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--screenshot={target}",
                f"--window-size=1220,{int(lines * 18.2) + 40}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    finally:
        page.unlink()


def read_prompt(term: Terminal, emu: Emulator, after: str) -> str:
    """Read the code and the link off the screen (below ``after``); check they are the
    emulator's; return the code."""
    shown = term.wait(rf"and confirm the code  ({CODE})", after=after)
    code = shown.group(1)
    assert code in emu.user_codes
    link = term.wait(rf"(http://\S+/device\?user_code={code})", after=after).group(1)
    assert link == f"{emu.url}/device?user_code={code}"
    return code


# ---- jupyter console ----------------------------------------------------------------------


def test_jupyter_console_shows_the_code_and_signs_in(tmp_path: Path, emu: Emulator) -> None:
    env = client_env(tmp_path / "home", emu)
    term = Terminal([sys.executable, "-m", "jupyter_console", "--kernel", "python3"], env, tmp_path)
    try:
        term.wait(r"In \[1\]:")
        term.run("%load_ext ssooidc_jupyter", "In [2]:")

        # --wait: the cell blocks; the prompt is on screen meanwhile, and the sign-in ends
        # when the test approves (before this change: LoginExpiredError ten minutes later).
        term.child.send(f"%ssooidc login {where(emu)} --wait\r")
        code = read_prompt(term, emu, after="In [2]:")
        assert "Starting sign-in" not in term.text()
        term.save("console-prompt", "jupyter console: %ssooidc login --wait")
        emu.approve(code)
        term.wait(r"Signed in to \S+ until \d\d:\d\d \S+\. It reaches 2 accounts:")
        term.wait(re.escape("In [3]:"))
        term.save("console-signed-in", "jupyter console: approved in the browser")

        # Without --wait the cell returns at once, the code already on screen.
        term.run("%ssooidc logout", "In [4]:")
        term.child.send(f"%ssooidc login {where(emu)} --force\r")
        term.wait(re.escape("In [5]:"))
        again = read_prompt(term, emu, after="In [4]:")
        assert again != code
        emu.approve(again)
        term.child.send("ssooidc_token.expires_in > 0\r")  # waits for the approval
        term.wait(r"Out\[5\]: True")
        term.run("%ssooidc status", "In [7]:")
        term.wait(r"State\s+Signed in\.")
    finally:
        term.close()


# ---- terminal IPython ---------------------------------------------------------------------


def test_terminal_ipython_shows_the_code_and_signs_in(tmp_path: Path, emu: Emulator) -> None:
    env = client_env(tmp_path / "home", emu)
    argv = [sys.executable, "-m", "IPython", "--no-banner", "--colors=nocolor"]
    term = Terminal(argv, env, tmp_path)
    try:
        term.wait(r"In \[1\]:")
        term.run("%load_ext ssooidc_jupyter", "In [2]:")
        term.child.send(f"%ssooidc login {where(emu)} --wait\r")
        code = read_prompt(term, emu, after="In [2]:")
        term.save("ipython-prompt", "terminal IPython: %ssooidc login --wait")
        emu.approve(code)
        term.wait(r"Signed in to \S+ until \d\d:\d\d \S+\. It reaches 2 accounts:")
        term.wait(re.escape("In [3]:"))
        text = term.text()
        # Printed once each: a terminal cannot take back a line, so nothing is repeated.
        assert text.count("confirm the code") == 1 and text.count("Signed in to") == 1, text

        # Without --wait: the prompt at once, "Signed in" printed when it happens.
        term.child.send(f"%ssooidc login {where(emu)} --force\r")
        again = read_prompt(term, emu, after="In [3]:")
        term.wait(re.escape("In [4]:"))
        emu.approve(again)
        # Printed by the sign-in's thread while the prompt waits for input.
        term.wait(rf"(?s)confirm the code  {again}.*Signed in to \S+ until", after="In [3]:")
    finally:
        term.close()


# ---- nbconvert ----------------------------------------------------------------------------


def _notebook(path: Path, cells: list[str]) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(notebook, path)
    return path


def _nbconvert(notebook: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--execute", *args, str(notebook)],
        env=env,
        cwd=notebook.parent,
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_nbconvert_output_of_a_pending_sign_in_is_a_usable_prompt(
    tmp_path: Path, emu: Emulator
) -> None:
    env = client_env(tmp_path / "home", emu)
    source = _notebook(
        tmp_path / "pending.ipynb",
        ["%load_ext ssooidc_jupyter", f"%ssooidc login {where(emu)} --force"],
    )
    known = len(emu.user_codes)
    _nbconvert(source, env, "--to", "html")
    assert len(emu.user_codes) == known + 1
    code = emu.user_codes[-1]
    page = (tmp_path / "pending.html").read_text(encoding="utf-8")
    link = f"{emu.url}/device?user_code={code}"
    assert f'href="{link}"' in page and f">{code}</div>" in page
    # The link opens the verification page with the code filled in.
    import httpx

    answer = httpx.get(link, timeout=10)
    assert answer.status_code == 200 and code in answer.text


def test_a_notebook_saved_after_sign_in_holds_nothing_that_completes_one(
    tmp_path: Path, emu: Emulator
) -> None:
    """nbconvert --execute saves outputs and widget state (nbclient's default): after the
    sign-in neither holds the user code, the device code, the verification link, or any
    secret; the output names the accounts the session reaches."""
    env = client_env(tmp_path / "home", emu)
    source = _notebook(
        tmp_path / "signin.ipynb",
        [
            "%load_ext ssooidc_jupyter",
            f"%ssooidc login {where(emu)} --force --wait",
            "print(type(ssooidc_token).__name__)",
        ],
    )
    known = len(emu.user_codes)
    stop = threading.Event()

    def approver() -> None:  # the person: approves the code once it is issued
        while not stop.is_set():
            if len(emu.user_codes) > known:
                emu.approve(emu.user_codes[-1])
                return
            stop.wait(0.05)

    thread = threading.Thread(target=approver, daemon=True)
    thread.start()
    try:
        _nbconvert(source, env, "--to", "notebook", "--output", "saved.ipynb")
    finally:
        stop.set()
        thread.join(5)
    saved = (tmp_path / "saved.ipynb").read_text(encoding="utf-8")
    notebook = json.loads(saved)
    assert "application/vnd.jupyter.widget-state+json" in notebook["metadata"]["widgets"]
    assert "Signed in to" in saved and "It reaches 2 accounts" in saved
    assert "SSOToken" in saved  # the next cell ran with the real token
    code = emu.user_codes[-1]
    assert code not in saved, "the user code is in the saved notebook"
    assert "user_code=" not in saved and "/device" not in saved
    assert "state=" not in saved
    leaked = sorted(s[:10] + "..." for s in emu.secrets if s in saved)
    assert leaked == [], f"secrets (the device code among them) in the saved notebook: {leaked}"
