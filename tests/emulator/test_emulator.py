"""The emulator's Python API and its HTTP behaviour, over real sockets (httpx / raw sockets)."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from ssooidc_jupyter.emulator import FAULT_KINDS, OPERATIONS, Emulator, FaultKind
from tests._support import ROOT, emulator_fixture, wait_for

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# Only a registration with this scope gets refresh tokens (as on IAM Identity Center).
SCOPE = "sso:account:access"


emu = emulator_fixture(interval=0.2)


@pytest.fixture
def http(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        yield client


def register(http: httpx.Client, scopes: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"clientName": "t", "clientType": "public"}
    body["scopes"] = [SCOPE] if scopes is None else scopes
    response = http.post("/client/register", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def start(http: httpx.Client, reg: dict[str, Any] | None = None) -> dict[str, Any]:
    reg = reg or register(http)
    response = http.post(
        "/device_authorization",
        json={
            "clientId": reg["clientId"],
            "clientSecret": reg["clientSecret"],
            "startUrl": "https://example.awsapps.com/start",
        },
    )
    assert response.status_code == 200, response.text
    return {**reg, **response.json()}


def poll(http: httpx.Client, flow: dict[str, Any]) -> httpx.Response:
    return http.post(
        "/token",
        json={
            "clientId": flow["clientId"],
            "clientSecret": flow["clientSecret"],
            "grantType": DEVICE_GRANT,
            "deviceCode": flow["deviceCode"],
        },
    )


def error_type(response: httpx.Response) -> str:
    return str(response.headers.get("x-amzn-ErrorType", "")).split(":", 1)[0]


# -- construction and lifecycle ----------------------------------------------------------------


def test_conftest_fixture_gives_a_running_default_emulator(emulator: Emulator) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emulator.url)
    assert emulator.start_url == f"{emulator.url}/start/"
    assert emulator.region == "us-east-1"
    assert [a["accountId"] for a in emulator.accounts] == ["111111111111", "222222222222"]
    assert all(len(a["roles"]) == 2 for a in emulator.accounts)
    assert emulator.iam_client_id.startswith("arn:aws:sso::")
    key, secret = emulator.iam_credentials
    assert key.startswith("AKIA") and secret in emulator.secrets


@pytest.mark.parametrize(
    "kwargs",
    [
        {"interval": 0},
        {"interval": "1"},
        {"code_ttl": -1},
        {"auto_approve": -1},
        {"page_size": 0},
        {"port": 70000},
        {"accounts": [{"accountId": "123"}]},
        {"accounts": [{"accountId": "111111111111", "roles": "Admin"}]},
        {"user_name": ""},
    ],
    ids=lambda kw: next(iter(kw)) + "=" + repr(next(iter(kw.values())))[:20],
)
def test_constructor_validates(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Emulator(**kwargs)


def test_url_requires_start() -> None:
    emu = Emulator()
    with pytest.raises(RuntimeError):
        _ = emu.url
    emu.stop()  # stopping a never-started emulator is a no-op


def test_stop_is_idempotent_and_fast_with_open_connections() -> None:
    emu = Emulator().start()
    url = emu.url
    client = httpx.Client(base_url=url, timeout=30)
    assert client.get("/start/").status_code == 200  # leaves a keep-alive connection open
    idle = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))  # silent
    emu.inject("StartPage", "timeout", delay=60)
    slow = threading.Thread(target=lambda: _swallow(lambda: client.get("/start/")))
    slow.start()
    wait_for(lambda: any(r["fault"] == "timeout" for r in emu.requests))
    began = time.monotonic()
    emu.stop()
    assert time.monotonic() - began < 3  # bounded by poll intervals, not by any client
    emu.stop()
    slow.join(timeout=5)
    assert not slow.is_alive()
    idle.settimeout(5)
    assert idle.recv(1) == b""  # the server hung up on the idle connection
    idle.close()
    client.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/start/", timeout=2)


def _swallow(call: Callable[[], object]) -> None:
    with contextlib.suppress(httpx.HTTPError):
        call()


def test_restart_after_stop() -> None:
    emu = Emulator()
    with emu:
        assert httpx.get(f"{emu.url}/start/").status_code == 200
    with emu:
        assert httpx.get(f"{emu.url}/start/").status_code == 200


# -- records -----------------------------------------------------------------------------------


def test_records_are_complete_ordered_copies_without_secrets(
    emu: Emulator, http: httpx.Client
) -> None:
    before = time.time()
    flow = start(http)
    emu.approve(flow["userCode"])
    token = poll(http, flow)
    assert token.status_code == 200
    http.get(
        "/assignment/accounts", headers={"x-amz-sso_bearer_token": token.json()["accessToken"]}
    )
    http.get("/nowhere?secret=1")
    records = emu.requests
    assert [r["operation"] for r in records] == [
        "RegisterClient",
        "StartDeviceAuthorization",
        "CreateToken",
        "ListAccounts",
        "Unknown",
    ]
    required = {"operation", "method", "path", "time", "status", "client_id", "grant_type"}
    assert all(required <= set(r) for r in records)
    assert [r["status"] for r in records] == [200, 200, 200, 200, 404]
    assert records[2]["grant_type"] == DEVICE_GRANT
    assert {r["client_id"] for r in records[:4]} == {flow["clientId"]}
    assert records[4]["path"] == "/nowhere"  # no query string
    times = [r["time"] for r in records]
    assert times == sorted(times) and before <= times[0] <= time.time()
    dumped = json.dumps(records)
    leaked = [s for s in emu.secrets if s in dumped]
    assert leaked == []
    records[0]["operation"] = "tampered"
    records.clear()
    assert emu.requests[0]["operation"] == "RegisterClient"


def test_every_response_has_a_request_id(emu: Emulator, http: httpx.Client) -> None:
    responses = [
        http.get("/start/"),
        http.get("/device"),
        http.get("/missing"),
        http.post("/client/register", content=b"{not json"),
        http.post("/", data={"Action": "AssumeRole", "Version": "2011-06-15"}),
    ]
    ids = [r.headers["x-amzn-RequestId"] for r in responses]
    assert all(re.fullmatch(r"[0-9a-f-]{36}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert [r["request_id"] for r in emu.requests] == ids


def test_unknown_paths_and_malformed_requests(emu: Emulator, http: httpx.Client) -> None:
    missing = http.get("/nothing/here")
    assert missing.status_code == 404
    assert error_type(missing) == "UnknownOperationException"
    assert "message" in missing.json()

    bad_json = http.post("/token", content=b'{"clientId": ')
    assert bad_json.status_code == 400
    assert bad_json.headers["x-amzn-ErrorType"] == (
        "InvalidRequestException:http://internal.amazon.com/coral/com.amazonaws.ssooidc/"
    )
    assert bad_json.json()["error"] == "invalid_request"
    assert set(bad_json.json()) == {"error", "error_description"}

    sts = http.post("/", data={"Action": "AssumeRole", "Version": "2011-06-15"})
    assert sts.status_code == 400
    assert "<Code>InvalidAction</Code>" in sts.text

    unsigned = http.post("/token?aws_iam=t", json={"clientId": emu.iam_client_id})
    assert unsigned.status_code == 403
    assert error_type(unsigned) == "MissingAuthenticationTokenException"
    assert "message" in unsigned.json()

    unsigned_sts = http.post("/", data={"Action": "GetCallerIdentity", "Version": "2011-06-15"})
    assert unsigned_sts.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in unsigned_sts.text


def test_device_authorization_reports_fractional_interval(http: httpx.Client) -> None:
    flow = start(http)
    assert flow["interval"] == 0.2
    assert flow["verificationUriComplete"].endswith(f"/device?user_code={flow['userCode']}")


# -- approve / deny / codes ----------------------------------------------------------------------


def test_approve_and_deny_validate_codes(emu: Emulator, http: httpx.Client) -> None:
    with pytest.raises(KeyError):
        emu.approve("BCDF-GHJK")
    with pytest.raises(KeyError):
        emu.deny("not a code at all")
    first, second = start(http), start(http)
    assert emu.user_codes == [first["userCode"], second["userCode"]]
    emu.approve(first["userCode"].lower().replace("-", ""))  # what a person might type
    emu.approve(first["userCode"])  # idempotent
    with pytest.raises(ValueError):
        emu.deny(first["userCode"])
    emu.deny(second["userCode"])
    with pytest.raises(ValueError):
        emu.approve(second["userCode"])
    assert poll(http, first).status_code == 200
    denied = poll(http, second)
    assert error_type(denied) == "AccessDeniedException"
    with pytest.raises(ValueError):
        emu.approve(first["userCode"])  # consumed


def test_auto_approve_after_delay() -> None:
    with Emulator(interval=0.05, auto_approve=0.3) as emu, httpx.Client(base_url=emu.url) as http:
        flow = start(http)
        first = poll(http, flow)
        assert error_type(first) == "AuthorizationPendingException"

        def approved() -> bool:
            time.sleep(0.06)  # stay slower than the interval
            return poll(http, flow).status_code == 200

        wait_for(approved, timeout=10, interval=0)


def test_helpers_reject_unknown_values(emu: Emulator) -> None:
    with pytest.raises(KeyError):
        emu.expire_registration("nobody")
    with pytest.raises(KeyError) as caught:
        emu.expire_access_token("aoa-unknown-token-value")
    assert "aoa-unknown-token-value" not in str(caught.value)
    with pytest.raises(ValueError):
        emu.issue_authorization_code("http://127.0.0.1/cb", code_challenge="short")
    code = emu.issue_authorization_code(redirect_uri="http://127.0.0.1/cb")
    assert code in emu.secrets


def test_secrets_cover_everything_issued(emu: Emulator, http: httpx.Client) -> None:
    flow = start(http)
    emu.approve(flow["userCode"])
    token = poll(http, flow).json()
    creds = http.get(
        "/federation/credentials",
        params={"role_name": "ReadOnly", "account_id": "111111111111"},
        headers={"x-amz-sso_bearer_token": token["accessToken"]},
    ).json()["roleCredentials"]
    issued = emu.secrets
    expected = {
        flow["clientSecret"],
        flow["deviceCode"],
        token["accessToken"],
        token["refreshToken"],
        token["idToken"],
        creds["secretAccessKey"],
        creds["sessionToken"],
        emu.iam_credentials[1],
    }
    assert expected <= issued
    issued.clear()  # a copy
    assert emu.secrets


@pytest.mark.parametrize(
    ("scopes", "refreshable"),
    [
        ([], False),
        (["openid"], False),
        ([SCOPE], True),
        ([SCOPE, "codewhisperer:completions"], True),
    ],
    ids=["no-scopes", "other-scope", "account-access", "account-access-and-more"],
)
def test_refresh_token_only_for_the_account_access_scope(
    emu: Emulator, http: httpx.Client, scopes: list[str], refreshable: bool
) -> None:
    flow = start(http, register(http, scopes=scopes))
    emu.approve(flow["userCode"])
    token = poll(http, flow)
    assert token.status_code == 200, token.text
    assert ("refreshToken" in token.json()) is refreshable
    # Refreshable or not, the access token is a real session at the portal.
    listed = http.get(
        "/assignment/accounts", headers={"x-amz-sso_bearer_token": token.json()["accessToken"]}
    )
    assert listed.status_code == 200
    if refreshable:
        refreshed = http.post(
            "/token",
            json={
                "clientId": flow["clientId"],
                "clientSecret": flow["clientSecret"],
                "grantType": "refresh_token",
                "refreshToken": token.json()["refreshToken"],
            },
        )
        assert refreshed.status_code == 200
        assert refreshed.json()["refreshToken"] != token.json()["refreshToken"]  # rotated


# -- the verification page -----------------------------------------------------------------------


def test_verification_page_prefills_and_escapes(emu: Emulator, http: httpx.Client) -> None:
    flow = start(http)
    page = http.get("/device", params={"user_code": flow["userCode"]})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>Authorize request</title>" in page.text
    assert '<form method="POST" action="/device">' in page.text
    assert f'<input id="user_code" name="user_code" value="{flow["userCode"]}"' in page.text
    assert '<button id="approve" name="action" value="approve"' in page.text
    assert '<button id="deny" name="action" value="deny"' in page.text
    assert "<script" not in page.text

    hostile = '"><script>alert(1)</script><input value="'
    evil = http.get("/device", params={"user_code": hostile})
    assert evil.status_code == 200
    assert "<script>" not in evil.text
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in evil.text
    result = http.post("/device", data={"user_code": hostile, "action": "approve"})
    assert result.status_code == 400
    assert "Unknown or expired code" in result.text
    assert "<script>" not in result.text


@pytest.mark.parametrize(
    ("action", "title", "token_error"),
    [("approve", "Request approved", None), ("deny", "Request denied", "AccessDeniedException")],
    ids=["approve", "deny"],
)
def test_verification_form_submits(
    emu: Emulator, http: httpx.Client, action: str, title: str, token_error: str | None
) -> None:
    flow = start(http)
    result = http.post("/device", data={"user_code": flow["userCode"], "action": action})
    assert result.status_code == 200
    assert title in result.text
    answer = poll(http, flow)
    if token_error is None:
        assert answer.status_code == 200 and answer.json()["accessToken"]
    else:
        assert error_type(answer) == token_error
    ops = [r["operation"] for r in emu.requests]
    assert "VerificationSubmit" in ops
    again = http.post("/device", data={"user_code": flow["userCode"], "action": "approve"})
    assert again.status_code == 400 and "Unknown or expired code" in again.text


def test_start_page(http: httpx.Client) -> None:
    page = http.get("/start/")
    assert page.status_code == 200
    assert "Sandbox" in page.text and "Production" in page.text


# -- fault injection -----------------------------------------------------------------------------


def test_fault_kinds_and_operations_are_enums_exported_as_strings() -> None:
    assert {kind.value for kind in FaultKind} == FAULT_KINDS
    assert isinstance(FAULT_KINDS, frozenset) and isinstance(OPERATIONS, frozenset)
    assert all(type(name) is str for name in FAULT_KINDS | OPERATIONS)
    assert "truncated" in FAULT_KINDS
    assert {"Authorize", "AuthorizeSubmit"} <= OPERATIONS
    assert FaultKind("truncated") is FaultKind.TRUNCATED
    assert FaultKind.HTTP_500 == "http_500" and isinstance(FaultKind.HTTP_500, str)
    # str() and format() are the wire value on every Python (3.12 changed the default).
    assert str(FaultKind.DROP) == f"{FaultKind.DROP}" == "drop"


def test_inject_accepts_the_enum_and_its_string(emu: Emulator, http: httpx.Client) -> None:
    emu.inject("StartPage", FaultKind.HTTP_500)
    emu.inject("StartPage", "throttle_429")
    assert http.get("/start/").status_code == 500
    assert http.get("/start/").status_code == 429
    assert http.get("/start/").status_code == 200
    faults = [r["fault"] for r in emu.requests]
    assert faults == ["http_500", "throttle_429", None]
    assert all(type(f) is str for f in faults[:2])  # records hold plain strings


def test_inject_validates() -> None:
    emu = Emulator()
    assert "CreateToken" in OPERATIONS and "drop" in FAULT_KINDS
    with pytest.raises(ValueError):
        emu.inject("CreateTokens", "http_500")
    with pytest.raises(ValueError):
        emu.inject("CreateToken", "http_501")
    with pytest.raises(ValueError):
        emu.inject("CreateToken", "http_500", times=0)
    with pytest.raises(ValueError):
        emu.inject("CreateToken", "timeout", delay=-1)
    with pytest.raises(ValueError):
        emu.inject("CreateToken", 500)  # type: ignore[arg-type]


def _check_500(r: httpx.Response) -> None:
    assert error_type(r) == "InternalServerException"
    assert r.json()["error"] == "server_error"


def _check_502(r: httpx.Response) -> None:
    assert r.headers["content-type"].startswith("text/html")
    assert "x-amzn-ErrorType" not in r.headers
    assert r.text.startswith("<html>") and "502 Bad Gateway" in r.text and "nginx" in r.text


def _check_429(r: httpx.Response) -> None:
    assert error_type(r) == "TooManyRequestsException"


def _check_slow_down(r: httpx.Response) -> None:
    assert error_type(r) == "SlowDownException"
    assert r.json()["error"] == "slow_down"


def _check_malformed(r: httpx.Response) -> None:
    assert r.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)


FAULT_CHECKS: dict[str, tuple[int, Callable[[httpx.Response], None]]] = {
    "http_500": (500, _check_500),
    "html_502": (502, _check_502),
    "throttle_429": (429, _check_429),
    "slow_down": (400, _check_slow_down),
    "malformed_json": (200, _check_malformed),
}


@pytest.mark.parametrize("kind", list(FAULT_CHECKS), ids=list(FAULT_CHECKS))
def test_fault_kinds_on_the_wire(emu: Emulator, http: httpx.Client, kind: str) -> None:
    status, check = FAULT_CHECKS[kind]
    emu.inject("RegisterClient", kind, times=2)
    body = {"clientName": "t", "clientType": "public"}
    for _ in range(2):
        response = http.post("/client/register", json=body)
        assert response.status_code == status
        check(response)
    assert http.post("/client/register", json=body).status_code == 200  # faults used up
    records = emu.requests
    assert [(r["fault"], r["status"]) for r in records] == [(kind, status)] * 2 + [(None, 200)]
    assert records[2]["client_id"] is not None and records[0]["client_id"] is None


def test_fault_timeout_delays_then_answers(emu: Emulator, http: httpx.Client) -> None:
    emu.inject("StartPage", "timeout", delay=0.3)
    began = time.monotonic()
    response = http.get("/start/")
    assert time.monotonic() - began >= 0.3
    assert response.status_code == 200
    assert emu.requests[-1]["fault"] == "timeout"
    emu.inject("StartPage", "timeout", delay=1)
    with pytest.raises(httpx.TimeoutException):
        http.get("/start/", timeout=0.2)


def test_fault_delay_applies_to_other_kinds(emu: Emulator, http: httpx.Client) -> None:
    emu.inject("ListAccounts", "http_500", delay=0.2)
    began = time.monotonic()
    response = http.get("/assignment/accounts")
    assert time.monotonic() - began >= 0.2
    assert response.status_code == 500


def test_fault_drop_closes_without_answer(emu: Emulator, http: httpx.Client) -> None:
    emu.inject("CreateToken", "drop")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        http.post("/token", json={})
    record = emu.requests[-1]
    assert record["fault"] == "drop" and record["status"] is None
    assert http.post("/token", json={}).status_code == 400  # a fresh connection works


def test_fault_on_botocore_free_raw_socket(emu: Emulator) -> None:
    """drop really closes the TCP connection: a raw socket sees EOF, not bytes."""
    emu.inject("StartPage", "drop")
    port = int(emu.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /start/ HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536) == b""


def _read_until_hangup(sock: socket.socket) -> tuple[bytes, bool]:
    """Everything the server sent, and whether it ended with a reset rather than EOF."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        return data, True
    return data, False


