"""Fixtures of the browser suite: one emulator, one JupyterLab and one Notebook 7 server and
one Chromium per test module; a fresh notebook copy, page and sign-in cache per test.

Module scope, not session scope: playwright's sync API leaves its asyncio loop set as the
thread's running loop while it is started, which breaks every pytest-asyncio test that runs
after it. Tearing it down with the module keeps the rest of the suite unaffected (and frees
the servers).

Without Chromium or the ``playwright`` package every test here is skipped with the reason;
with ``SSOOIDC_REQUIRE_BROWSER=1`` (CI) that is a failure instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import nbformat
import pytest
from _harness import (
    CHROMIUM_ARGS,
    DARK,
    LIGHT,
    NOTEBOOKS,
    SCREENSHOTS,
    JupyterServer,
    NotebookUI,
    browser_required,
    find_chromium,
    missing_requirement,
)

from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture

HERE = Path(__file__).resolve().parent
VIEWPORT = {"width": 1400, "height": 1000}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if HERE in item.path.resolve().parents]
    for item in ours:
        item.add_marker(pytest.mark.browser)
        item.add_marker(pytest.mark.slow)
    reason = missing_requirement()
    if reason is not None and not browser_required():
        skip = pytest.mark.skip(reason=f"browser tests need Chromium and playwright: {reason}")
        for item in ours:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Keep each phase's report on the item: fixtures save a picture of a failure.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    return any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )


# ---- processes shared by the tests of a module ----------------------------------------------


@pytest.fixture(scope="module")
def chromium_path() -> str:
    reason = missing_requirement()
    if reason is not None:
        # Only reached with SSOOIDC_REQUIRE_BROWSER set (else collection skipped us).
        pytest.fail(f"SSOOIDC_REQUIRE_BROWSER is set but {reason}", pytrace=False)
    path = find_chromium()
    assert path is not None
    return path


#: The IAM Identity Center every kernel of both servers talks to. Nobody approves but the
#: test, on the verification page; clients poll every second.
# pytest-jupyter's autouse fixtures: the server tests register the plugin (`pytest_plugins` in
# a test module), which pytest then applies to every later test of that worker. In a browser
# test they would close, and clean a ServerApp up on, the event loop Playwright's sync API is
# running ("Cannot close a running event loop"). Whether a browser test came after a server
# test depended on the order of the files: these shadow them here, whatever the order.
@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """No pytest-jupyter loop in a browser test (Playwright runs its own)."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No pytest-jupyter ServerApp to clean up in a browser test (its servers are processes)."""


emu = emulator_fixture(scope="module", interval=1, auto_approve=None)


def _aws_config(emulator: Emulator) -> str:
    # The default profile names the emulator's portal: `%ssooidc login` with no option
    # signs in there, as it would with a real [sso-session] in ~/.aws/config.
    return (
        "[default]\n"
        "sso_session = emulator\n"
        f"region = {emulator.region}\n"
        "\n"
        "[sso-session emulator]\n"
        f"sso_start_url = {emulator.start_url}\n"
        f"sso_region = {emulator.region}\n"
        "sso_registration_scopes = sso:account:access\n"
    )


def _start_server(
    flavour: str, emulator: Emulator, factory: pytest.TempPathFactory
) -> Iterator[JupyterServer]:
    server = JupyterServer(flavour, factory.mktemp(flavour), emulator.url, emulator.region)
    server.aws_config.parent.mkdir(parents=True, exist_ok=True)
    server.aws_config.write_text(_aws_config(emulator), encoding="utf-8")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def lab_server(
    chromium_path: str, emu: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JupyterServer]:
    yield from _start_server("lab", emu, tmp_path_factory)


@pytest.fixture(scope="module")
def notebook_server(
    chromium_path: str, emu: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JupyterServer]:
    yield from _start_server("notebook", emu, tmp_path_factory)


@pytest.fixture(scope="module")
def browser_context(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's Chromium, headless, with a fresh profile directory of its own."""
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    try:
        context = manager.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=chromium_path,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=VIEWPORT,
            locale="en-US",
            timezone_id="UTC",
            color_scheme="light",
        )
        try:
            yield context
        finally:
            context.close()
    finally:
        manager.stop()


