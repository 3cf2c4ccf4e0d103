"""The browser suite's machinery: find Chromium, run Jupyter servers, drive notebooks.

Nothing here is a test. ``conftest.py`` turns it into fixtures; the ``test_browser_*``
modules use :class:`NotebookUI` so that one scenario runs unchanged in JupyterLab and in
Notebook 7 (both are built from the same Lumino/JupyterLab widgets: ``.jp-Notebook``,
``.jp-Cell``, ``.jp-OutputArea-output``).

Playwright is imported lazily: without it the suite is skipped (or fails, in CI) with a
clear reason instead of an ImportError at collection.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = Path(os.environ.get("SSOOIDC_NOTEBOOKS_DIR") or REPO / "notebooks")
SCREENSHOTS = REPO / "docs" / "screenshots"

#: The flags the brief asks for; playwright adds its own automation flags on top.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
CHROMIUM_CANDIDATES = (
    "/usr/bin/chromium",
    "chromium",
    "chromium-browser",
    "google-chrome-stable",
    "google-chrome",
)

LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"

#: Generous upper bounds for one UI step on a busy 2-core machine; waits end as soon as
#: the condition holds, so these only matter when something is wrong.
UI_TIMEOUT = 30_000  # ms
KERNEL_TIMEOUT = 60_000  # ms


# ---- requirements ---------------------------------------------------------------------------


def browser_required() -> bool:
    return os.environ.get("SSOOIDC_REQUIRE_BROWSER", "").strip() not in ("", "0", "false")


def find_chromium() -> str | None:
    """``$SSOOIDC_CHROMIUM``, else Debian's ``/usr/bin/chromium``, else one on ``PATH``."""
    override = os.environ.get("SSOOIDC_CHROMIUM")
    if override:
        return override if os.access(override, os.X_OK) else None
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def missing_requirement() -> str | None:
    """Why the browser suite cannot run here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"the Python 'playwright' package is not installed ({exc})"
    if find_chromium() is None:
        return (
            "no Chromium found (looked for $SSOOIDC_CHROMIUM, "
            + ", ".join(CHROMIUM_CANDIDATES)
            + "); on Debian: apt-get install chromium"
        )
    return None


# ---- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_environ() -> dict[str, str]:
    """The test process's environment minus everything that could leak the machine's AWS
    or Jupyter setup into the server and its kernels."""
    drop = ("AWS_", "BOTO_", "SSOOIDC_", "JUPYTER", "IPYTHON", "PYTHONSTARTUP", "JPY_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def write_settings(settings_dir: Path, plugin: str, values: Mapping[str, Any]) -> None:
    """Write ``<settings_dir>/<package>/<plugin>.jupyterlab-settings`` (a JSON5 file)."""
    package, _, name = plugin.partition(":")
    path = settings_dir / package / f"{name}.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(values), indent=2), encoding="utf-8")


def stop_group(process: subprocess.Popen[Any], grace: float = 15) -> None:
    """SIGTERM ``process``'s group (started with ``start_new_session``), SIGKILL it if it is
    still there after ``grace`` seconds: a server that hangs on SIGTERM fails no test of
    its own here (tests/server/test_server_events.py has that), but must not outlive one."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@dataclass
