"""One way to run a sign-in (issue 16, point 2): ``sign_in`` / ``asign_in``.

Against the emulator on plain sockets: ``login()``, the notebook's controller and the server's
sign-ins all go through the runner and get the same flow for the same context; one
``LoginState`` and one outcome mapping for the notebook and the server; and PKCE checks its
answers and reuses its client registration as the device flow does, never the device flow's.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter.auth import _runner, asign_in, sign_in
from ssooidc_jupyter.auth._clock import utcnow
from ssooidc_jupyter.auth._context import LoginContext, resolve_login
from ssooidc_jupyter.auth._outcome import CANCELLED, LoginState, outcome_of
from ssooidc_jupyter.auth._pkceflow import CallbackBox, pkce_flow, pkce_registration_key
from ssooidc_jupyter.auth._steps import Call, LoadRegistration, LoadToken, Lock
from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.notebook import _controller
from ssooidc_jupyter.notebook._controller import LoginController
from ssooidc_jupyter.server import _logins
from ssooidc_jupyter.server._logins import LoginRegistry, ServerLogin
from tests._support import emulator_fixture

PACKAGE = Path(sj.__file__).parent
WITHIN = 20.0


emu = emulator_fixture(interval=0.1)


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The flow the runner picked, for every sign-in that went through it (the real choice,
    recorded on its way)."""
    chosen: list[str] = []
    real = _runner._planned

    @contextlib.contextmanager
    def recorded(context: LoginContext, *args: Any) -> Iterator[Any]:
        with real(context, *args) as plan:
            chosen.append(plan.flow.__name__)  # type: ignore[attr-defined]
            yield plan

    monkeypatch.setattr(_runner, "_planned", recorded)
    return chosen


def context_for(emu: Emulator, tmp_path: Path, **options: Any) -> LoginContext:
    options.setdefault("cache", tmp_path / "cache")
    return resolve_login(emu.start_url, emu.region, endpoint=emu.url, **options)


def operations(emu: Emulator, since: int = 0) -> list[str]:
    return [record["operation"] for record in emu.requests[since:]]


# ---- the browser leg of PKCE, played with a real HTTP client ------------------------------


def approve_in_browser(emu: Emulator, link: str) -> None:
    """Open ``link`` (the loopback listener's launch link), approve on the consent page,
    follow the redirect back to the listener."""
    with httpx.Client(timeout=10) as browser:
        authorize = browser.get(link).headers["location"]
        browser.get(emu.consent(authorize))


def browser_prompt(emu: Emulator, threads: list[threading.Thread]) -> Callable[[Any], None]:
    def on_prompt(prompt: Any) -> None:
        thread = threading.Thread(
            target=approve_in_browser, args=(emu, prompt.verification_uri_complete)
        )
        thread.start()
        threads.append(thread)

    return on_prompt


def answering(emu: Emulator, *, approve: bool = True) -> Callable[[LoginController], None]:
    """A controller observer that plays the user at the device page once the code is out."""

    def observe(controller: LoginController) -> None:
        if controller.prompt is not None:
            (emu.approve if approve else emu.deny)(controller.prompt.user_code)

    return observe


def code_of(login: ServerLogin) -> str:
    assert login.prompt is not None
    return login.prompt.user_code


def deliver_redirect(emu: Emulator, login: ServerLogin) -> None:
    """What ``GET /ssooidc/oauth/callback`` does with the browser's redirect."""
    assert login.prompt is not None and login.box is not None
    location = emu.consent(login.prompt.verification_uri_complete)
    assert login.box.deliver(dict(parse_qsl(urlsplit(location).query)))


# ---- every caller goes through the runner, and picks the same flow ---------------------------


def test_login_controller_and_server_run_the_device_flow_through_the_runner(
    emu: Emulator, tmp_path: Path, plans: list[str]
) -> None:
    def approve(prompt: Any) -> None:
        emu.approve(prompt.user_code)

    context = context_for(emu, tmp_path, force=True)
    # login()
    token = sj.login(
        emu.start_url, emu.region, endpoint=emu.url, cache=tmp_path / "cache", force=True,
        on_prompt=approve,
    )  # fmt: skip
    assert not token.expired
    # the notebook's controller
    controller = LoginController(context)
    controller.observe(answering(emu))
    assert not controller.start().wait(WITHIN).expired
    assert controller.state is LoginState.SIGNED_IN
    # the server
    login = asyncio.run(_server_sign_in(context, lambda login: emu.approve(code_of(login))))
    assert login.to_json()["state"] == "signed_in"

    assert plans == ["login_flow"] * 3
    assert operations(emu).count("StartDeviceAuthorization") == 3
    assert "Authorize" not in operations(emu)


