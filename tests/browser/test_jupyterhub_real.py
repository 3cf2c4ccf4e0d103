"""A real JupyterHub (PyPI) behind configurable-http-proxy (npm), two users with homes of their
own, the emulator as IAM Identity Center, Chromium: the admin's defaults set once in
``c.Spawner.environment`` reach every user's status bar and kernels; the default flow on a hub
is the device flow; one user's routes refuse another; the PKCE redirect URI follows the
outermost ``X-Forwarded-Proto``; a server restart ends a pending sign-in's dialog.

The tests run in file order and share one hub (module scope): alice, then bob.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from _harness import UI_TIMEOUT, NotebookUI, browser_required
from _hub import PASSWORD, SESSION, Hub, HubUserServer, missing_hub_requirement, request

from ssooidc_jupyter.auth._models import token_cache_key
from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

SPAWN_TIMEOUT = 120_000  # ms: a first spawn on a busy 2-core machine
SIGN_IN_OPERATIONS = ("RegisterClient", "StartDeviceAuthorization", "CreateToken")
SIGNED_IN = re.compile(rf"^AWS: signed in to {SESSION} until \d\d:\d\d$")


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


hub_emu = emulator_fixture(name="hub_emu", scope="module", interval=0.2, auto_approve=None)


@pytest.fixture(scope="module")
def hub(
    chromium_path: str, hub_emu: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hub]:
    reason = missing_hub_requirement()
    if reason is not None:
        if browser_required():
            pytest.fail(f"SSOOIDC_REQUIRE_BROWSER is set but {reason}", pytrace=False)
        pytest.skip(reason)
    # The one place of the admin's defaults (docs/jupyterhub.md, step 3): the single-user
    # environment, which the server extension and every kernel inherit. No ~/.aws/config.
    environment = {
        "SSOOIDC_START_URL": hub_emu.start_url,
        "SSOOIDC_REGION": hub_emu.region,
        "SSOOIDC_SESSION_NAME": SESSION,
        # The emulator stands in for AWS: sso-oidc, the portal and STS.
        "AWS_ENDPOINT_URL": hub_emu.url,
    }
    # One admin mistake, on bob's server only (a value may be a callable of the spawner): an
    # http redirect base on a public host is refused, and everything else still works.
    mistake = (
        "c.Spawner.environment['SSOOIDC_REDIRECT_BASE_URL'] = (\n"
        "    lambda spawner: 'http://hub.example.org/' if spawner.user.name == 'bob' else ''\n"
        ")\n"
    )
    instance = Hub(tmp_path_factory.mktemp("hub"), environment, extra_config=mistake)
    try:
        instance.start()
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="module")
def page(browser_context: Any) -> Iterator[Any]:
    tab = browser_context.new_page()
    yield tab
    tab.close()


def _log_in(page: Any, hub: Hub, user: str) -> None:
    """The hub's login form, then the spawn and JupyterLab with our status-bar item."""
    page.goto(f"{hub.url}/hub/logout", wait_until="domcontentloaded")
    page.goto(f"{hub.url}/hub/login", wait_until="domcontentloaded")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(PASSWORD)
    page.locator("#login_submit").click()
    page.wait_for_url(re.compile(rf"/user/{user}/lab"), timeout=SPAWN_TIMEOUT)
    _expect()(_item(page)).to_be_visible(timeout=SPAWN_TIMEOUT)


def _item(page: Any) -> Any:
    return page.locator(".ssooidc-status.ssooidc-statusbar")


def _choose_default(page: Any, emu: Emulator) -> Any:
    """Open the chooser from the status bar: the admin's default is listed, first, marked."""
    expect = _expect()
    _item(page).click()
    choice = page.locator(".jp-Dialog .ssooidc-choice-button").first
    expect(choice).to_have_attribute("data-name", SESSION, timeout=UI_TIMEOUT)
    expect(choice).to_have_attribute("data-default", "true")
    expect(choice).to_contain_text(emu.start_url)
    return choice