# ---- per test ---------------------------------------------------------------------------------


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """``docs/screenshots`` with ``SSOOIDC_SCREENSHOTS=1``, else a temporary directory (a
    plain test run leaves the repository alone)."""
    if os.environ.get("SSOOIDC_SCREENSHOTS", "").strip() not in ("", "0", "false"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    path = tmp_path / "screenshots"
    path.mkdir()
    return path


class Workbench:
    """What a test gets: open notebooks in a server, with clean-up after the test."""

    def __init__(self, context: Any, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self.context = context
        self.request = request
        self.tmp_path = tmp_path
        self.pages: list[Any] = []
        self.servers: list[JupyterServer] = []

    def _name(self, name: str | None) -> str:
        name = name or f"{self.request.node.name}.ipynb"
        for char in "[]/ ":
            name = name.replace(char, "-")
        return name

    def quickstart(
        self, server: JupyterServer, name: str | None = None, append: Sequence[str] = ()
    ) -> str:
        """A copy of ``notebooks/quickstart.ipynb`` without outputs in ``server``'s root dir
        (plus the code cells ``append``); returns the path to open."""
        source = NOTEBOOKS / "quickstart.ipynb"
        if not source.exists():
            pytest.fail(f"{source} is missing", pytrace=False)
        name = self._name(name)
        notebook = nbformat.read(source, as_version=4)
        for cell in notebook.cells:  # as if never run: every output the test sees is new
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        notebook.metadata.pop("widgets", None)
        notebook.cells.extend(nbformat.v4.new_code_cell(code) for code in append)
        nbformat.write(notebook, server.root / name)
        return name

    def notebook(self, server: JupyterServer, name: str, cells: Sequence[str]) -> str:
        """A new notebook of code cells ``cells`` in ``server``'s root dir."""
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        notebook.cells = [nbformat.v4.new_code_cell(code) for code in cells]
        name = self._name(name)
        nbformat.write(notebook, server.root / name)
        return name

    def open(self, server: JupyterServer, path: str) -> NotebookUI:
        """A new tab on ``path``, its kernel connected and idle."""
        if server not in self.servers:
            self.servers.append(server)
            # Fresh per test: no token cached by an earlier test's sign-in.
            shutil.rmtree(server.sso_cache, ignore_errors=True)
        self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        page = self.context.new_page()
        self.pages.append(page)
        return NotebookUI(page, server).open(path)

    def close(self) -> None:
        if _failed(self.request):
            for n, page in enumerate(self.pages):
                if page.is_closed():
                    continue
                target = self.tmp_path / f"failure-{n}.png"
                try:
                    page.screenshot(path=str(target), full_page=True)
                    print(f"screenshot of the failing page: {target}")
                except Exception as exc:  # a crashed page: say so, keep cleaning up
                    print(f"no screenshot of page {n}: {exc}")
            for server in self.servers:
                print(f"--- jupyter {server.flavour} log (tail) ---\n{server.log_tail()}")
        for page in self.context.pages:
            if not page.is_closed():
                page.close()
        for server in self.servers:
            # Stop every kernel: no sign-in of this test keeps polling into the next one.
            server.shutdown_kernels()
        self.context.clear_permissions()


@pytest.fixture
def bench(
    browser_context: Any, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Workbench]:
    workbench = Workbench(browser_context, request, tmp_path)
    try:
        yield workbench
    finally:
        workbench.close()


@pytest.fixture(params=["lab", "notebook"], ids=["jupyterlab", "notebook7"])
def any_server(request: pytest.FixtureRequest) -> JupyterServer:
    """Each test using it runs twice: in JupyterLab and in Notebook 7."""
    name = "lab_server" if request.param == "lab" else "notebook_server"
    server: JupyterServer = request.getfixturevalue(name)
    return server


@pytest.fixture
def lab(lab_server: JupyterServer) -> JupyterServer:
    return lab_server


@pytest.fixture
def dark_theme(lab_server: JupyterServer) -> Iterator[Callable[[], None]]:
    """Switch JupyterLab to its dark theme (the stored setting, applied at page load); back
    to light after the test."""
    try:
        yield lambda: lab_server.set_theme(DARK)
    finally:
        lab_server.set_theme(LIGHT)
