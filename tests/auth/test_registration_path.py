"""Where the client registration lives (issue 16, point 10): the AWS CLI v2's file, whose key
is not a token's key, so ``registration_path`` and ``token_path`` of one sign-in differ."""

from __future__ import annotations

import hashlib
import json

import ssooidc_jupyter as sj
from ssooidc_jupyter.auth._cache import TokenCache
from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture


def cli_registration_name(
    start_url: str, region: str, scopes: list[str] | None, name: str | None
) -> str:
    """The AWS CLI v2's file name (``BaseSSOTokenFetcher._registration_cache_key``), written
    out here from the CLI's source, not from ours."""
    args = {
        "tool": "botocore",
        "startUrl": start_url,
        "region": region,
        "scopes": scopes,
        "session_name": name,
    }
    digest = hashlib.sha1(json.dumps(args, sort_keys=True).encode(), usedforsecurity=False)
    return digest.hexdigest() + ".json"


emu = emulator_fixture(endpoint_env="AWS_ENDPOINT_URL", interval=0.05, auto_approve=0.0)


def test_a_sign_in_writes_its_registration_where_the_cli_reads_it(emu: Emulator) -> None:
    token = sj.login(emu.start_url, emu.region, on_prompt=lambda p: None)
    request = token._context.request
    cache = TokenCache()
    path = cache.registration_path_for(
        start_url=emu.start_url,
        region=emu.region,
        scopes=list(request.scopes),
        session_name=None,
    )
    assert path.name == cli_registration_name(emu.start_url, emu.region, list(request.scopes), None)
    assert path == cache.registration_path(token._context.slot.registration_key)
    token_file = cache.token_path(token._context.slot.token_key)
    assert path != token_file
    assert "clientId" in json.loads(path.read_text())
    assert "accessToken" in json.loads(token_file.read_text())
    assert cache.load_registration(token._context.slot.registration_key) is not None


def test_a_session_and_a_legacy_profile_are_named_as_the_cli_names_them() -> None:
    cache = TokenCache("/nowhere")
    url = "https://example.awsapps.com/start"
    session = cache.registration_path_for(
        start_url=url, region="eu-west-1", scopes=["sso:account:access"], session_name="dev"
    )
    assert session.name == cli_registration_name(url, "eu-west-1", ["sso:account:access"], "dev")
    # No sso_registration_scopes (None) is not the same registration as an empty list.
    assert cache.registration_path_for(
        start_url=url, region="eu-west-1", scopes=None, session_name="dev"
    ) != cache.registration_path_for(
        start_url=url, region="eu-west-1", scopes=[], session_name="dev"
    )
    legacy = cache.registration_path_for(
        start_url=url, region="eu-west-1", scopes=None, session_name=None, legacy=True
    )
    assert legacy.name == "botocore-client-id-eu-west-1.json"
    # A token's file hashes the session name alone: never the registration's.
    token = cache.token_path(hashlib.sha1(b"dev", usedforsecurity=False).hexdigest())
    assert token != session
