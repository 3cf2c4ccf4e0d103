"""The status pushed on jupyter_server's event bus: a change made by ANY process (here a
separate Python process writing the token cache, as a kernel or ``aws sso login`` does), a
config edit, and a token reaching its expiry each emit one event, with no secret in it; the
callback page after Deny says it was denied; broken config entries say what to fix."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.server._events import STATUS_SCHEMA_ID
from tests.server.test_server import (  # the fixtures and helpers of the server's own tests
    Api,
    Fetch,
    _follow,
    _start_pkce,
    api,
    aws_home,
    emu,
    jp_server_config,
    served,
)

__all__ = ["api", "aws_home", "emu", "jp_server_config"]

pytest_plugins = ["pytest_jupyter.jupyter_server"]

# A separate process writes a token to the shared cache: what a kernel's sign-in leaves.
_WRITE_TOKEN = """
import sys
from datetime import datetime, timedelta, timezone
from ssooidc_jupyter.auth._cache import TokenCache
from ssooidc_jupyter.auth._models import CachedToken, token_cache_key
url, region, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
expires = datetime.now(timezone.utc) + timedelta(seconds=seconds)
token = CachedToken(start_url=url, region=region, access_token="at-written-elsewhere",
                    expires_at=expires)
TokenCache().save_token(token_cache_key("dev", url), token)
"""


class Events:
    """Our events as the event bus delivers them to a listener (as to a websocket)."""

    def __init__(self, serverapp: Any) -> None:
        self.seen: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        serverapp.event_logger.add_listener(schema_id=STATUS_SCHEMA_ID, listener=self._listen)

    async def _listen(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        self.seen.append(dict(data))
        self._arrived.set()

    async def next(self, reason: str, timeout: float = 5.0) -> float:
        """Wait for an event with ``reason``; the seconds it took."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        async with asyncio.timeout(timeout):
            while not any(event["reason"] == reason for event in self.seen):
                self._arrived.clear()
                await self._arrived.wait()
        return loop.time() - start


async def _watching(serverapp: Any) -> None:
    """Until the watcher is started (it starts with the loop, after the server's setup)."""
    events = serverapp.web_app.settings["ssooidc_events"]
    while not events._tasks:
        await asyncio.sleep(0.01)
    # inotify is armed in the watcher's thread a moment after the task starts.
    await asyncio.sleep(0.3)


@served
async def test_a_token_written_by_another_process_is_pushed(
    api: Api, emu: Emulator, jp_serverapp: Any, aws_home: Path
) -> None:
    events = Events(jp_serverapp)
    await _watching(jp_serverapp)
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WRITE_TOKEN, emu.start_url, emu.region, "3600"
    )
    assert await writer.wait() == 0
    took = await events.next("cache")
    assert took < 1.0
    _code, status = await api("GET", "status")
    dev = next(s for s in status["sessions"] if s["name"] == "dev")
    assert dev["state"] == "signed_in"
    # No refresh token: the session ends with the access token.
    assert dev["session_ends_at"] == dev["expires_at"]
    # Only the reason travels: no token, no path.
    assert all(
        set(event)
        <= {"reason", "__timestamp__", "__schema__", "__schema_version__", "__metadata_version__"}
        for event in events.seen
    )
    assert "at-written-elsewhere" not in json.dumps(events.seen)


@served
async def test_an_expiry_is_pushed_without_anyone_polling(
    api: Api, emu: Emulator, jp_serverapp: Any, aws_home: Path
) -> None:
    events = Events(jp_serverapp)
    await _watching(jp_serverapp)
    # Expires 2 s after its advisory window (15 min) begins: the state changes by itself then.
    seconds = str(15 * 60 + 2)
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WRITE_TOKEN, emu.start_url, emu.region, seconds
    )
    assert await writer.wait() == 0
    await events.next("cache")
    _, status = await api("GET", "status")
    assert next(s for s in status["sessions"] if s["name"] == "dev")["state"] == "signed_in"
    await events.next("expiry", timeout=6.0)
    _code, status = await api("GET", "status")
    assert next(s for s in status["sessions"] if s["name"] == "dev")["state"] == "expiring"


