"""Role credentials forwarded to a real Dask cluster (``ssooidc_jupyter.dask``).

One ``distributed.LocalCluster`` of worker *processes* for the module, the emulator as IAM
Identity Center (role credentials living ``TTL`` seconds, so renewals happen within the
test) and moto's S3 server for data. The worker processes start with no AWS credentials
of any kind: whatever signs a request there came from ``forward_credentials``.
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests._support import emulator_fixture, extension_shell, wait_for

distributed = pytest.importorskip("distributed")
pytest.importorskip("moto")

import ssooidc_jupyter as sj  # noqa: E402
from ssooidc_jupyter.dask import ForwardState, forward_credentials  # noqa: E402
from ssooidc_jupyter.dask._forward import renewal_delay  # noqa: E402
from ssooidc_jupyter.dask._plugin import CREDENTIAL_VARS, PLUGIN_NAME  # noqa: E402
from ssooidc_jupyter.emulator import Emulator  # noqa: E402

pytestmark = pytest.mark.slow

ACCOUNT, ROLE = "111111111111", "ReadOnly"
ROLE_ARN = re.compile(rf"^arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_{ROLE}_\w+/")
# Role credentials live this long: renewed every TTL/2 seconds (renewal_delay).
TTL = 16
BUCKET = "ssooidc-dask"

# Figures for the report, printed at the end of the module (pytest -s shows them).
FIGURES: dict[str, float] = {}


# ---- the S3 side: moto's server, recording which key signed each request -------------------


class _SigningLog:
    """WSGI middleware: the access key id of every request (None when anonymous)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.keys: list[tuple[str, str | None]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        found = re.search(r"Credential=([A-Z0-9]+)/", environ.get("HTTP_AUTHORIZATION", ""))
        with self._lock:
            self.keys.append((environ.get("PATH_INFO", ""), found.group(1) if found else None))
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def s3() -> Iterator[tuple[str, _SigningLog]]:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    log = _SigningLog(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, log, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", log
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# ---- IAM Identity Center, the sign-in, the cluster ---------------------------------------------


emu = emulator_fixture(scope="module", interval=0.1, auto_approve=0.05, role_credentials_ttl=TTL)


@pytest.fixture(autouse=True)
def kernel_env(emu: Emulator, clean_aws_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The notebook side reaches IAM Identity Center (sso-oidc and the portal) on the
    # emulator; clean_aws_env has just removed every AWS_ variable.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", emu.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", emu.url)


def _sign_in(emu: Emulator) -> sj.SSOToken:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ENDPOINT_URL_SSO", emu.url)
        mp.setenv("AWS_ENDPOINT_URL_SSO_OIDC", emu.url)
        return sj.login(emu.start_url, emu.region, on_prompt=lambda _: None, cache=False)


@pytest.fixture(scope="module")
def token(emu: Emulator) -> sj.SSOToken:
    return _sign_in(emu)


@pytest.fixture
def session(token: sj.SSOToken) -> Any:
    return token.session(ACCOUNT, ROLE)


@pytest.fixture(scope="module")
def cluster(
    emu: Emulator, s3: tuple[str, _SigningLog], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("worker-home")
    # Every worker, also one added later, starts with exactly this AWS environment: the
    # endpoints of the emulator's STS and moto's S3, and no credentials anywhere (no
    # config or credentials file, no instance metadata).
    env = {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL_STS": emu.url,
        "AWS_ENDPOINT_URL_S3": s3[0],
    }
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith(("AWS_", "BOTO_")):
                mp.delenv(name)
        for name, value in env.items():
            mp.setenv(name, value)
        cluster = distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env=env,
        )
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def client(cluster: Any) -> Iterator[Any]:
    with distributed.Client(cluster) as dask_client:
        # The SDKs load before the first forward (as in a session that used them already):
        # importing them inside a renewal's window would only measure import time.
        dask_client.run(_preload)
        yield dask_client


@pytest.fixture
def forwarded(client: Any, session: Any) -> Iterator[Any]:
    started = time.perf_counter()
    handle = forward_credentials(client, session)
    FIGURES.setdefault("time to forward (s)", time.perf_counter() - started)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="module", autouse=True)
def report_figures() -> Iterator[None]:
    yield
    if FIGURES:
        print("\nssooidc_jupyter.dask figures:")
        for name, value in FIGURES.items():
            print(f"  {name}: {value:.3f}")


# ---- what runs on the workers (module-level: pickled by reference) ----------------------------


def _preload() -> None:
    import boto3  # noqa: F401
    import pandas  # noqa: F401
    import s3fs  # noqa: F401


def _identity() -> str:
    import boto3

    return str(boto3.client("sts").get_caller_identity()["Arn"])


def _our_env() -> dict[str, str]:
    return {name: os.environ[name] for name in CREDENTIAL_VARS if name in os.environ}


_long_lived: dict[str, Any] = {}


def _long_lived_call() -> tuple[str, str]:
    """The ARN and the key that signed, with one sts client kept for the process' life."""
    import boto3

    sts = _long_lived.setdefault("sts", boto3.client("sts"))
    arn = sts.get_caller_identity()["Arn"]
    return arn, sts._request_signer._credentials.get_frozen_credentials().access_key


def _until_renewed(old_key: str, timeout: float) -> tuple[float, float, str, str]:
    """Wait on the worker until the long-lived client's credentials are not ``old_key``
    (asking them as a request does, which re-reads the environment in botocore's window),
    then sign a request with them. Returns when (wall clock) that was, how long after the
    environment changed, the ARN and the key that signed."""
    credentials = _long_lived["sts"]._request_signer._credentials
    deadline = time.monotonic() + timeout
    env_changed = None
    while time.monotonic() < deadline:
        if "AWS_ACCESS_KEY_ID" not in os.environ:
            raise AssertionError("the worker was left without credentials during a renewal")
        if env_changed is None and os.environ.get("AWS_ACCESS_KEY_ID") != old_key:
            env_changed = time.perf_counter()
        if credentials.get_frozen_credentials().access_key != old_key:
            picked_up, at = time.perf_counter(), time.time()
            arn, key = _long_lived_call()
            return at, picked_up - (env_changed or picked_up), arn, key
        time.sleep(0.002)  # a poll of an in-memory check, bounded by the deadline
    raise TimeoutError("the long-lived client never saw renewed credentials")


def _read_from_s3() -> tuple[int, int, int]:
    import dask.dataframe as dd
    import pandas as pd

    csv = pd.read_csv(f"s3://{BUCKET}/table.csv")
    parquet = pd.read_parquet(f"s3://{BUCKET}/table.parquet")
    # dask.dataframe on the worker (the client side of read_csv reads a sample too).
    frame = dd.read_csv(f"s3://{BUCKET}/*.csv").compute(scheduler="sync")
    return len(csv), len(parquet), len(frame)


def _read_csv_again() -> bool:
    """Whether the S3FileSystem made for the first read was still there to read again."""
    import pandas as pd
    import s3fs

    cached = bool(s3fs.S3FileSystem._cache)
    assert len(pd.read_csv(f"s3://{BUCKET}/table.csv")) == 5
    return cached


def _aws_cli() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "awscli", "sts", "get-caller-identity", "--output", "text"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout + done.stderr


def _no_credentials_left() -> tuple[dict[str, str], bool, str]:
    import boto3
    import botocore.exceptions

    from ssooidc_jupyter.dask._plugin import holding

    try:
        # The region we set went with the credentials: name one, to see the credentials.
        boto3.client("sts", region_name="us-east-1").get_caller_identity()
        outcome = "signed"
    except botocore.exceptions.NoCredentialsError:
        outcome = "NoCredentialsError"
    return _our_env(), holding(), outcome


def _worker_environ() -> dict[str, str]:
    return dict(os.environ)


def _text(captured: Any) -> str:
    return "".join(output.data.get("text/plain", "") for output in captured.outputs)


def _workers(client: Any) -> list[str]:
    return sorted(client.scheduler_info()["workers"])


def _on_each_worker(client: Any, function: Callable[[], Any]) -> dict[str, Any]:
    """``function`` as a task on each worker (a worker thread, as user code runs)."""
    futures = {
        address: client.submit(function, workers=[address], pure=False, allow_other_workers=False)
        for address in _workers(client)
    }
    return {address: future.result(timeout=60) for address, future in futures.items()}


# ---- the proofs ---------------------------------------------------------------------------


def test_each_worker_calls_sts_as_the_chosen_role(client: Any, forwarded: Any) -> None:
    assert forwarded.state is ForwardState.FORWARDING and forwarded.sends == 1
    arns = _on_each_worker(client, _identity)
    assert arns and all(ROLE_ARN.match(arn) for arn in arns.values()), arns


def test_a_long_lived_client_signs_with_the_renewed_keys(client: Any, forwarded: Any) -> None:
    worker = _workers(client)[0]

    def on_worker(function: Callable[..., Any], *args: Any) -> Any:
        return client.submit(function, *args, workers=[worker], pure=False).result(timeout=60)

    arn, first_key = on_worker(_long_lived_call)
    assert ROLE_ARN.match(arn)
    sends = forwarded.sends
    # Watching from before the renewal, on the worker's one thread.
    watching = client.submit(_until_renewed, first_key, TTL, workers=[worker], pure=False)
    assert forwarded.wait_sent(sends + 1, timeout=TTL), "no renewal within the lifetime"
    at, env_to_client, arn, key = watching.result(timeout=TTL)
    # The same client, no task restarted: signed (and accepted by STS) with the new keys.
    assert key != first_key and ROLE_ARN.match(arn)
    assert key == on_worker(_our_env)["AWS_ACCESS_KEY_ID"]
    assert forwarded.last_sent_at is not None and forwarded.last_send_seconds is not None
    FIGURES["renewal: GetRoleCredentials (s)"] = forwarded.last_fetch_seconds or 0.0
    FIGURES["renewal: broadcast until every worker set it up (s)"] = forwarded.last_send_seconds
    FIGURES["renewal sent -> long-lived client on the worker uses it (s)"] = (
        at - forwarded.last_sent_at
    )
    FIGURES["worker environment changed -> client uses it (s)"] = env_to_client


def test_a_worker_added_later_gets_them(client: Any, cluster: Any, forwarded: Any) -> None:
    before = set(_workers(client))
    cluster.scale(len(before) + 1)
    try:
        client.wait_for_workers(len(before) + 1, timeout=60)
        (added,) = set(_workers(client)) - before
        arn = client.submit(_identity, workers=[added], pure=False).result(timeout=60)
        assert ROLE_ARN.match(arn)
    finally:
        # Back to one worker process: two cores are shared with the rest of the suite.
        cluster.scale(len(before))
        assert wait_for(lambda: len(_workers(client)) == len(before), timeout=30)


def test_pandas_and_dask_dataframe_read_s3_on_the_workers(
    client: Any, forwarded: Any, s3: tuple[str, _SigningLog]
) -> None:
    import boto3
    import pandas as pd

    url, log = s3
    # Data put there by someone else (moto takes any key; the workers' keys are ours).
    setup = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIASETUPSETUPSETUP0",
        aws_secret_access_key="setup",
    )
    setup.create_bucket(Bucket=BUCKET)
    table = pd.DataFrame({"x": range(5), "y": list("abcde")})
    setup.put_object(Bucket=BUCKET, Key="table.csv", Body=table.to_csv(index=False).encode())
    setup.put_object(Bucket=BUCKET, Key="table.parquet", Body=table.to_parquet())
    log.keys.clear()

    results = _on_each_worker(client, _read_from_s3)
    assert all(result == (5, 5, 5) for result in results.values()), results
    used = {key for _path, key in log.keys}
    # Every request was signed (none anonymous), by role credentials from the emulator.
    assert used and None not in used, log.keys
    assert all(key and key.startswith("ASIA") for key in used), used

    # After a renewal, the S3FileSystem made before it (fsspec's cached instance, with its
    # aiobotocore client) signs with the new keys, never the old ones.
    assert forwarded.wait_sent(forwarded.sends + 1, timeout=TTL)
    log.keys.clear()
    assert all(_on_each_worker(client, _read_csv_again).values())
    renewed = {key for _path, key in log.keys}
    assert renewed and None not in renewed and not renewed & used, (used, renewed)


def test_the_aws_cli_in_a_task_uses_them(client: Any, forwarded: Any) -> None:
    output = _on_each_worker(client, _aws_cli)
    for text in output.values():
        assert f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_{ROLE}_" in text, text


def test_no_sso_secret_reaches_the_cluster(client: Any, forwarded: Any, token: sj.SSOToken) -> None:
    exported = token.export()
    sso_secrets = {exported[k] for k in ("accessToken", "refreshToken", "clientSecret")}
    assert all(sso_secrets)
    role = _on_each_worker(client, _our_env)
    role_secrets = {
        env[name]
        for env in role.values()
        for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    }
    stored = client.run_on_scheduler(
        lambda dask_scheduler: dask_scheduler.worker_plugins[PLUGIN_NAME]
    )
    assert isinstance(stored, bytes)
    places = {
        "worker environments": repr(client.run(_worker_environ)),
        "the plugin's pickled bytes": stored.decode("latin-1"),
        "the scheduler's log": repr(client.get_scheduler_logs(n=1000)),
        "the workers' logs": repr(client.get_worker_logs(n=1000)),
        "the nannies' logs": repr(client.get_worker_logs(n=1000, nanny=True)),
    }
    for where, text in places.items():
        leaked = [s for s in sso_secrets if s in text]
        assert not leaked, f"an SSO secret in {where}"
    # The role credentials are in the plugin (they are what is sent) but in no log.
    assert any(s in places["the plugin's pickled bytes"] for s in role_secrets)
    for where in ("the scheduler's log", "the workers' logs", "the nannies' logs"):
        assert not [s for s in role_secrets if s in places[where]], f"a role key in {where}"
    plugin = pickle.loads(stored)
    shown = repr(plugin) + str(plugin) + repr(forwarded)
    keys = {env["AWS_ACCESS_KEY_ID"] for env in role.values()} | role_secrets
    assert ROLE in shown and not [k for k in keys if k in shown]


def test_stop_leaves_the_workers_no_credentials(client: Any, session: Any) -> None:
    with forward_credentials(client, session) as handle:
        assert all(_on_each_worker(client, _our_env).values())
    assert handle.state is ForwardState.STOPPED
    for env, holding, outcome in _on_each_worker(client, _no_credentials_left).values():
        assert env == {} and not holding and outcome == "NoCredentialsError"
    assert PLUGIN_NAME not in client.run_on_scheduler(
        lambda dask_scheduler: list(dask_scheduler.worker_plugins)
    )
    handle.stop()  # idempotent


def test_forwarding_another_role_replaces_the_first(
    client: Any, token: sj.SSOToken, session: Any
) -> None:
    first = forward_credentials(client, session)
    second = forward_credentials(client, token.session(ACCOUNT, "Administrator"))
    try:
        assert first.state is ForwardState.STOPPED
        first.stop()  # the replaced handle leaves the new credentials alone
        arns = _on_each_worker(client, _identity).values()
        assert all(":assumed-role/AWSReservedSSO_Administrator_" in arn for arn in arns), arns
    finally:
        second.stop()
    assert all(env == {} for env in _on_each_worker(client, _our_env).values())


@pytest.fixture
def ip() -> Iterator[Any]:
    with extension_shell() as shell:  # unloading stops forwarding (and a running sign-in)
        yield shell


def test_ssooidc_dask_forwards_then_the_session_ends_and_they_lapse(
    client: Any, emu: Emulator, ip: Any
) -> None:
    from IPython.core.error import UsageError
    from IPython.utils.capture import capture_output

    with pytest.raises(UsageError, match="No Dask client named 'client'"):
        ip.run_line_magic("ssooidc", "dask")
    ip.user_ns["client"] = client
    with pytest.raises(UsageError, match="Not signed in"):
        ip.run_line_magic("ssooidc", f"dask --start-url {emu.start_url} --region {emu.region}")
    ip.run_line_magic(
        "ssooidc",
        f"login --start-url {emu.start_url} --region {emu.region} --wait "
        f"--account {ACCOUNT} --role {ROLE}",
    )
    with capture_output() as shown:
        ip.run_line_magic("ssooidc", "dask")  # the role of the login
    assert f"Forwarding {ROLE} ({ACCOUNT}) credentials" in _text(shown)
    signin = ip.magics_manager.registry["SSOOIDCMagics"].signin
    handle, controller = signin.forwarder, signin.current.controller
    assert handle is not None and handle.state is ForwardState.FORWARDING
    assert all(ROLE_ARN.match(a) for a in _on_each_worker(client, _identity).values())

    # The IAM Identity Center session ends elsewhere (the portal's sign-out, another tool).
    ip.user_ns["ssooidc_token"].logout()
    assert wait_for(lambda: handle.state is ForwardState.ENDED, timeout=TTL), handle
    assert isinstance(handle.error, sj.UnauthorizedException)
    # The notebook says so: the sign-in's usual "signed out".
    assert wait_for(lambda: controller.state.value == "signed_out", timeout=5)
    # What the workers hold stays usable until it expires, then it lapses.
    expiry = handle.expiration
    assert expiry is not None
    assert all(ROLE_ARN.match(a) for a in _on_each_worker(client, _identity).values())
    assert wait_for(lambda: datetime.now(timezone.utc) > expiry, timeout=TTL + 5)
    with pytest.raises(Exception, match=r"expired|ExpiredToken"):
        _on_each_worker(client, _identity)

    with capture_output() as shown:
        ip.run_line_magic("ssooidc", "dask --stop")
    assert f"Removed the {ROLE} credentials" in _text(shown)
    assert handle.state is ForwardState.STOPPED
    assert all(env == {} for env in _on_each_worker(client, _our_env).values())


def test_the_role_picker_forwards_the_chosen_role(client: Any, emu: Emulator, ip: Any) -> None:
    import functools

    from ssooidc_jupyter.notebook._widget import LoginView

    ip.user_ns["client"] = client
    ip.run_line_magic("ssooidc", f"login --start-url {emu.start_url} --region {emu.region} --wait")
    signin = ip.magics_manager.registry["SSOOIDCMagics"].signin
    run = signin.current
    # The panel as %ssooidc login shows it where widgets render (this shell has no kernel).
    run.view = view = LoginView(
        run.controller, on_pick=functools.partial(signin._picked, run), show_status=False
    )
    picker = view.picker
    assert picker is not None and picker.forward.layout.display != "none"
    assert wait_for(lambda: bool(picker.account_select.options), timeout=10)
    picker.account_select.value = ACCOUNT
    picker.role_select.value = "Administrator"
    picker.forward.value = True
    picker.use.click()
    assert wait_for(lambda: picker.picked == (ACCOUNT, "Administrator"), timeout=30)
    assert "Dask workers" in picker.bound.value
    handle = signin.forwarder
    assert handle is not None and handle.role_name == "Administrator"
    arns = _on_each_worker(client, _identity).values()
    assert all(":assumed-role/AWSReservedSSO_Administrator_" in arn for arn in arns), arns
    view.close()


def test_sessions_and_tokens_refuse_to_pickle_and_say_what_to_do(
    client: Any, session: Any, token: sj.SSOToken
) -> None:
    for thing in (session, token):
        with pytest.raises(TypeError, match=r"forward_credentials\(client, session\)"):
            pickle.dumps(thing)
        text = repr(thing)
        assert token.access_token not in text
    # Sent as a task's argument, Dask says the same.
    with pytest.raises(Exception) as caught:
        client.submit(lambda s: s.region_name, session).result(timeout=30)
    chain, error = [], caught.value
    while error is not None:
        chain.append(str(error))
        error = error.__cause__ or error.__context__
    assert any("forward_credentials(client, session)" in text for text in chain), chain


def test_forward_credentials_wants_a_role_session_of_ours(client: Any) -> None:
    import boto3

    with pytest.raises(TypeError, match="role session of ssooidc_jupyter"):
        forward_credentials(client, boto3.Session(region_name="us-east-1"))


@pytest.mark.parametrize(
    ("lifetime", "renew_after"),
    [
        (3600, 40 * 60),  # an hour: 20 minutes before expiry, before botocore's 15
        (12 * 3600, 12 * 3600 - 20 * 60),
        (30 * 60, 15 * 60),  # too short for 20: halfway, still 15 minutes before
        (16, 8),  # the tests' lifetime: halfway
    ],
)
def test_renewal_comes_at_the_latest_15_minutes_before_expiry(
    lifetime: int, renew_after: int
) -> None:
    now = datetime.now(timezone.utc)
    expiry = datetime.fromtimestamp(now.timestamp() + lifetime, timezone.utc)
    assert renewal_delay(expiry, now) == pytest.approx(renew_after)
