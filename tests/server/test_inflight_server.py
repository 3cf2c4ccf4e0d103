"""Issue 20 in the server: ``GET /ssooidc/api/status`` shows each entry's sign-in in progress
(in any process), ``DELETE /ssooidc/api/pending/<key>`` cancels it, and the server's own
sign-in is visible to a script waiting for it. A real Jupyter server (pytest-jupyter), the
emulator, and real second processes."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ssooidc_jupyter.auth._models import token_cache_key
from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture
from tests.server.test_server import Api, Fetch, served

pytest_plugins = ["pytest_jupyter.jupyter_server"]
pytestmark = pytest.mark.timeout(90)

KEY = token_cache_key("dev", "")

# A script that signs in to "dev": prints what it is told, cancels the sign-in it waits for
# (argv[1] == "cancel"), and says when its own prompt is out.
SCRIPT = """
import json, sys
import ssooidc_jupyter
def notice(message):
    print("NOTICE " + json.dumps(str(message)), flush=True)
    if sys.argv[1] == "cancel" and hasattr(message, "pending"):
        print("CANCEL " + json.dumps(ssooidc_jupyter.cancel_pending(session_name="dev")),
              flush=True)
def shown(prompt):
    print("PROMPT " + json.dumps(prompt.user_code), flush=True)
try:
    ssooidc_jupyter.login(session_name="dev", on_prompt=shown, on_notice=notice, timeout=20)
except Exception as exc:
    print("END", type(exc).__name__, exc, flush=True)
"""


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"ssooidc_jupyter": True}},
        "SSOOIDC": {"flow": "device"},
    }


emu = emulator_fixture(interval=0.1, auto_approve=None)


@pytest.fixture
def aws_home(
    jp_environ: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emu: Emulator
) -> Path:
    home = tmp_path / "aws-home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(
        f"[sso-session dev]\nsso_start_url = {emu.start_url}\nsso_region = {emu.region}\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    return home


async def script(mode: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", SCRIPT, mode, stdout=asyncio.subprocess.PIPE
    )


async def line(proc: asyncio.subprocess.Process, prefix: str) -> Any:
    assert proc.stdout is not None
    while True:
        raw = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert raw, f"the script ended before {prefix}"
        text = raw.decode()
        if text.startswith(prefix + " "):
            return json.loads(text[len(prefix) + 1 :])
        assert not text.startswith("END"), text


async def dev_pending(fetch: Fetch) -> Any:
    code, data = await Api(fetch)("GET", "status")
    assert code == 200
    (dev,) = [entry for entry in data["sessions"] if entry["name"] == "dev"]
    return dev["pending"]


@served
async def test_status_shows_a_scripts_pending_sign_in_and_delete_cancels_it(
    aws_home: Path, jp_fetch: Fetch, emu: Emulator
) -> None:
    assert await dev_pending(jp_fetch) is None
    holder = await script("wait")
    try:
        code_shown = await line(holder, "PROMPT")
        pending = await dev_pending(jp_fetch)
        assert pending is not None
        assert set(pending) == {
            "key",
            "flow",
            "user_code",
            "verification_uri",
            "origin",
            "started_at",
            "expires_at",
            "here",
        }
        assert pending["key"] == KEY and pending["flow"] == "device"
        assert pending["user_code"] == code_shown and code_shown in pending["verification_uri"]
        assert pending["origin"] == "script" and pending["here"] is False
        code, _ = await Api(jp_fetch)("DELETE", "pending", KEY)
        assert code == 204
        assert holder.stdout is not None
        end = (await asyncio.wait_for(holder.stdout.readline(), 10)).decode()
        assert end.strip() == "END LoginCancelledError Sign-in cancelled from another process."
        assert await dev_pending(jp_fetch) is None
        code, _ = await Api(jp_fetch)("DELETE", "pending", KEY)
        assert code == 404
        code, _ = await Api(jp_fetch)("DELETE", "pending", "not-a-key")
        assert code == 404  # no such route
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()
    for secret in emu.secrets:
        assert secret not in json.dumps(pending)


@served
async def test_a_script_sees_the_status_bars_pkce_sign_in_and_cancels_it(
    aws_home: Path, jp_fetch: Fetch, emu: Emulator
) -> None:
    code, started = await Api(jp_fetch)(
        "POST", "login", body={"session_name": "dev", "flow": "pkce"}
    )
    assert code == 202 and started["state"] == "pending"
    pending = await dev_pending(jp_fetch)
    assert pending["here"] is True and pending["origin"] == "status bar"
    assert pending["flow"] == "pkce" and pending["verification_uri"] is None
    waiter = await script("cancel")
    try:
        notice = await line(waiter, "NOTICE")
        assert notice.startswith("A sign-in to dev is waiting for approval, started from the ")
        assert (
            "status bar at " in notice
            and ": approve in the browser tab opened from JupyterLab, or cancel it" in notice
        )
        assert await line(waiter, "CANCEL") is True
        await line(waiter, "PROMPT")  # the script took over
        code, data = await Api(jp_fetch)("GET", "login", started["id"])
        assert data["state"] == "cancelled"
        assert data["message"] == "Sign-in cancelled from another process."
        pending = await dev_pending(jp_fetch)
        assert pending is not None and pending["origin"] == "script" and not pending["here"]
    finally:
        if waiter.returncode is None:
            waiter.kill()
        await waiter.wait()


@served
async def test_a_status_bar_sign_in_waiting_for_a_script_answers_at_once(
    aws_home: Path, jp_fetch: Fetch, emu: Emulator
) -> None:
    """POST /login while a script holds the sign-in: answered at once with what it waits
    for (not after the 30 s prompt wait); DELETE of the script's then lets it take over."""
    holder = await script("wait")
    try:
        code_shown = await line(holder, "PROMPT")
        loop = asyncio.get_running_loop()
        began = loop.time()
        code, started = await Api(jp_fetch)("POST", "login", body={"session_name": "dev"})
        took = loop.time() - began
        assert code == 202 and started["state"] == "pending", started
        assert took < 2.0, took
        assert started["user_code"] is None
        assert started["waiting"]["origin"] == "script"
        assert started["waiting"]["user_code"] == code_shown
        assert started["message"].startswith(
            "A sign-in to dev is waiting for approval, started from a script at "
        )
        code, _ = await Api(jp_fetch)("DELETE", "pending", KEY)
        assert code == 204
        deadline = loop.time() + 10
        while True:
            code, data = await Api(jp_fetch)("GET", "login", started["id"])
            if data["user_code"] or loop.time() > deadline:
                break
            await asyncio.sleep(0.05)
        assert data["state"] == "pending" and data["user_code"] not in (None, code_shown)
        assert data["waiting"] is None and data["message"] is None
        code, data = await Api(jp_fetch)("DELETE", "login", started["id"])
        assert data["state"] == "cancelled"
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()
