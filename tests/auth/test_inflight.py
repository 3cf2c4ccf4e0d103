"""Issue 20: a sign-in in progress is visible to every process that waits for it.

Real processes: a second Python process holds a pending sign-in (its cache lock, its prompt
published in ``.locks/``) against the emulator with nobody approving; this process waits
for it through ``login()`` / ``login_async()`` / the notebook controller and its widget.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ssooidc_jupyter
from ssooidc_jupyter.auth._cache import CacheLockTimeout, TokenCache
from ssooidc_jupyter.auth._inflight import (
    PendingSignIn,
    WaitingNotice,
    pending_path,
    read_pending,
    request_cancel,
)
from ssooidc_jupyter.auth._models import token_cache_key
from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture, wait_for

pytestmark = pytest.mark.timeout(90)

KEY = token_cache_key("dev", "")
CONTRACT_KEYS = {
    "version",
    "key",
    "flow",
    "user_code",
    "verification_uri",
    "origin",
    "started_at",
    "expires_at",
    "pid",
    "host",
    "session_name",
    "start_url",
}

# The other process: signs in to the sso-session "dev" and says when its prompt is out.
HOLDER = """
import json, sys
import ssooidc_jupyter
def shown(prompt):
    sys.stdout.write("PROMPT " + json.dumps({"code": prompt.user_code}) + "\\n")
    sys.stdout.flush()
try:
    ssooidc_jupyter.login(sys.argv[1], sys.argv[2], session_name="dev", flow=sys.argv[3],
                          on_prompt=shown)
    print("END signed_in", flush=True)
except Exception as exc:
    print("END", type(exc).__name__, exc, flush=True)
