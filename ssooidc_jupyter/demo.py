"""``make demo``: JupyterLab with the quickstart notebook, signed in against the emulator.

Starts a local IAM Identity Center emulator and a JupyterLab on 127.0.0.1 that opens
``notebooks/quickstart.ipynb``. Run its cells: the sign-in cell shows a code and a link; the
link opens the emulator's verification page, where you click **Approve** -- as you would on
AWS. Nothing touches your real ``~/.aws``: the demo runs with a temporary HOME that is
removed at the end, on Ctrl-C, SIGTERM and SIGHUP alike, with JupyterLab and its kernels.
The URL is printed once JupyterLab answers; its log goes to a file of the temporary directory
(``--verbose``: to the terminal). ``--terminal`` runs a scripted sign-in in the terminal instead.

This module is the entry point and the command line; the JupyterLab it starts and how it is
stopped are in ``_demo/``.
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._demo._lab import run_lab
from ._demo._lab import say as _say
from ._demo._processes import descendants as _descendants

if TYPE_CHECKING:
    from .auth._flow import DevicePrompt

# _descendants: tests/project/test_demo.py and tests/project/test_demo_secrets.py import it
# from here.
__all__ = ["_descendants", "jupyterlab_demo", "main", "terminal_demo"]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


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
            return run_lab(Path(tmp), emu, quickstart, port, open_browser, verbose)
    except KeyboardInterrupt:
        _say("Stopped: JupyterLab, its kernels and the emulator are gone.")
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


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
