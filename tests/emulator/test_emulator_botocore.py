"""Conformance: botocore's own sso-oidc, sso and sts clients accept the emulator as AWS.

Every modeled error must reach botocore as the right modeled exception class, with the
members botocore parses from the wire (``error``, ``error_description``, ``Error.Code``).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.session
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
REFRESH_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:refresh_token"
REDIRECT = "http://127.0.0.1:8765/callback"
# Only a registration with this scope gets refresh tokens (as on IAM Identity Center).
SCOPE = "sso:account:access"

# No retries: a retry would hide exactly the faults these tests provoke. Note that botocore's
# "max_attempts" counts *retries* (max_attempts=1 still retries once); total_max_attempts
# counts the first attempt too.
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})
INTERVAL = 0.2  # fast polling keeps the suite quick; slow_down semantics still apply


def _b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_client(emu: Emulator, service: str, **kwargs: Any) -> Any:
    session = botocore.session.get_session()
    kwargs.setdefault("config", NO_RETRY)
    return session.create_client(service, region_name=emu.region, endpoint_url=emu.url, **kwargs)


emu = emulator_fixture(interval=INTERVAL)


@pytest.fixture
def oidc(emu: Emulator) -> Any:
    return make_client(emu, "sso-oidc")


@pytest.fixture
def sso(emu: Emulator) -> Any:
    return make_client(emu, "sso")


@pytest.fixture
def iam_oidc(emu: Emulator) -> Any:
    key, secret = emu.iam_credentials
    return make_client(emu, "sso-oidc", aws_access_key_id=key, aws_secret_access_key=secret)


@dataclass
class Login:
    client_id: str
    client_secret: str
    device_code: str
    user_code: str
    last_poll: float = 0.0


def register(oidc: Any, *, scoped: bool = True, **kwargs: Any) -> dict[str, Any]:
    if scoped:
        kwargs.setdefault("scopes", [SCOPE])
    return dict(oidc.register_client(clientName="conformance", clientType="public", **kwargs))


def start(oidc: Any, emu: Emulator, reg: dict[str, Any] | None = None) -> Login:
    reg = reg or register(oidc)
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=emu.start_url
    )
    return Login(reg["clientId"], reg["clientSecret"], auth["deviceCode"], auth["userCode"])


def poll(oidc: Any, login: Login, *, wait: float = INTERVAL + 0.05) -> dict[str, Any]:
    """One CreateToken poll, at least ``wait`` seconds after the previous poll *returned*.

    Measuring from the previous answer (not the previous send) guarantees the server sees
    the spacing too, however late the previous request reached it.
    """
    pause = login.last_poll + wait - time.monotonic()
    if login.last_poll and pause > 0:
        time.sleep(pause)
    try:
        return dict(
            oidc.create_token(
                clientId=login.client_id,
                clientSecret=login.client_secret,
                grantType=DEVICE_GRANT,
                deviceCode=login.device_code,
            )
        )
    finally:
        login.last_poll = time.monotonic()


def signed_in(oidc: Any, emu: Emulator) -> tuple[Login, dict[str, Any]]:
    login = start(oidc, emu)
    emu.approve(login.user_code)
    return login, poll(oidc, login)


def assert_modeled(exc: Any, client: Any, shape: str, status: int) -> None:
    assert type(exc) is getattr(client.exceptions, shape)
    assert exc.response["Error"]["Code"] == shape
    assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert re.fullmatch(r"[0-9a-f-]{36}", exc.response["ResponseMetadata"]["RequestId"])


# -- the device flow ------------------------------------------------------------------------


def test_device_flow_end_to_end(emu: Emulator, oidc: Any) -> None:
    reg = register(oidc)
    assert reg["clientSecretExpiresAt"] > reg["clientIdIssuedAt"] >= int(time.time()) - 5
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=emu.start_url
    )
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", auth["userCode"])
    assert auth["verificationUri"] == f"{emu.url}/device"
    assert auth["verificationUriComplete"] == f"{emu.url}/device?user_code={auth['userCode']}"
    assert auth["expiresIn"] == 600
    assert emu.user_codes == [auth["userCode"]]
    login = Login(reg["clientId"], reg["clientSecret"], auth["deviceCode"], auth["userCode"])

    with pytest.raises(oidc.exceptions.AuthorizationPendingException) as pending:
        poll(oidc, login)
    assert_modeled(pending.value, oidc, "AuthorizationPendingException", 400)
    assert pending.value.response["error"] == "authorization_pending"
    assert isinstance(pending.value.response["error_description"], str)

    emu.approve(auth["userCode"])
    token = poll(oidc, login)
    assert token["tokenType"] == "Bearer"
    assert token["expiresIn"] == 3600
    assert token["accessToken"] and token["refreshToken"]
    assert token["idToken"].count(".") == 2
    issued = emu.secrets
    for key in ("accessToken", "refreshToken", "idToken"):
        assert token[key] in issued
    assert {reg["clientSecret"], auth["deviceCode"]} <= issued

    # The device code is single use.
    with pytest.raises(oidc.exceptions.InvalidGrantException) as reused:
        poll(oidc, login)
    assert_modeled(reused.value, oidc, "InvalidGrantException", 400)
    assert reused.value.response["error"] == "invalid_grant"

    ops = [(r["operation"], r["status"]) for r in emu.requests]
    assert ops == [
        ("RegisterClient", 200),
        ("StartDeviceAuthorization", 200),
        ("CreateToken", 400),
        ("CreateToken", 200),
        ("CreateToken", 400),
    ]
    token_records = [r for r in emu.requests if r["operation"] == "CreateToken"]
    assert all(r["grant_type"] == DEVICE_GRANT for r in token_records)
    assert all(r["client_id"] == reg["clientId"] for r in token_records)


# A longer interval here, so that "immediately" is reliably "too fast" on a loaded machine.
SLOW_INTERVAL = 0.5


def test_slow_down_then_interval_grows(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(interval=SLOW_INTERVAL)
    oidc = make_client(emu, "sso-oidc")
    login = start(oidc, emu)
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        poll(oidc, login)  # the first poll is never too fast
    with pytest.raises(oidc.exceptions.SlowDownException) as slow:
        poll(oidc, login, wait=0)
    assert_modeled(slow.value, oidc, "SlowDownException", 400)
    assert slow.value.response["error"] == "slow_down"
    # Waiting the *original* interval is no longer enough: it grew by 5 s.
    with pytest.raises(oidc.exceptions.SlowDownException):
        poll(oidc, login, wait=SLOW_INTERVAL + 0.1)


def test_slow_down_applies_even_when_approved(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(interval=SLOW_INTERVAL)
    oidc = make_client(emu, "sso-oidc")
    login = start(oidc, emu)
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        poll(oidc, login)
    emu.approve(login.user_code)
    with pytest.raises(oidc.exceptions.SlowDownException):
        poll(oidc, login, wait=0)
    # Once the client slows down, the approved code still yields its tokens.
    assert poll(oidc, login, wait=SLOW_INTERVAL + 5 + 0.05)["accessToken"]


def test_access_denied(emu: Emulator, oidc: Any) -> None:
    login = start(oidc, emu)
    emu.deny(login.user_code)
    with pytest.raises(oidc.exceptions.AccessDeniedException) as denied:
        poll(oidc, login)
    assert_modeled(denied.value, oidc, "AccessDeniedException", 400)
    assert denied.value.response["error"] == "access_denied"


def test_expired_device_code(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(interval=INTERVAL, code_ttl=0.3)
    oidc = make_client(emu, "sso-oidc")
    login = start(oidc, emu)
    time.sleep(0.4)
    with pytest.raises(oidc.exceptions.ExpiredTokenException) as expired:
        poll(oidc, login)
    assert_modeled(expired.value, oidc, "ExpiredTokenException", 400)
    assert expired.value.response["error"] == "expired_token"
    with pytest.raises(ValueError):
        emu.approve(login.user_code)


def test_auto_approve_immediately(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(interval=INTERVAL, auto_approve=0)
    oidc = make_client(emu, "sso-oidc")
    token = poll(oidc, start(oidc, emu))
    assert token["accessToken"] in emu.secrets


def test_refresh_rotates_and_rejects_reuse(emu: Emulator, oidc: Any, sso: Any) -> None:
    login, first = signed_in(oidc, emu)
    refreshed = oidc.create_token(
        clientId=login.client_id,
        clientSecret=login.client_secret,
        grantType="refresh_token",
        refreshToken=first["refreshToken"],
    )
    assert refreshed["accessToken"] != first["accessToken"]
    assert refreshed["refreshToken"] != first["refreshToken"]
    assert refreshed["tokenType"] == "Bearer"
    sso.list_accounts(accessToken=refreshed["accessToken"])

    with pytest.raises(oidc.exceptions.InvalidGrantException) as reused:
        oidc.create_token(
            clientId=login.client_id,
            clientSecret=login.client_secret,
            grantType="refresh_token",
            refreshToken=first["refreshToken"],
        )
    assert reused.value.response["error"] == "invalid_grant"

    other = register(oidc)
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        oidc.create_token(
            clientId=other["clientId"],
            clientSecret=other["clientSecret"],
            grantType="refresh_token",
            refreshToken=refreshed["refreshToken"],
        )


def test_no_refresh_token_without_the_account_access_scope(
    emu: Emulator, oidc: Any, sso: Any
) -> None:
    login = start(oidc, emu, register(oidc, scoped=False))
    emu.approve(login.user_code)
    token = poll(oidc, login)
    assert token["accessToken"] and "refreshToken" not in token
    sso.list_accounts(accessToken=token["accessToken"])  # still a valid portal session
    scoped = start(oidc, emu, register(oidc, scopes=[SCOPE, "openid"]))
    emu.approve(scoped.user_code)
    assert poll(oidc, scoped)["refreshToken"] in emu.secrets


# -- modeled sso-oidc errors, table-driven ------------------------------------------------------


@dataclass(frozen=True)
class ErrorCase:
    call: Callable[[Emulator, Any], Any]
    shape: str
    status: int
    error: str


def _wrong_secret_start(emu: Emulator, oidc: Any) -> Any:
    reg = register(oidc)
    return oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret="not-the-secret", startUrl=emu.start_url
    )


def _unknown_client_token(emu: Emulator, oidc: Any) -> Any:
    return oidc.create_token(
        clientId="nobody", clientSecret="nothing", grantType=DEVICE_GRANT, deviceCode="x"
    )


def _expired_registration(emu: Emulator, oidc: Any) -> Any:
    reg = register(oidc)
    emu.expire_registration(reg["clientId"])
    return oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=emu.start_url
    )


def _unsupported_grant(emu: Emulator, oidc: Any) -> Any:
    reg = register(oidc)
    return oidc.create_token(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="password"
    )


def _missing_device_code(emu: Emulator, oidc: Any) -> Any:
    reg = register(oidc)
    return oidc.create_token(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType=DEVICE_GRANT
    )


def _unknown_device_code(emu: Emulator, oidc: Any) -> Any:
    reg = register(oidc)
    return oidc.create_token(
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        grantType=DEVICE_GRANT,
        deviceCode="never-issued",
    )


def _confidential_client(emu: Emulator, oidc: Any) -> Any:
    return oidc.register_client(clientName="x", clientType="confidential")


def _register_unknown_grant(emu: Emulator, oidc: Any) -> Any:
    return register(oidc, grantTypes=["password"])


def _register_bad_redirect(emu: Emulator, oidc: Any) -> Any:
    return register(
        oidc, grantTypes=["authorization_code"], redirectUris=["http://evil.example/cb"]
    )


def _device_grant_not_registered(emu: Emulator, oidc: Any) -> Any:
    reg = register(oidc, grantTypes=["authorization_code"], redirectUris=[REDIRECT])
    return oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=emu.start_url
    )


def _injected_500(emu: Emulator, oidc: Any) -> Any:
    emu.inject("RegisterClient", "http_500")
    return register(oidc)


def _injected_slow_down(emu: Emulator, oidc: Any) -> Any:
    emu.inject("StartDeviceAuthorization", "slow_down")
    return start(oidc, emu)


ERROR_CASES = {
    "wrong-secret": ErrorCase(_wrong_secret_start, "InvalidClientException", 401, "invalid_client"),
    "unknown-client": ErrorCase(
        _unknown_client_token, "InvalidClientException", 401, "invalid_client"
    ),
    "expired-registration": ErrorCase(
        _expired_registration, "InvalidClientException", 401, "invalid_client"
    ),
    "unsupported-grant": ErrorCase(
        _unsupported_grant, "UnsupportedGrantTypeException", 400, "unsupported_grant_type"
    ),
    "missing-device-code": ErrorCase(
        _missing_device_code, "InvalidRequestException", 400, "invalid_request"
    ),
    "unknown-device-code": ErrorCase(
        _unknown_device_code, "InvalidGrantException", 400, "invalid_grant"
    ),
    "confidential-client": ErrorCase(
        _confidential_client, "InvalidClientMetadataException", 400, "invalid_client_metadata"
    ),
    "register-unknown-grant": ErrorCase(
        _register_unknown_grant, "UnsupportedGrantTypeException", 400, "unsupported_grant_type"
    ),
    "register-bad-redirect": ErrorCase(
        _register_bad_redirect, "InvalidRedirectUriException", 400, "invalid_redirect_uri"
    ),
    "grant-not-registered": ErrorCase(
        _device_grant_not_registered, "UnauthorizedClientException", 400, "unauthorized_client"
    ),
    "injected-500": ErrorCase(_injected_500, "InternalServerException", 500, "server_error"),
    "injected-slow-down": ErrorCase(_injected_slow_down, "SlowDownException", 400, "slow_down"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES.values()), ids=list(ERROR_CASES))
def test_modeled_oidc_errors(emu: Emulator, oidc: Any, case: ErrorCase) -> None:
    with pytest.raises(ClientError) as caught:
        case.call(emu, oidc)
    error: Any = caught.value
    assert_modeled(error, oidc, case.shape, case.status)
    assert error.response["error"] == case.error


def test_register_authorization_code_client_gets_endpoints(emu: Emulator, oidc: Any) -> None:
    reg = register(
        oidc, grantTypes=["authorization_code", "refresh_token"], redirectUris=[REDIRECT]
    )
    assert reg["authorizationEndpoint"] == f"{emu.url}/authorize"
    assert reg["tokenEndpoint"] == f"{emu.url}/token"
    # ... and can redeem a code for itself through CreateToken.
    verifier = secrets.token_urlsafe(48)
    challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
    code = emu.issue_authorization_code(REDIRECT, challenge, client_id=reg["clientId"])
    token = oidc.create_token(
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        grantType="authorization_code",
        code=code,
        redirectUri=REDIRECT,
        codeVerifier=verifier,
    )
    assert token["accessToken"] in emu.secrets


# -- the portal (sso) -------------------------------------------------------------------------


def test_paginators_return_every_account_and_role(emu: Emulator, oidc: Any, sso: Any) -> None:
    _, token = signed_in(oidc, emu)
    access = token["accessToken"]
    pages = list(sso.get_paginator("list_accounts").paginate(accessToken=access))
    assert len(pages) == len(emu.accounts)  # page_size=1 by default
    assert "nextToken" not in pages[-1]
    listed = [a for page in pages for a in page["accountList"]]
    expected = [
        {k: a[k] for k in ("accountId", "accountName", "emailAddress")} for a in emu.accounts
    ]
    assert listed == expected

    for account in emu.accounts:
        roles = [
            r
            for page in sso.get_paginator("list_account_roles").paginate(
                accessToken=access, accountId=account["accountId"]
            )
            for r in page["roleList"]
        ]
        assert roles == [
            {"roleName": name, "accountId": account["accountId"]} for name in account["roles"]
        ]

    big_pages = list(
        sso.get_paginator("list_accounts").paginate(
            accessToken=access, PaginationConfig={"PageSize": 100}
        )
    )
    assert len(big_pages) == 1 and big_pages[0]["accountList"] == expected


def test_custom_accounts_and_page_size(emulator_factory: Callable[..., Emulator]) -> None:
    accounts = [
        {
            "accountId": f"{i:012d}",
            "accountName": f"Account {i}",
            "emailAddress": f"a{i}@example.com",
            "roles": ["R1", "R2", "R3"],
        }
        for i in range(1, 6)
    ]
    emu = emulator_factory(interval=INTERVAL, accounts=accounts, page_size=2)
    oidc, sso = make_client(emu, "sso-oidc"), make_client(emu, "sso")
    _, token = signed_in(oidc, emu)
    pages = list(sso.get_paginator("list_accounts").paginate(accessToken=token["accessToken"]))
    assert [len(p["accountList"]) for p in pages] == [2, 2, 1]
    assert [a["accountId"] for p in pages for a in p["accountList"]] == [
        a["accountId"] for a in accounts
    ]


def test_role_credentials_and_caller_identity(emu: Emulator, oidc: Any, sso: Any) -> None:
    _, token = signed_in(oidc, emu)
    before = time.time()
    creds = sso.get_role_credentials(
        accessToken=token["accessToken"], accountId="222222222222", roleName="PowerUser"
    )["roleCredentials"]
    assert creds["accessKeyId"].startswith("ASIA") and len(creds["accessKeyId"]) == 20
    assert {creds["secretAccessKey"], creds["sessionToken"]} <= emu.secrets
    assert before + 3600 - 5 <= creds["expiration"] / 1000 <= time.time() + 3600 + 5

    sts = make_client(
        emu,
        "sts",
        aws_access_key_id=creds["accessKeyId"],
        aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds["sessionToken"],
    )
    identity = sts.get_caller_identity()
    assert identity["Account"] == "222222222222"
    assert re.fullmatch(
        r"arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_PowerUser_[0-9a-f]{16}/jupyter-user",
        identity["Arn"],
    )
    assert re.fullmatch(r"AROA[A-Z0-9]+:jupyter-user", identity["UserId"])
    # The role suffix is stable across credentials for the same role.
    again = sso.get_role_credentials(
        accessToken=token["accessToken"], accountId="222222222222", roleName="PowerUser"
    )["roleCredentials"]
    sts2 = make_client(
        emu,
        "sts",
        aws_access_key_id=again["accessKeyId"],
        aws_secret_access_key=again["secretAccessKey"],
        aws_session_token=again["sessionToken"],
    )
    assert sts2.get_caller_identity()["Arn"] == identity["Arn"]


def test_sts_expired_role_credentials(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(interval=INTERVAL, role_credentials_ttl=0.3)
    oidc, sso = make_client(emu, "sso-oidc"), make_client(emu, "sso")
    _, token = signed_in(oidc, emu)
    creds = sso.get_role_credentials(
        accessToken=token["accessToken"], accountId="111111111111", roleName="ReadOnly"
    )["roleCredentials"]
    sts = make_client(
        emu,
        "sts",
        aws_access_key_id=creds["accessKeyId"],
        aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds["sessionToken"],
    )
    time.sleep(0.4)
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "ExpiredToken"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ("secret", "SignatureDoesNotMatch"),
        ("key", "InvalidClientTokenId"),
        ("session-token", "InvalidClientTokenId"),
    ],
    ids=["wrong-secret", "unknown-key", "wrong-session-token"],
)
def test_sts_rejects_bad_credentials(
    emu: Emulator, oidc: Any, sso: Any, tamper: str, code: str
) -> None:
    _, token = signed_in(oidc, emu)
    creds = sso.get_role_credentials(
        accessToken=token["accessToken"], accountId="111111111111", roleName="ReadOnly"
    )["roleCredentials"]
    key, secret, session = creds["accessKeyId"], creds["secretAccessKey"], creds["sessionToken"]
    if tamper == "secret":
        secret = "x" * 40
    elif tamper == "key":
        key = "ASIAUNKNOWNUNKNOWN00"
    else:
        session = "not-the-session-token"
    sts = make_client(
        emu,
        "sts",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=session,
    )
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_sts_with_iam_user_credentials(emu: Emulator) -> None:
    key, secret = emu.iam_credentials
    sts = make_client(emu, "sts", aws_access_key_id=key, aws_secret_access_key=secret)
    identity = sts.get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::111111111111:user/jupyter-user"


def test_logout_kills_the_session(emu: Emulator, oidc: Any, sso: Any) -> None:
    login, token = signed_in(oidc, emu)
    sso.logout(accessToken=token["accessToken"])
    with pytest.raises(sso.exceptions.UnauthorizedException) as caught:
        sso.list_accounts(accessToken=token["accessToken"])
    assert_modeled(caught.value, sso, "UnauthorizedException", 401)
    assert caught.value.response["Error"]["Message"] == "Session token not found or invalid"
    with pytest.raises(sso.exceptions.UnauthorizedException):
        sso.get_role_credentials(
            accessToken=token["accessToken"], accountId="111111111111", roleName="ReadOnly"
        )
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        oidc.create_token(
            clientId=login.client_id,
            clientSecret=login.client_secret,
            grantType="refresh_token",
            refreshToken=token["refreshToken"],
        )
    with pytest.raises(sso.exceptions.UnauthorizedException):
        sso.logout(accessToken=token["accessToken"])


@dataclass(frozen=True)
class PortalCase:
    call: Callable[[Emulator, Any, str], Any]
    shape: str
    status: int


def _expired_portal_token(emu: Emulator, sso: Any, token: str) -> Any:
    emu.expire_access_token(token)
    return sso.list_account_roles(accessToken=token, accountId="111111111111")


def _throttled_portal(emu: Emulator, sso: Any, token: str) -> Any:
    emu.inject("ListAccounts", "throttle_429")
    return sso.list_accounts(accessToken=token)


PORTAL_CASES = {
    "bad-token": PortalCase(
        lambda emu, sso, tok: sso.list_accounts(accessToken="bogus"), "UnauthorizedException", 401
    ),
    "expired-token": PortalCase(_expired_portal_token, "UnauthorizedException", 401),
    "unknown-account": PortalCase(
        lambda emu, sso, tok: sso.list_account_roles(accessToken=tok, accountId="999999999999"),
        "ResourceNotFoundException",
        404,
    ),
    "unassigned-role": PortalCase(
        lambda emu, sso, tok: sso.get_role_credentials(
            accessToken=tok, accountId="111111111111", roleName="PowerUser"
        ),
        "ResourceNotFoundException",
        404,
    ),
    "bad-next-token": PortalCase(
        lambda emu, sso, tok: sso.list_accounts(accessToken=tok, nextToken="garbage"),
        "InvalidRequestException",
        400,
    ),
    "throttled": PortalCase(_throttled_portal, "TooManyRequestsException", 429),
}


@pytest.mark.parametrize("case", list(PORTAL_CASES.values()), ids=list(PORTAL_CASES))
def test_modeled_portal_errors(emu: Emulator, oidc: Any, sso: Any, case: PortalCase) -> None:
    _, token = signed_in(oidc, emu)
    with pytest.raises(ClientError) as caught:
        case.call(emu, sso, token["accessToken"])
    assert_modeled(caught.value, sso, case.shape, case.status)


# -- CreateTokenWithIAM ------------------------------------------------------------------------


def _jwt(claims: dict[str, Any]) -> str:
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}.{_b64url(b'signature')}"


def _grant_authorization_code(emu: Emulator, iam: Any, oidc: Any) -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)
    challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
    code = emu.issue_authorization_code(redirect_uri=REDIRECT, code_challenge=challenge)
    return dict(
        iam.create_token_with_iam(
            clientId=emu.iam_client_id,
            grantType="authorization_code",
            code=code,
            redirectUri=REDIRECT,
            codeVerifier=verifier,
        )
    )


def _grant_refresh(emu: Emulator, iam: Any, oidc: Any) -> dict[str, Any]:
    first = _grant_authorization_code(emu, iam, oidc)
    return dict(
        iam.create_token_with_iam(
            clientId=emu.iam_client_id,
            grantType="refresh_token",
            refreshToken=first["refreshToken"],
        )
    )


def _grant_jwt_bearer(emu: Emulator, iam: Any, oidc: Any) -> dict[str, Any]:
    return dict(
        iam.create_token_with_iam(
            clientId=emu.iam_client_id,
            grantType=JWT_BEARER,
            assertion=_jwt({"sub": "alice@example.com", "iss": "https://idp.example"}),
        )
    )


def _grant_token_exchange(emu: Emulator, iam: Any, oidc: Any) -> dict[str, Any]:
    _, token = signed_in(oidc, emu)
    return dict(
        iam.create_token_with_iam(
            clientId=emu.iam_client_id,
            grantType=TOKEN_EXCHANGE,
            subjectToken=token["accessToken"],
            subjectTokenType=ACCESS_TOKEN_TYPE,
            requestedTokenType=ACCESS_TOKEN_TYPE,
        )
    )


IAM_GRANTS = {
    "authorization_code": (_grant_authorization_code, ACCESS_TOKEN_TYPE, True),
    "refresh_token": (_grant_refresh, REFRESH_TOKEN_TYPE, True),
    "jwt-bearer": (_grant_jwt_bearer, ACCESS_TOKEN_TYPE, True),
    "token-exchange": (_grant_token_exchange, ACCESS_TOKEN_TYPE, False),
}


@pytest.mark.parametrize(
    ("grant", "issued_type", "has_refresh"), list(IAM_GRANTS.values()), ids=list(IAM_GRANTS)
)
def test_create_token_with_iam_grants(
    emu: Emulator,
    iam_oidc: Any,
    oidc: Any,
    grant: Callable[[Emulator, Any, Any], dict[str, Any]],
    issued_type: str,
    has_refresh: bool,
) -> None:
    result = grant(emu, iam_oidc, oidc)
    assert result["tokenType"] == "Bearer"
    assert result["expiresIn"] == 3600
    assert result["issuedTokenType"] == issued_type
    assert isinstance(result["scope"], list) and result["scope"]
    assert result["awsAdditionalDetails"]["identityContext"] in emu.secrets
    assert result["idToken"].count(".") == 2
    assert ("refreshToken" in result) is has_refresh
    assert result["accessToken"] in emu.secrets
    record = emu.requests[-1]
    assert record["operation"] == "CreateTokenWithIAM" and record["status"] == 200
    assert record["client_id"] == emu.iam_client_id
    # The IAM-issued access token is a real session at the portal.
    make_client(emu, "sso").list_accounts(accessToken=result["accessToken"])


def test_iam_authorization_code_rules(emu: Emulator, iam_oidc: Any) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = _b64url(hashlib.sha256(verifier.encode()).digest())

    def redeem(code: str, **overrides: Any) -> Any:
        params = {
            "clientId": emu.iam_client_id,
            "grantType": "authorization_code",
            "code": code,
            "redirectUri": REDIRECT,
            "codeVerifier": verifier,
            **overrides,
        }
        return iam_oidc.create_token_with_iam(**params)

    for overrides in ({"codeVerifier": "wrong" * 10}, {"redirectUri": "http://127.0.0.1/other"}):
        with pytest.raises(iam_oidc.exceptions.InvalidGrantException):
            redeem(emu.issue_authorization_code(REDIRECT, challenge), **overrides)
    code = emu.issue_authorization_code(REDIRECT, challenge)
    redeem(code)
    with pytest.raises(iam_oidc.exceptions.InvalidGrantException):
        redeem(code)  # single use


@pytest.mark.parametrize(
    ("params", "shape"),
    [
        ({"grantType": JWT_BEARER, "assertion": "not.a.jwt"}, "InvalidGrantException"),
        ({"grantType": JWT_BEARER, "assertion": _jwt({"iss": "x"})}, "InvalidGrantException"),
        (
            {
                "grantType": TOKEN_EXCHANGE,
                "subjectToken": "aoa-never-issued",
                "subjectTokenType": ACCESS_TOKEN_TYPE,
            },
            "InvalidGrantException",
        ),
        (
            {"grantType": TOKEN_EXCHANGE, "subjectToken": "x", "subjectTokenType": "urn:bogus"},
            "InvalidRequestException",
        ),
        ({"grantType": "refresh_token", "refreshToken": "nope"}, "InvalidGrantException"),
        ({"grantType": DEVICE_GRANT}, "UnsupportedGrantTypeException"),
        (
            {
                "clientId": "arn:aws:sso::1:application/x/y",
                "grantType": JWT_BEARER,
                "assertion": "a",
            },
            "InvalidClientException",
        ),
    ],
    ids=[
        "jwt-not-base64",
        "jwt-without-sub",
        "exchange-unknown-token",
        "exchange-bad-type",
        "unknown-refresh",
        "device-grant",
        "wrong-application",
    ],
)
def test_create_token_with_iam_errors(
    emu: Emulator, iam_oidc: Any, params: dict[str, Any], shape: str
) -> None:
    with pytest.raises(ClientError) as caught:
        iam_oidc.create_token_with_iam(**{"clientId": emu.iam_client_id, **params})
    assert type(caught.value) is getattr(iam_oidc.exceptions, shape)


@pytest.mark.parametrize(
    ("creds", "code"),
    [
        ({"aws_access_key_id": "AKIAEMULATORIAMUSER1", "aws_secret_access_key": "x" * 40},
         "InvalidSignatureException"),
        ({"aws_access_key_id": "AKIANOTKNOWNANYWHERE", "aws_secret_access_key": "x" * 40},
         "UnrecognizedClientException"),
        ({"config": Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1})},
         "MissingAuthenticationTokenException"),
    ],
    ids=["wrong-secret", "unknown-key", "unsigned"],
)  # fmt: skip
def test_create_token_with_iam_rejects_bad_signatures(
    emu: Emulator, creds: dict[str, Any], code: str
) -> None:
    client = make_client(emu, "sso-oidc", **creds)
    with pytest.raises(ClientError) as caught:
        client.create_token_with_iam(
            clientId=emu.iam_client_id,
            grantType=JWT_BEARER,
            assertion=_jwt({"sub": "alice"}),
        )
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert emu.requests[-1]["status"] == 403


def test_create_token_with_iam_accepts_issued_role_credentials(
    emu: Emulator, oidc: Any, sso: Any
) -> None:
    _, token = signed_in(oidc, emu)
    creds = sso.get_role_credentials(
        accessToken=token["accessToken"], accountId="111111111111", roleName="Administrator"
    )["roleCredentials"]
    client = make_client(
        emu,
        "sso-oidc",
        aws_access_key_id=creds["accessKeyId"],
        aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds["sessionToken"],
    )
    result = client.create_token_with_iam(
        clientId=emu.iam_client_id, grantType=JWT_BEARER, assertion=_jwt({"sub": "bob"})
    )
    assert result["accessToken"] in emu.secrets


def test_region_of_signature_is_free(emu: Emulator) -> None:
    key, secret = emu.iam_credentials
    client: Any = botocore.session.get_session().create_client(
        "sso-oidc",
        region_name="eu-west-3",
        endpoint_url=emu.url,
        config=NO_RETRY,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    result = client.create_token_with_iam(
        clientId=emu.iam_client_id, grantType=JWT_BEARER, assertion=_jwt({"sub": "carol"})
    )
    assert result["tokenType"] == "Bearer"


# -- transport-level faults, as botocore reports them -------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("html_502", "502"),
        ("throttle_429", "TooManyRequestsException"),
        ("drop", botocore.exceptions.ConnectionClosedError),
        ("timeout", botocore.exceptions.ReadTimeoutError),
        ("malformed_json", None),
        ("truncated", botocore.exceptions.ConnectionClosedError),
    ],
    ids=["html_502", "throttle_429", "drop", "timeout", "malformed_json", "truncated"],
)
def test_transport_faults_through_botocore(emu: Emulator, kind: str, expected: Any) -> None:
    config = Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=0.3)
    oidc = make_client(emu, "sso-oidc", config=config)
    emu.inject("RegisterClient", kind, delay=2 if kind == "timeout" else None)
    if expected is None:
        # A truncated body is not an error to botocore; the members are simply missing.
        assert "clientId" not in oidc.register_client(clientName="x", clientType="public")
    elif isinstance(expected, str):
        with pytest.raises(ClientError) as caught:
            register(oidc)
        assert type(caught.value) is ClientError  # not modeled for sso-oidc
        assert caught.value.response["Error"]["Code"] == expected
    else:
        with pytest.raises(expected):
            register(oidc)
    assert emu.requests[0]["fault"] == kind
    assert register(oidc)["clientId"]  # the next request is served normally
