"""``%ssooidc`` in a real ipykernel (jupyter_client) against the emulator.

The proof that the kernel never freezes: the login cell returns (once the code is known, its
first output the final prompt) while approval is pending,
other cells run meanwhile, the token works once approved; ``--wait`` blocks; cancel stops
polling; denial and expiry show their reason in the login cell's output (as
``update_display_data``, which is what a frontend receives); logout clears.

One kernel serves the whole module (a start costs 1-2 s); every test that needs a fresh
prompt signs in with ``--force``, so the tests do not depend on their order.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from jupyter_client import KernelManager

from ssooidc_jupyter.auth._models import token_cache_key
from ssooidc_jupyter.emulator import Emulator
from tests._support import wait_for

Message = dict[str, Any]
HAS_WIDGET = importlib.util.find_spec("ssooidc_jupyter.notebook._widget") is not None
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def kernel_env(home: Path, **extra: str) -> dict[str, str]:
    """The test process's environment without AWS settings, pointed at ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_"))}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_EC2_METADATA_DISABLED="true",
        IPYTHONDIR=str(home / ".ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class Cell:
    reply: dict[str, Any]
    outputs: list[Message]
    elapsed: float  # seconds from sending the request to the execute_reply

    @property
    def texts(self) -> list[str]:
        return [plain(m) for m in self.outputs if plain(m)]

    @property
    def shown(self) -> list[str]:
        """What this cell displayed itself (not updates of earlier outputs, not logs)."""
        return [plain(m) for m in self.outputs if m["msg_type"] == "display_data"]

    @property
    def result(self) -> str | None:
        return next((plain(m) for m in self.outputs if m["msg_type"] == "execute_result"), None)

    @property
    def display_id(self) -> str:
        """The id of the cell's last updatable output (``--wait`` replaces the prompt by a
        new status output once the sign-in ends)."""
        return [
            m["content"]["transient"]["display_id"]
            for m in self.outputs
            if m["msg_type"] == "display_data" and m["content"].get("transient")
        ][-1]


def plain(message: Message) -> str:
    content = message["content"]
    if "data" in content:
        return str(content["data"].get("text/plain", ""))
    if "text" in content:
        return str(content["text"])
    if "evalue" in content:
        return f"{content['ename']}: {content['evalue']}"
    return ""


@dataclass
class Kernel:
    """A started kernel and everything it published on iopub."""

    km: KernelManager
    kc: Any = None
    seen: list[Message] = field(default_factory=list)  # every iopub message, in order
    _cursor: int = 0  # first message of `seen` not yet looked at by wait_for

    @classmethod
    def start(cls, env: dict[str, str], cwd: Path) -> Kernel:
        km = KernelManager(kernel_name="python3")
        km.start_kernel(env=env, cwd=str(cwd))
        kernel = cls(km)
        kernel.kc = km.client()
        kernel.kc.start_channels()
        kernel.kc.wait_for_ready(timeout=60)
        return kernel

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def _next_iopub(self, timeout: float) -> Message | None:
        try:
            message: Message = self.kc.get_iopub_msg(timeout=timeout)
        except Empty:
            return None
        self.seen.append(message)
        return message

    def execute(self, code: str, timeout: float = 60.0) -> Cell:
        msg_id = self.kc.execute(code, allow_stdin=False)
        started = time.perf_counter()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no reply to {code!r}"
            reply: Message = self.kc.get_shell_msg(timeout=remaining)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        elapsed = time.perf_counter() - started
        outputs: list[Message] = []
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no idle after {code!r}"
            message = self._next_iopub(remaining)
            if message is None or message["parent_header"].get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "status" and message["content"]["execution_state"] == "idle":
                break
            if kind in {"display_data", "update_display_data", "execute_result", "stream", "error"}:
                outputs.append(message)
        return Cell(reply["content"], outputs, elapsed)

    def value(self, expression: str) -> str:
        cell = self.execute(expression)
        assert cell.reply["status"] == "ok", cell.texts
        return next(plain(m) for m in cell.outputs if m["msg_type"] == "execute_result")

    def wait_for(self, condition: Callable[[Message], bool], timeout: float = 20.0) -> Message:
        """The first iopub message (since the last wait_for) that meets ``condition`` --
        whatever cell it is attributed to: a frontend applies display updates by id."""
        deadline = time.monotonic() + timeout
        while True:
            while self._cursor < len(self.seen):
                message = self.seen[self._cursor]
                self._cursor += 1
                if condition(message):
                    return message
            remaining = deadline - time.monotonic()
            assert remaining > 0, "the expected output never came"
            self._next_iopub(min(remaining, 0.5))

    def wait_for_update(self, display_id: str, text: str, timeout: float = 20.0) -> str:
        def matches(message: Message) -> bool:
            return (
                message["msg_type"] == "update_display_data"
                and message["content"]["transient"].get("display_id") == display_id
                and text in plain(message)
            )

        return plain(self.wait_for(matches, timeout))

    def poll_value(self, expression: str, expected: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while self.value(expression) != expected:
            assert time.monotonic() < deadline, f"{expression} never became {expected}"
            time.sleep(0.05)


def ops(emu: Emulator, name: str) -> int:
    return [r["operation"] for r in emu.requests].count(name)


def approve_next_code(emu: Emulator, delay: float = 0.0) -> threading.Thread:
    """Approve the next user code the emulator issues, ``delay`` seconds after it does."""
    known = len(emu.user_codes)

    def approve() -> None:
        wait_for(lambda: len(emu.user_codes) > known, timeout=20)
        time.sleep(delay)
        emu.approve(emu.user_codes[-1])

    thread = threading.Thread(target=approve, daemon=True)
    thread.start()
    return thread


@dataclass
class Setup:
    kernel: Kernel
    emu: Emulator
    home: Path
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"--start-url {self.emu.start_url} --region {self.emu.region}"


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory, module_emulator_factory: Callable[..., Emulator]
) -> Iterator[Setup]:
    home = tmp_path_factory.mktemp("kernel-home")
    emu = module_emulator_factory(interval=0.2)
    started = time.perf_counter()
    kernel = Kernel.start(kernel_env(home, AWS_ENDPOINT_URL=emu.url), home)
    try:
        figures = {"kernel start": time.perf_counter() - started}
        load = kernel.execute("%load_ext ssooidc_jupyter")
        assert load.reply["status"] == "ok", load.texts
        figures["load_ext cell"] = load.elapsed
        yield Setup(kernel, emu, home, figures)
    finally:
        kernel.shutdown()
        for name, seconds in figures.items():
            print(f"\n[kernel figures] {name}: {seconds * 1000:.0f} ms", end="")


def start_pending_login(s: Setup, options: str = "--force") -> Cell:
    known = len(s.emu.user_codes)
    cell = s.kernel.execute(f"%ssooidc login {s.where} {options}")
    assert cell.reply["status"] == "ok", cell.texts
    wait_for(lambda: len(s.emu.user_codes) > known, timeout=20)
    return cell


# ---- the kernel never freezes -----------------------------------------------------------


def test_login_returns_at_once_other_cells_run_and_the_token_works(setup: Setup) -> None:
    s, kernel, emu = setup, setup.kernel, setup.emu
    login = start_pending_login(s)
    s.figures["login cell while pending"] = login.elapsed
    # The cell returned with nobody approving: a login that waited for the approval would
    # never have returned (how long it took is a figure, printed, not a bound: the one
    # round trip is ~0.6 s on an idle 2-core machine and several seconds on a loaded one).
    # The cell waited the one round trip: its first output is the prompt, final as sent
    # (a frontend that applies no update_display_data, jupyter console, shows it).
    code = emu.user_codes[-1]
    assert "confirm the code" in login.texts[0] and code in login.texts[0]
    assert f"user_code={code}" in login.texts[0]

    trivial = kernel.execute("1 + 1")
    s.figures["trivial cell during a pending login"] = trivial.elapsed
    assert trivial.result == "2"  # ran while the sign-in still waits for the approval
    pending = kernel.value("ssooidc_token")
    assert "pending approval" in pending and code not in pending  # an Out[] is saved

    # Run All: a cell that uses the token waits for the approval, then proceeds.
    threading.Timer(0.5, emu.approve, args=(code,)).start()
    use = kernel.execute("ssooidc_token.expires_in > 3000")
    assert use.result == "True" and use.elapsed >= 0.4
    done = kernel.wait_for_update(login.display_id, "Signed in to")
    assert code not in done
    kernel.poll_value("type(ssooidc_token).__name__", "'SSOToken'")


def test_login_shows_prompt_html_and_widget(setup: Setup) -> None:
    s, kernel = setup, setup.kernel
    login = start_pending_login(s)
    code = s.emu.user_codes[-1]
    first = login.outputs[0]
    assert first["msg_type"] == "display_data" and code in plain(first)
    html = first["content"]["data"]["text/html"]
    assert f">{code}</div>" in html and 'target="_blank"' in html
    widgets = [m for m in login.outputs if WIDGET_MIME in m["content"].get("data", {})]
    if HAS_WIDGET:
        assert len(widgets) == 1
        assert "widgets render" in widgets[0]["content"]["data"]["text/plain"]
    else:
        assert widgets == []
    kernel.execute("%ssooidc cancel")


def test_wait_blocks_the_cell_until_approved(setup: Setup) -> None:
    s = setup
    approver = approve_next_code(s.emu, delay=0.5)
    cell = s.kernel.execute(f"%ssooidc login {s.where} --force --wait")
    approver.join()
    s.figures["--wait cell (approved after 0.5 s)"] = cell.elapsed
    assert cell.reply["status"] == "ok" and cell.elapsed >= 0.5
    assert any(t.startswith("Signed in to") for t in cell.texts)
    # Bound before the cell returned: the next cell sees the real token.
    assert s.kernel.value("type(ssooidc_token).__name__") == "'SSOToken'"


def test_a_cached_token_signs_in_without_a_prompt(setup: Setup) -> None:
    s = setup
    approver = approve_next_code(s.emu)
    assert s.kernel.execute(f"%ssooidc login {s.where} --force --wait").reply["status"] == "ok"
    approver.join()
    starts = ops(s.emu, "StartDeviceAuthorization")
    cell = s.kernel.execute(f"%ssooidc login {s.where}")
    assert cell.texts[0].startswith(f"Already signed in to {s.emu.start_url} until ")
    assert ops(s.emu, "StartDeviceAuthorization") == starts
    assert s.kernel.value("type(ssooidc_token).__name__") == "'SSOToken'"


def test_cancel_stops_polling(setup: Setup) -> None:
    s, emu = setup, setup.emu
    login = start_pending_login(s)
    polls = ops(emu, "CreateToken")
    wait_for(lambda: ops(emu, "CreateToken") > polls, timeout=20)  # it is polling
    cancel = s.kernel.execute("%ssooidc cancel")
    assert cancel.shown == ["Sign-in cancelled."]
    s.kernel.wait_for_update(login.display_id, "Sign-in cancelled.")
    after = ops(emu, "CreateToken")
    time.sleep(1.0)  # five polling intervals
    assert ops(emu, "CreateToken") == after


def test_denial_shows_its_reason(setup: Setup) -> None:
    s = setup
    login = start_pending_login(s)
    s.emu.deny(s.emu.user_codes[-1])
    reason = s.kernel.wait_for_update(login.display_id, "Sign-in denied")
    assert "denied on the verification page" in reason
    assert "not signed in" in s.kernel.value("ssooidc_token")


def test_expiry_shows_its_reason(setup: Setup) -> None:
    s = setup
    login = start_pending_login(s, "--force --timeout 1")
    reason = s.kernel.wait_for_update(login.display_id, "Sign-in expired")
    assert "not approved in time" in reason


def test_logout_clears_namespace_and_cache(setup: Setup) -> None:
    s, kernel = setup, setup.kernel
    account = s.emu.accounts[0]
    approver = approve_next_code(s.emu)
    login = kernel.execute(
        f"%ssooidc login {s.where} --force --wait --account {account['accountId']} "
        f"--role {account['roles'][0]}"
    )
    approver.join()
    assert login.reply["status"] == "ok", login.texts
    assert kernel.value("isinstance(session, __import__('boto3').session.Session)") == "True"
    cache = s.home / ".aws" / "sso" / "cache" / f"{token_cache_key(None, s.emu.start_url)}.json"
    assert cache.exists()
    logouts = ops(s.emu, "Logout")
    out = kernel.execute("%ssooidc logout")
    assert out.shown == [f"Signed out of {s.emu.start_url}. Removed ssooidc_token, session."]
    kernel.wait_for_update(login.display_id, f"Signed out of {s.emu.start_url}.")
    assert kernel.value("'ssooidc_token' in globals(), 'session' in globals()") == "(False, False)"
    assert not cache.exists()
    assert ops(s.emu, "Logout") == logouts + 1


def test_export_serves_default_boto3_clients(setup: Setup) -> None:
    s, kernel = setup, setup.kernel
    account = s.emu.accounts[1]
    approver = approve_next_code(s.emu)
    login = kernel.execute(
        f"%ssooidc login {s.where} --force --wait --export --account {account['accountId']} "
        f"--role {account['roles'][-1]}"
    )
    approver.join()
    assert login.reply["status"] == "ok", login.texts
    found = kernel.value("import boto3; boto3.client('sts').get_caller_identity()['Account']")
    assert found == repr(account["accountId"])
    assert kernel.value("import os; os.environ['AWS_PROFILE']") == "'ssooidc-jupyter'"
    kernel.execute("%ssooidc logout")
    assert kernel.value("repr(os.environ.get('AWS_PROFILE'))") == "'None'"


def test_no_secret_ever_reached_a_frontend(setup: Setup) -> None:
    """Every iopub message of this module's kernel (prompts, updates, widget comm traffic,
    status and accounts tables) is free of the secrets the emulator issued."""
    s, kernel = setup, setup.kernel
    account = s.emu.accounts[0]
    approver = approve_next_code(s.emu)
    kernel.execute(
        f"%ssooidc login {s.where} --force --wait --account {account['accountId']} "
        f"--role {account['roles'][0]}"
    )
    approver.join()
    kernel.execute("%ssooidc status")
    kernel.execute("%ssooidc accounts")
    kernel.execute("ssooidc_token, session")
    time.sleep(0.5)  # let the widget's account listing publish its state
    while kernel._next_iopub(0.2) is not None:
        pass
    everything = json.dumps(kernel.seen, default=str)
    assert s.emu.secrets
    for secret in s.emu.secrets:
        assert secret not in everything


def test_interrupting_wait_cancels_and_the_code_leaves_the_cell(setup: Setup) -> None:
    """The interrupt button during ``--wait``: the sign-in is cancelled, and the cell ends
    with "Sign-in cancelled." as a new output after a clear (the prompt and its code gone,
    in frontends that apply clear_output; jupyter console prints the new line)."""
    s = setup
    known, polls = len(s.emu.user_codes), ops(s.emu, "CreateToken")

    def interrupt() -> None:  # once the cell is waiting: the code is out and polled for
        wait_for(
            lambda: len(s.emu.user_codes) > known and ops(s.emu, "CreateToken") > polls, timeout=20
        )
        # What interrupt_kernel() does for ipykernel (signal mode), without the event loop
        # jupyter_client's sync wrapper would leave behind in this thread.
        os.kill(s.kernel.km.provisioner.process.pid, signal.SIGINT)

    thread = threading.Thread(target=interrupt, daemon=True)
    thread.start()
    msg_id_before = len(s.kernel.seen)
    cell = s.kernel.execute(f"%ssooidc login {s.where} --force --wait")
    thread.join()
    assert cell.reply["status"] == "error" and cell.reply["ename"] == "KeyboardInterrupt"
    code = s.emu.user_codes[-1]
    shown = cell.shown
    assert code in shown[0]  # the prompt came first
    assert shown[-1] == "Sign-in cancelled."
    assert all(code not in text for text in shown[1:])
    cleared = [m for m in s.kernel.seen[msg_id_before:] if m["msg_type"] == "clear_output"]
    assert len(cleared) == 1
    assert s.kernel.value("ssooidc_token.controller.state.value") == "'cancelled'"
