"""The demo's JupyterLab: a private HOME with an AWS config for the emulator, a free port,
a token kept off every command line, started in a session of its own and stopped with its
kernels (``_processes.stop``)."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ._processes import stop

__all__ = ["DEMO_PROFILE", "run_lab", "say"]


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


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


def _lab_home(tmp: Path, emu: Any, quickstart: Path, token: str) -> tuple[Path, dict[str, str]]:
    """The private HOME (quiet settings, the demo's AWS config, the server's token), a work
    directory with the quickstart notebook, and the environment JupyterLab runs with."""
    home = tmp / "home"
    work = tmp / "work"
    home.mkdir()
    work.mkdir()
    _quiet_lab_settings(home)
    shutil.copy(quickstart, work / "quickstart.ipynb")
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
    return work, env


def _choose_port(port: int) -> int:
    if port == 0:
        return _any_free_port()
    if not _port_is_free(port):
        # Chosen here, not by jupyter's port_retries: the URL printed must be the one that
        # works, and the server's own choice would only be in its log.
        wanted, port = port, _any_free_port()
        say(f"Port {wanted} is busy: JupyterLab takes port {port} instead.")
    return port


def _lab_command(work: Path, port: int, page: str, open_browser: bool) -> list[str]:
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
    return command


def _announce(url: str, log: Path, home: Path, verbose: bool) -> None:
    rule = "-" * 72
    say()
    say(rule)
    say("JupyterLab is ready.")
    say(f"Open: {url}")
    say("Run the cells; click the link in the sign-in output and press Approve there.")
    if verbose:
        say("Server log: shown here (--verbose).")
    else:
        say(f"Server log: {log}  (--verbose or DEMO_VERBOSE=1 shows it here)")
    say(f"Temporary HOME (removed at the end): {home}")
    say("Ctrl-C stops JupyterLab, its kernels and the emulator.")
    say(rule)


def run_lab(
    tmp: Path, emu: Any, quickstart: Path, port: int, open_browser: bool, verbose: bool
) -> int:
    """JupyterLab on the quickstart notebook until it exits; stopped with its kernels."""
    token = secrets.token_hex(24)
    work, env = _lab_home(tmp, emu, quickstart, token)
    say(f"IAM Identity Center emulator: {emu.url}  (start URL {emu.start_url})")
    port = _choose_port(port)
    page = "/lab/tree/quickstart.ipynb"
    log = tmp / "jupyterlab.log"
    say("Starting JupyterLab with the quickstart notebook ...")
    with open(log, "wb") as log_file:
        # Its own session: the terminal's Ctrl-C reaches the demo only (no "Shutdown this
        # Jupyter server (y/[n])?" question), and stop() ends the server's whole group.
        server = subprocess.Popen(  # noqa: S603
            _lab_command(work, port, page, open_browser),
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=None if verbose else log_file,
            stderr=None if verbose else subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        if not _wait_serving(server, port, token):
            say(f"JupyterLab stopped before it served (exit code {server.returncode}).")
            if not verbose:
                say(f"The end of its log ({log}):")
                say(_tail(log))
            return server.returncode or 1
        _announce(f"http://127.0.0.1:{port}{page}?token={token}", log, Path(env["HOME"]), verbose)
        return server.wait()
    finally:
        stop(server)