"""


class Holder:
    """A second Python process holding a pending sign-in."""

    def __init__(self, emu: Emulator, flow: str = "device") -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, emu.start_url, emu.region, flow],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("PROMPT "), line
        self.code: str = json.loads(line[len("PROMPT ") :])["code"]

    def end(self, timeout: float = 15) -> str:
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        self.proc.wait(timeout)
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


#: Nobody approves: the tests decide.
emu = emulator_fixture(endpoint_env="AWS_ENDPOINT_URL", interval=0.1)


@pytest.fixture
def holder(emu: Emulator) -> Iterator[Holder]:
    other = Holder(emu)
    try:
        yield other
    finally:
        other.stop()


class Waiter:
    """``login()`` in a thread of this process, recording what it was told and when."""

    def __init__(self, emu: Emulator, *, approve: bool = True, **kwargs: Any) -> None:
        self.emu = emu
        self.approve = approve
        self.notices: list[tuple[float, str]] = []
        self.prompts: list[tuple[float, Any]] = []
        self.result: Any = None
        self.noticed = threading.Event()
        self.prompted = threading.Event()
        self.started = time.monotonic()
        self.ended_at = 0.0
        self.thread = threading.Thread(target=self._run, kwargs=kwargs, daemon=True)
        self.thread.start()

    def _notice(self, message: str) -> None:
        self.notices.append((time.monotonic() - self.started, message))
        self.noticed.set()

    def _prompt(self, prompt: Any) -> None:
        self.prompts.append((time.monotonic(), prompt))
        self.prompted.set()
        if self.approve:
            self.emu.approve(prompt.user_code)

    def _run(self, **kwargs: Any) -> None:
        try:
            self.result = ssooidc_jupyter.login(
                self.emu.start_url,
                self.emu.region,
                session_name="dev",
                on_notice=self._notice,
                on_prompt=self._prompt,
                **kwargs,
            )
        except BaseException as exc:
            self.result = exc
        self.ended_at = time.monotonic()

    def join(self) -> Any:
        self.thread.join(30)
        assert not self.thread.is_alive()
        return self.result


def test_waiter_shows_the_pending_sign_in_within_a_second(holder: Holder, emu: Emulator) -> None:
    waiter = Waiter(emu)
    assert waiter.noticed.wait(5)
    seconds, notice = waiter.notices[0]
    assert seconds <= 1.0, seconds
    assert isinstance(notice, WaitingNotice)
    pending = notice.pending
    local = pending.started_at.astimezone().strftime("%H:%M")
    link = f"{emu.url}/device?user_code={holder.code}"
    assert notice.startswith(
        f"A sign-in to dev is waiting for approval, started from a script at {local}: "
        f"approve code {holder.code} at "
    )
    assert pending.verification_uri is not None and holder.code in pending.verification_uri
    assert pending.verification_uri.startswith(f"{emu.url}/")
    assert ", or cancel it" in notice
    assert "ssooidc_jupyter.cancel_pending(session_name='dev')" in notice
    assert not waiter.prompts  # it waits: no prompt of its own while the other is pending
    del link
    # The other approves: this one finds its token in the cache, no prompt of its own.
    emu.approve(holder.code)
    assert holder.end().strip() == "END signed_in"
    token = waiter.join()
    assert isinstance(token, ssooidc_jupyter.SSOToken), token
    assert not waiter.prompts
    assert not pending_path(TokenCache(), KEY).exists()


def test_cancel_ends_the_other_and_the_waiter_takes_over(holder: Holder, emu: Emulator) -> None:
    waiter = Waiter(emu)
    assert waiter.noticed.wait(5)
    notice = waiter.notices[0][1]
    assert isinstance(notice, WaitingNotice)
    cancelled_at = time.monotonic()
    assert ssooidc_jupyter.cancel_pending(session_name="dev") is True
    assert holder.end().strip() == "END LoginCancelledError Sign-in cancelled from another process."
    assert waiter.prompted.wait(10)
    taken_over = waiter.prompts[0][0] - cancelled_at
    assert taken_over < 2.0, taken_over  # 0.25 s to notice, a lock retry, one round trip
    assert isinstance(waiter.join(), ssooidc_jupyter.SSOToken)
    assert request_cancel(TokenCache(), KEY) is False  # nothing pending any more
    locks = TokenCache().lock_path(KEY).parent
    assert sorted(p.name for p in locks.iterdir()) == [f"{KEY}.lock"]


def test_a_killed_holder_is_taken_over_at_once(holder: Holder, emu: Emulator) -> None:
    waiter = Waiter(emu)
    assert waiter.noticed.wait(5)
    killed_at = time.monotonic()
    os.kill(holder.proc.pid, signal.SIGKILL)
    assert waiter.prompted.wait(10)
    taken_over = waiter.prompts[0][0] - killed_at
    assert taken_over < 1.5, taken_over
    assert isinstance(waiter.join(), ssooidc_jupyter.SSOToken)
    # Its file was left behind by the dead process, and replaced by the new holder's, then
    # removed when that one ended.
    assert read_pending(TokenCache(), KEY) is None


def test_login_timeout_bounds_the_wait_for_the_lock(holder: Holder, emu: Emulator) -> None:
    waiter = Waiter(emu, timeout=2)
    error = waiter.join()
    took = waiter.ended_at - waiter.started
    assert isinstance(error, CacheLockTimeout), error
    assert 1.9 <= took < 3.5, took
    assert str(error).startswith(
        "Timed out waiting for another process's sign-in: A sign-in to dev is waiting for approval"
    )
    assert not waiter.prompts
    assert read_pending(TokenCache(), KEY) is not None  # the other one goes on


def test_login_async_shows_it_too(holder: Holder, emu: Emulator) -> None:
    seen: list[float] = []

    async def main() -> Any:
        started = time.monotonic()

        def notice(message: str) -> None:
            seen.append(time.monotonic() - started)
            assert isinstance(message, WaitingNotice)

        return await ssooidc_jupyter.login_async(
            emu.start_url, emu.region, session_name="dev", on_notice=notice, timeout=1.5
        )

    with pytest.raises(CacheLockTimeout):
        asyncio.run(main())
    assert seen and seen[0] <= 1.0, seen


def test_the_published_file_is_private_and_holds_no_secret(holder: Holder, emu: Emulator) -> None:
    path = pending_path(TokenCache(), KEY)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    data = json.loads(text)
    assert set(data) == CONTRACT_KEYS
    assert data["version"] == 1 and data["key"] == KEY
    assert data["flow"] == "device" and data["origin"] == "script"
    assert data["user_code"] == holder.code
    assert data["pid"] == holder.proc.pid
    assert data["session_name"] == "dev" and data["start_url"] == emu.start_url
    assert data["started_at"].endswith("Z") and data["expires_at"].endswith("Z")
    assert emu.secrets, "the emulator issued nothing: the test proves nothing"
    for secret in emu.secrets:  # the device code and the client secret among them
        assert secret not in text


def test_a_pkce_sign_in_publishes_no_link(emu: Emulator) -> None:
    other = Holder(emu, flow="pkce")
    try:
        pending = read_pending(TokenCache(), KEY)
        assert pending is not None
        assert pending.flow == "pkce" and pending.user_code is None
        assert pending.verification_uri is None  # neither the state nor the launch link
        assert pending.message().endswith(
            ": approve in the browser tab opened from that script, or cancel it"
        )
    finally:
        other.stop()


def test_a_stale_file_is_ignored_and_cleaned(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "cache")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(gone.stdout)
    cache.lock_path(KEY).parent.mkdir(parents=True, mode=0o700)
    path = pending_path(cache, KEY)
    record = {
        "version": 1,
        "key": KEY,
        "flow": "device",
        "user_code": "ABCD-EFGH",
        "verification_uri": "https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH",
        "origin": "kernel",
        "started_at": "2026-01-01T10:00:00Z",
        "expires_at": "2026-01-01T10:10:00Z",
        "pid": dead_pid,
        "host": os.uname().nodename,
        "session_name": "dev",
        "start_url": "https://example.awsapps.com/start",
    }
    path.write_text(json.dumps(record))
    assert PendingSignIn.from_json(record).name == "dev"
    assert read_pending(cache, KEY) is None
    assert not path.exists()
    # A live pid but nobody holding the lock: stale too.
    path.write_text(json.dumps({**record, "pid": os.getpid()}))
    assert read_pending(cache, KEY) is None
    assert not path.exists()
    assert request_cancel(cache, KEY) is False


def test_the_notebook_controller_and_widget_offer_cancel(holder: Holder, emu: Emulator) -> None:
    pytest.importorskip("ipywidgets")
    from ssooidc_jupyter.auth._context import resolve_login
    from ssooidc_jupyter.notebook._controller import LoginController, LoginState
    from ssooidc_jupyter.notebook._display import status_bundle
    from ssooidc_jupyter.notebook._widget import LoginView

    controller = LoginController(resolve_login(emu.start_url, emu.region, session_name="dev"))
    view = LoginView(controller)
    started = time.monotonic()
    controller.start()
    assert controller.wait_settled(5)
    assert time.monotonic() - started <= 1.0
    assert controller.state is LoginState.STARTING and controller.waiting is not None
    bundle = status_bundle(controller)
    assert bundle["text/plain"].startswith("A sign-in to dev is waiting for approval")
    assert f"approve code {holder.code} at" in bundle["text/plain"]
    assert "%ssooidc cancel" in bundle["text/plain"]
    assert 'class="ssooidc-link"' in bundle["text/html"]
    cancel_other = view._cancel_other
    assert cancel_other in view.children
    assert "waiting for approval" in view._status.value

    cancel_other.click()
    assert holder.end().strip().endswith("Sign-in cancelled from another process.")
    wait_for(lambda: controller.state is LoginState.PENDING)
    assert controller.waiting is None and controller.prompt is not None
    assert cancel_other not in view.children
    emu.approve(controller.prompt.user_code)
    controller.wait(15)
    assert controller.state is LoginState.SIGNED_IN
    view.close()


def test_the_magic_shows_it_and_cancel_cancels_the_other(holder: Holder, emu: Emulator) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    config = Path(os.environ["AWS_CONFIG_FILE"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f"[sso-session dev]\nsso_start_url = {emu.start_url}\nsso_region = {emu.region}\n"
    )
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "ssooidc_jupyter")
    try:
        with capture_output() as cap:
            shell.run_line_magic("ssooidc", "login --sso-session dev")
        shown = cap.stdout + "".join(o.data.get("text/plain", "") for o in cap.outputs)
        assert "A sign-in to dev is waiting for approval, started from a script at" in shown
        assert f"approve code {holder.code}" in shown
        with capture_output() as cap:
            shell.run_line_magic("ssooidc", "cancel")
        said = cap.stdout + "".join(o.data.get("text/plain", "") for o in cap.outputs)
        assert "Cancelled the sign-in to dev started from a script" in said
        assert holder.end().strip().endswith("Sign-in cancelled from another process.")
    finally:
        shell.run_line_magic("unload_ext", "ssooidc_jupyter")
        InteractiveShell.clear_instance()


def test_a_kernel_shows_it_within_a_second(tmp_path: Path, emu: Emulator) -> None:
    """A real kernel: ``%ssooidc login`` while a script's sign-in is pending shows that one
    at once (its cell's first output), ``%ssooidc cancel`` ends it, and the kernel's own
    prompt replaces the notice."""
    from tests.frontends.test_kernel import Kernel, kernel_env

    home = Path(os.environ["HOME"])
    config = Path(os.environ["AWS_CONFIG_FILE"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f"[sso-session dev]\nsso_start_url = {emu.start_url}\nsso_region = {emu.region}\n"
    )
    kernel = Kernel.start(kernel_env(home, AWS_ENDPOINT_URL=emu.url), tmp_path)
    other = Holder(emu)
    try:
        assert kernel.execute("%load_ext ssooidc_jupyter").reply["status"] == "ok"
        login = kernel.execute("%ssooidc login --sso-session dev")
        assert login.reply["status"] == "ok", login.texts
        first = login.texts[0]
        assert first.startswith("A sign-in to dev is waiting for approval, started from a script")
        assert f"approve code {other.code} at" in first and "%ssooidc cancel" in first
        assert login.elapsed <= 1.0 + 0.5, login.elapsed  # the notice, plus the cell's start
        cancel = kernel.execute("%ssooidc cancel")
        assert any("Cancelled the sign-in to dev" in text for text in cancel.texts)
        assert other.end().strip().endswith("Sign-in cancelled from another process.")
        own = kernel.wait_for_update(login.display_id, "confirm the code")
        assert other.code not in own
        kernel.execute("%ssooidc cancel")
    finally:
        other.stop()
        kernel.shutdown()
