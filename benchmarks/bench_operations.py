"""Single in-process operations, ours against botocore (ratio = botocore / ours), and a
fresh client's first request over plain HTTP and over TLS."""

from __future__ import annotations

import contextlib
import os
import statistics
from pathlib import Path
from typing import Any

from bench_tools import Bench, timeit

Row = tuple[str, float, float]


def tls_figures(repeat: int) -> dict[str, Any]:
    """RegisterClient on a new connection, over plain HTTP and over TLS (Emulator(tls=True),
    its CA in AWS_CA_BUNDLE as behind a company proxy), in process: ours with a fresh client
    each time (its construction included), botocore's with its pool emptied each time."""
    import boto3
    from botocore.config import Config

    from ssooidc_jupyter import ssooidc
    from ssooidc_jupyter.emulator import Emulator

    def ours(url: str) -> None:
        with ssooidc(endpoint=url, region="us-east-1") as client:
            client.register_client(clientName="bench", clientType="public")

    clients: dict[str, Any] = {}

    def theirs(url: str) -> None:
        # One client (making one costs ~20 ms: models, not the network); its connection
        # pool is emptied after each call, so every call opens a new connection.
        if url not in clients:
            clients[url] = boto3.session.Session().client(
                "sso-oidc",
                region_name="us-east-1",
                endpoint_url=url,
                config=Config(retries={"total_max_attempts": 1}),
            )
        clients[url].register_client(clientName="bench", clientType="public")
        clients[url]._endpoint.http_session.close()

    figures: dict[str, Any] = {}
    saved = os.environ.get("AWS_CA_BUNDLE")
    try:
        for scheme in ("http", "tls"):
            with Emulator(tls=scheme == "tls") as emu:
                if emu.ca_file:
                    os.environ["AWS_CA_BUNDLE"] = emu.ca_file
                ours(emu.url)  # warm: imports, the SSL context of the CA setting
                theirs(emu.url)
                figures[f"first_request_{scheme}_ms"] = timeit(lambda: ours(emu.url), repeat) * 1000
                figures[f"botocore_first_request_{scheme}_ms"] = (
                    timeit(lambda: theirs(emu.url), repeat) * 1000
                )
    finally:
        for client in clients.values():
            client.close()
        os.environ.pop("AWS_CA_BUNDLE", None)
        if saved is not None:
            os.environ["AWS_CA_BUNDLE"] = saved
    return {key: round(value, 3) for key, value in figures.items()}


def subprocess_time(bench: Bench, case: str, repeat: int) -> float:
    """The median duration of ``probes/imports.py case`` (one warm-up run first: it fills the
    byte-code cache)."""
    bench.run("imports", case)
    return statistics.median(bench.run("imports", case)[1]["s"] for _ in range(repeat))


def _unsigned_client(url: str, region: str) -> Any:
    import botocore.session
    from botocore import UNSIGNED
    from botocore.config import Config

    return botocore.session.get_session().create_client(
        "sso-oidc", region_name=region, endpoint_url=url, config=Config(signature_version=UNSIGNED)
    )


def _round_trips(emu: Any, ours: Any, boto: Any, repeat: int) -> list[Row]:
    reg = ours.register_client(clientName="bench", clientType="public")
    device = {
        "clientId": reg["clientId"],
        "clientSecret": reg["clientSecret"],
        "startUrl": emu.start_url,
    }
    return [
        (
            "RegisterClient round trip",
            timeit(lambda: ours.register_client(clientName="b", clientType="public"), repeat),
            timeit(lambda: boto.register_client(clientName="b", clientType="public"), repeat),
        ),
        (
            "StartDeviceAuthorization round trip",
            timeit(lambda: ours.start_device_authorization(**device), repeat),
            timeit(lambda: boto.start_device_authorization(**device), repeat),
        ),
    ]


def _error_answer(region: str, repeat: int) -> Row:
    """CreateToken answered authorization_pending / slow_down: an error parsed into an
    exception, on an emulator where nobody approves."""
    import ssooidc_jupyter as sj
    from ssooidc_jupyter.emulator import Emulator

    with Emulator(interval=0.05) as emu_pending:
        ours_p = sj.ssooidc(endpoint=emu_pending.url, region=region)
        boto_p = _unsigned_client(emu_pending.url, region)
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

        row = (
            "CreateToken error answer (pending/slow_down)",
            timeit(poll_ours, repeat),
            timeit(poll_boto, repeat),
        )
        ours_p.close()
    return row


def _cached_token(emu: Any, repeat: int) -> Row:
    """A cached-token sign-in: ours reads and checks the cache; botocore's token provider
    does the same for an sso-session profile."""
    import botocore.session
    from botocore.tokens import SSOTokenProvider
    from botocore.utils import JSONFileCache

    import ssooidc_jupyter as sj
    from ssooidc_jupyter.auth._cache import cache_dir

    sj.login(
        emu.start_url, emu.region, endpoint=emu.url, on_prompt=lambda p: None, session_name="b"
    )
    Path(os.environ["AWS_CONFIG_FILE"]).write_text(
        f"[profile bench]\nsso_session = b\n[sso-session b]\n"
        f"sso_start_url = {emu.start_url}\nsso_region = {emu.region}\n"
    )
    core = botocore.session.Session(profile="bench")
    provider = SSOTokenProvider(core, cache=JSONFileCache(str(cache_dir())))
    return (
        "cached-token login (no network)",
        timeit(lambda: sj.login(emu.start_url, emu.region, session_name="b"), repeat),
        timeit(lambda: provider.load_token().get_frozen_token(), repeat),
    )


def _construction(emu: Any, repeat: int) -> Row:
    import ssooidc_jupyter as sj

    return (
        "client construction",
        timeit(lambda: sj.ssooidc(endpoint=emu.url, region=emu.region).close(), repeat),
        timeit(lambda: _unsigned_client(emu.url, emu.region), max(5, repeat // 10)),
    )


def operations_table(bench: Bench, repeat: int, import_repeat: int) -> list[Row]:
    import ssooidc_jupyter as sj
    from ssooidc_jupyter.emulator import Emulator

    rows: list[Row] = []
    with Emulator(interval=0.05, auto_approve=0.0) as emu:
        ours = sj.ssooidc(endpoint=emu.url, region=emu.region)
        boto = _unsigned_client(emu.url, emu.region)
        rows += _round_trips(emu, ours, boto, repeat)
        rows.append(_error_answer(emu.region, repeat))
        rows.append(_cached_token(emu, repeat))
        rows.append(_construction(emu, repeat))
        ours.close()
    rows.append(
        (
            "import (fresh interpreter)",
            subprocess_time(bench, "ours", import_repeat),
            subprocess_time(bench, "botocore", import_repeat),
        )
    )
    rows.append(
        (
            "import + client module (fresh interpreter)",
            subprocess_time(bench, "ours_client", import_repeat),
            subprocess_time(bench, "botocore_client", import_repeat),
        )
    )
    return rows


def operations_text(rows: list[Row]) -> str:
    width = max(len(r[0]) for r in rows)
    lines = [f"{'operation':<{width}}  {'ours':>10}  {'botocore':>10}  {'ratio':>7}"]
    for name, ours_t, boto_t in rows:
        lines.append(
            f"{name:<{width}}  {ours_t * 1e3:>8.3f}ms  {boto_t * 1e3:>8.3f}ms  "
            f"{boto_t / ours_t:>6.1f}x"
        )
    return "\n".join(lines)
