"""The project's client, sync and async, against the real emulator on 127.0.0.1.

Every scenario runs in both modes (the ``oidc`` fixture), so the twins cannot drift.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter import AsyncSSOOIDCClient, SSOOIDCClient
from ssooidc_jupyter.emulator import Emulator
from tests._support import (
    SLACK_TIMEOUT,
    TIMEOUT_HOLD,
    assert_attempts,
    assert_one_fault_retried,
    emulator_fixture,
    wait_for,
)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
FAST_RETRY = {"retry_backoff": 0.01}


class Driver:
    """Runs the same call on a sync or an async client."""

    def __init__(self, mode: str, emu: Emulator, **config: Any) -> None:
        self.mode = mode
        options = {**FAST_RETRY, **config}
        self.loop: asyncio.AbstractEventLoop | None = None
        if mode == "sync":
            self.client: Any = SSOOIDCClient(config=options, endpoint=emu.url, region=emu.region)
        else:
            self.loop = asyncio.new_event_loop()
            self.client = AsyncSSOOIDCClient(config=options, endpoint=emu.url, region=emu.region)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)
        if self.loop is None:
            return method  # type: ignore[no-any-return]
        loop = self.loop
        return lambda **params: loop.run_until_complete(method(**params))

    def close(self) -> None:
        if self.loop is None:
            self.client.close()
        else:
            self.loop.run_until_complete(self.client.aclose())
            # As asyncio.run does: httpx's inner stream generators, left by a read that stops
            # early, are closed on this loop before it goes (Python 3.13 warns otherwise).
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


emu = emulator_fixture(interval=0.2)


@pytest.fixture
def make(mode: str, emu: Emulator) -> Iterator[Callable[..., Driver]]:
    made: list[Driver] = []

    def factory(**config: Any) -> Driver:
        driver = Driver(mode, emu, **config)
        made.append(driver)
        return driver

    yield factory
    for driver in made:
        driver.close()


@pytest.fixture
def oidc(make: Callable[..., Driver]) -> Driver:
    return make()


def register(oidc: Driver) -> dict[str, Any]:
    # Like real IAM Identity Center, the emulator issues refresh tokens only to a
    # registration that asked for sso:account:access.
    return dict(
        oidc.register_client(clientName="test", clientType="public", scopes=["sso:account:access"])
    )


def start(oidc: Driver, emu: Emulator, reg: dict[str, Any]) -> dict[str, Any]:
    return dict(
        oidc.start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=emu.start_url
        )
    )


def poll(oidc: Driver, reg: dict[str, Any], device: dict[str, Any]) -> dict[str, Any]:
    return dict(
        oidc.create_token(
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            grantType=DEVICE_GRANT,
            deviceCode=device["deviceCode"],
        )
    )


def test_device_flow_end_to_end(oidc: Driver, emu: Emulator) -> None:
    reg = register(oidc)
    assert set(reg) >= {"clientId", "clientSecret", "clientIdIssuedAt", "clientSecretExpiresAt"}
    device = start(oidc, emu, reg)
    assert device["verificationUriComplete"].endswith(device["userCode"])
    assert device["interval"] >= 0 and device["expiresIn"] > 0
    with pytest.raises(sj.AuthorizationPendingException) as pending:
        poll(oidc, reg, device)
    assert pending.value.code == "AuthorizationPendingException"
    assert pending.value.error == "authorization_pending"
    assert pending.value.status_code == 400
    assert pending.value.request_id
    emu.approve(device["userCode"])
    time.sleep(device["interval"] + 0.05)
    token = poll(oidc, reg, device)
    assert token["tokenType"] == "Bearer"
    assert token["accessToken"] in emu.secrets and token["refreshToken"] in emu.secrets
    assert token["ResponseMetadata"]["HTTPStatusCode"] == 200
    refreshed = oidc.create_token(
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        grantType="refresh_token",
        refreshToken=token["refreshToken"],
    )
    assert refreshed["accessToken"] != token["accessToken"]
    # The old refresh token was rotated away.
    with pytest.raises(sj.InvalidGrantException):
        oidc.create_token(
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            grantType="refresh_token",
            refreshToken=token["refreshToken"],
        )
    ops = [r["operation"] for r in emu.requests]
    assert ops[:2] == ["RegisterClient", "StartDeviceAuthorization"]


def test_exceptions_are_reachable_on_the_client(oidc: Driver, emu: Emulator) -> None:
    reg = register(oidc)
    device = start(oidc, emu, reg)
    with pytest.raises(oidc.client.exceptions.AuthorizationPendingException):
        poll(oidc, reg, device)
    for name in sj._exceptions.MODELED_EXCEPTIONS:
        cls = getattr(oidc.client.exceptions, name)
        assert issubclass(cls, sj.SSOOIDCError) and cls.__name__ == name


def test_slow_down_is_not_retried(oidc: Driver, emu: Emulator) -> None:
    reg = register(oidc)
    device = start(oidc, emu, reg)
    with pytest.raises(sj.AuthorizationPendingException):
        poll(oidc, reg, device)
    with pytest.raises(sj.SlowDownException) as info:
        poll(oidc, reg, device)  # at once: faster than the interval
    assert info.value.error == "slow_down"
    assert [r["operation"] for r in emu.requests].count("CreateToken") == 2


def test_denied_and_expired(make: Callable[..., Driver], emu: Emulator) -> None:
    oidc = make()
    reg = register(oidc)
    device = start(oidc, emu, reg)
    emu.deny(device["userCode"])
    with pytest.raises(sj.AccessDeniedException) as denied:
        poll(oidc, reg, device)
    assert denied.value.error == "access_denied"


def test_expired_code(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(interval=0.05, code_ttl=0.3)
    client = SSOOIDCClient(endpoint=emu.url, region=emu.region)
    reg = dict(client.register_client(clientName="t", clientType="public"))
    device = client.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=emu.start_url
    )
    time.sleep(0.4)
    with pytest.raises(sj.ExpiredTokenException) as info:
        client.create_token(
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            grantType=DEVICE_GRANT,
            deviceCode=device["deviceCode"],
        )
    assert info.value.error == "expired_token"
    client.close()


def test_invalid_client_is_401_and_not_retried(oidc: Driver, emu: Emulator) -> None:
    with pytest.raises(sj.InvalidClientException) as info:
        oidc.start_device_authorization(
            clientId="nope", clientSecret="wrong", startUrl=emu.start_url
        )
    assert info.value.status_code == 401
    assert "wrong" not in str(info.value)
    assert [r["operation"] for r in emu.requests] == ["StartDeviceAuthorization"]


def test_unsupported_grant_type(oidc: Driver, emu: Emulator) -> None:
    reg = register(oidc)
    with pytest.raises(sj.UnsupportedGrantTypeException):
        oidc.create_token(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="password"
        )


# ---- injected faults ------------------------------------------------------------------------

RETRIED = [
    pytest.param("http_500", sj.InternalServerException, id="http_500"),
    pytest.param("html_502", sj.InvalidResponseError, id="html_502"),
    pytest.param("throttle_429", sj.ServiceError, id="throttle_429"),
    pytest.param("drop", sj.EndpointConnectionError, id="drop"),
    pytest.param("timeout", sj.RequestTimeoutError, id="timeout"),
]


@pytest.mark.parametrize(("kind", "error"), RETRIED)
def test_transient_fault_is_retried_then_succeeds(
    make: Callable[..., Driver], emu: Emulator, kind: str, error: type[Exception]
) -> None:
    oidc = make(timeout=0.5 if kind == "timeout" else SLACK_TIMEOUT)
    emu.inject("RegisterClient", kind, times=1, delay=TIMEOUT_HOLD if kind == "timeout" else None)
    since = len(emu.requests)
    reg = register(oidc)
    assert reg["clientId"]
    retried = reg["ResponseMetadata"]["RetryAttempts"]
    assert_one_fault_retried(emu, "RegisterClient", kind, retried, since)


@pytest.mark.parametrize(("kind", "error"), RETRIED)
def test_persistent_fault_raises_a_clear_error_after_three_attempts(
    make: Callable[..., Driver], emu: Emulator, kind: str, error: type[Exception]
) -> None:
    oidc = make(timeout=0.5 if kind == "timeout" else SLACK_TIMEOUT)
    emu.inject("RegisterClient", kind, times=3, delay=TIMEOUT_HOLD if kind == "timeout" else None)
    with pytest.raises(error) as info:
        register(oidc)
    message = str(info.value)
    assert "RegisterClient" in message
    assert "3 attempts" in message
    assert isinstance(info.value, sj.SSOOIDCError)
    if kind == "html_502":
        assert "HTTP 502" in message and "HTML" in message and "proxy" in message
    assert_attempts(emu, "RegisterClient", kind, 3)


def test_malformed_json_is_not_retried_and_is_explained(oidc: Driver, emu: Emulator) -> None:
    emu.inject("RegisterClient", "malformed_json")
    with pytest.raises(sj.InvalidResponseError) as info:
        register(oidc)
    assert "RegisterClient got HTTP 200" in str(info.value)
    assert "truncated or malformed JSON" in str(info.value)
    assert not isinstance(info.value.__cause__, ValueError)
    assert len(emu.requests) == 1


def test_slow_down_fault(oidc: Driver, emu: Emulator) -> None:
    emu.inject("StartDeviceAuthorization", "slow_down")
    reg = register(oidc)
    with pytest.raises(sj.SlowDownException):
        start(oidc, emu, reg)


def test_connection_refused(mode: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    emu_like = type("E", (), {"url": f"http://127.0.0.1:{port}", "region": "us-east-1"})()
    driver = Driver(mode, emu_like)  # type: ignore[arg-type]
    try:
        with pytest.raises(sj.EndpointConnectionError) as info:
            register(driver)
        assert f"127.0.0.1:{port}" in str(info.value)
        assert "RegisterClient" in str(info.value)
    finally:
        driver.close()


# ---- CreateTokenWithIAM ---------------------------------------------------------------------


def test_create_token_with_iam_signed(mode: str, emu: Emulator) -> None:
    key_id, secret = emu.iam_credentials
    creds = {"creds": {"access_key_id": key_id, "secret_access_key": secret}}
    driver = Driver(mode, emu, credentials=creds)
    try:
        result = driver.create_token_with_iam(
            clientId=emu.iam_client_id,
            grantType="urn:ietf:params:oauth:grant-type:jwt-bearer",
            assertion=_jwt({"sub": "user-1", "iss": "https://idp.example"}),
        )
        assert result["accessToken"] in emu.secrets
        assert "issuedTokenType" in result and "awsAdditionalDetails" in result
    finally:
        driver.close()


def test_create_token_with_iam_wrong_key(mode: str, emu: Emulator) -> None:
    creds = {"creds": {"access_key_id": "AKIAWRONG", "secret_access_key": "nope"}}
    driver = Driver(mode, emu, credentials=creds)
    try:
        with pytest.raises(sj.ServiceError) as info:
            driver.create_token_with_iam(
                clientId=emu.iam_client_id, grantType="refresh_token", refreshToken="x"
            )
        assert info.value.status_code == 403
        assert "nope" not in str(info.value)
    finally:
        driver.close()


def test_create_token_with_iam_anonymous_is_refused(mode: str, emu: Emulator) -> None:
    driver = Driver(mode, emu, credentials={"anonymous": True})
    try:
        with pytest.raises(sj.ConfigurationError, match="anonymous"):
            driver.create_token_with_iam(
                clientId=emu.iam_client_id, grantType="refresh_token", refreshToken="x"
            )
        assert emu.requests == []
    finally:
        driver.close()


def _jwt(payload: dict[str, Any]) -> str:
    import base64
    import json

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}.sig"


# ---- secrets ---------------------------------------------------------------------------------


def test_no_secret_in_reprs_logs_or_errors(
    oidc: Driver, emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    reg = oidc.register_client(
        clientName="test", clientType="public", scopes=["sso:account:access"]
    )
    texts += [repr(reg), str(reg)]
    device = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=emu.start_url
    )
    texts.append(repr(device))
    try:
        poll(oidc, dict(reg), dict(device))
    except sj.AuthorizationPendingException as exc:
        texts += [str(exc), repr(exc)]
    emu.approve(device["userCode"])
    time.sleep(0.3)
    token = oidc.create_token(
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        grantType=DEVICE_GRANT,
        deviceCode=device["deviceCode"],
    )
    texts.append(repr(token))
    emu.inject("CreateToken", "html_502", times=3)
    try:
        oidc.create_token(
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            grantType="refresh_token",
            refreshToken=token["refreshToken"],
        )
    except sj.SSOOIDCError as exc:
        texts += [str(exc), repr(exc)]
    texts += [repr(oidc.client), caplog.text]
    joined = "\n".join(texts)
    assert "***" in repr(reg)
    secrets = emu.secrets
    assert secrets
    for secret in secrets:
        assert secret not in joined


def test_response_is_a_plain_dict_with_the_real_values(oidc: Driver) -> None:
    reg = oidc.register_client(clientName="test", clientType="public")
    assert isinstance(reg, dict)
    assert reg["clientSecret"] != "***"
    assert "clientSecret" in reg


# ---- answers too large to read ----------------------------------------------------------------

BIG = 50 * 1024 * 1024  # 50 MB, the size of the report
_CHUNK = b"x" * 65536


class BigBodyServer:
    """Answers every request with a 50 MB 200 body, generated as it is sent (never held).

    ``framing`` is "length" (a Content-Length that says 50 MB), "chunked" (no length
    announced: the client only finds out by reading) or "close" (read until hang-up)."""

    def __init__(self, framing: str) -> None:
        self.framing = framing
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        self.sent: list[int] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        sent = 0
        with conn:
            conn.recv(65536)
            head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            if self.framing == "length":
                head += f"Content-Length: {BIG}\r\n"
            elif self.framing == "chunked":
                head += "Transfer-Encoding: chunked\r\n"
            else:
                head += "Connection: close\r\n"
            try:
                conn.sendall((head + "\r\n").encode())
                while sent < BIG and not self.stop.is_set():
                    if self.framing == "chunked":
                        conn.sendall(b"%x\r\n" % len(_CHUNK) + _CHUNK + b"\r\n")
                    else:
                        conn.sendall(_CHUNK)
                    sent += len(_CHUNK)
                if self.framing == "chunked":
                    conn.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the client stopped reading and hung up: the point of the test
        self.sent.append(sent)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture(params=["length", "chunked", "close"])
def big(request: pytest.FixtureRequest) -> Iterator[BigBodyServer]:
    server = BigBodyServer(str(request.param))
    yield server
    server.close()


def test_an_answer_too_large_is_cut_short(mode: str, big: BigBodyServer) -> None:
    from ssooidc_jupyter.oidc._client import MAX_RESPONSE_BYTES

    if mode == "sync":
        client: Any = SSOOIDCClient(endpoint=big.url, region="us-east-1")
        call = client.register_client
    else:
        client = AsyncSSOOIDCClient(endpoint=big.url, region="us-east-1")

        def call(**params: Any) -> Any:
            return asyncio.run(client.register_client(**params))

    try:
        with pytest.raises(sj.InvalidResponseError, match="larger than 256 KiB") as caught:
            call(clientName="c", clientType="public")
    finally:
        if mode == "sync":
            client.close()
        else:
            asyncio.run(client.aclose())
    assert caught.value.operation == "RegisterClient"
    assert caught.value.status_code == 200
    wait_for(lambda: big.sent, "the emulator to report what it sent", timeout=5, interval=0.01)
    # The server could push only what fits in the socket buffers before we hung up.
    assert big.sent[0] < BIG // 4
    assert MAX_RESPONSE_BYTES == 256 * 1024


_RSS_PROBE = """
import sys
from ssooidc_jupyter import SSOOIDCClient, InvalidResponseError

def rss_kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

client = SSOOIDCClient(endpoint=sys.argv[1], region="us-east-1")
before = rss_kb("VmRSS")
try:
    client.register_client(clientName="c", clientType="public")
except InvalidResponseError:
    pass
print(before, rss_kb("VmHWM"))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_a_50_mb_answer_costs_no_memory() -> None:
    """Peak RSS of a fresh process that is sent 50 MB stays within a few MB of where it was."""
    server = BigBodyServer("chunked")
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _RSS_PROBE, server.url],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    finally:
        server.close()
    before_kb, peak_kb = map(int, probe.stdout.split())
    assert peak_kb - before_kb < 16 * 1024, (before_kb, peak_kb)
