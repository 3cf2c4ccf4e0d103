"""One logout (issue 16, point 3): ``SSOToken.logout`` / ``alogout``, the notebook's
``%ssooidc logout`` and the server's ``POST /ssooidc/api/logout`` all run it, and differ only
in the one explicit choice, ``forget_registration`` (the notebook forgets the client
registration, the server keeps it). Each entry point is observed the same way: the requests
the emulator saw after the sign-in, and the files left in the cache."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from jupyter_core.utils import ensure_event_loop
from traitlets.config import Config

import ssooidc_jupyter as sj
from ssooidc_jupyter.auth._cache import cache_dir
from ssooidc_jupyter.auth._models import token_cache_key
from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture

pytest_plugins = ["pytest_jupyter.jupyter_server"]


def what_logout_did(emu: Emulator, before: int, session_name: str | None) -> dict[str, Any]:
    token_file = cache_dir() / f"{token_cache_key(session_name, emu.start_url)}.json"
    others = [p for p in cache_dir().glob("*.json") if p != token_file]
    return {
        "requests": [(r["operation"], r["status"]) for r in emu.requests[before:]],
        "token": token_file.exists(),
        "registrations": len(others),
    }


def expected(*, forget_registration: bool) -> dict[str, Any]:
    return {
        "requests": [("Logout", 200)],
        "token": False,
        "registrations": 0 if forget_registration else 1,
    }


emu = emulator_fixture(endpoint_env="AWS_ENDPOINT_URL", interval=0.05, auto_approve=0.0)


@pytest.mark.parametrize("forget", [False, True], ids=["keep", "forget"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_library_logout(emu: Emulator, mode: str, forget: bool) -> None:
    token = sj.login(emu.start_url, emu.region, on_prompt=lambda p: None)
    before = len(emu.requests)
    assert what_logout_did(emu, before, None) == {"requests": [], "token": True, "registrations": 1}
    if mode == "sync":
        with token:
            token.logout(forget_registration=forget)
    else:

        async def run() -> None:
            async with token:
                await token.alogout(forget_registration=forget)

        asyncio.run(run())
    assert what_logout_did(emu, before, None) == expected(forget_registration=forget)


def test_the_notebook_logout_forgets_the_registration(emu: Emulator) -> None:
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    try:
        ip.run_line_magic("load_ext", "ssooidc_jupyter")
        with capture_output():
            ip.run_line_magic(
                "ssooidc", f"login --start-url {emu.start_url} --region {emu.region} --wait"
            )
        before = len(emu.requests)
        with capture_output():
            ip.run_line_magic("ssooidc", "logout")
        assert what_logout_did(emu, before, None) == expected(forget_registration=True)
    finally:
        ip.run_line_magic("unload_ext", "ssooidc_jupyter")
        InteractiveShell.clear_instance()


def test_the_notebook_logs_out_an_expired_entry_too(emu: Emulator) -> None:
    """An expired cache entry (its refresh token may still be alive) goes through the same
    logout: the portal is told, and the files go."""
    token = sj.login(emu.start_url, emu.region, on_prompt=lambda p: None)
    emu.expire_access_token(token.access_token)
    cache = cache_dir() / f"{token_cache_key(None, emu.start_url)}.json"
    entry = json.loads(cache.read_text())
    entry["expiresAt"] = "2020-01-01T00:00:00Z"
    cache.write_text(json.dumps(entry))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    try:
        ip.run_line_magic("load_ext", "ssooidc_jupyter")
        before = len(emu.requests)
        with capture_output():
            ip.run_line_magic(
                "ssooidc", f"logout --start-url {emu.start_url} --region {emu.region}"
            )
        done = what_logout_did(emu, before, None)
        assert [op for op, _ in done["requests"]] == ["Logout"]
        assert (done["token"], done["registrations"]) == (False, 0)
    finally:
        ip.run_line_magic("unload_ext", "ssooidc_jupyter")
        InteractiveShell.clear_instance()


# ---- the server -------------------------------------------------------------------------------

Fetch = Callable[..., Awaitable[Any]]


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"ssooidc_jupyter": True}},
        "SSOOIDC": {"flow": "device"},
    }


def test_the_server_logout_keeps_the_registration(
    jp_environ: None,
    jp_fetch: Fetch,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    emu: Emulator,
) -> None:
    home = tmp_path / "server-home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(
        f"[sso-session dev]\nsso_start_url = {emu.start_url}\nsso_region = {emu.region}\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))

    async def call(method: str, *path: str, body: Any = None) -> Any:
        response = await jp_fetch(
            "ssooidc", "api", *path, method=method, body=None if body is None else json.dumps(body)
        )
        return json.loads(response.body.decode())

    async def run() -> dict[str, Any]:
        started = await call("POST", "login", body={"session_name": "dev"})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while (await call("GET", "login", started["id"]))["state"] != "signed_in":
            assert loop.time() < deadline, "the sign-in did not finish"
            await asyncio.sleep(0.05)
        before = len(emu.requests)
        result = await call("POST", "logout", body={"session_name": "dev"})
        assert result["portal_logout"] is True
        return what_logout_did(emu, before, "dev")

    done = ensure_event_loop().run_until_complete(run())
    assert done == expected(forget_registration=False)
