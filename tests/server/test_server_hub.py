"""The server extension as a single-user server of JupyterHub sees it (issue 18), through a real
Jupyter server (pytest-jupyter) and the emulator: the admin's defaults from the environment
(the one place kernels read too), the device flow by default under a hub, the PKCE redirect
URI from the hub's public URL or the outermost forwarded values, a bad option refused alone,
terminals that find the environment's programs, and a status route that keeps the server's
loop responsive with a 3,000-profile AWS config.

The end-to-end proof with a real hub, proxy and browser is tests/browser/test_jupyterhub_real.py.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ssooidc_jupyter.auth._context import admin_defaults, resolve_login
from ssooidc_jupyter.auth._models import token_cache_key
from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.notebook._configurable import SSOOIDC
from ssooidc_jupyter.server import _status
from tests.server import test_server
from tests.server.test_server import Api, Fetch, served

pytest_plugins = ["pytest_jupyter.jupyter_server"]

# test_server's fixtures, used here as there.
api, aws_home, emu = test_server.api, test_server.aws_home, test_server.emu

BASE = "/a%40b/"  # pytest-jupyter's base URL: under a hub, the service prefix


@pytest.fixture
def environ() -> dict[str, str | None]:
    """The single-user server's environment as the spawner set it (a test overrides it)."""
    return {}


@pytest.fixture
def server_section() -> dict[str, Any]:
    return {}


@pytest.fixture
def jp_server_config(
    jp_environ: None,
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str | None],
    server_section: dict[str, Any],
    emu: Emulator,
) -> dict[str, Any]:
    # Set before the server starts: its options are read when the extension loads.
    for name, value in environ.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(
                name, value.format(start_url=emu.start_url, region=emu.region, url=emu.url)
            )
    config: dict[str, Any] = {"ServerApp": {"jpserver_extensions": {"ssooidc_jupyter": True}}}
    if server_section:
        config["SSOOIDC"] = server_section
    return config


ADMIN: dict[str, str | None] = {
    "SSOOIDC_START_URL": "{start_url}",
    "SSOOIDC_REGION": "{region}",
    "SSOOIDC_SESSION_NAME": "corp",
    "JUPYTERHUB_SERVICE_PREFIX": BASE,
}


def _redirect(started: dict[str, Any]) -> str:
    return parse_qs(urlsplit(started["verification_uri_complete"]).query)["redirect_uri"][0]


# ---- 1. one place for the admin's defaults ----------------------------------------------------


@pytest.mark.parametrize(
    "environ",
    [ADMIN, {**ADMIN, "SSOOIDC_SESSION_NAME": None}],
    ids=["session-name", "start-url-only"],
)
@served
async def test_the_admins_default_is_listed_and_shared_with_kernels_without_aws_config(
    api: Api, emu: Emulator, aws_home: Path, environ: dict[str, str | None]
) -> None:
    session = environ["SSOOIDC_SESSION_NAME"]
    (aws_home / ".aws" / "config").unlink()
    code, status = await api("GET", "status")
    assert code == 200
    assert status["default"] == (session or emu.start_url) and status["setup_errors"] == []
    [entry] = status["sessions"]
    assert entry["name"] == (session or emu.start_url) and entry["start_url"] == emu.start_url
    assert entry["state"] == "signed_out" and entry["error"] is None

    code, started = await api("POST", "login", body=entry["login"])
    assert code == 202 and started["flow"] == "device"  # under a hub: the device flow
    emu.approve(started["user_code"])
    assert (await api.wait_state(started["id"], "signed_in"))["state"] == "signed_in"
    code, status = await api("GET", "status")
    assert [e["state"] for e in status["sessions"]] == ["signed_in"]

    # A kernel in the same environment: the SSOOIDC configurable defaults to the same values,
    # and its bare %ssooidc login resolves to the same cache entry the server wrote (keyed
    # by the session name, or by the start URL without one, on both sides).
    settings = SSOOIDC()
    assert (settings.start_url, settings.region, settings.sso_session) == (
        emu.start_url,
        emu.region,
        session,
    )
    context = resolve_login(settings.start_url, settings.region, session_name=settings.sso_session)
    assert context.slot.token_key == token_cache_key(session, emu.start_url)
    assert context.slot.load_token() is not None
    assert resolve_login().slot.token_key == context.slot.token_key  # login() with no argument


