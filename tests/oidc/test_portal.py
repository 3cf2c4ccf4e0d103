"""The portal client (``sso`` on httpx), sync and async, against the real emulator; hostile
answers from a small scripted server; and ``SSOToken``'s portal calls without boto3.

Every client scenario runs in both modes (the ``portal`` fixture), so the twins cannot drift.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter._secret import reveal
from ssooidc_jupyter.auth._cache import cache_dir
from ssooidc_jupyter.auth._models import token_cache_key
from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.oidc._http import MAX_RESPONSE_BYTES
from ssooidc_jupyter.oidc._portal import AsyncPortalClient, PortalClient
from tests._support import (
    SLACK_TIMEOUT,
    TIMEOUT_HOLD,
    assert_attempts,
    assert_one_fault_retried,
    emulator_fixture,
)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
FAST_RETRY = {"retry_backoff": 0.01}


class Driver:
    """Runs the same call on a sync or an async portal client."""

    def __init__(self, mode: str, endpoint: str, **config: Any) -> None:
        options = {**FAST_RETRY, **config}
        self.loop: asyncio.AbstractEventLoop | None = None
        if mode == "sync":
            self.client: Any = PortalClient(config=options, endpoint=endpoint, region="us-east-1")
        else:
            self.loop = asyncio.new_event_loop()
            self.client = AsyncPortalClient(config=options, endpoint=endpoint, region="us-east-1")

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)
        if self.loop is None:
            return method  # type: ignore[no-any-return]
        loop = self.loop
        return lambda *args, **params: loop.run_until_complete(method(*args, **params))

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


emu = emulator_fixture(interval=0.05, auto_approve=0.0)


#: The tests that also run over TLS (the emulator with a private CA, in AWS_CA_BUNDLE).
OVER_TLS_TOO = pytest.mark.parametrize("emu", ["http", "https"], indirect=True)


@pytest.fixture
def make(mode: str) -> Iterator[Callable[..., Driver]]:
    made: list[Driver] = []

    def factory(endpoint: str, **config: Any) -> Driver:
        driver = Driver(mode, endpoint, **config)
        made.append(driver)
        return driver

    yield factory
    for driver in made:
        driver.close()


@pytest.fixture
def portal(make: Callable[..., Driver], emu: Emulator) -> Driver:
    return make(emu.url)


def access_token(emu: Emulator) -> str:
    """A portal session, signed in through our sso-oidc client (auto-approved)."""
    with sj.ssooidc(endpoint=emu.url, region=emu.region) as oidc:
        reg = oidc.register_client(
            clientName="t", clientType="public", scopes=["sso:account:access"]
        )
        auth = oidc.start_device_authorization(
            clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=emu.start_url
        )
        time.sleep(0.06)  # one polling interval
        token = oidc.create_token(
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            grantType=DEVICE_GRANT,
            deviceCode=auth["deviceCode"],
        )
    return token["accessToken"]


def count(emu: Emulator, operation: str) -> int:
    return [r["operation"] for r in emu.requests].count(operation)


# ---- the four operations against the emulator ----------------------------------------------


@OVER_TLS_TOO
def test_accounts_roles_credentials_and_logout(portal: Driver, emu: Emulator) -> None:
    token = access_token(emu)
    listing = portal.accounts_with_roles(token)
    expected = {a["accountId"]: a for a in emu.accounts}
    assert {info["accountId"] for info, _ in listing} == set(expected)
    for info, roles in listing:
        assert info["accountName"] == expected[info["accountId"]]["accountName"]
        assert info["emailAddress"] == expected[info["accountId"]]["emailAddress"]
        assert roles == expected[info["accountId"]]["roles"]
    # The emulator pages one item at a time: every listing needed its nextToken followed.
    assert count(emu, "ListAccounts") == len(expected)
    assert count(emu, "ListAccountRoles") == sum(len(a["roles"]) for a in emu.accounts)

    account = emu.accounts[0]
    reply = portal.get_role_credentials(
        accessToken=token, accountId=account["accountId"], roleName=account["roles"][0]
    )
    creds = reply["roleCredentials"]
    assert creds["secretAccessKey"] in emu.secrets and creds["sessionToken"] in emu.secrets
    assert creds["expiration"] > time.time() * 1000
    assert creds["secretAccessKey"] not in repr(reply) + str(reply)
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200

    assert portal.logout(accessToken=token)["ResponseMetadata"]["HTTPStatusCode"] == 200
    before = count(emu, "ListAccounts")
    with pytest.raises(sj.UnauthorizedException) as caught:
        portal.list_accounts(accessToken=token)
    error = caught.value
    assert isinstance(error, portal.client.exceptions.UnauthorizedException)
    assert error.status_code == 401 and error.operation == "ListAccounts"
    assert "sign in again" in str(error) and "not valid for the AWS access portal" in str(error)
    assert count(emu, "ListAccounts") == before + 1  # a 401 is never retried


def test_one_page_and_max_results(portal: Driver, emu: Emulator) -> None:
    token = access_token(emu)
    first = portal.list_accounts(accessToken=token)
    assert len(first["accountList"]) == 1 and isinstance(first["nextToken"], str)
    second = portal.list_accounts(accessToken=token, nextToken=first["nextToken"])
    assert "nextToken" not in second
    everything = portal.list_accounts(accessToken=token, maxResults=100)
    assert everything["accountList"] == first["accountList"] + second["accountList"]
    roles = portal.list_all_account_roles(token, emu.accounts[1]["accountId"])
    assert [role["roleName"] for role in roles] == emu.accounts[1]["roles"]


@OVER_TLS_TOO
def test_unknown_account_is_resource_not_found(portal: Driver, emu: Emulator) -> None:
    with pytest.raises(sj.ResourceNotFoundException) as caught:
        portal.get_role_credentials(
            accessToken=access_token(emu), accountId="999999999999", roleName="ReadOnly"
        )
    assert caught.value.status_code == 404 and "GetRoleCredentials" in str(caught.value)


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        pytest.param(
            "list_accounts", {}, "missing required parameter(s) accessToken", id="missing"
        ),
        pytest.param(
            "list_accounts", {"accessToken": "t", "maxResult": 5}, "unknown", id="unknown"
        ),
        pytest.param(
            "list_accounts", {"accessToken": "t", "maxResults": 0}, "1 to 100", id="max-zero"
        ),
        pytest.param(
            "list_accounts", {"accessToken": "t", "maxResults": True}, "1 to 100", id="max-bool"
        ),
        pytest.param(
            "get_role_credentials",
            {"accessToken": "t", "accountId": 111111111111, "roleName": "r"},
            "accountId must be a non-empty string",
            id="account-int",
        ),
        pytest.param("logout", {"accessToken": ""}, "accessToken", id="empty-token"),
    ],
)
def test_bad_parameters_are_refused_before_any_request(
    portal: Driver, emu: Emulator, method: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(sj.ParamValidationError) as caught:
        getattr(portal, method)(**params)
    assert message in str(caught.value)
    assert emu.requests == []


# ---- faults: retried like botocore's standard mode, explained like the oidc operations --------


def operation_call(emu: Emulator, operation: str) -> tuple[str, dict[str, Any]]:
    """A valid call of ``operation`` with a fresh portal session."""
    token = access_token(emu)
    account = emu.accounts[0]
    return {
        "ListAccounts": ("list_accounts", {"accessToken": token}),
        "ListAccountRoles": (
            "list_account_roles",
            {"accessToken": token, "accountId": account["accountId"]},
        ),
        "GetRoleCredentials": (
            "get_role_credentials",
            {"accessToken": token, "accountId": account["accountId"], "roleName": "ReadOnly"},
        ),
        "Logout": ("logout", {"accessToken": token}),
    }[operation]


PORTAL_OPERATIONS = ["GetRoleCredentials", "ListAccounts", "ListAccountRoles", "Logout"]
TRANSIENT = ["http_500", "html_502", "throttle_429", "drop", "timeout", "truncated"]


@pytest.mark.parametrize("operation", PORTAL_OPERATIONS)
@pytest.mark.parametrize("kind", TRANSIENT)
@OVER_TLS_TOO
def test_transient_fault_is_retried_then_succeeds(
    make: Callable[..., Driver], emu: Emulator, operation: str, kind: str
) -> None:
    method, params = operation_call(emu, operation)
    portal = make(emu.url, timeout=0.3 if kind == "timeout" else SLACK_TIMEOUT)
    emu.inject(operation, kind, times=1, delay=TIMEOUT_HOLD if kind == "timeout" else None)
    since = len(emu.requests)
    reply = getattr(portal, method)(**params)
    assert_one_fault_retried(
        emu, operation, kind, reply["ResponseMetadata"]["RetryAttempts"], since
    )


PERSISTENT = [
    pytest.param("html_502", sj.InvalidResponseError, ["HTML page", "proxy"], id="html_502"),
    pytest.param("http_500", sj.ServiceError, ["HTTP 500"], id="http_500"),
    pytest.param("throttle_429", sj.ServiceError, ["HTTP 429"], id="throttle_429"),
    pytest.param("drop", sj.EndpointConnectionError, ["connection", "network"], id="drop"),
    pytest.param("truncated", sj.EndpointConnectionError, ["connection"], id="truncated"),
    pytest.param("timeout", sj.RequestTimeoutError, ["within 0.3 s"], id="timeout"),
]


@pytest.mark.parametrize("operation", PORTAL_OPERATIONS)
@pytest.mark.parametrize(("kind", "error", "words"), PERSISTENT)
def test_persistent_fault_is_a_clear_error_after_three_attempts(
    make: Callable[..., Driver],
    emu: Emulator,
    operation: str,
    kind: str,
    error: type,
    words: list[str],
) -> None:
    method, params = operation_call(emu, operation)
    portal = make(emu.url, timeout=0.3 if kind == "timeout" else SLACK_TIMEOUT)
    emu.inject(operation, kind, times=3, delay=TIMEOUT_HOLD if kind == "timeout" else None)
    with pytest.raises(error) as caught:
        getattr(portal, method)(**params)
    text = str(caught.value)
    assert text.startswith(operation) and text.endswith("(after 3 attempts)")
    for word in words:
        assert word in text
    assert params["accessToken"] not in text
    assert_attempts(emu, operation, kind, 3)


@OVER_TLS_TOO
def test_malformed_json_is_explained_and_not_retried(portal: Driver, emu: Emulator) -> None:
    token = access_token(emu)
    emu.inject("ListAccountRoles", "malformed_json")
    with pytest.raises(sj.InvalidResponseError, match="ListAccountRoles got HTTP 200") as caught:
        portal.list_account_roles(accessToken=token, accountId="111111111111")
    assert "malformed JSON" in str(caught.value)
    assert count(emu, "ListAccountRoles") == 1


def test_connection_refused(make: Callable[..., Driver]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    portal = make(f"http://127.0.0.1:{port}")
    with pytest.raises(sj.EndpointConnectionError, match="ListAccounts: the connection to"):
        portal.list_accounts(accessToken="t")


# ---- hostile answers: a scripted server ----------------------------------------------------


SECRET = "SECRETVALUE-never-in-a-message"


class Scripted(ThreadingHTTPServer):
    """Answers every request with the next scripted (status, headers, body)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
        self.answers: list[tuple[int, dict[str, str], bytes]] = []
        self.seen = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ScriptedHandler(BaseHTTPRequestHandler):
    server: Scripted
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        server = self.server
        status, headers, body = server.answers[min(server.seen, len(server.answers) - 1)]
        server.seen += 1
        self.send_response(status)
        headers = {"Content-Type": "application/json", **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        if "Transfer-Encoding" in headers:
            self.end_headers()
            for start in range(0, len(body), 65536):
                chunk = body[start : start + 65536]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    server = Scripted()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


ACCOUNT = {"accountId": "111111111111", "accountName": "A", "emailAddress": "a@example.com"}
CREDS = {"accessKeyId": SECRET, "secretAccessKey": SECRET, "sessionToken": SECRET}

HOSTILE = [
    # (operation, body, the field the error must name)
    ("ListAccounts", {}, "accountList is missing"),
    ("ListAccounts", {"accountList": None}, "accountList is missing"),
    ("ListAccounts", {"accountList": SECRET}, "accountList is a str, not a list"),
    ("ListAccounts", {"accountList": {"a": 1}}, "accountList is a object, not a list"),
    ("ListAccounts", {"accountList": [SECRET]}, "accountList[0] is a str, not an object"),
    ("ListAccounts", {"accountList": [{"accountName": SECRET}]}, "accountList[0].accountId"),
    ("ListAccounts", {"accountList": [{"accountId": 1}]}, "accountList[0].accountId is a number"),
    ("ListAccounts", {"accountList": [{"accountId": ""}]}, "accountList[0].accountId is empty"),
    ("ListAccounts", {"accountList": [ACCOUNT, {**ACCOUNT, "accountName": 5}]}, "[1].accountName"),
    ("ListAccounts", {"accountList": [ACCOUNT], "nextToken": 7}, "nextToken is a number"),
    ("ListAccountRoles", {"accountList": []}, "roleList is missing"),
    ("ListAccountRoles", {"roleList": [{"accountId": "1"}]}, "roleList[0].roleName is missing"),
    ("ListAccountRoles", {"roleList": [{"roleName": ["x"]}]}, "roleList[0].roleName is a list"),
    ("GetRoleCredentials", {}, "roleCredentials is missing"),
    ("GetRoleCredentials", {"roleCredentials": SECRET}, "roleCredentials is not an object"),
    ("GetRoleCredentials", {"roleCredentials": {**CREDS, "accessKeyId": None}}, ".accessKeyId"),
    ("GetRoleCredentials", {"roleCredentials": {**CREDS, "sessionToken": 1}}, ".sessionToken"),
    ("GetRoleCredentials", {"roleCredentials": CREDS}, "roleCredentials.expiration is missing"),
    ("GetRoleCredentials", {"roleCredentials": {**CREDS, "expiration": "abc"}}, "a str, not"),
    ("GetRoleCredentials", {"roleCredentials": {**CREDS, "expiration": True}}, "a boolean, not"),
    ("GetRoleCredentials", {"roleCredentials": {**CREDS, "expiration": 1.5}}, "a number, not an"),
    ("GetRoleCredentials", {"roleCredentials": {**CREDS, "expiration": -100}}, "not a time"),
    ("GetRoleCredentials", {"roleCredentials": {**CREDS, "expiration": 10**20}}, "not a time"),
]

CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "ListAccounts": ("list_accounts", {"accessToken": SECRET}),
    "ListAccountRoles": ("list_account_roles", {"accessToken": SECRET, "accountId": "1"}),
    "GetRoleCredentials": (
        "get_role_credentials",
        {"accessToken": SECRET, "accountId": "1", "roleName": "r"},
    ),
    "Logout": ("logout", {"accessToken": SECRET}),
}