def _notebook(server: HubUserServer, name: str, source: str) -> str:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    content = {
        "cells": [{**cell, "source": source}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    server.api("PUT", f"/api/contents/{name}", {"type": "notebook", "content": content})
    return name


def test_alice_signs_in_from_the_status_bar_and_her_kernel_reuses_it(
    hub: Hub, hub_emu: Emulator, page: Any
) -> None:
    expect = _expect()
    emu = hub_emu
    _log_in(page, hub, "alice")
    item = _item(page)
    expect(item).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
    assert not (hub.home("alice") / ".aws" / "config").exists()

    # The default flow on a hub is the device flow (no PKCE unless the admin opts in).
    _choose_default(page, emu).click()
    code = page.locator(".jp-Dialog .ssooidc-code")
    expect(code).to_have_text(re.compile(r"\w{4}-\w{4}"), timeout=UI_TIMEOUT)
    assert page.locator(".jp-Dialog .ssooidc-countdown").inner_text().startswith("Code expires")
    emu.approve(code.inner_text().strip())
    expect(item).to_have_text(SIGNED_IN, timeout=UI_TIMEOUT)
    # Cached under the session name, in alice's home: the key every kernel computes too.
    key = token_cache_key(SESSION, hub_emu.start_url)
    assert (hub.home("alice") / ".aws" / "sso" / "cache" / f"{key}.json").is_file()

    # Her notebook's bare `%ssooidc login` (defaults from the same environment) signs in
    # with no sign-in request at the emulator.
    alice = HubUserServer(hub, "alice", hub.user_token("alice"))
    name = _notebook(alice, "alice.ipynb", "%load_ext ssooidc_jupyter\n%ssooidc login")
    ui = NotebookUI(page, alice).open(name)  # type: ignore[arg-type]
    before = len(emu.requests)
    cell = ui.run(ui.cell(0))
    expect(cell.locator(".jp-OutputArea-output").first).to_contain_text(
        "Already signed in", timeout=UI_TIMEOUT
    )
    made = [r["operation"] for r in emu.requests[before:]]
    assert not set(made) & set(SIGN_IN_OPERATIONS), made


def test_bobs_requests_to_alices_routes_are_refused(hub: Hub) -> None:
    alice = HubUserServer(hub, "alice", hub.user_token("alice"))
    bob = hub.user_token("bob")
    status = alice.api("GET", "/ssooidc/api/status")
    assert status["default"] == SESSION and status["sessions"][0]["state"] == "signed_in"
    for method, path, body in (
        ("GET", "status", None),
        ("POST", "login", {"session_name": SESSION, "force": True}),
        ("POST", "logout", {"session_name": SESSION}),
    ):
        code, _ = request(f"{alice.url}/ssooidc/api/{path}", method, body, token=bob)
        assert code == 403, (method, path, code)
    # Still signed in: bob's logout did nothing.
    assert alice.api("GET", "/ssooidc/api/status")["sessions"][0]["state"] == "signed_in"


def test_the_redirect_uri_is_https_behind_a_tls_terminating_proxy(hub: Hub) -> None:
    """The browser came over https; configurable-http-proxy appends its own hop
    (``X-Forwarded-Proto: https,http``): the outermost value wins, as in JupyterHub."""
    alice = HubUserServer(hub, "alice", hub.user_token("alice"))
    code, started = request(
        f"{alice.url}/ssooidc/api/login",
        "POST",
        {"session_name": SESSION, "flow": "pkce", "force": True},
        token=alice.token,
        headers={"X-Forwarded-Proto": "https"},
    )
    assert code == 202, started
    try:
        query = parse_qs(urlsplit(started["verification_uri_complete"]).query)
        redirect = query["redirect_uri"][0]
        port = urlsplit(hub.url).port
        assert redirect == f"https://127.0.0.1:{port}/user/alice/ssooidc/oauth/callback"
    finally:
        alice.api("DELETE", f"/ssooidc/api/login/{started['id']}")


def test_bob_sees_the_default_and_a_restart_ends_his_pending_sign_in(
    hub: Hub, hub_emu: Emulator, page: Any
) -> None:
    expect = _expect()
    _log_in(page, hub, "bob")
    item = _item(page)
    # His own home: alice's sign-in is not his.
    expect(item).to_have_text("AWS: sign in", timeout=UI_TIMEOUT)
    choice = _choose_default(page, hub_emu)
    # The admin's mistake on his server is shown in the dialog, and refused alone: the
    # device flow still starts.
    problem = page.locator(".jp-Dialog .ssooidc-setup-error")
    expect(problem).to_contain_text("SSOOIDC_REDIRECT_BASE_URL refused")
    choice.click()
    expect(page.locator(".jp-Dialog .ssooidc-code")).to_be_visible(timeout=UI_TIMEOUT)

    began = time.monotonic()
    hub.stop_server("bob")
    # While the server is down the hub answers 424: the dialog gives up and says so. The
    # hub's own "Server unavailable" dialog (JupyterLab's hub extension, on the first
    # request that fails) may come first: JupyterLab queues dialogs, so ours follows it.
    lost = page.locator(".jp-Dialog .ssooidc-lost")
    hubs = page.locator(".jp-Dialog", has_text="Server unavailable")
    expect(lost.or_(hubs).first).to_be_visible(timeout=UI_TIMEOUT)
    if hubs.count():
        hubs.locator(".jp-Dialog-button", has_text="Dismiss").click()
    expect(lost).to_contain_text("lost", timeout=UI_TIMEOUT)
    expect(page.locator(".jp-Dialog .ssooidc-code")).to_have_count(0)
    expect(page.locator(".jp-Dialog .jp-Dialog-button", has_text="Start again")).to_be_visible()
    # And the status item says the server does not answer, not its last state.
    expect(item).to_have_text("AWS: server unreachable", timeout=UI_TIMEOUT)
    assert item.get_attribute("data-state") == "unreachable"
    hub.spawn("bob")
    print(f"\nbob: pending sign-in lost and server back in {time.monotonic() - began:.1f} s")
    page.locator(".jp-Dialog .jp-Dialog-button", has_text="Close").click()


def test_spawn_environment_reached_both_users(hub: Hub) -> None:
    """What each single-user server saw: the admin's defaults, and no AWS config file."""
    for user in ("alice", "bob"):
        server = HubUserServer(hub, user, hub.user_token(user))
        status = server.api("GET", "/ssooidc/api/status")
        assert status["default"] == SESSION, json.dumps(status)
        errors = [e.split(" ")[0] for e in status["setup_errors"]]
        assert errors == ([] if user == "alice" else ["SSOOIDC_REDIRECT_BASE_URL"])
        assert not Path(hub.home(user), ".aws", "config").exists()