def test_fault_truncated_sends_less_than_content_length(emu: Emulator) -> None:
    emu.inject("CreateToken", "truncated")
    port = int(emu.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        data, reset = _read_until_hangup(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert lines[0] == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "application/json"
    advertised = int(headers["content-length"])
    assert 0 < len(body) < advertised  # some of the body, never all of it
    assert body.startswith(b"{")
    assert reset  # the connection is aborted, not closed cleanly
    record = emu.requests[-1]
    assert (record["operation"], record["fault"], record["status"]) == (
        "CreateToken",
        "truncated",
        200,
    )


def test_fault_truncated_through_httpx(emu: Emulator, http: httpx.Client) -> None:
    emu.inject("RegisterClient", "truncated")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        register(http)
    assert register(http)["clientId"]  # the fault is used up; a new connection works


# -- transport -----------------------------------------------------------------------------------


def test_keep_alive_connections_use_tcp_nodelay(emu: Emulator) -> None:
    port = int(emu.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        reader = sock.makefile("rb")
        for _ in range(20):
            sock.sendall(b"GET /start/ HTTP/1.1\r\nHost: x\r\n\r\n")
            status = reader.readline()
            assert status.startswith(b"HTTP/1.1 200")
            length = 0
            while (line := reader.readline()) not in {b"\r\n", b""}:
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                assert name.lower() != "connection" or value.strip() == "keep-alive"
            assert len(reader.read(length)) == length
        reader.close()
    records = emu.requests
    assert len(records) == 20
    assert all(r["tcp_nodelay"] is True for r in records)


def test_connection_close_is_honoured(emu: Emulator) -> None:
    port = int(emu.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /start/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200")
    assert b"\r\nConnection: close\r\n" in data


def test_chunked_bodies_and_bad_lengths(emu: Emulator, http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"clientName": "chunked", '
        yield b'"clientType": "public"}'

    chunked = http.post("/client/register", content=chunks())
    assert chunked.status_code == 200 and chunked.json()["clientId"]
    port = int(emu.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400") and b"Connection: close" in data


def test_concurrent_requests_are_thread_safe(emu: Emulator) -> None:
    def one_flow(_: int) -> str:
        with httpx.Client(base_url=emu.url, timeout=20) as http:
            ids = [register(http)["clientId"] for _ in range(5)]
            flow = start(http)
            emu.approve(flow["userCode"])
            token = poll(http, flow)
            assert token.status_code == 200, token.text
            return ",".join(ids)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one_flow, range(8)))
    client_ids = [cid for joined in results for cid in joined.split(",")]
    assert len(set(client_ids)) == 40
    records = emu.requests
    assert len(records) == 8 * 8  # 5 registrations + register + start + token per flow
    assert all(r["status"] == 200 for r in records)
    assert len(set(emu.user_codes)) == 8


# -- program and packaging ------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_program_prints_url_serves_and_exits_on_signal(sig: signal.Signals) -> None:
    command = [sys.executable, "-m", "ssooidc_jupyter.emulator", "--port", "0", "--interval", "0.5"]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_env(),
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        stdout = proc.stdout
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            for line in stdout:
                lines.put(line)

        reader = threading.Thread(target=pump)
        reader.start()
        try:
            seen: list[str] = []
            while not any(line.startswith("AWS_ENDPOINT_URL=") for line in seen):
                seen.append(lines.get(timeout=20))
            text = "".join(seen)
            url = re.search(r"^AWS_ENDPOINT_URL=(http://127\.0\.0\.1:\d+)$", text, re.M)
            assert url is not None, text
            assert f"Start URL: {url.group(1)}/start/" in text
            assert "us-east-1" in text
            with httpx.Client(base_url=url.group(1)) as http:
                assert http.get("/start/").status_code == 200
                assert start(http)["interval"] == 0.5
            proc.send_signal(sig)
            assert proc.wait(timeout=10) == 0
            assert proc.stderr.read() == ""
        finally:
            if proc.poll() is None:
                proc.kill()
            reader.join(timeout=10)


def test_importable_and_degrades_without_botocore() -> None:
    script = """
import sys, time, json, urllib.request, urllib.error
sys.modules["botocore"] = None  # as if botocore were not installed
from ssooidc_jupyter.emulator import Emulator
with Emulator() as emu:
    date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    auth = ("AWS4-HMAC-SHA256 Credential=AKIAEMULATORIAMUSER1/" + date[:8]
            + "/us-east-1/sso-oauth/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
    request = urllib.request.Request(
        emu.url + "/token?aws_iam=t", data=b"{}", method="POST",
        headers={"Authorization": auth, "X-Amz-Date": date})
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as exc:
        print(json.dumps({"status": exc.code, "body": exc.read().decode(),
                          "botocore": "botocore.auth" in sys.modules}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env=_env(),
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["status"] == 403
    assert "botocore is not installed" in json.loads(result["body"])["message"]
    assert result["botocore"] is False
