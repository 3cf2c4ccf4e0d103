"""PKCE in a kernel with a real Chromium: the launch link, the emulator's consent page, and
the redirect back to the kernel's listener carrying the cookie the launch link set (a
``SameSite=Lax`` cookie must survive the redirect from the authorization page). A browser
without the cookie is refused: tests/auth/test_pkce_listener.py."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from _harness import UI_TIMEOUT

from ssooidc_jupyter.auth import sign_in
from ssooidc_jupyter.auth._context import resolve_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_launch_link_in_chromium_signs_in(browser_context: Any, emu: Any) -> None:
    from playwright.sync_api import expect

    context = resolve_login(emu.start_url, emu.region, endpoint=emu.url, flow="pkce", timeout=60)
    shown = threading.Event()
    seen: dict[str, Any] = {}

    def on_prompt(prompt: Any) -> None:
        seen["link"] = prompt.verification_uri_complete
        shown.set()

    def run() -> None:
        try:
            seen["token"] = sign_in(context, on_prompt=on_prompt, open_browser=None)
        except BaseException as exc:
            seen["error"] = exc
            shown.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert shown.wait(30) and "link" in seen, seen.get("error")
    page = browser_context.new_page()
    try:
        page.goto(seen["link"])  # the launch link: a cookie, then the consent page
        page.locator("#approve").click()
        page.wait_for_url(re.compile(r"/oauth/callback\?"), timeout=UI_TIMEOUT)
        expect(page.locator("#ssooidc-callback")).to_have_attribute("data-outcome", "accepted")
    finally:
        page.close()
    thread.join(30)
    assert "token" in seen, seen.get("error")
    assert seen["token"].access_token in emu.secrets
