"""The JupyterLab extension end to end: the status-bar item, the sign-in dialog, the
verification page of the emulator, the shared cache a kernel then uses, and sign-out from the
command palette. Screenshots of the item and the dialog, light and dark."""

from __future__ import annotations

import re
import time

import pytest
from _harness import DARK, UI_TIMEOUT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INTERVAL = 1  # the emulator's polling interval (conftest)
SIGNED_IN_WITHIN = (INTERVAL + 2) * 1000  # ms, from the approval
SIGNED_IN = re.compile(r"^AWS: signed in to emulator until \d\d:\d\d$")
SIGN_IN_OPERATIONS = ("RegisterClient", "StartDeviceAuthorization", "CreateToken")
MAGIC_CELL = "%load_ext ssooidc_jupyter\n%ssooidc login"


def _expect():
    from playwright.sync_api import expect

    return expect


def _item(page):
    return page.locator(".ssooidc-status.ssooidc-statusbar")


def _snap_bar(page, path) -> None:
    page.locator("#jp-main-statusbar").screenshot(path=str(path))


def _open_dialog(page):
    """Click the status-bar item, choose the emulator's sso-session: the code dialog."""
    expect = _expect()
    _item(page).click()
    choice = page.locator(".jp-Dialog .ssooidc-choice-button[data-name='emulator']")
    expect(choice).to_be_visible(timeout=UI_TIMEOUT)
    return choice


def _approve(page, emu) -> str:
    """Follow the dialog's link to the emulator's verification page, approve there."""
    expect = _expect()
    dialog = page.locator(".jp-Dialog .ssooidc-code-dialog")
    code = dialog.locator(".ssooidc-code")
    expect(code).to_have_text(re.compile(r"\w{4}-\w{4}"), timeout=UI_TIMEOUT)
    user_code = code.inner_text().strip()
    assert user_code in emu.user_codes
    link = dialog.locator("a.ssooidc-link")
    assert link.get_attribute("target") == "_blank"
    assert str(link.get_attribute("href")).startswith(emu.url)
    with page.context.expect_page(timeout=UI_TIMEOUT) as opened:
        link.click()
    verification = opened.value
    try:
        verification.wait_for_load_state("domcontentloaded")
        expect(verification.locator("#user_code")).to_have_value(user_code)
        verification.locator("#approve").click()
        expect(verification.locator("#result")).to_have_attribute(
            "data-outcome", "approved", timeout=UI_TIMEOUT
        )
    finally:
        verification.close()
    return user_code


def _palette(page, label: str) -> None:
    expect = _expect()
    page.keyboard.press("Control+Shift+C")
    search = page.locator(".lm-CommandPalette-input")
    expect(search).to_be_visible(timeout=UI_TIMEOUT)
    search.fill(label)
    item = page.locator(".lm-CommandPalette-item", has_text=label).first
    expect(item).to_be_visible(timeout=UI_TIMEOUT)
    item.click()


def test_status_bar_sign_in_kernel_reuse_and_palette_sign_out(bench, lab, emu, screenshot_dir):
    expect = _expect()
    ui = bench.open(lab, bench.notebook(lab, "statusbar.ipynb", [MAGIC_CELL]))
    page = ui.page
    item = _item(page)
    expect(item).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
    _snap_bar(page, screenshot_dir / "statusbar-signed-out-light.png")

    choice = _open_dialog(page)
    page.locator(".jp-Dialog-content").screenshot(
        path=str(screenshot_dir / "statusbar-choose-light.png")
    )
    choice.click()
    countdown = page.locator(".jp-Dialog .ssooidc-countdown")
    expect(countdown).to_have_text(re.compile(r"Code expires in \d+:\d\d"), timeout=UI_TIMEOUT)
    page.locator(".jp-Dialog-content").screenshot(
        path=str(screenshot_dir / "statusbar-dialog-light.png")
    )
    _approve(page, emu)
    approved = time.monotonic()
    expect(item).to_have_text(SIGNED_IN, timeout=SIGNED_IN_WITHIN)
    assert time.monotonic() - approved <= INTERVAL + 2
    expect(page.locator(".jp-Dialog .ssooidc-code-dialog")).to_have_count(0)
    assert item.get_attribute("data-state") == "signed_in"
    assert lab.sso_cache.is_dir() and any(lab.sso_cache.glob("*.json"))
    _snap_bar(page, screenshot_dir / "statusbar-signed-in-light.png")

    # The kernel finds the server's token in the shared cache: zero sign-in requests (what
    # follows a sign-in, the portal's account list for the role picker, is not one).
    before = len(emu.requests)
    cell = ui.run(ui.cell(0))
    # The widget shows the outcome; the plain output beside it is hidden where it renders.
    shown = cell.locator(".jp-OutputArea-output:visible", has_text="Signed in").first
    expect(shown).to_be_visible(timeout=UI_TIMEOUT)
    made = [r["operation"] for r in emu.requests[before:]]
    assert not set(made) & set(SIGN_IN_OPERATIONS), made

    # Sign out from the command palette: the portal Logout, the cache entry gone.
    _palette(page, "Sign out of AWS")
    expect(item).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
    assert "Logout" in [r["operation"] for r in emu.requests[before:]]
    assert not list(lab.sso_cache.glob("*.json")) or all(
        "accessToken" not in path.read_text() for path in lab.sso_cache.glob("*.json")
    )


