"""The status bar follows every change at once and asks nothing when idle; failures are
shown, not filed away. Each test runs in JupyterLab and in Notebook 7 (``any_server``).

- A sign-in completed in a kernel reaches every open tab (two here) within half a second of
  the token reaching the cache: pushed on jupyter_server's event bus, no poll.
- An idle tab makes no request to our routes.
- A denied sign-in, a failing endpoint and a failed portal sign-out are shown whole (a
  dialog with Try again, or a notification that stays), and the callback page after Deny
  says it was denied.
- A broken config entry says, in the dialog, what is wrong with it and how to fix it.
- A kernel's sign-in waiting for approval shows in another tab's dialog (who, when, the code
  and the link), whose Cancel ends it.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from _harness import UI_TIMEOUT, JupyterServer, read_prompt, signed_in_at, watch_signed_in

from ssooidc_jupyter.emulator import Emulator

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIGNED_IN = re.compile(r"^AWS: signed in to emulator until \d\d:\d\d$")
MAGIC_CELL = "%load_ext ssooidc_jupyter\n%ssooidc login"
# The goal of issue 20 is 500 ms; the test leaves room for a loaded 2-core CI machine.
PUSH_WITHIN_MS = 1500


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _item(page: Any) -> Any:
    return page.locator(".ssooidc-status.ssooidc-statusbar")


def _our_requests(page: Any) -> list[str]:
    """Every request the page makes to our REST routes, from now on."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if "/ssooidc/api/" in r.url else None)
    return seen


def _second_tab(bench: Any, server: JupyterServer) -> Any:
    """Another tab on the server (its tree/launcher page: no kernel)."""
    page = bench.context.new_page()
    bench.pages.append(page)
    where = "tree" if server.flavour == "notebook" else "lab?reset"
    sep = "&" if "?" in where else "?"
    page.goto(f"{server.url}/{where}{sep}token={server.token}")
    _expect()(_item(page)).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
    return page


