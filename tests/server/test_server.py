"""The Jupyter server extension through a real Jupyter server (pytest-jupyter) and the
emulator: every route, the server's own authentication and XSRF checks, 400s for bad bodies,
and no issued secret in any response body."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_core.utils import ensure_event_loop

import ssooidc_jupyter as sj
from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture

pytest_plugins = ["pytest_jupyter.jupyter_server"]

Fetch = Callable[..., Awaitable[Any]]
Test = Callable[..., Awaitable[None]]


def served(test: Test) -> Callable[..., None]:
    """Run an async test on the Jupyter server's loop (pytest-jupyter's), not on
    pytest-asyncio's: the server, its handlers and their tasks all live on that one loop."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        ensure_event_loop().run_until_complete(test(*args, **kwargs))

    return run


LEGACY_URL = "https://legacy-portal.awsapps.com/start"


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    # The device flow unless a test asks for PKCE (a loopback server defaults to PKCE).
    return {
        "ServerApp": {"jpserver_extensions": {"ssooidc_jupyter": True}},
        "SSOOIDC": {"flow": "device"},
    }


emu = emulator_fixture(interval=0.1, auto_approve=None)


#: Also over TLS: the emulator's private CA is then trusted through the profiles' ca_bundle
#: alone (aws_home), the setting a user behind a company proxy writes for the AWS CLI.
OVER_TLS_TOO = pytest.mark.parametrize("emu", ["http", "https"], indirect=True)


@pytest.fixture
def aws_home(
    jp_environ: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emu: Emulator
) -> Path:
    """HOME with an AWS config naming the emulator (set after pytest-jupyter's own HOME)."""
    home = tmp_path / "aws-home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(
        f"[sso-session dev]\nsso_start_url = {emu.start_url}\nsso_region = {emu.region}\n"
        "sso_registration_scopes = sso:account:access\n\n"
        "[profile dev-admin]\nsso_session = dev\nsso_account_id = 111111111111\n"
        "sso_role_name = ReadOnly\n\n"
        f"[profile legacy]\nsso_start_url = {LEGACY_URL}\nsso_region = {emu.region}\n"
        "sso_account_id = 111111111111\nsso_role_name = Admin\n"
    )
    if emu.ca_file is not None:
        # Over TLS: only the profiles' ca_bundle trusts the emulator's CA (the sign-in's
        # profile; [default] for a sign-in to an sso-session alone, as botocore's).
        config = home / ".aws" / "config"
        text = config.read_text().replace(
            "[profile dev-admin]\n", f"[profile dev-admin]\nca_bundle = {emu.ca_file}\n"
        )
        config.write_text(f"{text}\n[default]\nca_bundle = {emu.ca_file}\n")
        monkeypatch.delenv("AWS_CA_BUNDLE")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    return home