@pytest.mark.parametrize(
    ("operation", "body", "field"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(HOSTILE)],
)
def test_a_wrong_answer_is_an_invalid_response_naming_the_field(
    make: Callable[..., Driver], scripted: Scripted, operation: str, body: Any, field: str
) -> None:
    scripted.answers = [(200, {}, json.dumps(body).encode())]
    method, params = CALLS[operation]
    with pytest.raises(sj.InvalidResponseError) as caught:
        getattr(make(scripted.url), method)(**params)
    text = str(caught.value)
    assert text.startswith(f"{operation} got HTTP 200") and field in text
    assert SECRET not in text and SECRET not in repr(caught.value)
    assert caught.value.operation == operation
    assert scripted.seen == 1  # a wrong 200 is not retried


@pytest.mark.parametrize("operation", sorted(CALLS))
@pytest.mark.parametrize(
    ("status", "headers", "body", "words"),
    [
        pytest.param(200, {"Content-Type": "text/html"}, b"<html>x</html>", "HTML", id="html"),
        pytest.param(200, {}, b"", "empty body", id="empty"),
        pytest.param(200, {}, b"[1, 2]", "JSON body", id="json-list"),
        pytest.param(403, {"Content-Type": "text/html"}, b"<html>no</html>", "proxy", id="403"),
    ],
)
def test_not_the_portal_answering(
    make: Callable[..., Driver],
    scripted: Scripted,
    operation: str,
    status: int,
    headers: dict[str, str],
    body: bytes,
    words: str,
) -> None:
    scripted.answers = [(status, headers, body)]
    method, params = CALLS[operation]
    if operation == "Logout" and status == 200 and body == b"":
        # The one operation whose success has no body: an empty 200 is its real answer.
        reply = getattr(make(scripted.url), method)(**params)
        assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200
        return
    with pytest.raises(sj.InvalidResponseError, match=operation) as caught:
        getattr(make(scripted.url), method)(**params)
    assert words in str(caught.value)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_answer_is_not_read(
    make: Callable[..., Driver], scripted: Scripted, chunked: bool
) -> None:
    filler = "x" * (MAX_RESPONSE_BYTES + 1)
    body = json.dumps({"accountList": [], "padding": filler}).encode()
    scripted.answers = [(200, {"Transfer-Encoding": "chunked"} if chunked else {}, body)]
    with pytest.raises(sj.InvalidResponseError, match="larger than 256 KiB") as caught:
        make(scripted.url).list_accounts(accessToken="t")
    assert caught.value.status_code == 200


