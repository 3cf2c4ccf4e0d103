"""login(flow="pkce"): the authorization-code flow with PKCE against the emulator's
/authorize, with the loopback listener receiving the redirect."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter._secret import Secret
from ssooidc_jupyter.auth._context import resolve_login
from ssooidc_jupyter.auth._pkce import CallbackBox
from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.oidc._values import validate_redirect_uri
from tests._support import emulator_fixture

emu = emulator_fixture(interval=0.1, auto_approve=None)


def _browser(emu: Emulator, *, approve: bool = True, tamper: Any = None) -> Any:
    """An on_prompt that plays the browser: the consent page, then the redirect."""
    seen: dict[str, Any] = {}

    def visit(url: str) -> None:
        # The prompt's link is the listener's launch link: it sets the cookie the callback
        # must carry, and redirects to /authorize. One client plays one browser.
        with httpx.Client(timeout=10) as browser:
            launched = browser.get(url)
            seen["authorize"] = authorize = launched.headers["location"]
            location = emu.consent(authorize, approve=approve)
            seen["location"] = location
            if tamper is not None:
                seen["tampered"] = browser.get(tamper(location)).status_code
            seen["status"] = browser.get(location).status_code
            try:
                seen["replay"] = browser.get(location).status_code
            except httpx.TransportError:
                # The sign-in ended with the first delivery and closed its listener
                # meanwhile: a replay that finds nobody listening is refused too.
                seen["replay"] = "closed"

    def on_prompt(prompt: Any) -> None:
        seen["prompt"] = prompt
        thread = threading.Thread(target=visit, args=(prompt.verification_uri_complete,))
        thread.start()
        seen["thread"] = thread

    seen["on_prompt"] = on_prompt
    return seen


def _login(emu: Emulator, seen: dict[str, Any], **kwargs: Any) -> Any:
    try:
        return sj.login(
            emu.start_url,
            emu.region,
            endpoint=emu.url,
            flow="pkce",
            on_prompt=seen["on_prompt"],
            timeout=20,
            **kwargs,
        )
    finally:
        if "thread" in seen:
            seen["thread"].join(10)


def test_pkce_sign_in_through_the_loopback_listener(emu: Emulator) -> None:
    seen = _browser(emu)
    token = _login(emu, seen)
    assert token.access_token in emu.secrets and not token.expired
    prompt = seen["prompt"]
    assert prompt.user_code == ""
    # The prompt (saved in the notebook) shows the one-time launch link, not the state.
    assert urlsplit(prompt.verification_uri_complete).path == "/start"
    query = parse_qs(urlsplit(seen["authorize"]).query)
    assert query["state"][0] not in prompt.verification_uri_complete
    assert query["code_challenge_method"] == ["S256"] and query["redirect_uri"][0].startswith(
        "http://127.0.0.1:"
    )
    assert "code_verifier" not in seen["authorize"]
    assert seen["status"] == 200
    assert seen["replay"] in (400, "closed")  # a replayed callback is refused, never 200
    operations = [r["operation"] for r in emu.requests]
    assert "Authorize" in operations and "StartDeviceAuthorization" not in operations
    # Cached: the next login (either flow) makes no request.
    before = len(emu.requests)
    again = sj.login(emu.start_url, emu.region, endpoint=emu.url, flow="pkce")
    assert again.access_token == token.access_token and len(emu.requests) == before


def test_a_forged_state_is_refused_and_the_real_redirect_still_works(emu: Emulator) -> None:
    def forge(location: str) -> str:
        return location.replace("state=", "state=x")

    seen = _browser(emu, tamper=forge)
    token = _login(emu, seen)
    assert seen["tampered"] == 400 and seen["status"] == 200
    assert not token.expired


def test_denied_on_the_authorization_page(emu: Emulator) -> None:
    seen = _browser(emu, approve=False)
    with pytest.raises(sj.LoginDeniedError):
        _login(emu, seen)


async def test_login_async_pkce(emu: Emulator) -> None:
    seen = _browser(emu)
    try:
        token = await sj.login_async(
            emu.start_url,
            emu.region,
            endpoint=emu.url,
            flow="pkce",
            on_prompt=seen["on_prompt"],
            timeout=20,
        )
    finally:
        seen["thread"].join(10)
    assert not token.expired


def test_callback_box_takes_one_delivery_with_the_right_state() -> None:
    box = CallbackBox()
    assert not box.deliver({"code": "c", "state": "wrong"})
    assert not box.deliver({"state": box.state})  # neither code nor error
    assert box.deliver({"code": "the-code-1234", "state": box.state})
    assert not box.deliver({"code": "d", "state": box.state})
    assert box.result is not None and box.result.code == Secret("the-code-1234")
    assert "the-code-1234" not in repr(box.result)


@pytest.mark.parametrize(
    "uri",
    ["http://example.com/cb", "ftp://127.0.0.1/cb", "https://u:p@h.example/cb", "https://h/#f", ""],
)
def test_bad_redirect_uris(uri: str) -> None:
    with pytest.raises(sj.ConfigurationError, match="redirect_uri"):
        validate_redirect_uri(uri)


def test_flow_and_redirect_arguments_are_checked() -> None:
    url, region = "https://d-1.awsapps.com/start", "us-east-1"
    with pytest.raises(sj.ConfigurationError, match="flow"):
        resolve_login(url, region, flow="browser")
    with pytest.raises(sj.ConfigurationError, match="pkce"):
        resolve_login(url, region, redirect_uri="http://127.0.0.1/cb")
    context = resolve_login(url, region, flow="pkce", redirect_uri="https://hub.example/cb")
    assert context.flow == "pkce" and context.redirect_uri == "https://hub.example/cb"
    with pytest.raises(sj.ConfigurationError, match="not on this machine"):
        sj.login(url, region, flow="pkce", redirect_uri="https://hub.example/cb")
