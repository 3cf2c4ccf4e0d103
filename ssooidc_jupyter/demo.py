"""``make demo``: JupyterLab with the quickstart notebook, signed in against the emulator.

Starts a local IAM Identity Center emulator and a JupyterLab on 127.0.0.1 that opens
``notebooks/quickstart.ipynb``. Run its cells: the sign-in cell shows a code and a link; the
link opens the emulator's verification page, where you click **Approve** -- as you would on
AWS. Nothing touches your real ``~/.aws``: the demo runs with a temporary HOME that is
removed at the end, on Ctrl-C, SIGTERM and SIGHUP alike, with JupyterLab and its kernels.
The URL is printed once JupyterLab answers; its log goes to a file of the temporary directory
(``--verbose``: to the terminal). ``--terminal`` runs a scripted sign-in in the terminal instead.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .auth._flow import DevicePrompt

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def terminal_demo(approve_after: float) -> int:
    """A scripted device login: shows the code and link, ends signed in."""
    import ssooidc_jupyter as sj
    from ssooidc_jupyter.emulator import Emulator

    with (
        tempfile.TemporaryDirectory(prefix="ssooidc-demo-") as cache,
        Emulator(auto_approve=approve_after) as emu,
    ):
        os.environ["AWS_ENDPOINT_URL"] = emu.url  # boto3's sso and sts clients go there too
        _say(f"IAM Identity Center emulator at {emu.url} (start URL {emu.start_url})")

        def show(prompt: DevicePrompt) -> None:
            _say()
            _say("  To sign in, open:")
            _say(f"      {prompt.verification_uri_complete}")
            _say(f"  and confirm the code:  {prompt.user_code}")
            _say(
                f"  (valid for {prompt.seconds_left():.0f} s; the emulator approves it in "
                f"{approve_after:g} s)"
            )
            _say()
            _say("  Waiting for approval ...")

        started = time.monotonic()
        token = sj.login(emu.start_url, emu.region, on_prompt=show, cache=cache)
        _say(f"Signed in after {time.monotonic() - started:.1f} s: {token}")

        again_started = time.perf_counter()
        sj.login(emu.start_url, emu.region, cache=cache)
        _say(
            "A second login() is served from the cache in "
            f"{(time.perf_counter() - again_started) * 1000:.1f} ms, with no network call."
        )
        try:
            accounts = token.accounts()
            _say("Accounts and roles you can reach:")
            for account in accounts:
                roles = ", ".join(account.roles)
                _say(f"  {account.account_id}  {account.account_name:<12} {roles}")
            account = accounts[0]
            session = token.session(account.account_id, account.roles[0])
            identity = session.client("sts").get_caller_identity()
        except sj.MissingDependencyError as exc:
            # A plain install has no boto3: the sign-in worked, say how to get the rest.
            _say(f"Skipping the AWS call: {exc}")
            return 0
        _say(f"STS GetCallerIdentity as {account.roles[0]}: {identity['Arn']}")
    return 0


def _descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (kernels of the Jupyter server), from /proc; [] elsewhere."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                # "pid (comm) state ppid ...": comm may hold spaces, so split after ")".
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _groups(pids: Sequence[int]) -> set[int]:
    """The process groups of ``pids``, never our own (killing it would kill us)."""
    ours = os.getpgrp()
    groups: set[int] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(pid))
    groups.discard(ours)
    return groups


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop JupyterLab and every kernel and terminal it started: SIGTERM to the server's
    process group (a clean shutdown of its kernels), then SIGKILL to every process group
    below it (jupyter_client starts each kernel in a session of its own) and to every
    process left after a grace period.

    Signals are ignored meanwhile: a second Ctrl-C must not cut the clean-up short and
    leave servers or kernels behind."""
    previous = {
        signum: signal.signal(signum, signal.SIG_IGN)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    try:
        doomed = [server.pid, *_descendants(server.pid)]
        groups = _groups(doomed)
        if server.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(server.pid, signal.SIGTERM)  # the server leads its own group
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        for group in groups:
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGKILL)
        for pid in doomed[1:]:  # the server is reaped: its pid is no longer ours
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _quiet_lab_settings(home: Path) -> None:
    """No "Jupyter news?" toast (it covers the widget's buttons), no update check."""
    settings = home / ".jupyter" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


