"""Corporate networks: the CA settings, in botocore's order, with botocore beside ours.

The emulator speaks HTTPS with a certificate of a throwaway CA (``Emulator(tls=True)``),
which stands for a company's TLS-inspecting proxy: nothing trusts it until a CA setting
names its bundle. Each case runs botocore's own ``sso-oidc`` client and our sign-in (device
flow, then the portal) in the same environment and asserts they agree: both connect, or
both fail (and our message names the setting to use). Proxies: a real CONNECT proxy
(``proxy.py``) on 127.0.0.1, through ``HTTPS_PROXY``, skipped with ``NO_PROXY``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
import trustme
from botocore.config import Config

import ssooidc_jupyter as sj
from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.oidc._http import ca_setting
from tests._support import emulator_fixture, wait_for

CA_VARS = ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


emu = emulator_fixture(scope="module", scheme="https", interval=0.05, auto_approve=0.0)


@pytest.fixture(scope="module")
def wrong_ca(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A CA bundle that does not hold the emulator's CA (another company's)."""
    path = tmp_path_factory.mktemp("wrong") / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(autouse=True)
def no_ca_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*CA_VARS, "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("no_proxy", "")


def write_profile(emu: Emulator, ca_bundle: str | None) -> None:
    """A profile as `aws configure sso` writes it, pointing at the emulator (endpoint_url),
    with the CA bundle line when given."""
    lines = [
        "[profile corp]",
        "sso_session = corp",
        f"endpoint_url = {emu.url}",
        "region = us-east-1",
        *([f"ca_bundle = {ca_bundle}"] if ca_bundle else []),
        "",
        "[sso-session corp]",
        f"sso_start_url = {emu.start_url}",
        f"sso_region = {emu.region}",
        "sso_registration_scopes = sso:account:access",
    ]
    path = Path(os.environ["AWS_CONFIG_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def botocore_connects() -> bool:
    """botocore's sso-oidc client of the profile: RegisterClient over TLS."""
    client = boto3.Session(profile_name="corp").client(
        "sso-oidc", config=Config(retries={"total_max_attempts": 1})
    )
    try:
        client.register_client(clientName="botocore", clientType="public")
    except botocore.exceptions.SSLError:
        return False
    finally:
        client.close()
    return True


def ours_connects() -> tuple[bool, str]:
    """Our sign-in of the profile (sso-oidc) and its portal call: (connected, message)."""
    try:
        token = sj.login(profile="corp", cache=False, on_prompt=lambda prompt: None)
        try:
            accounts = token.accounts()
        finally:
            # A portal client left open warns over TLS as "<ssl.SSLSocket", which pytest's
            # filter does not ignore (SSOToken closes its per-call clients; this is cheap).
            token.close()
    except sj.EndpointConnectionError as exc:
        return False, str(exc)
    assert accounts, "the portal answered over TLS"
    return True, ""


@dataclass(frozen=True)
class Case:
    doc: str
    env: dict[str, str] = field(default_factory=dict)
    profile_ca: str | None = None
    connects: bool = True
    #: The setting our failure message names.
    named: str = ""


# "right" is the emulator's CA, "wrong" another one.
CASES = [
    Case(
        "no CA setting: both fail, ours says to set AWS_CA_BUNDLE",
        connects=False,
        named="AWS_CA_BUNDLE",
    ),
    Case("AWS_CA_BUNDLE", env={"AWS_CA_BUNDLE": "right"}),
    Case("ca_bundle in the profile", profile_ca="right"),
    Case(
        "AWS_CA_BUNDLE wins over the profile's ca_bundle",
        env={"AWS_CA_BUNDLE": "wrong"},
        profile_ca="right",
        connects=False,
        named="AWS_CA_BUNDLE",
    ),
    Case(
        "the profile's ca_bundle wins over REQUESTS_CA_BUNDLE",
        env={"REQUESTS_CA_BUNDLE": "right"},
        profile_ca="wrong",
        connects=False,
        named="ca_bundle in profile 'corp'",
    ),
    Case("REQUESTS_CA_BUNDLE", env={"REQUESTS_CA_BUNDLE": "right"}),
    Case(
        "AWS_CA_BUNDLE wins over SSL_CERT_FILE",
        env={"AWS_CA_BUNDLE": "wrong", "SSL_CERT_FILE": "right"},
        connects=False,
        named="AWS_CA_BUNDLE",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.doc for case in CASES])
def test_botocore_and_ours_agree_on_the_ca_settings(
    case: Case, emu: Emulator, wrong_ca: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundles = {"right": emu.ca_file or "", "wrong": wrong_ca}
    for name, which in case.env.items():
        monkeypatch.setenv(name, bundles[which])
    write_profile(emu, bundles[case.profile_ca] if case.profile_ca else None)

    theirs = botocore_connects()
    ours, message = ours_connects()

    assert (theirs, ours) == (case.connects, case.connects)
    if not case.connects:
        assert "could not be verified" in message
        assert case.named in message
        # Not retried: the same CAs fail the same certificate every time.
        assert "attempts" not in message


def test_ssl_cert_file_and_dir_are_honoured(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the AWS settings, Python's own: SSL_CERT_FILE, then SSL_CERT_DIR (a c_rehash'd
    directory). botocore ignores both (it falls back to certifi): not compared."""
    write_profile(emu, None)
    monkeypatch.setenv("SSL_CERT_FILE", emu.ca_file or "")
    assert ours_connects() == (True, "")

    monkeypatch.delenv("SSL_CERT_FILE")
    directory = tmp_path / "certs"
    directory.mkdir()
    pem = Path(emu.ca_file or "").read_bytes()
    (directory / "ca.pem").write_bytes(pem)
    subprocess.run(["openssl", "rehash", str(directory)], check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_DIR", str(directory))
    assert ca_setting().name == "SSL_CERT_DIR"
    assert ours_connects() == (True, "")


def test_an_unloadable_bundle_is_a_configuration_error_naming_it(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profile(emu, None)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    with pytest.raises(sj.ConfigurationError, match=r"AWS_CA_BUNDLE points at .*missing\.pem"):
        sj.login(profile="corp", cache=False, on_prompt=lambda prompt: None)
    monkeypatch.setenv("AWS_CA_BUNDLE", " ")
    with pytest.raises(sj.ConfigurationError, match="AWS_CA_BUNDLE is empty"):
        sj.login(profile="corp", cache=False, on_prompt=lambda prompt: None)


def test_without_a_setting_the_os_store_is_used_when_truststore_is_installed() -> None:
    """As pip: the operating system's trust store (plus certifi's bundle) when the
    truststore package is importable and no setting names the CAs."""
    pytest.importorskip("truststore")
    import truststore

    from ssooidc_jupyter.oidc._http import ssl_context

    setting = ca_setting()
    assert setting.kind == "truststore"
    assert isinstance(ssl_context(setting), truststore.SSLContext)


# ---- a real CONNECT proxy ---------------------------------------------------------------------


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """proxy.py on 127.0.0.1 (a free port), its log in a file: (URL, log path)."""
    port_file, log = tmp_path / "proxy.port", tmp_path / "proxy.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "proxy",
                "--hostname",
                "127.0.0.1",
                "--port",
                "0",
                "--port-file",
                str(port_file),
                "--num-acceptors",
                "1",
                "--threaded",
                "--log-level",
                "INFO",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        port = 0
        while not port:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "proxy.py did not start"
            text = port_file.read_text().strip() if port_file.exists() else ""
            port = int(text) if text.isdigit() else 0
            if port:
                with socket.create_connection(("127.0.0.1", port), timeout=5):
                    pass
            else:
                time.sleep(0.05)  # polling for a file another process writes
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.terminate()
        process.wait(timeout=10)


def tunnels(log: Path, emu: Emulator) -> int:
    """The CONNECT tunnels proxy.py logged to the emulator's port."""
    port = emu.url.rsplit(":", 1)[1]
    return len(re.findall(rf"CONNECT 127\.0\.0\.1:{port}\b", log.read_text()))


def test_https_proxy_carries_botocore_and_ours_and_no_proxy_bypasses_it(
    emu: Emulator, proxy: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, log = proxy
    write_profile(emu, emu.ca_file)
    monkeypatch.setenv("HTTPS_PROXY", url)

    assert botocore_connects()
    botocore_tunnels = _wait_for_tunnels(log, emu, 1)
    assert ours_connects() == (True, "")
    # Ours: one tunnel for sso-oidc (kept alive through the sign-in), one for the portal.
    assert _wait_for_tunnels(log, emu, botocore_tunnels + 2) >= botocore_tunnels + 2

    seen = tunnels(log, emu)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert botocore_connects()
    assert ours_connects() == (True, "")
    assert tunnels(log, emu) == seen


def _wait_for_tunnels(log: Path, emu: Emulator, at_least: int) -> int:
    # proxy.py writes its access-log line when a tunnel closes: wait for it (bounded).
    return wait_for(
        lambda: (found := tunnels(log, emu)) >= at_least and found,
        f"{at_least} tunnels in proxy.py's log",
        interval=0.05,
    )


@pytest.mark.parametrize(
    ("verify", "aws_ca_bundle", "connects"),
    [
        pytest.param("right", None, True, id="verify=path"),
        pytest.param(False, None, True, id="verify=False"),
        pytest.param(True, "right", False, id="verify=True skips AWS_CA_BUNDLE"),
        pytest.param("wrong", "right", False, id="verify=path wins over AWS_CA_BUNDLE"),
    ],
)
def test_the_verify_argument_as_botocores(
    verify: bool | str,
    aws_ca_bundle: str | None,
    connects: bool,
    emu: Emulator,
    wrong_ca: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundles = {"right": emu.ca_file or "", "wrong": wrong_ca}
    value = bundles[verify] if isinstance(verify, str) else verify
    if aws_ca_bundle:
        monkeypatch.setenv("AWS_CA_BUNDLE", bundles[aws_ca_bundle])
    theirs = boto3.session.Session().client(
        "sso-oidc",
        region_name="us-east-1",
        endpoint_url=emu.url,
        verify=value,
        config=Config(retries={"total_max_attempts": 1}),
    )
    with warnings.catch_warnings():
        # urllib3's InsecureRequestWarning for verify=False (botocore's, not ours).
        warnings.simplefilter("ignore")
        try:
            theirs.register_client(clientName="t", clientType="public")
            botocore_result = True
        except botocore.exceptions.SSLError:
            botocore_result = False
    theirs.close()
    with sj.ssooidc(endpoint=emu.url, config={"verify": value, "max_attempts": 1}) as ours:
        try:
            ours.register_client(clientName="t", clientType="public")
            our_result = True
        except sj.EndpointConnectionError as exc:
            our_result = False
            assert "verify=" in str(exc) or "certifi" in str(exc) or "trust store" in str(exc)
    assert (botocore_result, our_result) == (connects, connects)


def test_a_kernel_takes_the_same_settings(emu: Emulator, tmp_path: Path) -> None:
    """A real ipykernel whose environment names no CA (as a JupyterHub user's kernel): the
    profile's ca_bundle alone trusts the company CA, as it does in this process and in the
    Jupyter server (tests/server/test_server.py's OVER_TLS_TOO variants)."""
    from jupyter_client.manager import KernelManager

    home = tmp_path / "kernel-home"
    (home / ".aws").mkdir(parents=True)
    config = home / ".aws" / "config"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_"))}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(config),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL=emu.url,
        IPYTHONDIR=str(home / ".ipython"),
        JUPYTER_PLATFORM_DIRS="1",
    )
    code = (
        "import ssooidc_jupyter as sj\n"
        "try:\n"
        f"    token = sj.login({emu.start_url!r}, {emu.region!r}, cache=False,"
        " on_prompt=lambda prompt: None)\n"
        "    print('accounts', len(token.accounts()))\n"
        "except sj.EndpointConnectionError as exc:\n"
        "    print('failed', exc)\n"
    )
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, cwd=str(home))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)

        def run() -> str:
            printed: list[str] = []

            def collect(message: dict[str, object]) -> None:
                content = message["content"]
                if message["msg_type"] == "stream" and isinstance(content, dict):
                    printed.append(str(content["text"]))

            reply = client.execute_interactive(code, output_hook=collect, timeout=60)
            assert reply["content"]["status"] == "ok", reply["content"]
            return "".join(printed)

        config.write_text("[default]\nregion = us-east-1\n")
        without = run()
        assert without.startswith("failed") and "set AWS_CA_BUNDLE" in without
        config.write_text(f"[default]\nregion = us-east-1\nca_bundle = {emu.ca_file}\n")
        assert run() == f"accounts {len(emu.accounts)}\n"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
