"""Token exchange with IAM (CreateTokenWithIAM), all four grants, sync and async, signed
with real SigV4 by botocore and verified by the emulator."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from typing import Any

import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter._secret import reveal
from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture

REDIRECT = "http://127.0.0.1:8400/callback"


emu = emulator_fixture(interval=0.05, auto_approve=0.0)


def creds(emu: Emulator) -> dict[str, Any]:
    key_id, secret = emu.iam_credentials
    return {"creds": {"access_key_id": key_id, "secret_access_key": secret}}


def jwt(payload: dict[str, Any]) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(payload)}.c2ln"


def grant_kwargs(emu: Emulator, grant: str) -> dict[str, Any]:
    if grant == "authorization_code":
        verifier = "v" * 64
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        code = emu.issue_authorization_code(REDIRECT, challenge)
        return {"code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    if grant == "jwt_bearer":
        return {"assertion": jwt({"sub": "alice", "iss": "https://idp.example.com"})}
    if grant == "token_exchange":
        token = sj.login(emu.start_url, emu.region, endpoint=emu.url, on_prompt=lambda p: None)
        return {"subject_token": token.access_token}
    first = sj.iam_token(
        emu.iam_client_id,
        "jwt_bearer",
        assertion=jwt({"sub": "alice"}),
        endpoint=emu.url,
        region=emu.region,
        credentials=creds(emu),
    )
    assert first.refresh_token
    return {"refresh_token": first.refresh_token}


GRANTS = ["authorization_code", "refresh_token", "jwt_bearer", "token_exchange"]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("grant", GRANTS)
def test_each_grant(emu: Emulator, grant: str, mode: str) -> None:
    kwargs = grant_kwargs(emu, grant)
    common: dict[str, Any] = {
        "endpoint": emu.url,
        "region": emu.region,
        "credentials": creds(emu),
    }
    if mode == "sync":
        token = sj.iam_token(emu.iam_client_id, grant, **kwargs, **common)  # type: ignore[arg-type]
    else:
        token = asyncio.run(
            sj.iam_token_async(emu.iam_client_id, grant, **kwargs, **common)  # type: ignore[arg-type]
        )
    assert reveal(token.access_token) in emu.secrets
    assert token.token_type == "Bearer" and token.expires_in > 0
    assert token.issued_token_type and token.issued_token_type.startswith("urn:ietf:params:oauth:")
    assert token.scope
    assert "identityContext" in token.aws_additional_details
    assert token.id_token
    text = repr(token)
    for secret in emu.secrets:
        assert secret not in text
    records = [r for r in emu.requests if r["operation"] == "CreateTokenWithIAM"]
    assert records[-1]["status"] == 200


def test_missing_grant_arguments_are_refused_before_sending(emu: Emulator) -> None:
    with pytest.raises(sj.ConfigurationError, match="redirect_uri"):
        sj.iam_token(
            emu.iam_client_id,
            "authorization_code",
            code="x",
            endpoint=emu.url,
            region=emu.region,
            credentials=creds(emu),
        )
    with pytest.raises(sj.ConfigurationError, match="grant must be one of"):
        sj.iam_token(
            emu.iam_client_id,
            "password",
            endpoint=emu.url,  # type: ignore[arg-type]
            region=emu.region,
            credentials=creds(emu),
        )
    assert emu.requests == []


def test_reused_authorization_code_is_invalid_grant(emu: Emulator) -> None:
    code = emu.issue_authorization_code(REDIRECT)
    common: dict[str, Any] = {"endpoint": emu.url, "region": emu.region, "credentials": creds(emu)}
    sj.iam_token(
        emu.iam_client_id, "authorization_code", code=code, redirect_uri=REDIRECT, **common
    )
    with pytest.raises(sj.InvalidGrantException):
        sj.iam_token(
            emu.iam_client_id, "authorization_code", code=code, redirect_uri=REDIRECT, **common
        )


def test_unsigned_is_refused(emu: Emulator) -> None:
    with pytest.raises(sj.ConfigurationError, match="anonymous"):
        sj.iam_token(
            emu.iam_client_id,
            "jwt_bearer",
            assertion=jwt({"sub": "a"}),
            endpoint=emu.url,
            region=emu.region,
            credentials={"anonymous": True},
        )