DEMO_PROFILE = "demo"


def _demo_aws_config(path: Path, emu: Any) -> None:
    """An AWS config as `aws configure sso` writes it, for the emulator: the status bar lists
    its sso-session, and a bare `%ssooidc login` uses its profile (AWS_PROFILE)."""
    account = emu.accounts[0]
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(
        f"[profile {DEMO_PROFILE}]\n"
        f"sso_session = {DEMO_PROFILE}\n"
        f"sso_account_id = {account['accountId']}\n"
        f"sso_role_name = {account['roles'][0]}\n"
        f"region = {emu.region}\n\n"
        f"[sso-session {DEMO_PROFILE}]\n"
        f"sso_start_url = {emu.start_url}\n"
        f"sso_region = {emu.region}\n"
        "sso_registration_scopes = sso:account:access\n"
    )


def _server_token_config(config_dir: Path, token: str) -> None:
    """The server's token in a 0600 config file of the demo's private JUPYTER_CONFIG_DIR.

    Not ``--IdentityProvider.token=`` (any local user reads a process's argv in
    ``/proc/<pid>/cmdline``, and with the token runs code as you), nor ``JUPYTER_TOKEN`` (the
    environment is inherited by every kernel and every program the notebook starts)."""
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = config_dir / "jupyter_server_config.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"IdentityProvider": {"token": token}}, handle)


