"""The sign-in in a Voila dashboard, in Chromium (issue 19).

Voila renders the executed notebook's outputs once and then talks to the kernel only
through widgets: it applies no ``update_display_data`` to those outputs. Before, the
dashboard showed "Starting sign-in to ..." forever and a widget without code or link. Now
the widget shows the code and the clickable link (and hides the plain output), the test
clicks the link, approves on the verification page, and the widget reaches "signed in".
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import nbformat
import pytest
from _harness import (
    KERNEL_TIMEOUT,
    UI_TIMEOUT,
    JupyterServer,
    decide_on_verification_page,
    free_port,
    read_prompt,
    stop_group,
)

from ssooidc_jupyter.emulator import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INTERVAL = 1  # the emulator's polling interval (conftest)
DASHBOARD = ["%load_ext ssooidc_jupyter", "%ssooidc login"]


class Voila:
    """``python -m voila NOTEBOOK`` on 127.0.0.1, with the environment of the browser
    suite's servers (a temporary HOME whose default profile names the emulator)."""

    def __init__(self, base: Path, emu: Emulator) -> None:
        # Only for its environment and AWS config file: no Jupyter server is started.
        self.env_source = JupyterServer("voila", base, emu.url, emu.region)
        self.root = self.env_source.root
        self.port = free_port()
        self.log = base / "voila.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, notebook: Path, config: str) -> None:
        source = self.env_source
        source.aws_config.parent.mkdir(parents=True, exist_ok=True)
        source.aws_config.write_text(config, encoding="utf-8")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "voila",
                    str(notebook),
                    "--no-browser",
                    f"--port={self.port}",
                    "--Voila.ip=127.0.0.1",
                    "--show_tracebacks=True",
                ],
                cwd=self.root,
                env=source.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + KERNEL_TIMEOUT / 1000
        while True:  # listening: a GET would run the notebook, a connect does not
            assert self.process.poll() is None, f"voila exited:\n{self.log_tail()}"
            with suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return
            assert time.monotonic() < deadline, f"voila never listened:\n{self.log_tail()}"
            time.sleep(0.1)

    def stop(self) -> None:
        process = self.process
        if process is None:
            return
        stop_group(process)

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])
        except OSError:
            return "(no log)"


def _snap(page: Any, view: Any, path: Path) -> None:
    """The top of the dashboard, down to the widget's bottom edge."""
    page.mouse.move(1, 1)
    box = view.bounding_box()
    height = box["y"] + box["height"] + 16 if box else 400
    clip = {"x": 0, "y": 0, "width": 1000, "height": height}
    page.screenshot(path=str(path), animations="disabled", clip=clip)


@pytest.fixture
def voila(emu: Emulator, chromium_path: str, tmp_path: Path) -> Iterator[Voila]:
    from conftest import _aws_config

    server = Voila(tmp_path, emu)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in DASHBOARD]
    path = server.root / "dashboard.ipynb"
    nbformat.write(notebook, path)
    try:
        server.start(path, _aws_config(emu))
        yield server
    finally:
        server.stop()


def test_voila_widget_shows_code_and_link_and_signs_in(
    voila: Voila, emu: Emulator, browser_context: Any, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    page = browser_context.new_page()
    try:
        page.goto(voila.url, wait_until="domcontentloaded", timeout=KERNEL_TIMEOUT)
        body = page.locator("body")
        view = page.locator(".ssooidc-view").first
        expect(view).to_be_visible(timeout=KERNEL_TIMEOUT)
        prompt = read_prompt(view)  # the code and the link, in the widget
        assert prompt.code in emu.user_codes
        assert prompt.link == f"{emu.url}/device?user_code={prompt.code}"
        expect(view.locator("button.ssooidc-copy")).to_be_visible()
        expect(view.locator(".ssooidc-countdown")).to_contain_text("Code expires in")
        # The plain output of the same sign-in is there (for frontends without widgets)
        # but hidden by the widget; "Starting sign-in" is nowhere.
        plain = page.locator("[class*='ssooidc-run-']:not(.ssooidc-view *)")
        expect(plain).to_have_count(1)
        expect(plain).to_be_hidden()
        assert "Starting sign-in" not in body.inner_text()
        _snap(page, view, screenshot_dir / "voila-prompt.png")

        decide_on_verification_page(page, body, prompt, "approve")
        signed_in = page.locator(".ssooidc-view.ssooidc-state-signed_in")
        expect(signed_in).to_be_visible(timeout=(INTERVAL + 5) * 1000)
        status = signed_in.locator(".ssooidc-status").first
        expect(status).to_contain_text("Signed in to", timeout=UI_TIMEOUT)
        expect(status).to_contain_text("It reaches 2 accounts")
        expect(signed_in.locator(".ssooidc-account-select")).to_be_visible(timeout=UI_TIMEOUT)
        # The widget no longer shows the code (its state holds none); the plain output,
        # which Voila never updates, stays hidden.
        expect(view.locator(".ssooidc-code")).to_have_count(0)
        assert prompt.code not in view.inner_text()
        expect(plain).to_be_hidden()
        _snap(page, view, screenshot_dir / "voila-signed-in.png")
    finally:
        page.close()
