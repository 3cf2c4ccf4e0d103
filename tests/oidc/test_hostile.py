"""The hostile-answer matrix: a scripted sso-oidc endpoint that lies, on a real socket.

Each case answers one operation with a body that is valid HTTP and valid JSON (or not) but
not a valid answer of that operation. Our client must raise :class:`InvalidResponseError`
naming the operation and the member, never quoting the value, and the sign-in must leave
the SSO cache as it was: no token is ever built or saved from a bad answer.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter.auth._cache import TokenCache
from ssooidc_jupyter.auth._flow import forget_refresh_failures
from ssooidc_jupyter.auth._models import CachedToken, token_cache_key
from ssooidc_jupyter.oidc._protocol import OPERATIONS

START = "http://127.0.0.1/start"  # a loopback start URL: allowed over http
REGION = "us-east-1"
SECRET = "s3cr3t-VALUE-never-shown"  # every string value a case plants


class Raw(str):
    """JSON text spliced into the body as is (``1e12``, ``NaN``: json.dumps cannot write them)."""


MISSING = object()

GOOD: dict[str, dict[str, Any]] = {
    "RegisterClient": {
        "clientId": "cid",
        "clientSecret": "csecret",
        "clientIdIssuedAt": 1_700_000_000,
        "clientSecretExpiresAt": 1_900_000_000,
    },
    "StartDeviceAuthorization": {
        "deviceCode": "dcode",
        "userCode": "ABCD-EFGH",
        "verificationUri": "http://127.0.0.1/device",
        "verificationUriComplete": "http://127.0.0.1/device?user_code=ABCD-EFGH",
        "expiresIn": 600,
        "interval": 0.01,
    },
    "CreateToken": {
        "accessToken": "atoken",
        "tokenType": "Bearer",
        "expiresIn": 3600,
        "refreshToken": "rtoken",
    },
    "CreateTokenWithIAM": {
        "accessToken": "atoken",
        "tokenType": "Bearer",
        "expiresIn": 3600,
        "refreshToken": "rtoken",
        "issuedTokenType": "urn:ietf:params:oauth:token-type:refresh_token",
        "scope": ["sso:account:access"],
    },
}

# Bad values shared by every member of a kind.
_BAD_STRING = [MISSING, None, "", 123, True, ["x"], {"a": SECRET}]
_BAD_LIFETIME = [
    MISSING,
    None,
    -100,
    0,
    Raw("1e12"),
    10**12,
    "abc",
    "3600",
    True,
    3600.5,
    Raw("NaN"),
    Raw("Infinity"),
    [3600],
]
_BAD_OPTIONAL_STRING = [123, False, [SECRET], {"x": 1}]

HOSTILE: dict[str, dict[str, list[Any]]] = {
    "RegisterClient": {
        "clientId": _BAD_STRING,
        "clientSecret": _BAD_STRING,
        "clientSecretExpiresAt": ["abc", -1, Raw("1e12"), 10**13, True, 1.5],
        "clientIdIssuedAt": ["x", -5, Raw("-Infinity")],
        "tokenEndpoint": [7],
    },
    "StartDeviceAuthorization": {
        "deviceCode": _BAD_STRING,
        "userCode": _BAD_STRING,
        "verificationUri": _BAD_STRING,
        "verificationUriComplete": _BAD_OPTIONAL_STRING,
        "expiresIn": [*_BAD_LIFETIME, 10**6],
        "interval": [-1, "x", Raw("1e12"), 301, True, Raw("NaN"), [5]],
    },
    "CreateToken": {
        "accessToken": _BAD_STRING,
        "expiresIn": _BAD_LIFETIME,
        "refreshToken": _BAD_OPTIONAL_STRING,
        "tokenType": [1],
        "idToken": [["x"]],
    },
    "CreateTokenWithIAM": {
        "accessToken": _BAD_STRING,
        "expiresIn": _BAD_LIFETIME,
        "refreshToken": _BAD_OPTIONAL_STRING,
        "scope": ["sso:account:access", [1], {"a": 1}],
        "awsAdditionalDetails": ["x", [1]],
    },
}

# Whole bodies that are no answer at all, for every operation.
NOT_AN_OBJECT = [b"[]", b"null", b'"token"', b"42", b"", b"<html>ok</html>", b'{"a":']


def body_with(operation: str, member: str, value: Any) -> bytes:
    data = dict(GOOD[operation])
    if value is MISSING:
        data.pop(member)
        return json.dumps(data).encode()
    if isinstance(value, Raw):
        data[member] = "@@RAW@@"
        return json.dumps(data).replace('"@@RAW@@"', str(value)).encode()
    data[member] = value
    return json.dumps(data).encode()


def _label(value: Any) -> str:
    if value is MISSING:
        return "missing"
    return str(value) if isinstance(value, Raw) else json.dumps(value)[:20]


CASES = [
    pytest.param(op, member, value, id=f"{op}-{member}={_label(value)}")
    for op, members in HOSTILE.items()
    for member, values in members.items()
    for value in values
]
BODY_CASES = [
    pytest.param(op, body, id=f"{op}-body={body[:12]!r}") for op in GOOD for body in NOT_AN_OBJECT
]
N_HOSTILE = len(CASES) + len(BODY_CASES)


@pytest.fixture(autouse=True)
def no_refresh_failures() -> Iterator[None]:
    # A failed refresh is remembered for a minute, process-wide; each case starts afresh.
    forget_refresh_failures()
    yield
    forget_refresh_failures()


# ---- the scripted endpoint ------------------------------------------------------------------


@dataclass
class Script:
    """What each operation answers: (status, body). Defaults are good answers."""

    answers: dict[str, tuple[int, bytes]]
    calls: list[str]


def _operation_of(path: str, body: bytes) -> str:
    if path.startswith("/client/register"):
        return "RegisterClient"
    if path.startswith("/device_authorization"):
        return "StartDeviceAuthorization"
    if "aws_iam" in path:
        return "CreateTokenWithIAM"
    return "CreateToken"


class Hostile:
    """A real HTTP server on 127.0.0.1 answering from a :class:`Script`."""

    def __init__(self) -> None:
        self.script = Script(
            answers={op: (200, json.dumps(good).encode()) for op, good in GOOD.items()},
            calls=[],
        )
        script = self.script

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                operation = _operation_of(self.path, body)
                script.calls.append(operation)
                status, answer = script.answers[operation]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test output stays quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def answer(self, operation: str, body: bytes, status: int = 200) -> None:
        self.script.answers[operation] = (status, body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    server = Hostile()
    yield server
    server.close()


@pytest.fixture
def cache_dir(clean_aws_env: Path) -> Path:
    return clean_aws_env / ".aws" / "sso" / "cache"


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every cache entry (not locks) and its bytes."""
    if not directory.exists():
        return {}
    return {p.name: p.read_bytes() for p in directory.rglob("*.json")}