@pytest.mark.parametrize(
    "environ", [{**ADMIN, "SSOOIDC_ENDPOINT": "{url}", "AWS_ENDPOINT_URL": None}]
)
@served
async def test_the_admins_endpoint_reaches_the_server(api: Api, emu: Emulator) -> None:
    """SSOOIDC_ENDPOINT (what c.SSOOIDC.endpoint is an alias of) is the only way to the
    emulator here: the server's sign-in goes there."""
    code, started = await api("POST", "login", body={"session_name": "corp"})
    assert code == 202 and started["user_code"] in emu.user_codes, started
    await api("DELETE", "login", started["id"])


@pytest.mark.parametrize(
    "environ", [{**ADMIN, "SSOOIDC_REGION": "nowhere-1", "SSOOIDC_ENDPOINT": "ftp://x"}]
)
@served
async def test_a_bad_admin_value_is_shown_and_the_rest_kept(api: Api, emu: Emulator) -> None:
    code, status = await api("GET", "status")
    assert code == 200
    errors = status["setup_errors"]
    assert any(e.startswith("SSOOIDC_REGION:") for e in errors), errors
    assert any(e.startswith("SSOOIDC_ENDPOINT:") for e in errors), errors
    default = status["sessions"][0]
    assert default["name"] == "corp" and "SSOOIDC_REGION" in default["error"]
    # The user's own config still signs in.
    code, started = await api("POST", "login", body={"session_name": "dev"})
    assert code == 202 and started["user_code"] in emu.user_codes
    await api("DELETE", "login", started["id"])


def test_admin_defaults_are_read_and_checked_one_by_one() -> None:
    defaults = admin_defaults(
        {
            "SSOOIDC_START_URL": " https://d-1234567890.awsapps.com/start ",
            "SSOOIDC_REGION": "eu-west-1",
            "SSOOIDC_SESSION_NAME": "corp team",
            "SSOOIDC_SCOPES": "sso:account:access, codewhisperer:completions",
        }
    )
    assert defaults.start_url == "https://d-1234567890.awsapps.com/start"
    assert defaults.region == "eu-west-1" and defaults.session_name is None
    assert defaults.scopes == ("sso:account:access", "codewhisperer:completions")
    assert [e.split(":")[0] for e in defaults.errors] == ["SSOOIDC_SESSION_NAME"]


# ---- 2. the flow under a hub ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "flow"),
    [
        ({}, "pkce"),  # a personal server on loopback
        ({"JUPYTERHUB_SERVICE_PREFIX": BASE}, "device"),  # the same server under a hub
        ({"JUPYTERHUB_SERVICE_PREFIX": BASE, "SSOOIDC_FLOW": "pkce"}, "pkce"),  # opted in
    ],
)
@served
async def test_the_default_flow(api: Api, flow: str) -> None:
    code, started = await api("POST", "login", body={"session_name": "dev"})
    assert code == 202 and started["flow"] == flow
    await api("DELETE", "login", started["id"])


# ---- 3. the redirect URI behind a TLS-terminating proxy ----------------------------------------


@served
async def test_the_outermost_forwarded_proto_and_host_make_the_redirect_uri(api: Api) -> None:
    # configurable-http-proxy appends its own hop: "https" becomes "https,http".
    headers = {"X-Forwarded-Proto": "https,http", "X-Forwarded-Host": "hub.example.org, 10.0.0.1"}
    code, started = await api(
        "POST", "login", body={"session_name": "dev", "flow": "pkce"}, headers=headers
    )
    assert code == 202, started
    assert _redirect(started) == f"https://hub.example.org{BASE}ssooidc/oauth/callback"
    await api("DELETE", "login", started["id"])