@served
async def test_a_config_edit_is_pushed_and_broken_entries_say_what_to_fix(
    api: Api, jp_serverapp: Any, aws_home: Path
) -> None:
    events = Events(jp_serverapp)
    await _watching(jp_serverapp)
    config = aws_home / ".aws" / "config"
    config.write_text(
        config.read_text()
        + "\n[sso-session noregion]\nsso_start_url = https://x.awsapps.com/start\n"
        + "\n[profile orphan]\nsso_session = gone\nsso_account_id = 1\nsso_role_name = R\n"
    )
    await events.next("config")
    _code, status = await api("GET", "status")
    by_name = {s["name"]: s for s in status["sessions"]}
    noregion = by_name["noregion"]["error"]
    assert "[sso-session noregion]" in noregion and "has no sso_region" in noregion
    assert "None" not in noregion and "`" not in noregion
    gone = by_name["gone"]["error"]
    assert "orphan" in gone and "no [sso-session gone] section" in gone
    # The valid entries are untouched.
    assert by_name["dev"]["error"] is None


@served
async def test_a_server_sign_in_is_pushed(api: Api, emu: Emulator, jp_serverapp: Any) -> None:
    events = Events(jp_serverapp)
    await _watching(jp_serverapp)
    _code, started = await api("POST", "login", body={"session_name": "dev"})
    await events.next("login")
    emu.approve(started["user_code"])
    await api.wait_state(started["id"], "signed_in")
    await events.next("cache")


@served
async def test_the_callback_page_after_deny_says_denied(
    api: Api, emu: Emulator, jp_fetch: Fetch
) -> None:
    started = await _start_pkce(api, {"session_name": "dev"})
    location = await asyncio.to_thread(
        emu.consent, started["verification_uri_complete"], approve=False
    )
    page = await _follow(jp_fetch, location)
    body = page.body.decode()
    assert page.code == 200 and 'data-outcome="denied"' in body
    assert "You denied the sign-in" in body and "back in Jupyter" not in body
    assert (await api.wait_state(started["id"], "denied"))["state"] == "denied"


def test_out_of_inotify_instances_the_watch_polls_and_still_sees_a_change(tmp_path: Path) -> None:
    """inotify's per-user instance limit (128 by default, shared by every process of the
    user) makes watchfiles fail with EMFILE: the watch then polls instead of giving up, and
    the polling watch still sees a file written."""
    import threading

    import watchfiles

    from ssooidc_jupyter.server import _events

    emfile = OSError("Error creating recommended watcher: Too many open files (os error 24)")
    assert _events._fall_back(tmp_path, emfile, False) is True
    assert _events._fall_back(tmp_path, OSError("gone"), False) is False
    stop = threading.Event()
    threading.Timer(0.5, lambda: (tmp_path / "token.json").write_text("{}")).start()
    seen = []
    for changes in watchfiles.watch(
        tmp_path,
        stop_event=stop,
        rust_timeout=5000,
        yield_on_timeout=True,
        **_events._polling(True),
    ):
        seen.extend(Path(path).name for _, path in changes)
        break
    assert "token.json" in seen


def test_a_watching_server_stops_on_sigterm(tmp_path: Path) -> None:
    """SIGTERM stops a server whose status watch runs. With ``watchfiles.awatch`` the watch
    ran in anyio's worker threads (not daemons, released only when their task ends); the
    server closed its loop with the watch pending and the interpreter waited for them
    forever: JupyterHub's stop, ``make demo``'s Ctrl-C and every test's teardown hung."""
    import os
    import signal
    import socket
    import subprocess
    import urllib.request

    from tests._support import wait_for

    home = tmp_path / "home"
    (home / ".aws" / "sso" / "cache").mkdir(parents=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
         f"--port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=t",
         f"--ServerApp.root_dir={tmp_path}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/ssooidc/api/status?token=t"

        def watching() -> bool:
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    return bool(json.load(answer)["events"])
            except OSError:
                return False

        wait_for(
            lambda: server.poll() is not None or watching(),
            "the server's status route, with its watch",
            timeout=60,
        )
        assert server.poll() is None, "the server exited before SIGTERM"
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError("the server did not exit within 30 s of SIGTERM") from None
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        assert server.stderr is not None
        server.stderr.close()