def call(hostile: Hostile, operation: str, mode: str) -> Any:
    params: dict[str, dict[str, Any]] = {
        "RegisterClient": {"clientName": "c", "clientType": "public"},
        "StartDeviceAuthorization": {"clientId": "c", "clientSecret": "s", "startUrl": START},
        "CreateToken": {
            "clientId": "c",
            "clientSecret": "s",
            "grantType": "refresh_token",
            "refreshToken": "r",
        },
        "CreateTokenWithIAM": {"clientId": "c", "grantType": "refresh_token", "refreshToken": "r"},
    }
    config = {
        "max_attempts": 1,
        "credentials": {"creds": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "x"}},
    }
    name = OPERATIONS[operation].python_name
    if mode == "sync":
        with sj.SSOOIDCClient(config=config, endpoint=hostile.url, region=REGION) as client:
            return getattr(client, name)(**params[operation])

    async def run() -> Any:
        async with sj.AsyncSSOOIDCClient(
            config=config, endpoint=hostile.url, region=REGION
        ) as client:
            return await getattr(client, name)(**params[operation])

    return asyncio.run(run())


def assert_names_field_not_value(error: BaseException, operation: str, member: str) -> None:
    message = str(error)
    assert operation in message
    assert repr(member) in message
    assert SECRET not in message and SECRET not in repr(error)
    assert isinstance(error, sj.InvalidResponseError)
    assert error.operation == operation


def login(hostile: Hostile, **kwargs: Any) -> sj.SSOToken:
    return sj.login(
        START, REGION, endpoint=hostile.url, on_prompt=lambda prompt: None, timeout=10, **kwargs
    )


# ---- the client, both modes -----------------------------------------------------------------


def test_good_answers_pass(hostile: Hostile) -> None:
    for operation in GOOD:
        answer = call(hostile, operation, "sync")
        assert answer["accessToken" if "Token" in operation else next(iter(GOOD[operation]))]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("operation", "member", "value"), CASES)
def test_client_refuses_a_bad_member(
    hostile: Hostile, mode: str, operation: str, member: str, value: Any
) -> None:
    hostile.answer(operation, body_with(operation, member, value))
    with pytest.raises(sj.InvalidResponseError) as caught:
        call(hostile, operation, mode)
    assert_names_field_not_value(caught.value, operation, member)
    assert hostile.script.calls == [operation]  # a bad 200 is not retried