def _token_written_at(server: JupyterServer, timeout: float = 30.0) -> float:
    """The wall-clock time the kernel's token reached the cache (its file's mtime)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in server.sso_cache.glob("*.json"):
            text = path.read_text(errors="replace")
            if "accessToken" in text:
                return path.stat().st_mtime
        time.sleep(0.01)
    raise AssertionError("no token reached the cache")


def test_a_kernel_sign_in_reaches_every_tab_at_once(
    bench: Any, any_server: JupyterServer, emu: Emulator
) -> None:
    expect = _expect()
    ui = bench.open(any_server, bench.notebook(any_server, "push.ipynb", [MAGIC_CELL]))
    other = _second_tab(bench, any_server)
    pages = [ui.page, other]
    for page in pages:
        expect(_item(page)).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
        watch_signed_in(page)
    cell = ui.run(ui.cell(0), wait=False)
    prompt = read_prompt(cell)
    emu.approve(prompt.code)
    written = _token_written_at(any_server)
    for page in pages:
        expect(_item(page)).to_have_text(SIGNED_IN, timeout=UI_TIMEOUT)
    latencies = [signed_in_at(page) - written for page in pages]
    print(f"\nkernel sign-in -> every tab: {max(latencies) * 1000:.0f} ms")
    assert max(latencies) * 1000 <= PUSH_WITHIN_MS, latencies
    any_server.api("POST", "/ssooidc/api/logout", {"session_name": "emulator"})
    for page in pages:
        expect(_item(page)).to_have_text("AWS: sign in", timeout=PUSH_WITHIN_MS)


def test_an_idle_tab_asks_our_routes_nothing(bench: Any, any_server: JupyterServer) -> None:
    expect = _expect()
    page = _second_tab(bench, any_server)
    status = any_server.api("GET", "/ssooidc/api/status")
    assert status["events"] is True
    seen = _our_requests(page)
    # Longer than the old 5-second poll, twice over.
    page.wait_for_timeout(11_000)
    assert seen == [], seen
    assert _item(page).get_attribute("data-reads") == "1"
    expect(_item(page)).to_have_text("AWS: sign in")


def _choose(page: Any, name: str = "emulator") -> None:
    _item(page).click()
    choice = page.locator(f".jp-Dialog .ssooidc-choice-button[data-name='{name}']")
    _expect()(choice).to_be_visible(timeout=UI_TIMEOUT)
    choice.click()


def test_a_denied_or_failed_sign_in_is_shown_whole_with_try_again(
    bench: Any, any_server: JupyterServer, emu: Emulator
) -> None:
    expect = _expect()
    page = _second_tab(bench, any_server)
    _choose(page)
    code = page.locator(".jp-Dialog .ssooidc-code")
    expect(code).to_be_visible(timeout=UI_TIMEOUT)
    emu.deny(code.inner_text().strip())
    failure = page.locator(".jp-Dialog .ssooidc-failure")
    expect(failure).to_be_visible(timeout=UI_TIMEOUT)
    expect(page.locator(".jp-Dialog-header")).to_contain_text("denied")
    assert len(failure.inner_text()) > 20  # the whole message, not a cut toast
    # Try again: a new code dialog.
    page.locator(".jp-Dialog .jp-Dialog-button", has_text="Try again").click()
    expect(page.locator(".jp-Dialog .ssooidc-code")).to_be_visible(timeout=UI_TIMEOUT)
    page.locator(".jp-Dialog .jp-Dialog-button", has_text="Cancel").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0, timeout=UI_TIMEOUT)

    # The endpoint fails: the server's message, whole, in the dialog.
    emu.inject("StartDeviceAuthorization", "http_500", times=10)
    try:
        _choose(page)
        failure = page.locator(".jp-Dialog .ssooidc-failure")
        expect(failure).to_be_visible(timeout=UI_TIMEOUT * 2)
        expect(page.locator(".jp-Dialog-header")).to_contain_text("failed")
        expect(page.locator(".jp-Dialog .jp-Dialog-button", has_text="Try again")).to_be_visible()
        page.locator(".jp-Dialog .jp-Dialog-button", has_text="Close").click()
    finally:
        emu._faults.clear()  # what the retries did not use: not for the next test


def test_sign_out_is_in_the_item_dialog_and_a_failed_portal_logout_stays_on_screen(
    bench: Any, any_server: JupyterServer, emu: Emulator
) -> None:
    expect = _expect()
    page = _second_tab(bench, any_server)
    started = any_server.api("POST", "/ssooidc/api/login", {"session_name": "emulator"})
    emu.approve(started["user_code"])
    expect(_item(page)).to_have_text(SIGNED_IN, timeout=UI_TIMEOUT)
    emu.inject("Logout", "http_500", times=10)
    try:
        _item(page).click()
        entry = page.locator(".jp-Dialog .ssooidc-choice[data-name='emulator']")
        expect(entry.locator(".ssooidc-choice-login")).to_have_text("Sign in again")
        entry.locator(".ssooidc-choice-logout").click()
        expect(_item(page)).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
        # The portal's Logout failed: said in a notification that stays.
        toast = page.locator(".Toastify__toast", has_text="portal Logout failed")
        expect(toast).to_be_visible(timeout=UI_TIMEOUT)
        page.wait_for_timeout(6000)  # longer than any auto-close
        expect(toast).to_be_visible()
    finally:
        emu._faults.clear()


def test_the_callback_page_after_deny_says_it_was_denied(
    bench: Any, any_server: JupyterServer
) -> None:
    expect = _expect()
    page = _second_tab(bench, any_server)
    started = any_server.api(
        "POST", "/ssooidc/api/login", {"session_name": "emulator", "flow": "pkce"}
    )
    consent = page.context.new_page()
    try:
        consent.goto(started["verification_uri_complete"])
        consent.locator("#deny").click()
        consent.wait_for_url(re.compile(r"/ssooidc/oauth/callback\?"), timeout=UI_TIMEOUT)
        callback = consent.locator("#ssooidc-callback")
        expect(callback).to_have_attribute("data-outcome", "denied")
        expect(callback).to_contain_text("You denied the sign-in")
        expect(callback).not_to_contain_text("back in Jupyter")
    finally:
        consent.close()
    login = any_server.api("GET", f"/ssooidc/api/login/{started['id']}")
    assert login["state"] == "denied"


def test_a_broken_entry_says_what_to_fix_in_the_dialog(
    bench: Any, any_server: JupyterServer
) -> None:
    expect = _expect()
    page = _second_tab(bench, any_server)
    config = any_server.aws_config
    original = config.read_text()
    config.write_text(
        original
        + "\n[sso-session noregion]\nsso_start_url = https://x.awsapps.com/start\n"
        + "\n[profile orphan]\nsso_session = gone\nsso_account_id = 1\nsso_role_name = R\n"
    )
    try:
        _item(page).click()
        noregion = page.locator(".jp-Dialog .ssooidc-choice[data-name='noregion']")
        expect(noregion.locator(".ssooidc-entry-error")).to_contain_text(
            "has no sso_region", timeout=UI_TIMEOUT
        )
        gone = page.locator(".jp-Dialog .ssooidc-choice[data-name='gone']")
        expect(gone.locator(".ssooidc-entry-error")).to_contain_text(
            "no [sso-session gone] section"
        )
        text = page.locator(".jp-Dialog").inner_text()
        assert "`" not in text and "None is not" not in text
        page.locator(".jp-Dialog .jp-Dialog-button", has_text="Close").click()
    finally:
        config.write_text(original)


def test_a_kernel_sign_in_pending_shows_in_another_tab_which_can_cancel_it(
    bench: Any, any_server: JupyterServer
) -> None:
    """A kernel's device sign-in waits for approval; another tab's dialog shows it (who
    started it, the code, the link), and its Cancel ends the kernel's sign-in."""
    expect = _expect()
    ui = bench.open(any_server, bench.notebook(any_server, "pending.ipynb", [MAGIC_CELL]))
    cell = ui.run(ui.cell(0), wait=False)
    code = read_prompt(cell).code
    other = bench.context.new_page()
    bench.pages.append(other)
    where = "tree" if any_server.flavour == "notebook" else "lab?reset"
    other.goto(f"{any_server.url}/{where}{'&' if '?' in where else '?'}token={any_server.token}")
    # The bar already says a sign-in is under way (elsewhere).
    expect(_item(other)).to_have_text("AWS: signing in…", timeout=UI_TIMEOUT)
    _item(other).click()
    waiting = other.locator(".jp-Dialog .ssooidc-pending-elsewhere")
    expect(waiting).to_be_visible(timeout=UI_TIMEOUT)
    expect(waiting).to_contain_text("is waiting for approval, started from a kernel")
    expect(waiting.locator(".ssooidc-pending-code")).to_have_text(code)
    waiting.locator(".ssooidc-pending-cancel").click()
    # The kernel's sign-in ends as cancelled from another process; the box says so, and
    # the bar (pushed) no longer shows a sign-in under way.
    expect(cell.locator(".jp-OutputArea-output:visible", has_text="ancel").first).to_be_visible(
        timeout=UI_TIMEOUT
    )
    expect(waiting).to_contain_text("Cancelled.", timeout=UI_TIMEOUT)
    expect(_item(other)).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
