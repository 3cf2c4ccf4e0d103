"""``make demo``: the emulator and a device login against it, on the built-in defaults.

Starts a local IAM Identity Center emulator, signs in with the device flow (the emulator
approves the code after a few seconds, standing in for the person at the browser), then
lists the accounts and calls STS as one of the roles. Nothing touches your real ~/.aws: the
token cache lives in a temporary directory that is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence

from ._flow import DevicePrompt


def _say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ssooidc_jupyter.demo", description=__doc__)
    parser.add_argument(
        "--approve-after",
        type=float,
        default=3.0,
        help="seconds before the emulator approves the code (default 3)",
    )
    args = parser.parse_args(argv)

    import ssooidc_jupyter as sj
    from ssooidc_jupyter.emulator import Emulator

    with (
        tempfile.TemporaryDirectory(prefix="ssooidc-demo-") as cache,
        Emulator(auto_approve=args.approve_after) as emu,
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
                f"{args.approve_after:g} s)"
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


if __name__ == "__main__":
    raise SystemExit(main())
