"""The fault matrix: every sso-oidc operation x every emulator fault kind, once and persistent.

Against the real emulator over real sockets. A fault that happens once is ridden out when it
is transient (the client retries: botocore's standard mode) and reported at once when it is
not; a persistent one ends in a clear error of the right type, naming the operation, after
the right number of attempts. Then the device sign-in with persistent faults on each of its
operations: a clear error and a cache with no token in it.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter.auth import sign_in
from ssooidc_jupyter.auth._context import resolve_login
from ssooidc_jupyter.auth._flow import forget_refresh_failures
from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.emulator.model import FAULT_KINDS
from ssooidc_jupyter.oidc import _retry
from ssooidc_jupyter.oidc._protocol import OPERATIONS
from tests._support import (
    SLACK_TIMEOUT,
    TIMEOUT_HOLD,
    assert_attempts,
    assert_one_fault_retried,
    emulator_fixture,
)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
TIMEOUT = 0.3  # the client's; an injected "timeout" waits longer than that
MAX_ATTEMPTS = 3

# What a persistent fault ends in, and whether the client retries it.
EXPECTED: dict[str, tuple[type[sj.SSOOIDCError], bool]] = {
    "http_500": (sj.InternalServerException, True),
    "html_502": (sj.InvalidResponseError, True),
    "throttle_429": (sj.ServiceError, True),
    "timeout": (sj.RequestTimeoutError, True),
    "drop": (sj.EndpointConnectionError, True),
    "truncated": (sj.EndpointConnectionError, True),
    "slow_down": (sj.SlowDownException, False),
    "malformed_json": (sj.InvalidResponseError, False),
}
assert set(EXPECTED) == FAULT_KINDS, "a new fault kind needs its row here"

MATRIX = [
    pytest.param(operation, kind, times, id=f"{operation}-{kind}-{label}")
    for operation in sorted(OPERATIONS)
    for kind in sorted(FAULT_KINDS)
    for times, label in ((1, "once"), (10, "persistent"))
]


@pytest.fixture(autouse=True)
def no_refresh_failures() -> Iterator[None]:
    forget_refresh_failures()
    yield
    forget_refresh_failures()


emu = emulator_fixture(interval=0.05)


def _jwt() -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part({'sub': 'u', 'iss': 'https://idp.example'})}.sig"


def _prepare(client: Any, emu: Emulator, operation: str) -> dict[str, Any]:
    """Valid parameters for ``operation`` (made before any fault is injected)."""
    if operation == "RegisterClient":
        return {"clientName": "c", "clientType": "public", "scopes": ["sso:account:access"]}
    if operation == "CreateTokenWithIAM":
        grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
        return {"clientId": emu.iam_client_id, "grantType": grant, "assertion": _jwt()}
    reg = client.register_client(clientName="c", clientType="public")
    if operation == "StartDeviceAuthorization":
        return {
            "clientId": reg["clientId"],
            "clientSecret": reg["clientSecret"],
            "startUrl": emu.start_url,
        }
    device = client.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=emu.start_url
    )
    emu.approve(device["userCode"])
    return {
        "clientId": reg["clientId"],
        "clientSecret": reg["clientSecret"],
        "grantType": DEVICE_GRANT,
        "deviceCode": device["deviceCode"],
    }


def _config(emu: Emulator, kind: str) -> dict[str, Any]:
    key_id, secret = emu.iam_credentials
    return {
        "timeout": TIMEOUT if kind == "timeout" else SLACK_TIMEOUT,
        "retry_backoff": 0.01,
        "max_attempts": MAX_ATTEMPTS,
        "credentials": {"creds": {"access_key_id": key_id, "secret_access_key": secret}},
    }


@pytest.mark.parametrize(("operation", "kind", "times"), MATRIX)
def test_every_operation_under_every_fault(
    emu: Emulator, operation: str, kind: str, times: int
) -> None:
    error_type, retried = EXPECTED[kind]
    method = OPERATIONS[operation].python_name
    with sj.SSOOIDCClient(config=_config(emu, kind), endpoint=emu.url, region=emu.region) as client:
        params = _prepare(client, emu, operation)
        since = len(emu.requests)
        emu.inject(operation, kind, times=times, delay=TIMEOUT_HOLD if kind == "timeout" else None)
        if times == 1 and retried:
            answer = getattr(client, method)(**params)  # ridden out
            reported = answer["ResponseMetadata"]["RetryAttempts"]
            assert_one_fault_retried(emu, operation, kind, reported, since)
            return
        with pytest.raises(error_type) as caught:
            getattr(client, method)(**params)
    message = str(caught.value)
    assert operation in message
    assert (f"after {MAX_ATTEMPTS} attempts" in message) is retried
    assert_attempts(emu, operation, kind, MAX_ATTEMPTS if retried else 1, since=since)
    assert not [secret for secret in emu.secrets if secret in message + repr(caught.value)]


@pytest.mark.parametrize("kind", sorted(FAULT_KINDS))
def test_the_async_client_agrees(emu: Emulator, kind: str) -> None:
    error_type, retried = EXPECTED[kind]

    async def run() -> None:
        async with sj.AsyncSSOOIDCClient(
            config=_config(emu, kind), endpoint=emu.url, region=emu.region
        ) as client:
            emu.inject(
                "RegisterClient", kind, times=10, delay=TIMEOUT_HOLD if kind == "timeout" else None
            )
            with pytest.raises(error_type):
                await client.register_client(clientName="c", clientType="public")

    asyncio.run(run())
    assert_attempts(emu, "RegisterClient", kind, MAX_ATTEMPTS if retried else 1)


# ---- the sign-in under persistent faults ------------------------------------------------------

SIGN_IN = [
    pytest.param(operation, kind, id=f"{operation}-{kind}")
    for operation in ("RegisterClient", "StartDeviceAuthorization", "CreateToken")
    for kind in sorted(FAULT_KINDS)
]


@pytest.mark.parametrize(("operation", "kind"), SIGN_IN)
def test_sign_in_under_a_persistent_fault_explains_and_caches_no_token(
    clean_aws_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    kind: str,
    emulator_factory: Callable[..., Emulator],
) -> None:
    """Transient faults are retried, then (for polls) counted as failed polls; persistent
    ones end the sign-in with an error saying which operation failed and how."""
    # The backoff between attempts shrunk: the schedule is not under test here, the outcome is.
    monkeypatch.setattr(_retry, "backoff_delay", lambda attempt, base: 0.01)
    emu = emulator_factory(interval=0.05, auto_approve=0.0)
    emu.inject(operation, kind, times=100, delay=1.0 if kind == "timeout" else None)
    context = resolve_login(
        emu.start_url, emu.region, endpoint=emu.url, timeout=2, http_timeout=TIMEOUT
    )
    with pytest.raises(sj.SSOOIDCError) as caught:
        sign_in(context, on_prompt=lambda prompt: None)
    secrets = emu.secrets
    message = str(caught.value)
    if operation != "CreateToken" or kind in ("malformed_json",):
        assert operation in message
    if kind == "slow_down" and operation == "CreateToken":
        assert "kept asking to slow down" in message
    assert not [s for s in secrets if s in message]
    cache = clean_aws_env / ".aws" / "sso" / "cache"
    saved = [p.read_text() for p in cache.glob("*.json")] if cache.exists() else []
    assert not [content for content in saved if "accessToken" in content]


def test_the_matrix_size() -> None:
    # Quoted in the hardening report.
    assert len(MATRIX) == 4 * 8 * 2 == 64
    assert len(SIGN_IN) == 24
