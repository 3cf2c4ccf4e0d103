"""Property-based fuzz (hypothesis) of both sides of the wire.

* Our response parsing: whatever body arrives, ``parse_success`` returns an answer that fits
  the operation's model or raises :class:`InvalidResponseError`; ``parse_error`` never raises;
  a cache file of any content is a token or a ValueError. Nothing else ever escapes.
* The emulator's request parsing: any JSON (or not) body, on every sso-oidc route, is answered
  with a 2xx or a 4xx, never the internal-error path; any bytes on its socket get an answer or
  a hang-up, never a hang, and it keeps serving.

Kept fast: modest ``max_examples``, no deadline (the machine is shared).
"""

from __future__ import annotations

import contextlib
import json
import socket
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ssooidc_jupyter as sj
from ssooidc_jupyter.auth._models import CachedRegistration, CachedToken
from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.emulator.http._api import route
from ssooidc_jupyter.emulator.http._wire import Request
from ssooidc_jupyter.emulator.model import Operation
from ssooidc_jupyter.oidc._protocol import (
    OPERATIONS,
    RESPONSE_MODELS,
    parse_error,
    parse_success,
)
from tests._support import emulator_fixture

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,  # nothing written into the checkout
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
MEMBER_NAMES = sorted({name for model in RESPONSE_MODELS.values() for name in model})
# Bodies shaped like answers: the real member names with values of any kind.
answer_like = st.dictionaries(st.sampled_from(MEMBER_NAMES), json_values, max_size=10)
operations = st.sampled_from(sorted(OPERATIONS))


def _fits(operation: str, answer: dict[str, Any]) -> None:
    """What a caller may rely on once parse_success returned."""
    for name, member in RESPONSE_MODELS[operation].items():
        value = answer.get(name)
        if member.required:
            assert isinstance(value, str | int) and not isinstance(value, bool)
        if value is None:
            continue
        if member.kind == "str":
            assert isinstance(value, str)
        elif member.kind in ("int", "number"):
            assert not isinstance(value, bool) and member.low <= value <= member.high
            if member.kind == "int":
                assert isinstance(value, int)


@FUZZ
@given(operation=operations, body=answer_like)
def test_answers_fit_the_model_or_are_refused(operation: str, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    try:
        answer = parse_success(OPERATIONS[operation], 200, {}, raw, host="h")
    except sj.InvalidResponseError as error:
        assert error.operation == operation and operation in str(error)
        return
    _fits(operation, answer)


@FUZZ
@given(operation=operations, raw=st.binary(max_size=200) | json_values.map(json.dumps))
def test_any_body_parses_or_is_refused(operation: str, raw: bytes | str) -> None:
    body = raw.encode() if isinstance(raw, str) else raw
    try:
        answer = parse_success(OPERATIONS[operation], 200, {}, body, host="h")
    except sj.InvalidResponseError:
        return
    _fits(operation, answer)


@FUZZ
@given(
    operation=operations,
    status=st.integers(min_value=300, max_value=599),
    body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
    error_type=st.none() | st.text(max_size=30),
)
def test_error_parsing_never_raises(
    operation: str, status: int, body: bytes, error_type: str | None
) -> None:
    headers = {} if error_type is None else {"x-amzn-errortype": error_type}
    error = parse_error(OPERATIONS[operation], status, headers, body, host="h")
    assert isinstance(error, sj.ServiceError | sj.InvalidResponseError)
    assert operation in str(error) or isinstance(error, sj.ServiceError)


@FUZZ
@given(
    data=json_values
    | st.dictionaries(
        st.sampled_from(
            [
                "startUrl",
                "region",
                "accessToken",
                "expiresAt",
                "refreshToken",
                "clientId",
                "clientSecret",
                "scopes",
            ]
        ),
        json_values,
    )
)
def test_cache_files_of_any_content_are_tokens_or_value_errors(data: Any) -> None:
    for model in (CachedToken, CachedRegistration):
        with contextlib.suppress(ValueError):
            model.from_json(data)


# ---- the emulator's side ------------------------------------------------------------------------

OIDC_ROUTES = {
    Operation.REGISTER_CLIENT: "/client/register",
    Operation.START_DEVICE_AUTHORIZATION: "/device_authorization",
    Operation.CREATE_TOKEN: "/token",
}
request_members = st.sampled_from(
    [
        "clientId",
        "clientSecret",
        "clientName",
        "clientType",
        "scopes",
        "grantType",
        "deviceCode",
        "refreshToken",
        "startUrl",
        "code",
        "redirectUri",
        "codeVerifier",
    ]
)


emu = emulator_fixture(scope="module", interval=0.05)


@FUZZ
@given(
    operation=st.sampled_from(sorted(OIDC_ROUTES, key=str)),
    body=st.dictionaries(request_members, json_values, max_size=8).map(
        lambda v: json.dumps(v).encode()
    )
    | st.binary(max_size=100),
)
def test_emulator_answers_any_request_body_without_an_internal_error(
    emu: Emulator, operation: Operation, body: bytes
) -> None:
    path = OIDC_ROUTES[operation]
    assert route("POST", path, {}, body) is operation
    request = Request(method="POST", path=path, query={}, headers={}, body=body, url=emu.url + path)
    response = emu._api.handle(operation, request, "rid", {})
    assert 200 <= response.status < 500, (operation, response.status, response.body[:200])


raw_requests = st.builds(
    lambda method, path, headers, body: (
        method + b" " + path + b" HTTP/1.1\r\n" + b"".join(headers) + b"\r\n" + body
    ),
    st.sampled_from([b"POST", b"GET", b"PUT", b"X"]),
    st.sampled_from([b"/token", b"/client/register", b"/device_authorization", b"/%zz", b"*"]),
    st.lists(
        st.sampled_from(
            [
                b"Content-Length: 5\r\n",
                b"Content-Length: -1\r\n",
                b"Content-Length: x\r\n",
                b"Content-Length: 99999999999\r\n",
                b"Transfer-Encoding: chunked\r\n",
                b"Host: 127.0.0.1\r\n",
                b"Content-Type: application/json\r\n",
            ]
        ),
        max_size=4,
    ),
    st.binary(max_size=64) | st.just(b"zz\r\n") | st.just(b"5\r\nabc\r\n0\r\n\r\n"),
)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(raw=raw_requests)
def test_emulator_socket_never_hangs_on_bad_bytes(emu: Emulator, raw: bytes) -> None:
    host, port = emu.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)  # no more bytes: the server must answer or close
        try:
            first = sock.recv(4096)
        except TimeoutError:
            pytest.fail("the emulator neither answered nor hung up")
    assert first == b"" or first.startswith(b"HTTP/1.")


def test_emulator_still_serves_after_the_fuzz(emu: Emulator) -> None:
    with sj.SSOOIDCClient(endpoint=emu.url, region=emu.region) as client:
        assert client.register_client(clientName="after", clientType="public")["clientId"]