class Api:
    """Calls the routes; keeps every body it saw for the secrets check."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self.bodies: list[str] = []

    async def __call__(
        self, method: str, *path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        if isinstance(body, (dict, list)):
            payload: str | None = json.dumps(body)
        else:
            payload = body
        if payload is None and method == "POST":
            payload = ""
        response = await self._fetch(
            "ssooidc",
            "api",
            *path,
            method=method,
            body=payload,
            headers=headers,
            raise_error=False,
        )
        text = response.body.decode()
        self.bodies.append(text)
        if not text or not response.headers.get("Content-Type", "").startswith("application/json"):
            return response.code, text or None  # a 404 of no route is an HTML page
        return response.code, json.loads(text)

    async def wait_state(self, login_id: str, *states: str, timeout: float = 5.0) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            code, data = await self("GET", "login", login_id)
            assert code == 200
            if data["state"] in states or loop.time() > deadline:
                return data
            await asyncio.sleep(0.05)


@pytest.fixture
def api(aws_home: Path, jp_fetch: Fetch, emu: Emulator) -> Iterator[Api]:
    api = Api(jp_fetch)
    yield api
    issued = emu.secrets
    assert issued, "the emulator issued nothing: the secrets check would prove nothing"
    for body in api.bodies:
        for secret in issued:
            assert secret not in body


def cache_file(home: Path, name: str) -> Path:
    return (
        home
        / ".aws"
        / "sso"
        / "cache"
        / (hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest() + ".json")
    )


@served
async def test_status_lists_sso_sessions_and_legacy_start_urls(api: Api, emu: Emulator) -> None:
    code, data = await api("GET", "status")
    assert code == 200
    assert data["pending"] == [] and data["config_error"] is None
    by_name = {entry["name"]: entry for entry in data["sessions"]}
    assert by_name["dev"] == {
        "name": "dev",
        "kind": "sso-session",
        "start_url": emu.start_url,
        "region": emu.region,
        "state": "signed_out",
        "expires_at": None,
        "profiles": ["dev-admin"],
        "login": {"session_name": "dev"},
        "error": None,
        "pending": None,
    }
    assert by_name["legacy"]["kind"] == "profile"
    assert by_name["legacy"]["login"] == {"profile": "legacy"}
    assert by_name["legacy"]["start_url"] == LEGACY_URL
    assert len(data["sessions"]) == 2


@served
async def test_status_reports_a_broken_config_file(api: Api, aws_home: Path) -> None:
    (aws_home / ".aws" / "config").write_text("[sso-session dev\nsso_region = us-east-1\n")
    code, data = await api("GET", "status")
    assert code == 200
    assert data["sessions"] == []
    assert "config" in data["config_error"]


@served
async def test_status_lists_as_signable_only_what_sign_in_accepts(
    api: Api, emu: Emulator, aws_home: Path
) -> None:
    """Issue 16: the status route judges each entry of ~/.aws/config by the sign-in's own
    resolution, so an entry POST /login refuses (a region of no partition, a start URL a
    sign-in refuses, an inline comment botocore would keep in the value) is listed with the
    very message the sign-in answers, and no cache key; the valid ones are untouched."""
    config = aws_home / ".aws" / "config"
    config.write_text(
        config.read_text()
        + "\n[sso-session typo]\nsso_start_url = https://typo.awsapps.com/start\n"
        + "sso_region = us-est-1\n"
        + "\n[sso-session plain]\nsso_start_url = http://portal.example.com/start\n"
        + "sso_region = us-east-1\n"
        + "\n[profile commented]\nsso_start_url = https://old.awsapps.com/start\n"
        + "sso_region = us-east-1 # production\n"
    )
    _code, status = await api("GET", "status")
    by_name = {entry["name"]: entry for entry in status["sessions"]}
    for body, name in (
        ({"session_name": "typo"}, "typo"),
        ({"session_name": "plain"}, "plain"),
        ({"profile": "commented"}, "commented"),
    ):
        code, refused = await api("POST", "login", body=body)
        assert code == 400, (name, refused)
        entry = by_name[name]
        assert entry["error"] == refused["message"], name
        assert entry["state"] == "signed_out" and entry["pending"] is None
    assert "us-est-1" in by_name["typo"]["error"] and "us-east-1" in by_name["typo"]["error"]
    # What the sign-in accepts is listed as signable, and signs in under the listed entry.
    assert by_name["dev"]["error"] is None and by_name["legacy"]["error"] is None
    code, started = await api("POST", "login", body=by_name["dev"]["login"])
    assert code == 202
    emu.approve(started["user_code"])
    await api.wait_state(started["id"], "signed_in")
    _code, status = await api("GET", "status")
    assert next(e for e in status["sessions"] if e["name"] == "dev")["state"] == "signed_in"


@OVER_TLS_TOO
@served
async def test_sign_in_to_an_sso_session_then_status_and_cache(
    api: Api, emu: Emulator, aws_home: Path
) -> None:
    code, started = await api("POST", "login", body={"session_name": "dev"})
    assert code == 202
    assert started["state"] == "pending" and started["flow"] == "device"
    assert started["user_code"] in emu.user_codes
    assert started["verification_uri_complete"].startswith(emu.url)
    assert started["verification_uri"] and started["expires_at"]
    assert len(started["id"]) == 32

    code, status = await api("GET", "status")
    assert [p["id"] for p in status["pending"]] == [started["id"]]
    # A second POST for the same sign-in joins the pending one.
    code, again = await api("POST", "login", body={"profile": "dev-admin"})
    assert again["id"] == started["id"]

    emu.approve(started["user_code"])
    done = await api.wait_state(started["id"], "signed_in", timeout=0.1 + 2)
    assert done["state"] == "signed_in" and done["signed_in_until"]
    assert cache_file(aws_home, "dev").is_file()

    code, status = await api("GET", "status")
    dev = next(entry for entry in status["sessions"] if entry["name"] == "dev")
    assert dev["state"] == "signed_in" and dev["expires_at"] == done["signed_in_until"]
    assert status["pending"] == []

    # Signed in: another sign-in is answered from the cache, with zero requests.
    before = len(emu.requests)
    code, cached = await api("POST", "login", body={"session_name": "dev"})
    assert cached["state"] == "signed_in" and cached["user_code"] is None
    assert len(emu.requests) == before


@served
async def test_sign_in_by_start_url_and_region_then_cancel(api: Api, emu: Emulator) -> None:
    body = {"start_url": emu.start_url, "region": emu.region, "endpoint": emu.url}
    code, started = await api("POST", "login", body=body)
    assert code == 202 and started["state"] == "pending" and started["name"] is None
    code, cancelled = await api("DELETE", "login", started["id"])
    assert code == 200 and cancelled["state"] == "cancelled"
    done = await api.wait_state(started["id"], "cancelled")
    assert done["state"] == "cancelled"
    polls = [r["operation"] for r in emu.requests].count("CreateToken")
    await asyncio.sleep(0.3)  # three polling intervals: nobody polls any more
    assert [r["operation"] for r in emu.requests].count("CreateToken") == polls
    code, status = await api("GET", "status")
    assert status["pending"] == []


@served
async def test_signed_in_by_start_url_shows_in_status(api: Api, emu: Emulator) -> None:
    code, started = await api(
        "POST", "login", body={"start_url": emu.start_url, "region": emu.region}
    )
    assert code == 202
    emu.approve(started["user_code"])
    assert (await api.wait_state(started["id"], "signed_in"))["state"] == "signed_in"
    code, status = await api("GET", "status")
    assert code == 200
    extra = [entry for entry in status["sessions"] if entry["kind"] == "start-url"]
    assert [entry["state"] for entry in extra] == ["signed_in"]
    assert extra[0]["login"] == {"start_url": emu.start_url, "region": emu.region}


@OVER_TLS_TOO
@served
async def test_denied_sign_in(api: Api, emu: Emulator) -> None:
    code, started = await api("POST", "login", body={"profile": "dev-admin"})
    assert code == 202
    emu.deny(started["user_code"])
    done = await api.wait_state(started["id"], "denied")
    assert done["state"] == "denied" and done["message"]


@served
async def test_sign_in_that_cannot_reach_the_service_fails_with_a_message(
    api: Api, emu: Emulator
) -> None:
    code, started = await api(
        "POST",
        "login",
        body={"start_url": emu.start_url, "region": emu.region, "endpoint": "http://127.0.0.1:9"},
    )
    assert code == 502
    assert started["state"] == "failed" and "127.0.0.1:9" in started["message"]


@served
async def test_logout_ends_the_portal_session_and_removes_the_cache_entry(
    api: Api, emu: Emulator, aws_home: Path
) -> None:
    code, started = await api("POST", "login", body={"session_name": "dev"})
    emu.approve(started["user_code"])
    await api.wait_state(started["id"], "signed_in")
    assert cache_file(aws_home, "dev").is_file()

    code, result = await api("POST", "logout", body={"session_name": "dev"})
    assert code == 200
    assert result["portal_logout"] is True and result["state"] == "signed_out"
    assert "Logout" in [r["operation"] for r in emu.requests]
    assert not cache_file(aws_home, "dev").exists()
    code, status = await api("GET", "status")
    dev = next(entry for entry in status["sessions"] if entry["name"] == "dev")
    assert dev["state"] == "signed_out"

    # Signed out already: nothing to do, still 200.
    code, result = await api("POST", "logout", body={"profile": "dev-admin"})
    assert code == 200 and result["portal_logout"] is False


@served
async def test_logout_cancels_a_pending_sign_in(api: Api) -> None:
    code, started = await api("POST", "login", body={"session_name": "dev"})
    code, _ = await api("POST", "logout", body={"session_name": "dev"})
    assert code == 200
    assert (await api.wait_state(started["id"], "cancelled"))["state"] == "cancelled"


BAD_BODIES = [
    pytest.param("{not json", "not JSON", id="not JSON"),
    pytest.param([], "JSON object", id="a list"),
    pytest.param({}, "exactly one", id="empty object"),
    pytest.param({"profile": "a", "session_name": "b"}, "exactly one", id="two names"),
    pytest.param({"start_url": "https://x.awsapps.com/start"}, "region", id="no region"),
    pytest.param({"region": "us-east-1"}, "exactly one", id="region alone"),
    pytest.param({"profile": "dev-admin", "password": "x"}, "password", id="unknown key"),
    pytest.param({"profile": 3}, "profile must be", id="not a string"),
    pytest.param({"profile": "nope"}, "nope", id="no such profile"),
    pytest.param({"session_name": "nope"}, "nope", id="no such session"),
    pytest.param(
        {"start_url": "https://x.awsapps.com/start", "region": "us east 1"},
        "region",
        id="bad region",
    ),
    pytest.param({"start_url": "ftp://x%20y", "region": "us-east-1"}, "ftp", id="bad URL"),
    pytest.param({"profile": "dev-admin", "endpoint": "not a url"}, "endpoint", id="endpoint"),
]


@pytest.mark.parametrize("route", ["login", "logout"])
@pytest.mark.parametrize(("body", "says"), BAD_BODIES)
@served
async def test_bad_bodies_are_answered_400_with_a_message(
    api: Api, route: str, body: Any, says: str
) -> None:
    code, data = await api("POST", route, body=body)
    assert code == 400
    assert says in data["message"]


@served
async def test_force_is_checked(api: Api) -> None:
    code, data = await api("POST", "login", body={"profile": "dev-admin", "force": "yes"})
    assert code == 400 and "force" in data["message"]
    code, data = await api("POST", "logout", body={"profile": "dev-admin", "force": True})
    assert code == 400 and "force" in data["message"]


@served
async def test_unknown_sign_in_is_404(api: Api) -> None:
    for method in ("GET", "DELETE"):
        code, data = await api(method, "login", "0" * 32)
        assert code == 404 and "No such sign-in" in data["message"]


ROUTES = [
    ("GET", ("status",), None),
    ("POST", ("login",), {"session_name": "dev"}),
    ("GET", ("login", "0" * 32), None),
    ("DELETE", ("login", "0" * 32), None),
    ("POST", ("logout",), {"session_name": "dev"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@served
async def test_unauthenticated_requests_are_refused(
    api: Api, emu: Emulator, method: str, path: tuple[str, ...], body: Any
) -> None:
    code, _ = await api(method, *path, body=body, headers={"Authorization": ""})
    assert code == 403
    assert emu.requests == []


async def _login_cookie(api: Api) -> str:
    """A browser's login cookie: what a token-authenticated request sets."""
    response = await api._fetch("ssooidc", "api", "status", raise_error=False)
    cookies = response.headers.get_list("Set-Cookie")
    assert cookies, "a token-authenticated request sets the login cookie"
    return "; ".join(cookie.split(";", 1)[0] for cookie in cookies)


