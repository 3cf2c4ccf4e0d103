"""The PKCE dialog (what a local Jupyter and ``make demo`` show: no code, a button to the
AWS sign-in page), light and dark: its link looks like JupyterLab's own dialog buttons (as
tall, as wide as its label), not a full-width bar. Screenshots for the README and
docs/jupyter-extension.md (``SSOOIDC_SCREENSHOTS=1``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from _harness import UI_TIMEOUT, JupyterServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _as_pkce(route: Any) -> None:
    """The harness's server defaults to the device flow; ask this sign-in for PKCE, as a
    loopback server without that option does."""
    body = json.loads(route.request.post_data or "{}")
    route.continue_(post_data=json.dumps({**body, "flow": "pkce"}))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_pkce_dialog_has_a_button_like_jupyterlabs(
    bench: Any, lab: JupyterServer, dark_theme: Any, screenshot_dir: Any, theme: str
) -> None:
    from playwright.sync_api import expect

    if theme == "dark":
        dark_theme()
    ui = bench.open(lab, bench.notebook(lab, f"pkce-dialog-{theme}.ipynb", ["1 + 1"]))
    page = ui.page
    page.route("**/ssooidc/api/login", _as_pkce)
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