def test_login_controller_and_server_run_pkce_through_the_runner(
    emu: Emulator, tmp_path: Path, plans: list[str]
) -> None:
    threads: list[threading.Thread] = []
    on_prompt = browser_prompt(emu, threads)
    # login()
    sj.login(
        emu.start_url, emu.region, endpoint=emu.url, cache=tmp_path / "cache", force=True,
        flow="pkce", on_prompt=on_prompt, timeout=WITHIN,
    )  # fmt: skip
    # the notebook's controller (its loopback listener, its prompt)
    controller = LoginController(context_for(emu, tmp_path, force=True, flow="pkce"))
    controller.observe(lambda c: None if c.prompt is None else on_prompt(c.prompt))
    assert not controller.start().wait(WITHIN).expired
    # the server: its own callback route receives the redirect
    server = context_for(
        emu, tmp_path, force=True, flow="pkce", redirect_uri="http://127.0.0.1:9/oauth/callback"
    )
    login = asyncio.run(_server_sign_in(server, lambda login: deliver_redirect(emu, login)))
    assert login.to_json()["state"] == "signed_in"
    for thread in threads:
        thread.join(10)

    assert plans == ["pkce_flow"] * 3
    assert operations(emu).count("Authorize") == 3
    assert "StartDeviceAuthorization" not in operations(emu)


async def _server_sign_in(context: LoginContext, act: Callable[[ServerLogin], None]) -> ServerLogin:
    """A sign-in of the server's registry, on this loop; ``act`` plays the user (in a thread,
    as the user's browser is not the server's loop)."""
    registry = LoginRegistry()
    login = registry.start(context, None)
    await asyncio.wait_for(login.ready.wait(), WITHIN)
    await asyncio.to_thread(act, login)
    assert login.task is not None
    await asyncio.wait_for(login.task, WITHIN)
    return login


def _calls_of(path: Path, names: set[str]) -> set[str]:
    called = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in names:
                called.add(name)
    return called


def test_only_the_runner_picks_and_drives_a_sign_in() -> None:
    # Who calls what, read from the source: the sign-in flows are started only by the runner
    # (login_flow, pkce_flow) and SSOToken (its refreshes); the drivers' loops only by the
    # one driver entry pair.
    # (oidc/ has drivers of its own, of HTTP requests: not of sign-ins.)
    starters = {"login_flow", "pkce_flow", "drive", "adrive", "run_sync", "run_async"}
    callers = {
        str(path.relative_to(PACKAGE)): found
        for path in PACKAGE.rglob("*.py")
        if not {"emulator", "oidc"} & set(path.parts) and (found := _calls_of(path, starters))
    }
    assert callers == {
        "auth/_runner.py": {"login_flow", "drive", "adrive"},
        "auth/_pkce.py": {"pkce_flow"},  # pkce_run, called by the runner only
        "auth/_token.py": {"drive", "adrive"},
        "auth/_drivers.py": {"run_sync", "run_async"},
        # flows built on another: the non-interactive login_flow first
        "auth/_pkceflow.py": {"login_flow"},
        "auth/_flow.py": {"login_flow"},
    }
    assert _calls_of(PACKAGE / "auth" / "_runner.py", {"pkce_run"}) == {"pkce_run"}
    for path in PACKAGE.rglob("*.py"):
        if path.name != "_runner.py":
            assert not _calls_of(path, {"pkce_run"}), path
        # The device/PKCE choice is made once: nobody else compares a context's flow.
        source = path.read_text()
        if path.name != "_runner.py":
            assert '.flow == "pkce"' not in source and '.flow != "pkce"' not in source, path


