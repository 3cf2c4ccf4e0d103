"""``make demo``: JupyterLab with the quickstart notebook, signed in against the emulator.

Starts a local IAM Identity Center emulator and a JupyterLab on 127.0.0.1 that opens
``notebooks/quickstart.ipynb``. Run its cells: the sign-in cell shows a code and a link; the
link opens the emulator's verification page, where you click **Approve** -- as you would on
AWS. Nothing touches your real ``~/.aws``: the demo runs with a temporary HOME that is
removed at the end. ``--terminal`` runs a scripted sign-in in the terminal instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

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
        accounts = token.accounts()
        _say("Accounts and roles you can reach:")
        for account in accounts:
            _say(f"  {account.account_id}  {account.account_name:<12} {', '.join(account.roles)}")
        account = accounts[0]
        session = token.session(account.account_id, account.roles[0])
        identity = session.client("sts").get_caller_identity()
        _say(f"STS GetCallerIdentity as {account.roles[0]}: {identity['Arn']}")
    return 0


def jupyterlab_demo(port: int, emulator_port: int, open_browser: bool) -> int:
    from ssooidc_jupyter.emulator import Emulator

    quickstart = NOTEBOOKS / "quickstart.ipynb"
    if not quickstart.exists():
        _say(f"The quickstart notebook is not at {quickstart}: run the demo from a checkout.")
        return 2
    with (
        tempfile.TemporaryDirectory(prefix="ssooidc-demo-") as tmp,
        Emulator(port=emulator_port) as emu,
    ):
        home = Path(tmp) / "home"
        work = Path(tmp) / "work"
        home.mkdir()
        work.mkdir()
        shutil.copy(quickstart, work / "quickstart.ipynb")
        env = {
            **os.environ,
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
            "AWS_ENDPOINT_URL": emu.url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "SSOOIDC_START_URL": emu.start_url,
            "SSOOIDC_REGION": emu.region,
        }
        command = [
            sys.executable, "-m", "jupyter", "lab", "quickstart.ipynb",
            f"--ServerApp.root_dir={work}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--ServerApp.open_browser={open_browser}",
            "--LabApp.news_url=None",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # containers and CI machines often run as root
        _say(f"IAM Identity Center emulator: {emu.url}  (start URL {emu.start_url})")
        _say("Starting JupyterLab with notebooks/quickstart.ipynb (Ctrl-C stops both) ...")
        _say("Run the cells; click the link in the sign-in output and press Approve there.")
        server = subprocess.Popen(command, cwd=work, env=env)  # noqa: S603
        try:
            return server.wait()
        except KeyboardInterrupt:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
            return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ssooidc_jupyter.demo", description=__doc__)
    parser.add_argument("--terminal", action="store_true", help="a scripted sign-in instead")
    parser.add_argument(
        "--approve-after",
        type=float,
        default=3.0,
        help="with --terminal: seconds before the emulator approves the code (default 3)",
    )
    parser.add_argument("--port", type=int, default=8888, help="JupyterLab's port (8888)")
    parser.add_argument(
        "--emulator-port", type=int, default=0, help="the emulator's port (default: any free)"
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="do not open a browser (print the URL)"
    )
    args = parser.parse_args(argv)
    if args.terminal:
        return terminal_demo(args.approve_after)
    return jupyterlab_demo(args.port, args.emulator_port, not args.no_browser)


if __name__ == "__main__":
    raise SystemExit(main())