@pytest.mark.parametrize(("operation", "body"), BODY_CASES)
def test_client_refuses_a_body_that_is_no_object(
    hostile: Hostile, operation: str, body: bytes
) -> None:
    hostile.answer(operation, body)
    with pytest.raises(sj.InvalidResponseError, match=operation):
        call(hostile, operation, "sync")


def test_null_optional_members_are_dropped(hostile: Hostile) -> None:
    hostile.answer("CreateToken", json.dumps({**GOOD["CreateToken"], "idToken": None}).encode())
    answer = call(hostile, "CreateToken", "sync")
    assert "idToken" not in answer


# ---- the sign-in: nothing cached from a bad answer -----------------------------------------

FLOW_OPERATIONS = ("RegisterClient", "StartDeviceAuthorization", "CreateToken")
FLOW_CASES = [case for case in CASES if case.values[0] in FLOW_OPERATIONS]


@pytest.mark.parametrize(("operation", "member", "value"), FLOW_CASES)
def test_sign_in_stops_and_caches_nothing(
    hostile: Hostile, cache_dir: Path, operation: str, member: str, value: Any
) -> None:
    hostile.answer(operation, body_with(operation, member, value))
    with pytest.raises(sj.InvalidResponseError) as caught:
        login(hostile)
    assert_names_field_not_value(caught.value, operation, member)
    saved = snapshot(cache_dir)
    # Only the registration may be kept (it was a good answer); never a token, and no
    # registration from a bad RegisterClient answer.
    assert all(b"accessToken" not in content for content in saved.values())
    assert len(saved) == (0 if operation == "RegisterClient" else 1)
    assert "CreateToken" not in hostile.script.calls[1:] or operation == "CreateToken"


async def test_async_sign_in_stops_on_a_null_access_token(
    hostile: Hostile, cache_dir: Path
) -> None:
    hostile.answer("CreateToken", body_with("CreateToken", "accessToken", None))
    with pytest.raises(sj.InvalidResponseError, match="'accessToken'"):
        await sj.login_async(START, REGION, endpoint=hostile.url, on_prompt=lambda p: None)
    assert all(b"accessToken" not in c for c in snapshot(cache_dir).values())


def test_device_expiry_of_zero_is_never_shown(hostile: Hostile) -> None:
    hostile.answer(
        "StartDeviceAuthorization", body_with("StartDeviceAuthorization", "expiresIn", 0)
    )
    shown: list[Any] = []
    with pytest.raises(sj.InvalidResponseError, match="'expiresIn'"):
        sj.login(START, REGION, endpoint=hostile.url, on_prompt=shown.append)
    assert shown == []


def _cached(cache_dir: Path, expires_in: timedelta) -> bytes:
    token = CachedToken(
        start_url=START,
        region=REGION,
        access_token="old-access",
        expires_at=datetime.now(timezone.utc) + expires_in,
        refresh_token="old-refresh",
        client_id="cid",
        client_secret="csecret",
        registration_expires_at=datetime.now(timezone.utc) + timedelta(days=30),
    )
    TokenCache(cache_dir).save_token(token_cache_key(None, START), token)
    return (cache_dir / f"{token_cache_key(None, START)}.json").read_bytes()


@pytest.mark.parametrize(
    ("member", "value"), [("accessToken", None), ("expiresIn", -100), ("expiresIn", Raw("1e12"))]
)
def test_bad_refresh_answer_keeps_the_cached_token(
    hostile: Hostile, cache_dir: Path, member: str, value: Any
) -> None:
    before = _cached(cache_dir, timedelta(minutes=5))  # mandatory window: must refresh
    hostile.answer("CreateToken", body_with("CreateToken", member, value))
    with pytest.raises(sj.InvalidResponseError, match=repr(member)):
        login(hostile, force=False)
    assert (cache_dir / f"{token_cache_key(None, START)}.json").read_bytes() == before


def test_bad_advisory_refresh_answer_keeps_using_the_cached_token(
    hostile: Hostile, cache_dir: Path
) -> None:
    before = _cached(cache_dir, timedelta(minutes=12))  # advisory window
    hostile.answer("CreateToken", body_with("CreateToken", "accessToken", None))
    token = login(hostile)
    assert token.access_token == "old-access"
    assert (cache_dir / f"{token_cache_key(None, START)}.json").read_bytes() == before


def test_the_matrix_is_as_large_as_reported() -> None:
    # The count quoted in the hardening report; a shrinking matrix should be noticed.
    assert N_HOSTILE >= 150
