"""Side-by-side benchmarks: ssooidc-jupyter against a botocore-based flow, in one run.

Everything runs against the local emulator on 127.0.0.1, so the figures compare the
clients' own overheads (request building, signing, parsing, connection reuse), not AWS.
Results are reported as medians and as ratios (botocore time / our time: > 1 means we are
faster). Run with ``make bench`` or ``.venv/bin/python benchmarks/run.py [--quick]``.
Never used as a timed assertion in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def timeit(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm up: connection pools, lazy imports
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def subprocess_time(code: str, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    repeat = 20 if args.quick else 200
    import_repeat = 3 if args.quick else 7

    home = tempfile.mkdtemp(prefix="ssooidc-bench-")
    os.environ.update(
        HOME=home,
        AWS_CONFIG_FILE=f"{home}/config",
        AWS_SHARED_CREDENTIALS_FILE=f"{home}/credentials",
        AWS_EC2_METADATA_DISABLED="true",
    )
    import botocore.session
    from botocore import UNSIGNED
    from botocore.config import Config
    from botocore.tokens import SSOTokenProvider
    from botocore.utils import JSONFileCache

    import ssooidc_jupyter as sj
    from ssooidc_jupyter.auth._cache import cache_dir
    from ssooidc_jupyter.emulator import Emulator

    rows: list[tuple[str, float, float]] = []
    with Emulator(interval=0.05, auto_approve=0.0) as emu:
        os.environ["AWS_ENDPOINT_URL"] = emu.url
        ours = sj.ssooidc(endpoint=emu.url, region=emu.region)
        boto = botocore.session.get_session().create_client(
            "sso-oidc",
            region_name=emu.region,
            endpoint_url=emu.url,
            config=Config(signature_version=UNSIGNED),
        )
        reg = ours.register_client(clientName="bench", clientType="public")
        device = {
            "clientId": reg["clientId"],
            "clientSecret": reg["clientSecret"],
            "startUrl": emu.start_url,
        }
        rows.append(
            (
                "RegisterClient round trip",
                timeit(lambda: ours.register_client(clientName="b", clientType="public"), repeat),
                timeit(lambda: boto.register_client(clientName="b", clientType="public"), repeat),
            )
        )
        rows.append(
            (
                "StartDeviceAuthorization round trip",
                timeit(lambda: ours.start_device_authorization(**device), repeat),
                timeit(lambda: boto.start_device_authorization(**device), repeat),
            )
        )

        def pending_ours() -> None:
            auth = ours.start_device_authorization(**device)
            with contextlib.suppress(sj.AuthorizationPendingException):
                ours.create_token(
                    clientId=reg["clientId"],
                    clientSecret=reg["clientSecret"],
                    grantType="urn:ietf:params:oauth:grant-type:device_code",
                    deviceCode=auth["deviceCode"],
                )

        emu_pending = Emulator(interval=0.05)
        emu_pending.start()
        ours_p = sj.ssooidc(endpoint=emu_pending.url, region=emu.region)
        boto_p = botocore.session.get_session().create_client(
            "sso-oidc",
            region_name=emu.region,
            endpoint_url=emu_pending.url,
            config=Config(signature_version=UNSIGNED),
        )
        reg_p = ours_p.register_client(clientName="bench", clientType="public")
        auth_p = ours_p.start_device_authorization(
            clientId=reg_p["clientId"],
            clientSecret=reg_p["clientSecret"],
            startUrl=emu_pending.start_url,
        )
        poll = {
            "clientId": reg_p["clientId"],
            "clientSecret": reg_p["clientSecret"],
            "grantType": "urn:ietf:params:oauth:grant-type:device_code",
            "deviceCode": auth_p["deviceCode"],
        }

        def poll_ours() -> None:
            # pending or slow_down: an error answer, parsed into an exception
            with contextlib.suppress(sj.SSOOIDCError):
                ours_p.create_token(**poll)

        def poll_boto() -> None:
            with contextlib.suppress(boto_p.exceptions.ClientError):
                boto_p.create_token(**poll)

        rows.append(
            (
                "CreateToken error answer (pending/slow_down)",
                timeit(poll_ours, repeat),
                timeit(poll_boto, repeat),
            )
        )
        emu_pending.stop()

        # A cached-token sign-in: ours reads and checks the cache; botocore's token provider
        # does the same for an sso-session profile.
        token = sj.login(emu.start_url, emu.region, on_prompt=lambda p: None, session_name="bench")
        Path(os.environ["AWS_CONFIG_FILE"]).write_text(
            f"[profile bench]\nsso_session = bench\n[sso-session bench]\n"
            f"sso_start_url = {emu.start_url}\nsso_region = {emu.region}\n"
        )
        core = botocore.session.Session(profile="bench")
        provider = SSOTokenProvider(core, cache=JSONFileCache(str(cache_dir())))
        rows.append(
            (
                "cached-token login (no network)",
                timeit(lambda: sj.login(emu.start_url, emu.region, session_name="bench"), repeat),
                timeit(lambda: provider.load_token().get_frozen_token(), repeat),
            )
        )
        rows.append(
            (
                "client construction",
                timeit(lambda: sj.ssooidc(endpoint=emu.url, region=emu.region).close(), repeat),
                timeit(
                    lambda: botocore.session.get_session().create_client(
                        "sso-oidc",
                        region_name=emu.region,
                        endpoint_url=emu.url,
                        config=Config(signature_version=UNSIGNED),
                    ),
                    max(5, repeat // 10),
                ),
            )
        )
        del token

    rows.append(
        (
            "import (fresh interpreter)",
            subprocess_time("import ssooidc_jupyter", import_repeat),
            subprocess_time("import botocore.session", import_repeat),
        )
    )
    rows.append(
        (
            "import + client module (fresh interpreter)",
            subprocess_time("import ssooidc_jupyter; ssooidc_jupyter.ssooidc", import_repeat),
            subprocess_time(
                "import botocore.session; botocore.session.get_session()"
                ".create_client('sso-oidc', region_name='us-east-1')",
                import_repeat,
            ),
        )
    )

    width = max(len(r[0]) for r in rows)
    lines = [f"{'benchmark':<{width}}  {'ours':>10}  {'botocore':>10}  {'ratio':>7}"]
    for name, ours_t, boto_t in rows:
        lines.append(
            f"{name:<{width}}  {ours_t * 1e3:>8.3f}ms  {boto_t * 1e3:>8.3f}ms  "
            f"{boto_t / ours_t:>6.1f}x"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.write(
        "ratio = botocore / ours (higher: ours faster); medians of "
        f"{repeat} runs ({import_repeat} for imports)\n"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                [{"name": n, "ours_s": o, "botocore_s": b, "ratio": b / o} for n, o, b in rows],
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