@pytest.mark.parametrize(("method", "path", "body"), [r for r in ROUTES if r[0] != "GET"])
@served
async def test_cross_site_writes_are_refused(
    api: Api, emu: Emulator, method: str, path: tuple[str, ...], body: Any
) -> None:
    cookie = await _login_cookie(api)
    # The browser sends the cookie but a cross-site page cannot read or send the XSRF token.
    code, _ = await api(method, *path, body=body, headers={"Authorization": "", "Cookie": cookie})
    assert code == 403
    assert emu.requests == []
    # Same cookie with the XSRF token (as JupyterLab sends it): past the check.
    xsrf = "0123456789abcdef"
    headers = {"Authorization": "", "Cookie": f"{cookie}; _xsrf={xsrf}", "X-XSRFToken": xsrf}
    code, _ = await api(method, *path, body=["bad body"] if body else None, headers=headers)
    assert code in (400, 404)


def test_importing_the_extension_is_cheap() -> None:
    code = (
        "import sys, ssooidc_jupyter.server as s;"
        "print(s._load_jupyter_server_extension.__name__);"
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'tornado', 'jupyter_server', 'httpx', 'filelock', 'asyncio'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[:2] == ["_load_jupyter_server_extension", "[]"]


def test_extension_points() -> None:
    import ssooidc_jupyter

    points = ssooidc_jupyter._jupyter_server_extension_points()
    assert points == [{"module": "ssooidc_jupyter.server"}]


# ---- PKCE through the server's callback route ------------------------------------------------


async def _follow(fetch: Fetch, location: str, headers: dict[str, str] | None = None) -> Any:
    """The browser following the authorization page's redirect to our callback route."""
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(location)
    assert parts.path.endswith("/ssooidc/oauth/callback")
    return await fetch(
        "ssooidc",
        "oauth",
        "callback",
        params=dict(parse_qsl(parts.query)),
        headers=headers,
        raise_error=False,
        follow_redirects=False,
    )


async def _start_pkce(api: Api, body: dict[str, Any]) -> Any:
    code, started = await api("POST", "login", body={**body, "flow": "pkce"})
    assert code == 202, started
    assert started["flow"] == "pkce" and started["user_code"] is None
    return started


@served
async def test_pkce_sign_in_through_the_callback_route(
    api: Api, emu: Emulator, jp_fetch: Fetch, aws_home: Path
) -> None:
    started = await _start_pkce(api, {"session_name": "dev"})
    url = started["verification_uri_complete"]
    assert url.startswith(f"{emu.url}/authorize?") and "code_challenge_method=S256" in url
    assert "ssooidc%2Foauth%2Fcallback" in url
    location = await asyncio.to_thread(emu.consent, url)
    response = await _follow(jp_fetch, location)
    assert response.code == 200 and b'data-outcome="accepted"' in response.body
    done = await api.wait_state(started["id"], "signed_in")
    assert done["state"] == "signed_in"
    assert cache_file(aws_home, "dev").is_file()
    # The same redirect again (a replay): refused, nothing changes.
    replay = await _follow(jp_fetch, location)
    assert replay.code == 400 and b'data-outcome="refused"' in replay.body
    api.bodies += [response.body.decode(), replay.body.decode()]


@served
async def test_pkce_forged_callbacks_are_refused(api: Api, emu: Emulator, jp_fetch: Fetch) -> None:
    started = await _start_pkce(api, {"start_url": emu.start_url, "region": emu.region})
    location = await asyncio.to_thread(emu.consent, started["verification_uri_complete"])
    forged = await _follow(jp_fetch, location.replace("state=", "state=forged"))
    assert forged.code == 400
    # Not signed in: the browser has no Jupyter cookie or token.
    anonymous = await _follow(jp_fetch, location, headers={"Authorization": ""})
    assert anonymous.code in (302, 403)
    code, login = await api("GET", "login", started["id"])
    assert code == 200 and login["state"] == "pending"
    assert (await _follow(jp_fetch, location)).code == 200
    assert (await api.wait_state(started["id"], "signed_in"))["state"] == "signed_in"


@served
async def test_pkce_denied(api: Api, emu: Emulator, jp_fetch: Fetch) -> None:
    started = await _start_pkce(api, {"profile": "dev-admin"})
    location = await asyncio.to_thread(
        emu.consent, started["verification_uri_complete"], approve=False
    )
    assert (await _follow(jp_fetch, location)).code == 200
    done = await api.wait_state(started["id"], "denied")
    assert done["state"] == "denied"


@served
async def test_flow_is_checked(api: Api) -> None:
    code, data = await api("POST", "login", body={"profile": "dev-admin", "flow": "implicit"})
    assert code == 400 and "flow" in data["message"]
    code, data = await api("POST", "logout", body={"profile": "dev-admin", "flow": "pkce"})
    assert code == 400 and "flow" in data["message"]


@served
async def test_the_server_resolves_the_context_login_and_the_magic_resolve(
    api: Api, emu: Emulator, jp_serverapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16: one resolution. The server's sign-in for a body naming a profile has the
    context ``resolve_login`` gives login() and the magic for the same profile: both
    endpoints (the portal's apart, from AWS_ENDPOINT_URL_SSO), start URL, region, scopes,
    flow and cache keys."""
    from ssooidc_jupyter.auth._context import resolve_login
    from ssooidc_jupyter.notebook._source import Source, resolve_source

    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", emu.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", emu.url + "/portal-apart")
    code, started = await api("POST", "login", body={"profile": "dev-admin"})
    assert code == 202, started
    server = jp_serverapp.web_app.settings["ssooidc_logins"].get(started["id"]).context
    for other in (resolve_login(profile="dev-admin"), resolve_source(Source(profile="dev-admin"))):
        for context in (server, other):
            assert (context.endpoint, context.portal_endpoint) == (
                emu.url,
                emu.url + "/portal-apart",
            )
        assert server.request == other.request
        assert server.flow == other.flow == "device"
        assert server.slot.token_key == other.slot.token_key
        assert server.slot.registration_key == other.slot.registration_key
    emu.approve(started["user_code"])
    assert (await api.wait_state(started["id"], "signed_in"))["state"] == "signed_in"


@served
async def test_a_bad_flow_gets_the_validators_message(api: Api, emu: Emulator) -> None:
    from ssooidc_jupyter.oidc._values import validate_flow

    with pytest.raises(sj.ConfigurationError) as expected:
        validate_flow("implicit")
    code, data = await api("POST", "login", body={"profile": "dev-admin", "flow": "implicit"})
    assert (code, data["message"]) == (400, str(expected.value))
    code, started = await api("POST", "login", body={"profile": "dev-admin"})
    emu.approve(started["user_code"])  # the secrets check needs something issued
    await api.wait_state(started["id"], "signed_in")


class TestDefaults:
    """No SSOOIDC config on a loopback server: PKCE by default; an admin's redirect base."""

    @pytest.fixture
    def jp_server_config(self) -> dict[str, Any]:
        return {
            "ServerApp": {"jpserver_extensions": {"ssooidc_jupyter": True}},
            "SSOOIDC": {"redirect_base_url": "https://hub.example.org/user/ann/"},
        }

    @served
    async def test_loopback_defaults_to_pkce_with_the_admins_redirect(self, api: Api) -> None:
        code, started = await api("POST", "login", body={"session_name": "dev"})
        assert code == 202 and started["flow"] == "pkce"
        assert (
            "redirect_uri=https%3A%2F%2Fhub.example.org%2Fuser%2Fann%2Fssooidc%2Foauth%2Fcallback"
            in started["verification_uri_complete"]
        )
        code, cancelled = await api("DELETE", "login", started["id"])
        assert cancelled["state"] == "cancelled"


@served
async def test_a_terminal_uses_the_servers_sign_in(
    api: Api, emu: Emulator, aws_home: Path, tmp_path: Path
) -> None:
    """What a JupyterLab terminal does: botocore (as the AWS CLI) reads the token the server
    wrote, with no sign-in request."""
    code, started = await api("POST", "login", body={"session_name": "dev"})
    assert code == 202
    emu.approve(started["user_code"])
    assert (await api.wait_state(started["id"], "signed_in"))["state"] == "signed_in"
    before = len(emu.requests)
    script = (
        "import boto3\n"
        "s = boto3.Session(profile_name='dev-admin', region_name='us-east-1')\n"
        "print(s.client('sts').get_caller_identity()['Account'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "111111111111"
    made = [r["operation"] for r in emu.requests[before:]]
    assert "GetRoleCredentials" in made
    assert not {"RegisterClient", "StartDeviceAuthorization", "CreateToken"} & set(made)


class TestTerminal:
    """A real JupyterLab terminal (jupyter_server_terminals: a pty running the user's shell,
    driven over its websocket as the frontend does) uses the sign-in the server made."""

    @pytest.fixture
    def jp_server_config(self) -> dict[str, Any]:
        return {
            "ServerApp": {
                "jpserver_extensions": {"ssooidc_jupyter": True, "jupyter_server_terminals": True},
                "terminals_enabled": True,
            },
            "SSOOIDC": {"flow": "device"},
        }

    @served
    async def test_the_aws_sdk_in_a_terminal_uses_the_servers_sign_in(
        self, api: Api, emu: Emulator, jp_fetch: Fetch, jp_ws_fetch: Fetch
    ) -> None:
        code, started = await api("POST", "login", body={"session_name": "dev"})
        assert code == 202
        emu.approve(started["user_code"])
        assert (await api.wait_state(started["id"], "signed_in"))["state"] == "signed_in"
        before = len(emu.requests)

        created = await jp_fetch("api", "terminals", method="POST", body="")
        name = json.loads(created.body)["name"]
        socket = await jp_ws_fetch("terminals", "websocket", name)
        try:
            command = (
                f"{sys.executable} -c \"import boto3; print('ACCOUNT=' + boto3.Session("
                "profile_name='dev-admin', region_name='us-east-1').client('sts')"
                ".get_caller_identity()['Account'])\"\r"
            )
            socket.write_message(json.dumps(["stdin", command]))
            seen = ""
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while "ACCOUNT=111111111111" not in seen:
                assert loop.time() < deadline, seen[-2000:]
                message = await asyncio.wait_for(socket.read_message(), timeout=60)
                assert message is not None, seen[-2000:]
                kind, *content = json.loads(message)
                if kind == "stdout":
                    seen += content[0]
        finally:
            socket.close()
            await jp_fetch("api", "terminals", name, method="DELETE")
        made = [r["operation"] for r in emu.requests[before:]]
        assert "GetRoleCredentials" in made  # the terminal's boto3 used the cached token
        assert not {"RegisterClient", "StartDeviceAuthorization", "CreateToken"} & set(made)
