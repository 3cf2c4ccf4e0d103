"""The PKCE dialog (what a local Jupyter and ``make demo`` show: no code, a button to the
AWS sign-in page), light and dark: its link looks like JupyterLab's own dialog buttons (as
tall, as wide as its label), not a full-width bar. Screenshots for the README and
docs/jupyter-extension.md (``SSOOIDC_SCREENSHOTS=1``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _harness import DARK, LIGHT, UI_TIMEOUT, JupyterServer

from ssooidc_jupyter.emulator import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class _LocalServer(JupyterServer):
    """The harness's server without its --SSOOIDC.flow=device: a loopback server's default,
    PKCE, as on a laptop and in make demo."""

    def command(self) -> list[str]:
        return [arg for arg in super().command() if arg != "--SSOOIDC.flow=device"]


@pytest.fixture(scope="module")
def local(
    chromium_path: str, emu: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JupyterServer]:
    server = _LocalServer("lab", tmp_path_factory.mktemp("local"), emu.url, emu.region)
    server.aws_config.parent.mkdir(parents=True, exist_ok=True)
    server.aws_config.write_text(
        f"[sso-session emulator]\nsso_start_url = {emu.start_url}\nsso_region = {emu.region}\n"
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_pkce_dialog_has_a_button_like_jupyterlabs(
    bench: Any, local: JupyterServer, screenshot_dir: Any, theme: str
) -> None:
    from playwright.sync_api import expect

    local.set_theme(DARK if theme == "dark" else LIGHT)
    ui = bench.open(local, bench.notebook(local, f"pkce-dialog-{theme}.ipynb", ["1 + 1"]))
    page = ui.page
    page.locator(".ssooidc-status.ssooidc-statusbar").click()
    page.locator(".jp-Dialog .ssooidc-choice-button[data-name='emulator']").click()
    dialog = page.locator(".jp-Dialog .ssooidc-code-dialog[data-flow='pkce']")
    expect(dialog).to_be_visible(timeout=UI_TIMEOUT)
    expect(dialog.locator(".ssooidc-code")).to_have_count(0)
    link = dialog.locator("a.ssooidc-link-button")
    expect(link).to_have_text("Open the AWS sign-in page")
    expect(page.locator(".jp-Dialog .ssooidc-countdown")).to_contain_text("Sign-in expires in")
    page.locator(".jp-Dialog-content").screenshot(
        path=str(screenshot_dir / f"statusbar-dialog-pkce-{theme}.png")
    )
    box = link.bounding_box()
    content = dialog.bounding_box()
    cancel = page.locator(".jp-Dialog .jp-Dialog-button", has_text="Cancel").bounding_box()
    assert box and content and cancel
    assert box["width"] < content["width"] * 0.6, (box, content)  # not a full-width bar
    assert abs(box["height"] - cancel["height"]) <= 4, (box, cancel)
    colours = link.evaluate(
        "n => [getComputedStyle(n).backgroundColor,"
        " getComputedStyle(document.body).getPropertyValue('--jp-brand-color1').trim()]"
    )
    assert colours[0] != "rgba(0, 0, 0, 0)"  # a filled button, from the theme's colours
    page.locator(".jp-Dialog .jp-Dialog-button", has_text="Cancel").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0, timeout=UI_TIMEOUT)