def test_sign_in_is_the_package_s_runner() -> None:
    assert sign_in is _runner.sign_in and asign_in is _runner.asign_in
    assert asyncio.iscoroutinefunction(asign_in)
    with pytest.raises(AttributeError):
        _ = sj.auth.complete_login


# ---- one outcome model ------------------------------------------------------------------------


def test_one_login_state_for_the_notebook_and_the_server() -> None:
    assert _controller.LoginState is _logins.LoginState is LoginState
    # The server's REST state strings and the widget's trait values: unchanged.
    assert {state.value for state in LoginState} == {
        "idle", "starting", "pending", "signed_in", "denied", "expired", "cancelled",
        "failed", "signed_out",
    }  # fmt: skip


SECRET = "aoaAAAAAsecret-token-value"


@pytest.mark.parametrize(
    ("exc", "state", "message"),
    [
        pytest.param(sj.LoginDeniedError("Denied."), "denied", "Denied.", id="denied"),
        pytest.param(sj.LoginExpiredError("Too late."), "expired", "Too late.", id="expired"),
        pytest.param(sj.LoginCancelledError("Stop."), "cancelled", "Stop.", id="cancelled"),
        pytest.param(sj.SessionEndedError("Ended."), "failed", "Ended.", id="session-ended"),
        pytest.param(sj.LoginError("Sign in."), "failed", "Sign in.", id="login-error"),
        pytest.param(sj.TransportError("No route."), "failed", "No route.", id="transport"),
        pytest.param(asyncio.CancelledError(), "cancelled", CANCELLED, id="task-cancelled"),
        pytest.param(
            ValueError(f"bad {SECRET}"),
            "failed",
            "The sign-in failed (ValueError); see the log for details.",
            id="not-ours",
        ),
        pytest.param(
            KeyError(SECRET),
            "failed",
            "The sign-in failed (KeyError); see the log for details.",
            id="not-ours-key",
        ),
    ],
)
def test_the_outcome_of_each_exception(exc: BaseException, state: str, message: str) -> None:
    outcome = outcome_of(exc)
    assert (outcome.state.value, outcome.message) == (state, message)
    assert SECRET not in outcome.message


def test_a_denial_ends_alike_in_the_notebook_and_the_server(emu: Emulator, tmp_path: Path) -> None:
    context = context_for(emu, tmp_path, cache=False)
    controller = LoginController(context)
    controller.observe(answering(emu, approve=False))
    controller.start()
    with pytest.raises(sj.LoginDeniedError):
        controller.wait(WITHIN)
    login = asyncio.run(_server_sign_in(context, lambda login: emu.deny(code_of(login))))

    assert controller.outcome is not None and login.message is not None
    assert login.state is controller.state is LoginState.DENIED
    # The same reason, but for the code each was shown.
    notebook_code, server_code = emu.user_codes
    assert controller.outcome.message == str(controller.error)
    assert controller.outcome.message.replace(notebook_code, "<code>") == login.message.replace(
        server_code, "<code>"
    )
    assert controller.status_line() == f"Sign-in denied: {controller.outcome.message}"


async def test_a_cancelled_server_sign_in_ends_as_the_outcome_model_says(
    emu: Emulator, tmp_path: Path
) -> None:
    registry = LoginRegistry()
    login = registry.start(context_for(emu, tmp_path, cache=False), None)
    await asyncio.wait_for(login.ready.wait(), WITHIN)
    assert login.task is not None
    login.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await login.task
    assert (login.state, login.message) == (LoginState.CANCELLED, CANCELLED)


# ---- PKCE: its answers checked, its registration reused (never the device flow's) -------------


def _pkce_sign_in(emu: Emulator, tmp_path: Path, **options: Any) -> sj.SSOToken:
    threads: list[threading.Thread] = []
    try:
        return sign_in(
            context_for(emu, tmp_path, flow="pkce", force=True, timeout=WITHIN, **options),
            on_prompt=browser_prompt(emu, threads),
            open_browser=None,
        )
    finally:
        for thread in threads:
            thread.join(10)


def _registrations(emu: Emulator, since: int = 0) -> list[dict[str, Any]]:
    return [r for r in emu.requests[since:] if r["operation"] == "RegisterClient"]


