"""The sign-in end to end in a real browser: Chromium drives JupyterLab (and Notebook 7),
the kernel signs in to the emulator, and the test plays the person who opens the link and
clicks Approve or Deny on the verification page. See docs/browser.md."""

from __future__ import annotations

import re
import time

import pytest
from _harness import (
    DARK,
    UI_TIMEOUT,
    decide_on_verification_page,
    plain_output,
    read_prompt,
    sign_in_view,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIGN_IN = "%ssooidc login"
INTERVAL = 1  # the emulator's polling interval (conftest)
SIGNED_IN_WITHIN = (INTERVAL + 2) * 1000  # ms, from the approval

# Appended to the test's copy of the quickstart: what the notebook sees once a role is
# picked in the widget's selector.
IDENTITY_CELL = (
    "# browser test: who am I?\n"
    'identity = session.client("sts").get_caller_identity()\n'
    'print("ACCOUNT", identity["Account"])\n'
    'print("ARN", identity["Arn"])'
)


def _expect():
    from playwright.sync_api import expect

    return expect


def _create_token_calls(emu) -> int:
    return sum(1 for r in emu.requests if r["operation"] == "CreateToken")


def _start_sign_in(bench, server, **kwargs):
    ui = bench.open(server, bench.quickstart(server, **kwargs))
    cell = ui.run_through(SIGN_IN)
    return ui, cell, read_prompt(cell)


# ---- 0. the set-up itself ---------------------------------------------------------------------


def test_widgets_render(bench, any_server):
    """ipywidgets' frontend extension is active: a plain Button renders as a button (and
    not as "Loading widget..." or a model error) in both frontends."""
    expect = _expect()
    probe = "import ipywidgets\nipywidgets.Button(description='probe-button')"
    ui = bench.open(any_server, bench.notebook(any_server, "widgets-probe.ipynb", [probe]))
    cell = ui.run(ui.code_cells.last)
    expect(cell.locator("button.jupyter-button", has_text="probe-button")).to_be_visible(
        timeout=UI_TIMEOUT
    )


# ---- 1. approve -------------------------------------------------------------------------------


def test_sign_in_approve(bench, any_server, emu, screenshot_dir):
    """Run the sign-in cell, open the link, approve: "Signed in" within interval + 2 s, and
    the next cells of the quickstart get the role's STS identity."""
    expect = _expect()
    ui, cell, prompt = _start_sign_in(bench, any_server)
    assert prompt.code in emu.user_codes
    assert prompt.link == f"{emu.url}/device?user_code={prompt.code}"
    view = sign_in_view(cell)
    expect(view).to_be_visible(timeout=UI_TIMEOUT)  # the widget renders next to the prompt
    expect(view.locator(".ssooidc-cancel")).to_be_visible()
    expect(view.locator(".ssooidc-countdown")).to_contain_text("Code expires in")
    # The expiry once: the live countdown, not also the plain output's time (issue 20).
    expect(cell.locator(".ssooidc-expiry")).to_be_hidden()
    expect(cell.locator("text=/xpires/ >> visible=true")).to_have_count(1)
    expect(view.locator("button.ssooidc-copy")).to_be_visible()
    lab = any_server.flavour == "lab"
    if lab:
        ui.snap(cell, screenshot_dir / "prompt-light.png")

    decide_on_verification_page(ui.page, cell, prompt, "approve")
    approved = time.monotonic()
    expect(plain_output(cell)).to_contain_text("Signed in to", timeout=SIGNED_IN_WITHIN)
    took = time.monotonic() - approved
    print(f"{any_server.flavour}: 'Signed in' {took:.2f} s after the approval")
    expect(cell.locator(".ssooidc-prompt")).to_have_count(0)  # the code is gone
    expect(view.locator(".ssooidc-account-select")).to_be_visible(timeout=UI_TIMEOUT)
    if lab:
        ui.snap(cell, screenshot_dir / "signed-in-light.png")

    # The quickstart's next cells use the sign-in: accounts, a session for the first
    # account's first role, and the caller identity of that role.
    identity = ui.run_through("get_caller_identity")
    account = emu.accounts[0]
    expect(identity).to_contain_text(f"Account: {account['accountId']}", timeout=UI_TIMEOUT)
    expect(identity).to_contain_text(
        re.compile(
            rf"arn:aws:sts::{account['accountId']}:assumed-role/"
            rf"AWSReservedSSO_{account['roles'][0]}_[0-9a-f]+/{emu.user_name}"
        )
    )
    listing = ui.cell_with("ssooidc_token.accounts()")
    for entry in emu.accounts:
        expect(listing).to_contain_text(entry["accountId"])
    expect(ui.run_cell_with("%ssooidc status")).to_contain_text("Signed in.")
    expect(ui.run_cell_with("%ssooidc logout")).to_contain_text("Signed out of")
    assert ui.notebook.locator(".jp-OutputArea-output", has_text="Traceback").count() == 0


# ---- 2. deny, then retry ----------------------------------------------------------------------


def test_deny_then_retry(bench, lab, emu, screenshot_dir):
    """Deny on the verification page: the output says so and offers a retry, which shows
    a new code; approving that one signs in."""
    expect = _expect()
    ui, cell, prompt = _start_sign_in(bench, lab)
    decide_on_verification_page(ui.page, cell, prompt, "deny")
    expect(plain_output(cell)).to_contain_text("Sign-in denied", timeout=SIGNED_IN_WITHIN)
    retry = sign_in_view(cell).locator(".ssooidc-retry")
    expect(retry).to_be_visible()
    expect(retry).to_be_enabled()
    ui.snap(cell, screenshot_dir / "denied-light.png")

    retry.click()
    again = read_prompt(cell)
    assert again.code != prompt.code
    assert again.code in emu.user_codes
    decide_on_verification_page(ui.page, cell, again, "approve")
    expect(plain_output(cell)).to_contain_text("Signed in to", timeout=SIGNED_IN_WITHIN)


# ---- 3. cancel --------------------------------------------------------------------------------


def test_cancel_stops_polling(bench, lab, emu):
    """Cancel: the status says so at once and nothing polls the emulator any more."""
    expect = _expect()
    _, cell, _ = _start_sign_in(bench, lab)
    # It is polling: a CreateToken (answered "pending") arrives within an interval or so.
    shown = _create_token_calls(emu)
    deadline = time.monotonic() + 5 * INTERVAL
    while _create_token_calls(emu) == shown:
        assert time.monotonic() < deadline, "the sign-in never polled for the token"
        time.sleep(0.05)
    sign_in_view(cell).locator(".ssooidc-cancel").click()
    expect(plain_output(cell)).to_contain_text("Sign-in cancelled", timeout=SIGNED_IN_WITHIN)
    expect(sign_in_view(cell).locator(".ssooidc-retry")).to_be_visible()
    before = _create_token_calls(emu)
    time.sleep(3 * INTERVAL)  # the observation window itself: three polling intervals
    assert _create_token_calls(emu) == before, "CreateToken still called after Cancel"


# ---- 4. copy button ---------------------------------------------------------------------------


def test_copy_button_puts_code_on_clipboard(bench, lab):
    expect = _expect()
    ui, cell, prompt = _start_sign_in(bench, lab)
    ui.page.evaluate("navigator.clipboard.writeText('nothing yet')")
    button = sign_in_view(cell).locator("button.ssooidc-copy")
    button.click()
    expect(button).to_contain_text("Copied")
    assert ui.page.evaluate("navigator.clipboard.readText()") == prompt.code


# ---- 5. account and role selector --------------------------------------------------------------


def test_account_and_role_selector_binds_a_session(bench, lab, emu):
    expect = _expect()
    ui, cell, prompt = _start_sign_in(bench, lab, append=[IDENTITY_CELL])
    decide_on_verification_page(ui.page, cell, prompt, "approve")
    view = sign_in_view(cell)
    accounts = view.locator(".ssooidc-account-select select")
    roles = view.locator(".ssooidc-role-select select")
    expect(accounts).to_be_visible(timeout=UI_TIMEOUT)

    expected = {a["accountId"]: a for a in emu.accounts}
    labels = [f"{a['accountName']} ({a['accountId']})" for a in expected.values()]
    expect(accounts.locator("option")).to_have_text(labels)
    target = emu.accounts[-1]
    accounts.select_option(label=f"{target['accountName']} ({target['accountId']})")
    expect(roles.locator("option")).to_have_text(target["roles"])
    role = target["roles"][-1]
    roles.select_option(label=role)
    view.locator(".ssooidc-use-role").click()
    expect(view.locator(".ssooidc-bound")).to_contain_text(
        f"Using role {role} in account {target['accountName']}", timeout=UI_TIMEOUT
    )

    out = ui.run(ui.cell_with("browser test: who am I?"))
    expect(out).to_contain_text(f"ACCOUNT {target['accountId']}")
    expect(out).to_contain_text(
        re.compile(rf"ARN arn:aws:sts::{target['accountId']}:assumed-role/AWSReservedSSO_{role}_")
    )

    # The quickstart's own cells, run after the pick, use it too (issue 20).
    for text in ("ssooidc_token.accounts()", "ssooidc_token.session("):
        ui.run_cell_with(text)
    identity = ui.run_cell_with("get_caller_identity")
    expect(identity).to_contain_text(f"Account: {target['accountId']}", timeout=UI_TIMEOUT)
    expect(identity).to_contain_text(f"AWSReservedSSO_{role}_")


# ---- 6. nothing secret in the page or the file --------------------------------------------------


def test_no_secret_in_dom_or_saved_notebook(bench, lab, emu):
    expect = _expect()
    ui, cell, prompt = _start_sign_in(bench, lab, append=[IDENTITY_CELL])
    decide_on_verification_page(ui.page, cell, prompt, "approve")
    view = sign_in_view(cell)
    expect(view.locator(".ssooidc-account-select select")).to_be_visible(timeout=UI_TIMEOUT)
    view.locator(".ssooidc-use-role").click()
    expect(view.locator(".ssooidc-bound")).to_contain_text("Using role", timeout=UI_TIMEOUT)
    ui.run(ui.cell_with("browser test: who am I?"))  # role credentials in the kernel too
    issued = emu.secrets
    assert issued, "the emulator issued no secret: nothing was checked"

    def leaked(text: str) -> list[str]:
        return sorted(s[:6] + "..." for s in issued if s in text)

    assert leaked(ui.page.content()) == [], "a secret is in the live page"
    ui.save()
    saved = (lab.root / ui.path).read_text(encoding="utf-8")
    assert "Signed in to" in saved  # the outputs were saved
    assert "application/vnd.jupyter.widget-state+json" in saved  # and the widget state
    assert leaked(saved) == [], "a secret is in the saved .ipynb"

    ui.page.reload()
    ui.wait_kernel_ready(ui.path)
    cell = ui.cell_with(SIGN_IN)
    expect(plain_output(cell)).to_contain_text("Signed in to", timeout=UI_TIMEOUT)
    expect(sign_in_view(cell).locator(".ssooidc-bound")).to_contain_text("Using role")
    assert leaked(ui.page.content()) == [], "a secret is in the reopened page"


# ---- pictures: the dark theme --------------------------------------------------------------


def test_dark_theme_pictures(bench, lab, dark_theme, screenshot_dir):
    """The prompt, the denial and the signed-in state in JupyterLab Dark."""
    expect = _expect()
    dark_theme()
    ui, cell, prompt = _start_sign_in(bench, lab)
    expect(ui.page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    assert ui.page.locator("body").get_attribute("data-jp-theme-name") == DARK
    expect(sign_in_view(cell).locator("button.ssooidc-copy")).to_be_visible(timeout=UI_TIMEOUT)
    ui.snap(cell, screenshot_dir / "prompt-dark.png")

    decide_on_verification_page(ui.page, cell, prompt, "deny")
    expect(plain_output(cell)).to_contain_text("Sign-in denied", timeout=SIGNED_IN_WITHIN)
    retry = sign_in_view(cell).locator(".ssooidc-retry")
    expect(retry).to_be_visible()
    ui.snap(cell, screenshot_dir / "denied-dark.png")

    retry.click()
    again = read_prompt(cell)
    decide_on_verification_page(ui.page, cell, again, "approve")
    expect(plain_output(cell)).to_contain_text("Signed in to", timeout=SIGNED_IN_WITHIN)
    expect(sign_in_view(cell).locator(".ssooidc-account-select")).to_be_visible(timeout=UI_TIMEOUT)
    ui.snap(cell, screenshot_dir / "signed-in-dark.png")
