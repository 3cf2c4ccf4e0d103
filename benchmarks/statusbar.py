"""The figures of issue 20 measured in Chromium on a real JupyterLab (tests/browser's
harness): how fast every open tab learns of a kernel's sign-in, how many requests an idle
tab makes to our routes, and Shift+Enter on ``%ssooidc login`` in a running kernel to the
code on screen, beside the same for a botocore-based flow in the same kernel.

Each figure is its own function; :func:`statusbar_figures` runs them on one server.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "browser"))

# From the Shift+Enter keydown to a new code, visible, matching ``selector`` (in-page clock).
_WATCH_CODE = """(selector) => {
  const bench = (window.__bench = window.__bench || { prev: new Set() });
  bench.start = null;
  bench.shown = null;
  bench.code = null;
  if (!bench.installed) {
    bench.installed = true;
    document.addEventListener('keydown', e => {
      if (e.key === 'Enter' && e.shiftKey && window.__bench.start === null) {
        window.__bench.start = performance.now();
      }
    }, { capture: true });
    new MutationObserver(() => {
      const b = window.__bench;
      if (b.start === null || b.shown !== null) return;
      for (const node of document.querySelectorAll(b.selector)) {
        const text = node.textContent.trim();
        if (text && node.offsetParent !== null && !b.prev.has(text)) {
          b.shown = performance.now();
          b.code = text;
          b.prev.add(text);
          return;
        }
      }
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  }
  bench.selector = selector;
}"""

MAGIC_CELL = "%load_ext ssooidc_jupyter\n%ssooidc login"
OUR_CODE = ".ssooidc-prompt .ssooidc-code"
BOTOCORE_CODE = ".bench-botocore-code"
# The AWS CLI's way in a warm kernel (boto3 already imported by an earlier cell): a client,
# the registration from the cache, StartDeviceAuthorization, the code shown.
BOTOCORE_SETUP = (
    "import boto3, glob, json, os\nfrom botocore import UNSIGNED\n"
    "from botocore.config import Config"
)
BOTOCORE_CELL = """
entries = [json.load(open(p)) for p in glob.glob(os.path.expanduser('~/.aws/sso/cache/*.json'))]
reg = next(e for e in entries if 'clientId' in e and 'accessToken' not in e)
client = boto3.session.Session().client('sso-oidc', region_name=os.environ['AWS_REGION'],
    endpoint_url=os.environ['AWS_ENDPOINT_URL'], config=Config(signature_version=UNSIGNED))
answer = client.start_device_authorization(clientId=reg['clientId'],
    clientSecret=reg['clientSecret'], startUrl=os.environ['SSOOIDC_START_URL'])
from IPython.display import HTML, display
display(HTML('<code class="bench-botocore-code">%s</code>' % answer['userCode']))
"""


@contextmanager
def _lab(emu: Any, root: Path) -> Iterator[tuple[Any, Any]]:
    """A JupyterLab server on the emulator and a headless Chromium context."""
    from _harness import CHROMIUM_ARGS, JupyterServer, find_chromium
    from playwright.sync_api import sync_playwright

    server = JupyterServer("lab", root / "lab", emu.url, emu.region)
    server.aws_config.parent.mkdir(parents=True, exist_ok=True)
    # As tests/browser/conftest.py's: the sso-session the harness's SSOOIDC_SESSION_NAME names.
    server.aws_config.write_text(
        f"[default]\nsso_session = emulator\nregion = {emu.region}\n\n"
        f"[sso-session emulator]\nsso_start_url = {emu.start_url}\n"
        f"sso_region = {emu.region}\nsso_registration_scopes = sso:account:access\n",
        encoding="utf-8",
    )
    server.start()
    manager = sync_playwright().start()
    try:
        context = manager.chromium.launch_persistent_context(
            str(root / "chromium"),
            executable_path=find_chromium(),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield server, context
        finally:
            context.close()
    finally:
        manager.stop()
        server.stop()


def _notebook(server: Any, name: str, cells: list[str]) -> str:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in cells]
    nbformat.write(notebook, server.root / name)
    return name


def _item(page: Any) -> Any:
    return page.locator(".ssooidc-status.ssooidc-statusbar")


def _signed_out(server: Any, pages: list[Any]) -> None:
    from playwright.sync_api import expect

    server.api("POST", "/ssooidc/api/logout", {"session_name": "emulator"})
    for page in pages:
        expect(_item(page)).to_have_text("AWS: sign in", timeout=30_000)


def _token_mtime(server: Any, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in server.sso_cache.glob("*.json"):
            if "accessToken" in path.read_text(errors="replace"):
                return path.stat().st_mtime
        time.sleep(0.005)
    raise RuntimeError("no token reached the cache")


def status_latency_ms(emu: Any, server: Any, context: Any, runs: int) -> dict[str, Any]:
    """A sign-in completed in a kernel → every open tab's status bar shows it: the time from
    the token reaching the cache to the last of two tabs showing it (median of ``runs``)."""
    from _harness import NotebookUI, read_prompt, signed_in_at, watch_signed_in
    from playwright.sync_api import expect

    ui = NotebookUI(context.new_page(), server).open(
        _notebook(server, "latency.ipynb", [MAGIC_CELL])
    )
    other = context.new_page()
    other.goto(f"{server.url}/lab?reset&token={server.token}")
    pages = [ui.page, other]
    samples: list[float] = []
    for _ in range(runs):
        for page in pages:
            expect(_item(page)).to_have_text("AWS: sign in", timeout=30_000)
            watch_signed_in(page)
        cell = ui.run(ui.cell(0), wait=False)
        emu.approve(read_prompt(cell).code)
        written = _token_mtime(server)
        for page in pages:
            expect(_item(page)).to_have_attribute("data-state", "signed_in", timeout=30_000)
        shown = max(signed_in_at(page) for page in pages)
        samples.append((shown - written) * 1000)
        ui.wait_kernel_idle()
        _signed_out(server, pages)
    for page in pages:
        page.close()
    return {"status_latency_ms": round(statistics.median(samples), 1)}


def idle_requests_per_min(server: Any, context: Any, seconds: float) -> dict[str, Any]:
    """Requests an idle JupyterLab tab makes to our routes, per minute, counted by the
    browser over ``seconds`` after the tab has settled."""
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(f"{server.url}/lab?reset&token={server.token}")
    expect(_item(page)).to_have_text("AWS: sign in", timeout=30_000)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if "/ssooidc/api/" in r.url else None)
    page.wait_for_timeout(seconds * 1000)
    page.close()
    return {"idle_requests_per_min": round(len(seen) * 60 / seconds, 2)}


def warm_kernel_time_to_code_ms(emu: Any, server: Any, context: Any, runs: int) -> dict[str, Any]:
    """Shift+Enter on ``%ssooidc login`` in a running kernel → the code on screen (in-page
    clock, keydown to the code's node), beside a botocore-based flow in the same kernel on
    the same cached registration. Medians of ``runs`` each, alternating."""
    from _harness import NotebookUI
    from bench_tools import interleaved  # benchmarks/bench_tools.py, beside this file
    from playwright.sync_api import expect

    ui = NotebookUI(context.new_page(), server).open(
        _notebook(server, "warm.ipynb", [MAGIC_CELL, BOTOCORE_SETUP, BOTOCORE_CELL])
    )
    page = ui.page

    def ours() -> float:
        page.evaluate(_WATCH_CODE, OUR_CODE)
        ui.run(ui.cell(0), wait=False)
        page.wait_for_function("window.__bench.shown !== null", timeout=30_000)
        bench = page.evaluate("window.__bench")
        emu.approve(bench["code"])
        ui.wait_kernel_idle()
        expect(page.locator(".ssooidc-prompt:visible")).to_have_count(0, timeout=30_000)
        _signed_out(server, [page])
        return float(bench["shown"] - bench["start"])

    def theirs() -> float:
        page.evaluate(_WATCH_CODE, BOTOCORE_CODE)
        ui.run(ui.cell(2), wait=False)
        page.wait_for_function("window.__bench.shown !== null", timeout=30_000)
        bench = page.evaluate("window.__bench")
        ui.wait_kernel_idle()
        return float(bench["shown"] - bench["start"])

    ours()  # warm-up: loads the extension, caches the registration
    ui.run(ui.cell(1))
    theirs()
    a, b = interleaved(runs, ours, theirs, warm_up=False)
    page.close()
    return {
        "warm_kernel_time_to_code_ms": round(statistics.median(a), 1),
        "botocore_warm_kernel_time_to_code_ms": round(statistics.median(b), 1),
    }


def statusbar_figures(root: Path, *, quick: bool) -> dict[str, Any]:
    """The three browser figures on one JupyterLab; {} with the reason printed when Chromium
    or playwright is missing."""
    from _harness import missing_requirement

    from ssooidc_jupyter.emulator import Emulator

    reason = missing_requirement()
    if reason is not None:
        print(f"browser figures skipped: {reason}")
        return {}
    figures: dict[str, Any] = {}
    with Emulator(interval=0.2, auto_approve=None) as emu, _lab(emu, root) as (server, context):
        figures.update(status_latency_ms(emu, server, context, 3 if quick else 7))
        figures.update(idle_requests_per_min(server, context, 10.0 if quick else 60.0))
        figures.update(warm_kernel_time_to_code_ms(emu, server, context, 3 if quick else 9))
    return figures