def test_a_box_with_a_device_flow_context_is_refused(emu: Emulator, tmp_path: Path) -> None:
    """A box is filled by the server's redirect route, which a device sign-in never gets:
    passing one with a device-flow context is the caller's mistake, said before any request."""
    context = context_for(emu, tmp_path)
    assert _runner.callback_box(context) is None
    with pytest.raises(ValueError, match="box is for a PKCE sign-in"):
        sign_in(context, box=CallbackBox())
    with pytest.raises(ValueError, match="box is for a PKCE sign-in"):
        asyncio.run(asign_in(context, box=CallbackBox()))
    assert emu.requests == []


def test_pkce_reuses_its_cached_registration(emu: Emulator, tmp_path: Path) -> None:
    first = _pkce_sign_in(emu, tmp_path)
    second = _pkce_sign_in(emu, tmp_path)  # another listener port: the same registration
    assert len(_registrations(emu)) == 1
    assert second.access_token != first.access_token
    cached = sj.login(emu.start_url, emu.region, endpoint=emu.url, cache=tmp_path / "cache")
    assert cached.access_token == second.access_token


def test_the_device_and_pkce_registrations_are_kept_apart(emu: Emulator, tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    def device() -> None:
        sj.login(
            emu.start_url, emu.region, endpoint=emu.url, cache=cache, force=True,
            on_prompt=lambda prompt: emu.approve(prompt.user_code),
        )  # fmt: skip

    device()
    _pkce_sign_in(emu, tmp_path)  # registers its own: the device one is not for a redirect
    device()  # the device registration is still there, and still the device flow's
    _pkce_sign_in(emu, tmp_path)
    assert len(_registrations(emu)) == 2
    files = {path.stem: json.loads(path.read_text()) for path in cache.glob("*.json")}
    context = context_for(emu, tmp_path, flow="pkce", force=True)
    pkce_key = pkce_registration_key(context.request, "http://127.0.0.1/oauth/callback")
    assert files[pkce_key]["grantTypes"] == ["authorization_code", "refresh_token"]
    assert "grantTypes" not in files[context.slot.registration_key]


def test_a_device_registration_under_the_pkce_key_is_not_reused(
    emu: Emulator, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    sj.login(
        emu.start_url, emu.region, endpoint=emu.url, cache=cache,
        on_prompt=lambda prompt: emu.approve(prompt.user_code),
    )  # fmt: skip
    context = context_for(emu, tmp_path, flow="pkce")
    device_file = cache / f"{context.slot.registration_key}.json"
    pkce_file = cache / f"{pkce_registration_key(context.request, 'http://127.0.0.1/x')}.json"
    pkce_file.write_text(device_file.read_text())  # a device-only registration, misplaced
    before = len(emu.requests)
    _pkce_sign_in(emu, tmp_path, redirect_uri="http://127.0.0.1:0/x")
    registered = _registrations(emu, before)
    assert len(registered) == 1
    assert (
        json.loads(pkce_file.read_text())["clientId"]
        != json.loads(device_file.read_text())["clientId"]
    )


def test_pkce_raises_an_answer_that_is_not_a_token_as_the_device_flow_does(
    emu: Emulator, tmp_path: Path
) -> None:
    emu.inject("CreateToken", "malformed_json")
    with pytest.raises(sj.InvalidResponseError):
        _pkce_sign_in(emu, tmp_path)
    assert not list((tmp_path / "cache").glob("*.json")) or all(
        "accessToken" not in json.loads(p.read_text()) for p in (tmp_path / "cache").glob("*.json")
    )


def test_pkce_checks_the_registration_answer() -> None:
    # The flow alone (no I/O): a RegisterClient answer without a client secret is refused by
    # name, as the device flow refuses it, whatever client drove the call.
    context = resolve_login("https://d-1.awsapps.com/start", "us-east-1", flow="pkce")
    flow = pkce_flow(context.request, "http://127.0.0.1:1/cb", CallbackBox(), utcnow)
    step = flow.send(None)
    while not isinstance(step, Call):
        answer = {LoadToken: None, LoadRegistration: None, Lock: True}.get(type(step))
        step = flow.send(answer)
    assert step.operation == "RegisterClient"
    with pytest.raises(sj.InvalidResponseError, match="clientSecret"):
        flow.send({"clientId": "c", "clientSecretExpiresAt": 2000000000})