@pytest.mark.parametrize(
    ("environ", "server_section"),
    [
        # JupyterHub's own variable: this server's public URL (prefix included).
        (
            {
                "JUPYTERHUB_SERVICE_PREFIX": BASE,
                "JUPYTERHUB_PUBLIC_URL": f"https://hub.example.org{BASE}",
            },
            {},
        ),
        # The admin's base without the prefix: the prefix is added.
        (
            {
                "JUPYTERHUB_SERVICE_PREFIX": BASE,
                "SSOOIDC_REDIRECT_BASE_URL": "https://hub.example.org/",
            },
            {},
        ),
        # The server config wins over the environment; with the prefix already: as is.
        (
            {"SSOOIDC_REDIRECT_BASE_URL": "https://elsewhere.example.org/"},
            {"redirect_base_url": f"https://hub.example.org{BASE}"},
        ),
    ],
)
@served
async def test_the_public_url_makes_the_redirect_uri(api: Api) -> None:
    headers = {"X-Forwarded-Proto": "http"}  # ignored: the admin said where the hub is
    code, started = await api(
        "POST", "login", body={"session_name": "dev", "flow": "pkce"}, headers=headers
    )
    assert code == 202, started
    assert _redirect(started) == f"https://hub.example.org{BASE}ssooidc/oauth/callback"
    await api("DELETE", "login", started["id"])


# ---- 4. one bad option does not disable the extension ------------------------------------------


@pytest.mark.parametrize(
    "server_section", [{"redirect_base_url": "http://hub.example.org/", "flow": "magic"}]
)
@served
async def test_a_bad_option_is_refused_alone_and_shown(api: Api, emu: Emulator) -> None:
    code, status = await api("GET", "status")
    assert code == 200
    errors = status["setup_errors"]
    assert any("c.SSOOIDC.redirect_base_url refused" in e for e in errors), errors
    assert any("c.SSOOIDC.flow" in e for e in errors), errors
    code, started = await api("POST", "login", body={"session_name": "dev", "flow": "device"})
    assert code == 202 and started["user_code"] in emu.user_codes
    emu.approve(started["user_code"])
    assert (await api.wait_state(started["id"], "signed_in"))["state"] == "signed_in"


# ---- 6. terminals find the environment's programs -----------------------------------------------


class TestTerminalPath:
    @pytest.fixture
    def jp_server_config(self, jp_environ: None, monkeypatch: pytest.MonkeyPatch) -> Any:
        monkeypatch.setenv("SHELL", "/bin/bash")
        return {
            "ServerApp": {
                "jpserver_extensions": {"ssooidc_jupyter": True, "jupyter_server_terminals": True},
                "terminals_enabled": True,
            },
        }

    @served
    async def test_a_login_shell_that_resets_path_still_finds_them(
        self, aws_home: Path, jp_fetch: Fetch, jp_ws_fetch: Fetch
    ) -> None:
        # What /etc/profile does on a Debian or Ubuntu image: PATH set from scratch.
        (aws_home / ".profile").write_text("PATH=/usr/bin:/bin\nexport PATH\n")
        created = await jp_fetch("api", "terminals", method="POST", body="")
        name = json.loads(created.body)["name"]
        socket = await jp_ws_fetch("terminals", "websocket", name)
        bindir = str(Path(sys.executable).parent)
        try:
            socket.write_message(json.dumps(["stdin", 'echo "AT=$(command -v jupyter)."\r']))
            seen = ""
            while f"AT={bindir}/jupyter." not in seen:
                assert "AT=." not in seen and "AT=/usr" not in seen, seen[-2000:]
                message = await asyncio.wait_for(socket.read_message(), timeout=30)
                assert message is not None, seen[-2000:]
                kind, *content = json.loads(message)
                if kind == "stdout":
                    seen += content[0]
        finally:
            socket.close()
            await jp_fetch("api", "terminals", name, method="DELETE")


# ---- issue 17, point 8: the status route and the server's loop -----------------------------------


def _big_config(path: Path, emu: Emulator, profiles: int = 3000, sessions: int = 100) -> None:
    lines = []
    for n in range(sessions):
        lines += [
            f"[sso-session s{n}]",
            f"sso_start_url = {emu.start_url}",
            f"sso_region = {emu.region}",
            "sso_registration_scopes = sso:account:access",
            "",
        ]
    for n in range(profiles):
        lines += [
            f"[profile p{n}]",
            f"sso_session = s{n % sessions}",
            f"sso_account_id = {111111111111 + n}",
            "sso_role_name = ReadOnly",
            "region = us-east-1",
            "output = json",
            "",
        ]
    path.write_text("\n".join(lines))