def test_a_looping_next_token_ends_with_a_clear_error(
    make: Callable[..., Driver], scripted: Scripted
) -> None:
    page = {"accountList": [ACCOUNT], "nextToken": "again"}
    scripted.answers = [(200, {}, json.dumps(page).encode())]
    with pytest.raises(sj.InvalidResponseError, match="nextToken repeats"):
        make(scripted.url).list_all_accounts("t")
    assert scripted.seen == 2


def test_null_members_count_as_absent(make: Callable[..., Driver], scripted: Scripted) -> None:
    page = {"accountList": [{**ACCOUNT, "emailAddress": None}], "nextToken": None}
    scripted.answers = [(200, {}, json.dumps(page).encode())]
    assert make(scripted.url).list_all_accounts("t") == [
        {"accountId": "111111111111", "accountName": "A"}
    ]


# ---- no secret in reprs, logs (ours, httpx, httpcore at DEBUG) or errors -------------------


def test_no_secret_in_logs_reprs_or_errors(
    portal: Driver, emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: ours, httpx and httpcore
    token = access_token(emu)
    caplog.clear()  # only the portal's own lines below
    seen: list[str] = [repr(portal.client)]
    seen.append(repr(portal.accounts_with_roles(token)))
    account = emu.accounts[0]
    reply = portal.get_role_credentials(
        accessToken=token, accountId=account["accountId"], roleName=account["roles"][0]
    )
    seen += [repr(reply), str(reply)]
    emu.inject("ListAccounts", "html_502", times=3)
    with pytest.raises(sj.InvalidResponseError) as html:
        portal.list_accounts(accessToken=token)
    portal.logout(accessToken=token)
    with pytest.raises(sj.UnauthorizedException) as refused:
        portal.get_role_credentials(accessToken=token, accountId="1", roleName="r")
    seen += [str(html.value), repr(html.value), str(refused.value), repr(refused.value)]
    names = {record.name.split(".")[0] for record in caplog.records}
    assert {"ssooidc_jupyter", "httpx", "httpcore"} <= names  # the loggers did speak
    text = caplog.text + "".join(seen)
    assert "x-amz-sso_bearer_token" not in caplog.text.lower()
    for secret in emu.secrets:
        assert secret not in text


# ---- endpoint and timeout --------------------------------------------------------------------


def test_endpoint_follows_the_environment_like_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    def endpoint() -> str:
        return str(PortalClient(region="eu-west-1").meta.endpoint_url)

    assert endpoint() == "https://portal.sso.eu-west-1.amazonaws.com"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", "http://127.0.0.1:1")  # not the portal's
    assert endpoint() == "https://portal.sso.eu-west-1.amazonaws.com"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:2")
    assert endpoint() == "http://127.0.0.1:2"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:3/")
    assert endpoint() == "http://127.0.0.1:3"
    assert PortalClient(endpoint="http://localhost:4").meta.endpoint_url == "http://localhost:4"
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert endpoint() == "https://portal.sso.eu-west-1.amazonaws.com"


def test_the_sign_in_http_timeout_reaches_the_portal(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    token = sj.login(emu.start_url, emu.region, on_prompt=lambda prompt: None, http_timeout=0.3)
    emu.inject("ListAccounts", "timeout", times=3, delay=0.6)
    with pytest.raises(sj.RequestTimeoutError, match=r"within 0\.3 s"):
        token.accounts()


# ---- SSOToken: accounts, credentials and logout, sync and async, without boto3 -------------


@pytest.fixture
def signed_in(
    monkeypatch: pytest.MonkeyPatch, emulator_factory: Callable[..., Emulator]
) -> Iterator[tuple[Emulator, sj.SSOToken]]:
    emulator = emulator_factory(interval=0.05, auto_approve=0.0)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.url)
    yield emulator, sj.login(emulator.start_url, emulator.region, on_prompt=lambda p: None)


def test_async_surface(signed_in: tuple[Emulator, sj.SSOToken]) -> None:
    emu, token = signed_in

    async def run() -> tuple[list[sj.Account], sj.RoleCredentials, float]:
        gaps: list[float] = []
        stop = asyncio.Event()

        async def heartbeat() -> None:
            last = time.monotonic()
            while not stop.is_set():
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        beat = asyncio.create_task(heartbeat())
        # Latency on every page: a blocking call would stall the heartbeat for 0.3 s.
        emu.inject("ListAccounts", "timeout", times=2, delay=0.3)
        accounts = await token.aaccounts()
        account = accounts[1]
        creds = await token.acredentials(account.account_id, account.roles[0])
        await token.alogout()
        stop.set()
        await beat
        return accounts, creds, max(gaps)

    accounts, creds, worst_gap = asyncio.run(run())
    assert [a.account_id for a in accounts] == [a["accountId"] for a in emu.accounts]
    assert accounts[1].roles == emu.accounts[1]["roles"]
    assert (
        reveal(creds.secret_access_key) in emu.secrets
        and creds.account_id == accounts[1].account_id
    )
    assert creds.expiration > datetime.now(timezone.utc)
    assert worst_gap < 0.2
    assert count(emu, "Logout") == 1
    assert not (cache_dir() / f"{token_cache_key(None, emu.start_url)}.json").exists()


def test_logout_of_a_session_already_ended_is_not_an_error(
    signed_in: tuple[Emulator, sj.SSOToken],
) -> None:
    emu, token = signed_in
    with PortalClient(endpoint=emu.url, region=emu.region) as portal:
        portal.logout(accessToken=token.access_token)
    token.logout()  # the portal answers 401: signed out already
    assert count(emu, "Logout") == 2
    assert not (cache_dir() / f"{token_cache_key(None, emu.start_url)}.json").exists()


def _cached_expiry(emu: Emulator) -> datetime:
    data = json.loads((cache_dir() / f"{token_cache_key(None, emu.start_url)}.json").read_text())
    return datetime.fromisoformat(data["expiresAt"].replace("Z", "+00:00"))


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_token_the_portal_refused_is_not_handed_out_again(
    signed_in: tuple[Emulator, sj.SSOToken], asynchronous: bool
) -> None:
    """After a server-side logout (another tool, the portal's page), the first portal call
    says to sign in again, and login() no longer returns the dead token as fresh."""
    emu, token = signed_in
    dead = token.access_token
    with PortalClient(endpoint=emu.url, region=emu.region) as portal:
        portal.logout(accessToken=dead)  # the emulator's /logout: the session is over

    with pytest.raises(sj.UnauthorizedException) as caught:
        if asynchronous:
            asyncio.run(token.aaccounts())
        else:
            token.accounts()
    assert "sign in again" in str(caught.value) and dead not in str(caught.value)
    # Flagged expired in the cache (the refresh token and registration stay).
    assert _cached_expiry(emu) <= datetime.now(timezone.utc)
    assert token.expired

    # The same token object now tries a silent refresh, which the ended session refuses.
    with pytest.raises(sj.LoginError, match="has ended"):
        token.credentials(emu.accounts[0]["accountId"], emu.accounts[0]["roles"][0])

    prompts: list[sj.DevicePrompt] = []
    again = sj.login(emu.start_url, emu.region, on_prompt=prompts.append)
    assert len(prompts) == 1  # a new sign-in, not the dead token
    assert again.access_token != dead
    assert [a.account_id for a in again.accounts()] == [a["accountId"] for a in emu.accounts]


def test_a_revoked_token_of_a_live_session_is_renewed_silently(
    signed_in: tuple[Emulator, sj.SSOToken],
) -> None:
    """Only the access token died (the session lives): the refusal is reported once, then
    the flagged token is refreshed without a prompt."""
    emu, token = signed_in
    dead = token.access_token
    emu.expire_access_token(dead)
    with pytest.raises(sj.UnauthorizedException):
        token.accounts()
    assert len(token.accounts()) == len(emu.accounts)
    assert token.access_token != dead and count(emu, "CreateToken") == 2
    again = sj.login(emu.start_url, emu.region, on_prompt=pytest.fail)
    assert again.access_token == token.access_token


@OVER_TLS_TOO
def test_portal_calls_need_no_boto3(emu: Emulator, clean_aws_env: Path) -> None:
    """accounts(), credentials(), logout() and %ssooidc accounts with boto3 and botocore
    impossible to import; only session() says it needs them."""
    code = f"""
import json, sys
sys.modules["boto3"] = None
sys.modules["botocore"] = None
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
import ssooidc_jupyter as sj

token = sj.login({emu.start_url!r}, {emu.region!r}, on_prompt=lambda p: None)
accounts = token.accounts()
creds = token.credentials(accounts[0].account_id, accounts[0].roles[0])
ip = InteractiveShell.instance()
ip.run_line_magic("load_ext", "ssooidc_jupyter")
with capture_output() as cap:
    ip.run_line_magic("ssooidc", "login --start-url {emu.start_url} --region {emu.region} --wait")
    ip.run_line_magic("ssooidc", "accounts")
table = cap.outputs[-1].data["text/plain"]
try:
    token.session(accounts[0].account_id, accounts[0].roles[0])
    session_error = ""
except sj.MissingDependencyError as exc:
    session_error = str(exc)
with capture_output() as cap:
    ip.run_line_magic("ssooidc", "logout")
print(json.dumps({{"accounts": [a.account_id for a in accounts], "table": table,
    "expiration": creds.expiration.isoformat(), "session_error": session_error,
    "loaded": [m for m in ("boto3", "botocore") if sys.modules.get(m) is not None]}}))
"""
    env = {**os.environ, "AWS_ENDPOINT_URL": emu.url}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["accounts"] == [a["accountId"] for a in emu.accounts]
    assert all(a["accountId"] in result["table"] for a in emu.accounts)
    assert "pip install 'ssooidc-jupyter[aws]'" in result["session_error"]
    assert result["loaded"] == []
    assert count(emu, "Logout") == 1
