"""The emulator over HTTPS: ``Emulator(tls=True)`` and ``--tls``.

Real IAM Identity Center is only reached over TLS. These tests check the emulator's own TLS
(botocore is its oracle here too); the client over TLS is tested where the client is (the
``OVER_TLS_TOO`` variants of tests/auth/test_login.py, tests/oidc/test_portal.py and
tests/server/test_server.py, both recorders of tests/oidc/test_wire_format.py, and
tests/oidc/test_ca_bundle.py).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import boto3
import botocore.exceptions
import httpx
import pytest
from botocore.config import Config

from ssooidc_jupyter.emulator import Emulator
from tests._support import ROOT


def test_botocore_reaches_the_tls_emulator_with_its_ca_and_not_without(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Emulator(tls=True) as emu:
        assert emu.url.startswith("https://127.0.0.1:") and emu.tls
        client = boto3.session.Session().client(
            "sso-oidc",
            region_name="us-east-1",
            endpoint_url=emu.url,
            config=Config(retries={"total_max_attempts": 1}),
        )
        with pytest.raises(botocore.exceptions.SSLError):
            client.register_client(clientName="t", clientType="public")
        client.close()
        monkeypatch.setenv("AWS_CA_BUNDLE", emu.ca_file or "")
        client = boto3.session.Session().client(
            "sso-oidc", region_name="us-east-1", endpoint_url=emu.url
        )
        assert client.register_client(clientName="t", clientType="public")["clientId"]
        client.close()
        assert [r["operation"] for r in emu.requests] == ["RegisterClient"]


def test_a_client_that_never_handshakes_holds_up_nobody() -> None:
    """The handshake runs in the connection's thread, not in the accept loop."""
    with Emulator(tls=True) as emu:
        port = int(emu.url.rsplit(":", 1)[1])
        silent = socket.create_connection(("127.0.0.1", port))  # connected, no ClientHello
        try:
            with httpx.Client(verify=emu.client_ssl_context(), timeout=5) as http:
                assert http.get(f"{emu.url}/start/").status_code == 200
        finally:
            silent.close()


def test_plain_http_to_the_tls_port_is_refused_and_the_emulator_goes_on() -> None:
    with Emulator(tls=True) as emu:
        plain = emu.url.replace("https://", "http://")
        with pytest.raises(httpx.HTTPError), httpx.Client(timeout=5) as http:
            http.get(f"{plain}/start/")
        with httpx.Client(verify=emu.client_ssl_context(), timeout=5) as http:
            assert http.get(f"{emu.url}/start/").status_code == 200


def test_the_consent_page_and_its_redirect_over_tls() -> None:
    with Emulator(tls=True) as emu:
        context = emu.client_ssl_context()
        with httpx.Client(verify=context) as http:
            reg = http.post(
                f"{emu.url}/client/register",
                json={
                    "clientName": "t",
                    "clientType": "public",
                    "grantTypes": ["authorization_code"],
                    "redirectUris": ["http://127.0.0.1/cb"],
                },
            ).json()
        url = emu.authorize_url(reg["clientId"], "http://127.0.0.1/cb", "c" * 43, state="s")
        assert url.startswith("https://")
        redirect = emu.consent(url)
        assert redirect.startswith("http://127.0.0.1/cb?code=") and "state=s" in redirect


def test_the_ca_file_is_removed_with_the_emulator() -> None:
    emu = Emulator(tls=True)
    path = Path(emu.ca_file or "")
    assert path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert (path.parent.stat().st_mode & 0o077) == 0  # a private directory
    del emu
    assert not path.exists()
    assert Emulator().ca_file is None


def test_the_command_line_with_tls(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT)
    with subprocess.Popen(
        [sys.executable, "-m", "ssooidc_jupyter.emulator", "--tls", "--auto-approve", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            seen = ""
            while "AWS_CA_BUNDLE=" not in seen:
                line = proc.stdout.readline()
                assert line, proc.stderr.read()
                seen += line
            url = re.search(r"^AWS_ENDPOINT_URL=(https://127\.0\.0\.1:\d+)$", seen, re.M)
            bundle = re.search(r"^AWS_CA_BUNDLE=(.+)$", seen, re.M)
            assert url and bundle, seen
            verify = ssl.create_default_context(cafile=bundle.group(1))
            with httpx.Client(verify=verify, timeout=5) as http:
                assert http.get(f"{url.group(1)}/start/").status_code == 200
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