class Ticker:
    """How late the loop wakes a 2 ms sleep: what every other request of the server waits."""

    def __init__(self) -> None:
        self.lateness: list[float] = []
        self._running = True
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while self._running:
            began = loop.time()
            await asyncio.sleep(0.002)
            self.lateness.append(loop.time() - began - 0.002)

    async def stop(self) -> dict[str, float]:
        self._running = False
        await self._task
        late = sorted(self.lateness)
        return {
            "median": statistics.median(late) * 1e3,
            "p95": late[int(len(late) * 0.95)] * 1e3,
            "max": late[-1] * 1e3,
            "ticks": len(late),
        }


def _figures(name: str, figures: dict[str, float]) -> str:
    return (
        f"{name}: loop lateness median {figures['median']:.1f} ms, p95 {figures['p95']:.1f} ms, "
        f"max {figures['max']:.1f} ms over {figures['ticks']:.0f} ticks"
    )


@served
async def test_status_keeps_the_loop_responsive_with_3000_profiles(
    api: Api, aws_home: Path, emu: Emulator, jp_serverapp: Any
) -> None:
    # A first call with the small config: what a first request costs (authentication, the
    # worker thread) is not what this test is about.
    assert (await api("GET", "status"))[0] == 200
    config = aws_home / ".aws" / "config"
    _big_config(config, emu)
    began = time.perf_counter()
    _status.load_aws_config()
    parse_ms = (time.perf_counter() - began) * 1e3  # what each call cost the loop before

    # 1. The status work itself (what the handler awaits), 3 at a time, a changed file
    # between rounds: parsed in a child process, cache entries read in a thread.
    reader = _status.StatusReader()
    now = datetime.now(timezone.utc)
    ticker = Ticker()
    for round_ in range(3):
        await asyncio.gather(*(reader.sign_ins(now) for _ in range(3)))
        with config.open("a") as handle:
            handle.write(f"\n[profile extra{round_}]\nsso_session = s0\n")
    work = await ticker.stop()
    assert reader.parses == 3, reader.parses  # once per change, not once per call

    # 2. Through the server: status calls, 4 at a time, the file changed once.
    server_reader = jp_serverapp.web_app.settings["ssooidc_status"]
    parses = server_reader.parses
    ticker = Ticker()
    took = []
    for round_ in range(8):
        if round_ == 4:
            with config.open("a") as handle:
                handle.write("\n[profile extra]\nsso_session = s0\n")
        began = time.perf_counter()
        replies = await asyncio.gather(*(api("GET", "status") for _ in range(4)))
        took.append((time.perf_counter() - began) * 1e3)
        assert all(code == 200 for code, _ in replies)
    served_ = await ticker.stop()
    _, status = await api("GET", "status")
    assert len(status["sessions"]) == 100
    assert sum(len(entry["profiles"]) for entry in status["sessions"]) == 3004
    assert server_reader.parses - parses == 2  # the first call after each change
    print(
        f"\nparse of the 3,000-profile config: {parse_ms:.0f} ms (on the loop at every call "
        f"before)\n{_figures('status work (child parse, thread reads)', work)}\n"
        f"{_figures('status calls through the server', served_)}; 4 concurrent calls "
        f"{statistics.median(took):.0f} ms (median)"
    )
    # Most ticks are on time (the figure, p95 and max, is printed above and reported; an
    # absolute p95 bound failed on a CI-like machine whose other core ran other tests).
    assert work["median"] < 10, _figures("status work", work)
    # The parse itself never runs on the loop: no tick waits anything like it.
    assert work["max"] < parse_ms / 2, _figures("status work", work)
    # Through HTTP the loop also runs the requests themselves (and the test's client) on a
    # shared machine, so only the median is held to 10 ms: before, most ticks waited a whole
    # parse (about 200 ms to 1 s), so the median was that.
    assert served_["median"] < 10, _figures("status calls", served_)