def test_status_bar_cancel_and_dark_theme(bench, lab, emu, dark_theme, screenshot_dir):
    expect = _expect()
    dark_theme()
    ui = bench.open(lab, bench.notebook(lab, "statusbar-dark.ipynb", ["1 + 1"]))
    page = ui.page
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    item = _item(page)
    expect(item).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
    _snap_bar(page, screenshot_dir / "statusbar-signed-out-dark.png")

    # Keyboard: focus the item, Enter opens the chooser.
    item.focus()
    page.keyboard.press("Enter")
    choice = page.locator(".jp-Dialog .ssooidc-choice-button[data-name='emulator']")
    expect(choice).to_be_visible(timeout=UI_TIMEOUT)
    page.locator(".jp-Dialog-content").screenshot(
        path=str(screenshot_dir / "statusbar-choose-dark.png")
    )
    choice.click()
    expect(page.locator(".jp-Dialog .ssooidc-code")).to_be_visible(timeout=UI_TIMEOUT)
    page.locator(".jp-Dialog-content").screenshot(
        path=str(screenshot_dir / "statusbar-dialog-dark.png")
    )
    pending = lab.api("GET", "/ssooidc/api/status")["pending"]
    assert len(pending) == 1

    # Cancel stops the sign-in in the server.
    page.locator(".jp-Dialog .jp-Dialog-button", has_text="Cancel").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0, timeout=UI_TIMEOUT)
    login = lab.api("GET", f"/ssooidc/api/login/{pending[0]['id']}")
    assert login["state"] == "cancelled"
    expect(item).to_have_text("AWS: sign in")

    # Signed in elsewhere (a kernel, a terminal): the item follows on its own.
    started = lab.api("POST", "/ssooidc/api/login", {"session_name": "emulator"})
    emu.approve(started["user_code"])
    expect(item).to_have_text(SIGNED_IN, timeout=5000 + SIGNED_IN_WITHIN)
    _snap_bar(page, screenshot_dir / "statusbar-signed-in-dark.png")
    assert page.locator("body").get_attribute("data-jp-theme-name") == DARK
    lab.api("POST", "/ssooidc/api/logout", {"session_name": "emulator"})
    expect(item).to_have_text("AWS: sign in", timeout=5000 + SIGNED_IN_WITHIN)


def test_notebook7_shows_the_item_and_signs_in(bench, notebook_server, emu):
    """Notebook 7 has no status bar: the item sits in its top bar and works the same."""
    expect = _expect()
    server = notebook_server
    ui = bench.open(server, bench.notebook(server, "statusbar-nb7.ipynb", ["1 + 1"]))
    page = ui.page
    item = _item(page)
    expect(item).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
    expect(item).to_be_visible()
    _open_dialog(page).click()
    _approve(page, emu)
    expect(item).to_have_text(SIGNED_IN, timeout=SIGNED_IN_WITHIN)
    _palette(page, "Sign out of AWS")
    expect(item).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)


def test_pkce_through_the_authorize_page_and_the_jupyter_callback(bench, lab, emu):
    """PKCE end to end: the emulator's /authorize consent page in the browser, back to the
    Jupyter server's /ssooidc/oauth/callback (with the browser's Jupyter cookie), the page
    closes itself, the status bar turns to signed in."""
    expect = _expect()
    ui = bench.open(lab, bench.notebook(lab, "statusbar-pkce.ipynb", ["1 + 1"]))
    page = ui.page
    item = _item(page)
    expect(item).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
    started = lab.api("POST", "/ssooidc/api/login", {"session_name": "emulator", "flow": "pkce"})
    assert started["flow"] == "pkce" and started["user_code"] is None
    consent = page.context.new_page()
    try:
        consent.goto(started["verification_uri_complete"])
        consent.locator("#approve").click()
        consent.wait_for_url(re.compile(r"/ssooidc/oauth/callback\?"), timeout=UI_TIMEOUT)
        expect(consent.locator("#ssooidc-callback")).to_have_attribute("data-outcome", "accepted")
    finally:
        if not consent.is_closed():
            consent.close()
    expect(item).to_have_text(SIGNED_IN, timeout=5000 + SIGNED_IN_WITHIN)
    login = lab.api("GET", f"/ssooidc/api/login/{started['id']}")
    assert login["state"] == "signed_in"
    assert "Authorize" in [r["operation"] for r in emu.requests]
    _palette(page, "Sign out of AWS")
    expect(item).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
