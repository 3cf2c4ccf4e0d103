"""``python -m ssooidc_jupyter.emulator``: run the emulator until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from types import FrameType

from ._emulator import Emulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ssooidc_jupyter.emulator",
        description="Run a local AWS IAM Identity Center emulator (sso-oidc, sso, sts).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free)")
    parser.add_argument("--region", default="us-east-1", help="region to report")
    parser.add_argument(
        "--interval", type=float, default=1, help="device-flow polling interval in seconds"
    )
    parser.add_argument(
        "--auto-approve",
        type=float,
        default=None,
        metavar="SECONDS",
        help="approve every device code this many seconds after it is issued "
        "(and every /authorize request at once)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="speak HTTPS with a certificate of a throwaway CA (needs trustme); the CA's PEM "
        "file is printed, for AWS_CA_BUNDLE",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    interval = int(args.interval) if float(args.interval).is_integer() else args.interval
    try:
        emulator = Emulator(
            host=args.host,
            port=args.port,
            region=args.region,
            interval=interval,
            auto_approve=args.auto_approve,
            tls=args.tls,
        )
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    stop_requested = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    # Installed before anything is printed: whoever reads the URL may signal us right away.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            emulator.start()
        except OSError as exc:
            print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
        url = emulator.url
        print(f"IAM Identity Center emulator listening on {url}")
        print(f"URL: {url}")
        print(f"Start URL: {emulator.start_url}")
        print(f"Region: {emulator.region}")
        print("Point AWS clients at it with:")
        print(f"AWS_ENDPOINT_URL={url}")
        print(f"AWS_REGION={emulator.region}")
        if emulator.ca_file is not None:
            print(f"AWS_CA_BUNDLE={emulator.ca_file}")
        print("Press Ctrl+C to stop.", flush=True)
        # A short sleep loop rather than Event.wait(): a signal handler that set an Event the
        # main thread is waiting on can deadlock, and 0.1 s of shutdown latency is fine.
        while not stop_requested:
            time.sleep(0.1)
    finally:
        emulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