def jupyterlab_demo(
    port: int, emulator_port: int, open_browser: bool, *, verbose: bool = False
) -> int:
    from ssooidc_jupyter.emulator import Emulator

    quickstart = NOTEBOOKS / "quickstart.ipynb"
    if not quickstart.exists():
        _say(f"The quickstart notebook is not at {quickstart}: run the demo from a checkout.")
        return 2
    # Ctrl-C must stop the demo however it was started: a process started with SIGINT
    # ignored (nohup, a script's background job `cmd &`) inherits SIG_IGN and keeps it
    # unless told otherwise. SIGTERM (a `kill`, a CI runner) and SIGHUP (a closed terminal)
    # clean up the same way: KeyboardInterrupt, so every `finally` and `with` below runs.
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
        signal.SIGTERM: signal.signal(signal.SIGTERM, _interrupt),
        signal.SIGHUP: signal.signal(signal.SIGHUP, _interrupt),
    }
    try:
        with (
            tempfile.TemporaryDirectory(prefix="ssooidc-demo-") as tmp,
            Emulator(port=emulator_port) as emu,
        ):
            return _run_lab(Path(tmp), emu, quickstart, port, open_browser, verbose)
    except KeyboardInterrupt:
        _say("Stopped: JupyterLab, its kernels and the emulator are gone.")
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _port_is_free(port: int) -> bool:
    """Whether JupyterLab could listen on 127.0.0.1:``port``. SO_REUSEADDR as tornado sets
    it, so that a port held only by old connections in TIME_WAIT counts as free."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _any_free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serving(port: int, token: str) -> bool:
    """Whether our JupyterLab answers on ``port`` (its own API, with its token: not some
    other program that took the port). http.client: no proxy from the environment."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/api/status", headers={"Authorization": f"token {token}"})
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _wait_serving(server: subprocess.Popen[bytes], port: int, token: str) -> bool:
    """Until the server answers (True) or exits (False). Polls: the server says nothing
    else we could wait on once its log goes to a file."""
    while server.poll() is None:
        if _serving(port, token):
            return True
        time.sleep(0.1)
    return False


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _run_lab(
    tmp: Path, emu: Any, quickstart: Path, port: int, open_browser: bool, verbose: bool
) -> int:
    home = tmp / "home"
    work = tmp / "work"
    home.mkdir()
    work.mkdir()
    _quiet_lab_settings(home)
    shutil.copy(quickstart, work / "quickstart.ipynb")
    token = secrets.token_hex(24)
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_ENDPOINT_URL": emu.url,
        "AWS_EC2_METADATA_DISABLED": "true",
        # The notebook's bare `%ssooidc login`, the status bar and boto3 all sign in with
        # this profile: one sign-in, seen by all of them.
        "AWS_PROFILE": DEMO_PROFILE,
    }
    for name in ("JUPYTERLAB_SETTINGS_DIR", "SSOOIDC_START_URL", "SSOOIDC_REGION"):
        env.pop(name, None)  # the quiet settings and the demo profile must be the ones used
    _demo_aws_config(home / ".aws" / "config", emu)
    _server_token_config(home / ".jupyter", token)
    _say(f"IAM Identity Center emulator: {emu.url}  (start URL {emu.start_url})")
    if port == 0:
        port = _any_free_port()
    elif not _port_is_free(port):
        # Chosen here, not by jupyter's port_retries: the URL printed must be the one that
        # works, and the server's own choice would only be in its log.
        wanted, port = port, _any_free_port()
        _say(f"Port {wanted} is busy: JupyterLab takes port {port} instead.")
    page = "/lab/tree/quickstart.ipynb"
    command = [
        sys.executable, "-m", "jupyter", "lab",
        f"--ServerApp.root_dir={work}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.default_url={page}",
        f"--ServerApp.open_browser={open_browser}",
        "--LabApp.news_url=None",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines often run as root
    log = tmp / "jupyterlab.log"
    _say("Starting JupyterLab with the quickstart notebook ...")
    with open(log, "wb") as log_file:
        # Its own session: the terminal's Ctrl-C reaches the demo only (no "Shutdown this
        # Jupyter server (y/[n])?" question), and _stop ends the server's whole group.
        server = subprocess.Popen(  # noqa: S603
            command,
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=None if verbose else log_file,
            stderr=None if verbose else subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        if not _wait_serving(server, port, token):
            _say(f"JupyterLab stopped before it served (exit code {server.returncode}).")
            if not verbose:
                _say(f"The end of its log ({log}):")
                _say(_tail(log))
            return server.returncode or 1
        rule = "-" * 72
        _say()
        _say(rule)
        _say("JupyterLab is ready.")
        _say(f"Open: http://127.0.0.1:{port}{page}?token={token}")
        _say("Run the cells; click the link in the sign-in output and press Approve there.")
        if verbose:
            _say("Server log: shown here (--verbose).")
        else:
            _say(f"Server log: {log}  (--verbose or DEMO_VERBOSE=1 shows it here)")
        _say(f"Temporary HOME (removed at the end): {home}")
        _say("Ctrl-C stops JupyterLab, its kernels and the emulator.")
        _say(rule)
        return server.wait()
    finally:
        _stop(server)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ssooidc_jupyter.demo", description=__doc__)
    parser.add_argument("--terminal", action="store_true", help="a scripted sign-in instead")
    parser.add_argument(
        "--approve-after",
        type=float,
        default=3.0,
        help="with --terminal: seconds before the emulator approves the code (default 3)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8888,
        help="JupyterLab's port (8888; 0: any); when busy, a free one (the URL printed says which)",
    )
    parser.add_argument(
        "--emulator-port", type=int, default=0, help="the emulator's port (default: any free)"
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="do not open a browser (print the URL)"
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=os.environ.get("DEMO_VERBOSE", "").strip() not in ("", "0", "false", "no"),
        help="show JupyterLab's log here, not in a file (also DEMO_VERBOSE=1)",
    )
    args = parser.parse_args(argv)
    if args.terminal:
        return terminal_demo(args.approve_after)
    return jupyterlab_demo(args.port, args.emulator_port, not args.no_browser, verbose=args.verbose)


if __name__ == "__main__":
    raise SystemExit(main())