class JupyterServer:
    """One ``python -m jupyter lab|notebook`` on 127.0.0.1 with a random token, a temporary
    HOME, root dir and Jupyter dirs, and kernels pointed at the emulator."""

    flavour: str  # "lab" or "notebook"
    base: Path
    emulator_url: str
    region: str
    port: int = 0
    token: str = ""
    process: subprocess.Popen[bytes] | None = None
    started_in: float = 0.0

    def __post_init__(self) -> None:
        self.token = self.token or secrets.token_hex(24)
        self.home = self.base / "home"
        self.root = self.base / "root"
        self.config_dir = self.base / "jupyter-config"
        self.data_dir = self.base / "jupyter-data"
        self.runtime_dir = self.base / "jupyter-runtime"
        self.settings_dir = self.config_dir / "lab" / "user-settings"
        self.log_path = self.base / "server.log"
        for path in (self.home, self.root, self.config_dir, self.data_dir, self.runtime_dir):
            path.mkdir(parents=True, exist_ok=True)

    # -- set-up ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def aws_config(self) -> Path:
        return self.home / ".aws" / "config"

    @property
    def sso_cache(self) -> Path:
        return self.home / ".aws" / "sso" / "cache"

    def env(self) -> dict[str, str]:
        env = _clean_environ()
        env.update(
            HOME=str(self.home),
            USERPROFILE=str(self.home),
            JUPYTER_CONFIG_DIR=str(self.config_dir),
            JUPYTER_DATA_DIR=str(self.data_dir),
            JUPYTER_RUNTIME_DIR=str(self.runtime_dir),
            JUPYTERLAB_SETTINGS_DIR=str(self.settings_dir),
            JUPYTERLAB_WORKSPACES_DIR=str(self.base / "workspaces"),
            JUPYTER_PLATFORM_DIRS="1",
            # The user dirs above before the environment's: the labextension of this tree
            # (install_extension), not a copy an (editable) install left in share/.
            JUPYTER_PREFER_ENV_PATH="0",
            IPYTHONDIR=str(self.home / ".ipython"),
            # Kernels inherit all of this: every AWS call goes to the emulator, never to AWS.
            AWS_ENDPOINT_URL=self.emulator_url,
            # What notebooks/quickstart.ipynb reads to point %ssooidc at the emulator.
            SSOOIDC_START_URL=f"{self.emulator_url}/start/",
            SSOOIDC_REGION=self.region,
            # The admin's default names the config's sso-session, so a kernel's bare
            # `%ssooidc login` and the status bar share one cache entry (docs/jupyterhub.md).
            SSOOIDC_SESSION_NAME="emulator",
            AWS_CONFIG_FILE=str(self.aws_config),
            AWS_SHARED_CREDENTIALS_FILE=str(self.home / ".aws" / "credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            AWS_REGION=self.region,
            AWS_DEFAULT_REGION=self.region,
            PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env

    def default_settings(self) -> None:
        """User settings that keep the UI quiet and deterministic (and offline)."""
        # No "get notified about Jupyter news?" toast, no news or update fetches.
        write_settings(
            self.settings_dir,
            "@jupyterlab/apputils-extension:notification",
            {"fetchNews": "false", "checkForUpdates": False},
        )
        # Every cell in the DOM (no virtual scrolling): locators see the whole notebook.
        write_settings(
            self.settings_dir,
            "@jupyterlab/notebook-extension:tracker",
            {"windowingMode": "none"},
        )
        # Save widget state into the .ipynb: the no-secret check then covers it too.
        write_settings(
            self.settings_dir,
            "@jupyter-widgets/jupyterlab-manager:plugin",
            {"saveState": True},
        )

    def install_extension(self) -> None:
        """Our server extension and prebuilt labextension, from this source tree, for this
        server only: what the wheel installs into an environment's etc/ and share/, here in
        the server's own Jupyter config and data dirs (an editable install has neither)."""
        config_d = self.config_dir / "jupyter_server_config.d"
        config_d.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "jupyter-config" / "server-config" / "ssooidc_jupyter.json", config_d)
        built = REPO / "ssooidc_jupyter" / "labextension"
        if (built / "package.json").is_file():
            target = self.data_dir / "labextensions" / "ssooidc-jupyter"
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.symlink_to(built, target_is_directory=True)

    def command(self) -> list[str]:
        args = [
            sys.executable,
            "-m",
            "jupyter",
            self.flavour,
            "--no-browser",
            "--ServerApp.open_browser=False",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.terminals_enabled=False",
            # CI runs as root (in a container); the server refuses that without the flag.
            "--allow-root" if hasattr(os, "geteuid") and os.geteuid() == 0 else "",
            "--ServerApp.log_level=INFO",
            # The device flow in the UI (a loopback server defaults to PKCE): the tests show
            # the code; PKCE is asked for explicitly where tested.
            "--SSOOIDC.flow=device",
        ]
        if self.flavour == "lab":
            args += [
                # Offline and quiet: no news feed, no update check, no PyPI extension manager.
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.extension_manager=readonly",
            ]
        return [arg for arg in args if arg]

    def start(self, timeout: float = 90.0) -> JupyterServer:
        self.default_settings()
        self.install_extension()
        began = time.monotonic()
        last_error: str = ""
        for _attempt in range(3):  # a free port can be taken between bind and listen
            self.port = free_port()
            log = self.log_path.open("ab")
            try:
                self.process = subprocess.Popen(
                    self.command(),
                    cwd=self.root,
                    env=self.env(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            finally:
                log.close()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    last_error = f"exited with {self.process.returncode}"
                    break
                if self._ready():
                    self.started_in = time.monotonic() - began
                    return self
                time.sleep(0.2)
            else:
                last_error = f"not ready after {timeout:.0f} s"
            self.stop()
        raise RuntimeError(
            f"jupyter {self.flavour} did not start ({last_error}). Log:\n{self.log_tail()}"
        )

    def _ready(self) -> bool:
        try:
            status = self.api("GET", "/api/status", timeout=2)
        except (OSError, urllib.error.URLError, ValueError):
            return False
        return isinstance(status, dict) and "started" in status

    # -- REST -----------------------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        """Call the server's REST API with the token (header, so no XSRF check)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
        return json.loads(payload) if payload else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel (and so every sign-in still polling) and forget the sessions."""
        try:
            for session in self.api("GET", "/api/sessions"):
                self.api("DELETE", f"/api/sessions/{session['id']}")
            for kernel in self.api("GET", "/api/kernels"):
                self.api("DELETE", f"/api/kernels/{kernel['id']}")
        except (OSError, urllib.error.URLError):
            pass

    def set_theme(self, theme: str) -> None:
        """Store JupyterLab's theme setting (takes effect on the next page load)."""
        plugin = "@jupyterlab/apputils-extension:themes"
        self.api("PUT", f"/lab/api/settings/{plugin}", {"raw": json.dumps({"theme": theme})})

    def page_url(self, path: str) -> str:
        """The URL that opens notebook ``path`` (relative to the root dir) in this frontend."""
        if self.flavour == "lab":
            # ?reset: a fresh workspace, no tabs restored from an earlier test.
            return f"{self.url}/lab/tree/{path}?reset&token={self.token}"
        return f"{self.url}/notebooks/{path}?token={self.token}"

    # -- tear-down ------------------------------------------------------------------------------

    def stop(self) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            self.shutdown_kernels()
        stop_group(process)
        self.process = None

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


# ---- notebooks ------------------------------------------------------------------------------

_EXECUTED = re.compile(r"\[\d+\]")
# Chrome that does not belong in a documentation picture of a cell.
_SNAP_CSS = """
.jp-cell-toolbar, .jp-Collapser { visibility: hidden !important; }
"""


class NotebookUI:
    """Drive one open notebook, the same way in JupyterLab and in Notebook 7."""

    def __init__(self, page: Page, server: JupyterServer) -> None:
        self.page = page
        self.server = server

    @property
    def flavour(self) -> str:
        return self.server.flavour

    # -- where things are -------------------------------------------------------------------------

    @property
    def notebook(self) -> Locator:
        # The visible notebook panel (JupyterLab keeps hidden tabs in the DOM).
        return self.page.locator(".jp-NotebookPanel:visible .jp-Notebook").first

    @property
    def cells(self) -> Locator:
        return self.notebook.locator(".jp-Cell")

    def cell(self, index: int) -> Locator:
        return self.cells.nth(index)

    @property
    def code_cells(self) -> Locator:
        return self.notebook.locator(".jp-CodeCell")

    def cell_with(self, text: str | re.Pattern[str]) -> Locator:
        """The first code cell whose *input* contains ``text`` (outputs and Markdown cells
        are not searched)."""
        return self.code_cells.filter(has=self.page.locator(".jp-InputArea", has_text=text)).first

    @property
    def kernel_status(self) -> Locator:
        return self.page.locator(".jp-Notebook-ExecutionIndicator:visible").first

    # -- actions ----------------------------------------------------------------------------------

    def open(self, path: str) -> NotebookUI:
        """Open notebook ``path`` and wait until its kernel is connected and idle."""
        from playwright.sync_api import expect

        self.path = path
        self.page.goto(self.server.page_url(path), wait_until="domcontentloaded")
        expect(self.cells.first).to_be_visible(timeout=KERNEL_TIMEOUT)
        self.wait_kernel_ready(path)
        return self

    def wait_kernel_ready(self, path: str, timeout: float = KERNEL_TIMEOUT) -> None:
        """The page's execution indicator says "idle" before any kernel exists, so first ask
        the server: a session for ``path`` whose kernel has a websocket connection."""
        deadline = time.monotonic() + timeout / 1000
        while True:
            sessions = self.server.api("GET", "/api/sessions")
            kernels = [s["kernel"] for s in sessions if s.get("path") == path and s.get("kernel")]
            if any(k.get("connections", 0) >= 1 for k in kernels):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"no kernel connected for {path}: {sessions}")
            time.sleep(0.2)
        self.wait_kernel_idle(max(1.0, deadline - time.monotonic()) * 1000)

    def wait_kernel_idle(self, timeout: float = KERNEL_TIMEOUT) -> None:
        from playwright.sync_api import expect

        expect(self.kernel_status).to_have_attribute("data-status", "idle", timeout=timeout)

    def run(self, cell: Locator, *, wait: bool = True, timeout: float = KERNEL_TIMEOUT) -> Locator:
        """Select ``cell``, press Shift+Enter; with ``wait``, until its execution count is new."""
        from playwright.sync_api import expect

        # Pin the cell by position: Shift+Enter on the last cell appends a new one, and a
        # locator such as ``.last`` would then follow it there.
        handle = cell.element_handle(timeout=UI_TIMEOUT)
        index = self.cells.evaluate_all("(cells, c) => cells.indexOf(c)", handle)
        if index < 0:
            raise AssertionError("the cell to run is not in the visible notebook")
        cell = self.cell(int(index))
        prompt = cell.locator(".jp-InputArea-prompt")
        before = prompt.inner_text().strip()
        cell.locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Shift+Enter")
        if wait:
            if _EXECUTED.search(before):  # run before: wait for "[*]" or a new number
                expect(prompt).not_to_have_text(before, timeout=timeout)
            expect(prompt).to_have_text(_EXECUTED, timeout=timeout)
        return cell

    def run_through(self, text: str | re.Pattern[str], **kwargs: Any) -> Locator:
        """Run the code cells from the top down to the first whose input contains ``text``
        (included), as a person would; return that cell."""
        count = self.code_cells.count()
        for n in range(count):
            cell = self.code_cells.nth(n)
            found = cell.locator(".jp-InputArea", has_text=text).count() > 0
            self.run(cell, **kwargs)
            if found:
                return cell
        raise AssertionError(f"no code cell contains {text!r}")

    def run_after(self, text: str | re.Pattern[str], **kwargs: Any) -> list[Locator]:
        """Run every code cell below the first whose input contains ``text``."""
        count = self.code_cells.count()
        ran: list[Locator] = []
        seen = False
        for n in range(count):
            cell = self.code_cells.nth(n)
            if seen:
                ran.append(self.run(cell, **kwargs))
            elif cell.locator(".jp-InputArea", has_text=text).count() > 0:
                seen = True
        if not seen:
            raise AssertionError(f"no code cell contains {text!r}")
        return ran

    def run_cell_with(self, text: str | re.Pattern[str], **kwargs: Any) -> Locator:
        return self.run(self.cell_with(text), **kwargs)

    def snap(self, target: Locator, path: Path) -> None:
        """A screenshot of ``target`` (a cell, say) for the docs: another cell made active,
        the mouse parked, and no cell toolbar or selection bar."""
        self.cell(0).click(position={"x": 1, "y": 1})
        self.page.keyboard.press("Escape")
        self.page.mouse.move(1, 1)  # over the page's top bar, outside any cell
        target.screenshot(path=str(path), animations="disabled", caret="hide", style=_SNAP_CSS)

    def save(self, timeout: float = UI_TIMEOUT) -> None:
        """Ctrl+S (in command mode), then wait until the server has written the file."""
        from playwright.sync_api import expect

        def modified() -> str:
            model = self.server.api("GET", f"/api/contents/{self.path}?content=0")
            return str(model["last_modified"])

        before = modified()
        self.cell(0).click(position={"x": 1, "y": 1})
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + timeout / 1000
        while modified() == before:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.path} was not saved")
            time.sleep(0.1)
        # JupyterLab marks an unsaved document's tab; Notebook 7 its title: both clear.
        expect(self.page.locator(".jp-mod-dirty:visible")).to_have_count(0, timeout=timeout)


# ---- the sign-in, as a person does it ---------------------------------------------------------


@dataclass
class Prompt:
    """What the sign-in cell shows while waiting: the code and the verification link."""

    code: str
    link: str


def plain_output(cell: Locator) -> Locator:
    """The sign-in's plain rich output (the prompt while pending, then one status line):
    the cell's output that is not the widget."""
    return (
        cell.locator(".jp-OutputArea-output")
        .filter(has=cell.page.locator(".ssooidc-prompt, .ssooidc-status"))
        .filter(has_not=cell.page.locator(".ssooidc-view"))
        .first
    )


def sign_in_view(cell: Locator) -> Locator:
    """The ``LoginView`` widget in ``cell``'s output."""
    return cell.locator(".ssooidc-view").first


def read_prompt(cell: Locator, timeout: float = UI_TIMEOUT) -> Prompt:
    """Wait for the prompt in ``cell``'s output (the widget's, where it renders: it hides
    the plain output of the same sign-in); return its code and link."""
    from playwright.sync_api import expect

    code = cell.locator(".ssooidc-prompt:visible .ssooidc-code").first
    link = cell.locator(".ssooidc-prompt:visible a.ssooidc-link").first
    expect(code).to_be_visible(timeout=timeout)
    expect(link).to_be_visible(timeout=timeout)
    return Prompt(code=code.inner_text().strip(), link=str(link.get_attribute("href")))


def decide_on_verification_page(
    page: Page, cell: Locator, prompt: Prompt, action: str = "approve"
) -> None:
    """Click the prompt's link (it opens a new tab: the emulator's verification page), check
    the code is prefilled, click Approve or Deny, and close the tab."""
    from playwright.sync_api import expect

    assert action in ("approve", "deny")
    link = cell.locator(".ssooidc-prompt:visible a.ssooidc-link").first
    assert link.get_attribute("target") == "_blank"
    with page.context.expect_page(timeout=UI_TIMEOUT) as opened:
        link.click()
    verification = opened.value
    try:
        verification.wait_for_load_state("domcontentloaded")
        assert verification.url == prompt.link, (verification.url, prompt.link)
        expect(verification.locator("#user_code")).to_have_value(prompt.code)
        verification.locator(f"#{action}").click()
        outcome = "approved" if action == "approve" else "denied"
        expect(verification.locator("#result")).to_have_attribute(
            "data-outcome", outcome, timeout=UI_TIMEOUT
        )
    finally:
        verification.close()


# The status item's first "signed in", clocked in the page. One definition for the browser
# test of the push (tests/browser/test_statusbar_push.py) and the benchmark that reports the
# same latency (benchmarks/statusbar.py): both watch the item this suite's selectors name.
_WATCH_SIGNED_IN = """() => {
  const item = document.querySelector('.ssooidc-status.ssooidc-statusbar');
  window.__ssooidcSignedInAt = null;
  const check = () => {
    if (window.__ssooidcSignedInAt === null && item.dataset.state === 'signed_in') {
      window.__ssooidcSignedInAt = Date.now();
    }
  };
  new MutationObserver(check).observe(item, { attributes: true, childList: true });
}"""


def watch_signed_in(page: Page) -> None:
    """From now on, record the wall-clock moment the status item first shows "signed in"."""
    page.evaluate(_WATCH_SIGNED_IN)


def signed_in_at(page: Page) -> float:
    """When (``time.time()`` seconds) the status item watched by :func:`watch_signed_in`
    first showed "signed in"."""
    return float(page.evaluate("window.__ssooidcSignedInAt")) / 1000
