"""login() / login_async() against the real emulator, with the real cache on disk."""

from __future__ import annotations

import asyncio
import json
import stat
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter._secret import reveal
from ssooidc_jupyter.auth._cache import TokenCache, cache_dir
from ssooidc_jupyter.auth._models import token_cache_key
from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture, wait_for

#: As a user would point every AWS SDK at it: our client, boto3's sso and sts.
emu = emulator_fixture(endpoint_env="AWS_ENDPOINT_URL", interval=0.1, auto_approve=0.05)


#: The tests that also run over TLS (the emulator with a private CA, in AWS_CA_BUNDLE).
OVER_TLS_TOO = pytest.mark.parametrize("emu", ["http", "https"], indirect=True)


def ops(emu: Emulator) -> list[str]:
    return [r["operation"] for r in emu.requests]


class Prompts(list[sj.DevicePrompt]):
    def __call__(self, prompt: sj.DevicePrompt) -> None:
        self.append(prompt)


@OVER_TLS_TOO
def test_cold_login_then_cached_login_without_network(emu: Emulator, clean_aws_env: Path) -> None:
    prompts = Prompts()
    token = sj.login(emu.start_url, emu.region, on_prompt=prompts)
    assert len(prompts) == 1 and prompts[0].user_code == emu.user_codes[0]
    assert prompts[0].verification_uri_complete.endswith(prompts[0].user_code)
    assert token.access_token in emu.secrets
    assert token.refresh_token in emu.secrets
    assert not token.expired and token.expires_in > 3000
    assert token.start_url == emu.start_url and token.region == emu.region
    cold = ops(emu)
    assert cold.count("RegisterClient") == 1 and cold.count("StartDeviceAuthorization") == 1

    # The cache: botocore's format, 0600 files in a 0700 directory.
    directory = cache_dir()
    assert directory == clean_aws_env / ".aws" / "sso" / "cache"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    path = directory / f"{token_cache_key(None, emu.start_url)}.json"
    data = json.loads(path.read_text())
    assert data["accessToken"] == token.access_token
    assert data["startUrl"] == emu.start_url and data["region"] == emu.region
    assert data["expiresAt"].endswith("Z")
    assert {"refreshToken", "clientId", "clientSecret", "registrationExpiresAt"} <= set(data)
    for file in directory.glob("*.json"):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600

    again = sj.login(emu.start_url, emu.region, on_prompt=prompts)
    assert again.access_token == token.access_token
    assert ops(emu) == cold  # no network call at all
    assert len(prompts) == 1


def test_warm_registration_skips_register_client(emu: Emulator) -> None:
    sj.login(emu.start_url, emu.region, on_prompt=Prompts())
    sj.login(emu.start_url, emu.region, on_prompt=Prompts(), force=True)
    assert ops(emu).count("RegisterClient") == 1
    assert ops(emu).count("StartDeviceAuthorization") == 2


def test_token_repr_and_str_hide_secrets(emu: Emulator) -> None:
    token = sj.login(emu.start_url, emu.region, on_prompt=Prompts())
    text = repr(token) + str(token)
    assert emu.start_url in text
    for secret in emu.secrets:
        assert secret not in text
    assert token.export()["accessToken"] == token.access_token


def _age_cache(start_url: str, minutes_left: float, session_name: str | None = None) -> Path:
    path = cache_dir() / f"{token_cache_key(session_name, start_url)}.json"
    data = json.loads(path.read_text())
    expires = datetime.now(timezone.utc) + timedelta(minutes=minutes_left)
    data["expiresAt"] = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(json.dumps(data))
    return path


@OVER_TLS_TOO
def test_token_near_expiry_is_refreshed_silently(emu: Emulator) -> None:
    first = sj.login(emu.start_url, emu.region, on_prompt=Prompts())
    _age_cache(emu.start_url, 5)
    before = len(emu.requests)
    prompts = Prompts()
    second = sj.login(emu.start_url, emu.region, on_prompt=prompts)
    assert prompts == []
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token  # rotated
    new = emu.requests[before:]
    assert [r["operation"] for r in new] == ["CreateToken"]
    assert new[0]["grant_type"] == "refresh_token"


def test_ended_session_says_so_then_signs_in_again(emu: Emulator) -> None:
    first = sj.login(emu.start_url, emu.region, on_prompt=Prompts())
    _age_cache(emu.start_url, 5)
    # Another client used (and so rotated away) the cached refresh token.
    client = sj.ssooidc(endpoint=emu.url)
    path = cache_dir() / f"{token_cache_key(None, emu.start_url)}.json"
    data = json.loads(path.read_text())
    client.create_token(
        clientId=data["clientId"],
        clientSecret=data["clientSecret"],
        grantType="refresh_token",
        refreshToken=first.refresh_token,
    )
    notices: list[str] = []
    prompts = Prompts()
    token = sj.login(emu.start_url, emu.region, on_prompt=prompts, on_notice=notices.append)
    assert len(prompts) == 1
    assert notices and "has ended" in notices[0] and "Signing in again" in notices[0]
    assert token.access_token not in (first.access_token,)


def test_invalid_client_on_start_registers_again_once(emu: Emulator) -> None:
    sj.login(emu.start_url, emu.region, on_prompt=Prompts())
    registration = next(
        json.loads(p.read_text())
        for p in cache_dir().glob("*.json")
        if "startUrl" not in json.loads(p.read_text())
    )
    emu.expire_registration(registration["clientId"])
    sj.login(emu.start_url, emu.region, on_prompt=Prompts(), force=True)
    assert ops(emu).count("RegisterClient") == 2


def test_denied(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(interval=0.05)

    def deny(prompt: sj.DevicePrompt) -> None:
        emu.deny(prompt.user_code)

    with pytest.raises(sj.LoginDeniedError, match="denied"):
        sj.login(emu.start_url, emu.region, endpoint=emu.url, on_prompt=deny)
    assert list(cache_dir().glob("*.json"))  # the registration, but no token
    assert TokenCache().load_token(token_cache_key(None, emu.start_url)) is None


def test_code_expiry_stops_polling(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(interval=0.05, code_ttl=0.5)
    started = time.monotonic()
    with pytest.raises(sj.LoginExpiredError):
        sj.login(emu.start_url, emu.region, endpoint=emu.url, on_prompt=Prompts())
    assert time.monotonic() - started < 5


def test_cancel_stops_polling_at_once(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(interval=0.1)
    cancel = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            sj.login(
                emu.start_url, emu.region, endpoint=emu.url, on_prompt=Prompts(), cancel=cancel
            )
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    wait_for(lambda: ops(emu).count("CreateToken") >= 2, "two polls", timeout=5)
    cancel.set()
    cancelled_at = time.monotonic()
    worker.join(5)
    assert not worker.is_alive()
    assert time.monotonic() - cancelled_at < 0.5
    assert isinstance(errors[0], sj.LoginCancelledError)
    polls = ops(emu).count("CreateToken")
    time.sleep(0.4)
    assert ops(emu).count("CreateToken") == polls
    assert TokenCache().load_token(token_cache_key(None, emu.start_url)) is None


def test_login_async_and_task_cancellation(emulator_factory: Callable[..., Emulator]) -> None:
    emu = emulator_factory(interval=0.1)

    async def main() -> None:
        prompts = Prompts()
        task = asyncio.create_task(
            sj.login_async(emu.start_url, emu.region, endpoint=emu.url, on_prompt=prompts)
        )
        # The loop stays free while the login waits: this coroutine keeps running.
        ticks = 0
        while not prompts:
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks > 0
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        polls = ops(emu).count("CreateToken")
        await asyncio.sleep(0.3)
        assert ops(emu).count("CreateToken") == polls

        emu_codes = len(emu.user_codes)
        task = asyncio.create_task(
            sj.login_async(emu.start_url, emu.region, endpoint=emu.url, on_prompt=prompts)
        )
        while len(emu.user_codes) == emu_codes:
            await asyncio.sleep(0.01)
        emu.approve(emu.user_codes[-1])
        token = await task
        assert token.access_token in emu.secrets
        # And a second async login is served from the cache.
        before = len(emu.requests)
        again = await sj.login_async(emu.start_url, emu.region, endpoint=emu.url)
        assert again.access_token == token.access_token
        assert len(emu.requests) == before

    asyncio.run(main())


def test_cache_off_and_custom_directory(emu: Emulator, tmp_path: Path) -> None:
    sj.login(emu.start_url, emu.region, on_prompt=Prompts(), cache=False)
    assert not cache_dir().exists()
    custom = tmp_path / "elsewhere"
    sj.login(emu.start_url, emu.region, on_prompt=Prompts(), cache=custom)
    assert list(custom.glob("*.json"))
    assert not cache_dir().exists()


def test_corrupt_cache_file_is_ignored_with_a_warning(emu: Emulator) -> None:
    directory = cache_dir()
    directory.mkdir(parents=True)
    path = directory / f"{token_cache_key(None, emu.start_url)}.json"
    path.write_text('{"startUrl": "half-writ')
    with pytest.warns(UserWarning, match=str(path.name)):
        token = sj.login(emu.start_url, emu.region, on_prompt=Prompts())
    assert json.loads(path.read_text())["accessToken"] == token.access_token


def test_token_refresh_uses_the_refresh_token_in_the_cache(emu: Emulator) -> None:
    token = sj.login(emu.start_url, emu.region, on_prompt=Prompts())
    other = sj.login(emu.start_url, emu.region)  # "another kernel", same cache
    other.refresh()  # rotates the refresh token in the cache
    token.refresh()  # must start from the rotated one, not its own stale copy
    assert token.access_token == reveal(
        TokenCache().load_token(token_cache_key(None, emu.start_url)).access_token
    )  # type: ignore[union-attr]


def test_refresh_after_session_end_raises(emu: Emulator) -> None:
    token = sj.login(emu.start_url, emu.region, on_prompt=Prompts())
    token.logout()
    with pytest.raises(sj.SessionEndedError, match="has ended"):
        token.refresh()
    assert TokenCache().load_token(token_cache_key(None, emu.start_url)) is None


# ---- ~/.aws/config -------------------------------------------------------------------------


def write_config(home: Path, emu: Emulator, *, account: str = "", role: str = "") -> None:
    aws = home / ".aws"
    aws.mkdir(exist_ok=True)
    extra = f"sso_account_id = {account}\nsso_role_name = {role}\n" if account else ""
    (aws / "config").write_text(
        f"[profile dev]\nsso_session = corp\nregion = eu-west-1\n{extra}\n"
        f"[sso-session corp]\nsso_start_url = {emu.start_url}\nsso_region = {emu.region}\n"
        "sso_registration_scopes = sso:account:access\n"
    )


def test_login_from_profile_uses_the_session_name_key(emu: Emulator, clean_aws_env: Path) -> None:
    write_config(clean_aws_env, emu)
    token = sj.login(profile="dev", on_prompt=Prompts())
    assert token.session_name == "corp"
    assert (cache_dir() / f"{token_cache_key('corp', emu.start_url)}.json").exists()
    same = sj.login(session_name="corp")
    assert same.access_token == token.access_token


def test_missing_profile_is_a_clear_error(emu: Emulator, clean_aws_env: Path) -> None:
    write_config(clean_aws_env, emu)
    with pytest.raises(sj.ConfigurationError, match="nope"):
        sj.login(profile="nope")
    assert emu.requests == []


def test_bad_region_is_refused_before_any_request(emu: Emulator) -> None:
    with pytest.raises(sj.InvalidRegionError):
        sj.login(emu.start_url, "us-east-1.evil.example/")
    assert emu.requests == []


# ---- botocore reads and writes the same cache -------------------------------------------


@OVER_TLS_TOO
def test_botocore_loads_and_refreshes_our_token_and_we_reuse_its(
    emu: Emulator, clean_aws_env: Path
) -> None:
    import boto3
    from botocore.tokens import SSOTokenProvider
    from botocore.utils import JSONFileCache

    def botocore_token() -> str:
        # botocore fixes its default cache directory from HOME when it is imported; each test
        # has its own HOME, so hand it the directory explicitly (same path, same files).
        core = boto3.Session(profile_name="dev")._session
        provider = SSOTokenProvider(core, cache=JSONFileCache(str(cache_dir())))
        return str(provider.load_token().get_frozen_token().token)

    write_config(clean_aws_env, emu, account="111111111111", role="ReadOnly")
    ours = sj.login(profile="dev", on_prompt=Prompts())
    assert botocore_token() == ours.access_token  # botocore loaded what we wrote

    path = _age_cache(emu.start_url, 5, session_name="corp")
    before = len(emu.requests)
    refreshed = botocore_token()
    assert refreshed != ours.access_token  # botocore refreshed via the emulator
    assert [r["operation"] for r in emu.requests[before:]] == ["CreateToken"]
    assert json.loads(path.read_text())["accessToken"] == refreshed  # and wrote back

    before = len(emu.requests)
    again = sj.login(profile="dev")
    assert again.access_token == refreshed
    assert len(emu.requests) == before  # no network call


def test_cli_format_token_is_reused_without_prompt(emu: Emulator, clean_aws_env: Path) -> None:
    directory = cache_dir()
    directory.mkdir(parents=True)
    key = token_cache_key(None, emu.start_url)
    expires = (datetime.now(timezone.utc) + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SUTC")
    # As the AWS CLI v1/v2 legacy writer did: a "UTC" suffix, no refresh token.
    (directory / f"{key}.json").write_text(
        json.dumps(
            {
                "startUrl": emu.start_url,
                "region": emu.region,
                "accessToken": "cli-token",
                "expiresAt": expires,
            }
        )
    )
    prompts = Prompts()
    token = sj.login(emu.start_url, emu.region, on_prompt=prompts)
    assert token.access_token == "cli-token"
    assert prompts == [] and emu.requests == []


# ---- accounts, role credentials, boto3 sessions --------------------------------------------


@OVER_TLS_TOO
def test_accounts_and_credentials(emu: Emulator) -> None:
    token = sj.login(emu.start_url, emu.region, on_prompt=Prompts())
    accounts = token.accounts()
    expected = {a["accountId"]: a for a in emu.accounts}
    assert {a.account_id for a in accounts} == set(expected)
    for account in accounts:
        assert account.account_name == expected[account.account_id]["accountName"]
        assert account.email == expected[account.account_id]["emailAddress"]
        assert sorted(account.roles) == sorted(expected[account.account_id]["roles"])
    creds = token.credentials(accounts[0].account_id, accounts[0].roles[0])
    assert reveal(creds.secret_access_key) in emu.secrets
    assert reveal(creds.secret_access_key) not in repr(creds)
    assert creds.access_key_id not in repr(creds)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_session_get_caller_identity_survives_expiring_role_credentials(
    scheme: str, emulator_factory: Callable[..., Emulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = emulator_factory(scheme, interval=0.05, auto_approve=0.0, role_credentials_ttl=2)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    token = sj.login(emu.start_url, emu.region, on_prompt=Prompts())
    account = emu.accounts[1]
    role = account["roles"][0]
    session = token.session(account_id=account["accountId"], role_name=role)
    sts = session.client("sts")
    identity = sts.get_caller_identity()
    assert identity["Account"] == account["accountId"]
    assert f"assumed-role/AWSReservedSSO_{role}_" in identity["Arn"]
    fetched = ops(emu).count("GetRoleCredentials")
    time.sleep(2.2)  # the first role credentials are now expired
    identity = sts.get_caller_identity()
    assert identity["Account"] == account["accountId"]
    assert ops(emu).count("GetRoleCredentials") > fetched


def test_session_keeps_working_after_the_token_is_renewed_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
    emulator_factory: Callable[..., Emulator],
) -> None:
    emu = emulator_factory(interval=0.05, auto_approve=0.0, role_credentials_ttl=1)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    token = sj.login(emu.start_url, emu.region, on_prompt=Prompts())
    account = emu.accounts[0]
    session = token.session(account["accountId"], account["roles"][0])
    sts = session.client("sts")
    sts.get_caller_identity()
    # The token dies (logged out elsewhere), and a new login in "another kernel" renews it.
    emu.expire_access_token(token.access_token)
    renewed = sj.login(emu.start_url, emu.region, on_prompt=Prompts(), force=True)
    time.sleep(1.1)
    assert sts.get_caller_identity()["Account"] == account["accountId"]
    assert token.current_access_token() == renewed.access_token


@OVER_TLS_TOO
def test_session_from_profile(emu: Emulator, clean_aws_env: Path) -> None:
    write_config(clean_aws_env, emu, account="222222222222", role="ReadOnly")
    session = sj.session(profile="dev", on_prompt=Prompts())
    assert session.region_name == "eu-west-1"
    assert session.client("sts").get_caller_identity()["Account"] == "222222222222"


def test_session_from_profile_without_account_is_a_clear_error(
    emu: Emulator, clean_aws_env: Path
) -> None:
    write_config(clean_aws_env, emu)
    with pytest.raises(sj.ConfigurationError, match="sso_account_id"):
        sj.session(profile="dev")


def test_no_secret_in_logs(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG, logger="ssooidc_jupyter")
    token = sj.login(emu.start_url, emu.region, on_prompt=Prompts())
    _age_cache(emu.start_url, 5)
    sj.login(emu.start_url, emu.region)
    token.accounts()
    for secret in emu.secrets:
        assert secret not in caplog.text


# ---- one architecture, two modes (issue 8) ------------------------------------------------


@OVER_TLS_TOO
async def test_async_token_refreshes_without_blocking_the_loop(emu: Emulator) -> None:
    token = await sj.login_async(emu.start_url, emu.region, on_prompt=Prompts())
    first_access, first_refresh = token.access_token, token.refresh_token

    # A fresh token: acurrent_access_token is one cache read, no request.
    before = len(emu.requests)
    assert await token.acurrent_access_token() == first_access
    assert len(emu.requests) == before

    # arefresh runs the refresh grant through the async driver while the loop stays free.
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    running = asyncio.create_task(ticker())
    try:
        assert await token.arefresh() is token
    finally:
        running.cancel()
    assert ticks > 0
    assert token.access_token != first_access and token.refresh_token != first_refresh
    grants = [r.get("grant_type") for r in emu.requests[before:]]
    assert grants == ["refresh_token"]

    # Near expiry, acurrent_access_token refreshes silently, as current_access_token does.
    _age_cache(emu.start_url, 5)
    stale = sj.login(emu.start_url, emu.region, cache=True, on_prompt=Prompts())
    assert stale.access_token != token.access_token  # login() refreshed the aged entry
    aged = await sj.login_async(emu.start_url, emu.region)
    assert await aged.acurrent_access_token() == stale.access_token


def test_sync_and_async_token_methods_share_the_flows() -> None:
    # The twins differ only in the driver: each a-method is the same flow on run_async.
    import inspect

    for sync_name, async_name in (
        ("refresh", "arefresh"),
        ("current_access_token", "acurrent_access_token"),
    ):
        sync_source = inspect.getsource(getattr(sj.SSOToken, sync_name))
        async_source = inspect.getsource(getattr(sj.SSOToken, async_name))
        assert inspect.iscoroutinefunction(getattr(sj.SSOToken, async_name))
        for flow in ("refresh_now_flow", "current_token_flow"):
            assert (flow in sync_source) == (flow in async_source)


def test_session_from_profile_reads_the_config_file_once(
    emu: Emulator, clean_aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ssooidc_jupyter.auth import _awsconfig

    write_config(clean_aws_env, emu, account="222222222222", role="ReadOnly")
    reads: list[Path] = []
    real = _awsconfig.load_aws_config

    def counting(path: Path | None = None) -> dict[str, object]:
        reads.append(Path(str(path)))
        return real(path)

    monkeypatch.setattr(_awsconfig, "load_aws_config", counting)
    session = sj.session(profile="dev", on_prompt=Prompts())
    assert len(reads) == 1
    assert session.region_name == "eu-west-1"  # the profile's own region, from that one read


def test_the_cache_slot_is_computed_once(emu: Emulator) -> None:
    from ssooidc_jupyter.auth._context import resolve_login

    context = resolve_login(emu.start_url, emu.region)
    assert context.slot is context.slot


START_URLS_REFUSED = [
    pytest.param("http://evil.example/start", "https://", id="plain http to a network host"),
    pytest.param("https://d-1.awsapps.com/start\n", "whitespace", id="a trailing newline"),
    pytest.param("https://d-1.awsapps.com/ start", "whitespace", id="a space"),
    pytest.param("https://d-1.awsapps.com/" + "a" * 10_000, "characters long", id="10,000 chars"),
    pytest.param("ftp://d-1.awsapps.com/start", "https://", id="another scheme"),
    pytest.param("https://user:pw@d-1.awsapps.com/start", "user name", id="credentials in it"),
    pytest.param("d-1.awsapps.com/start", "https://", id="no scheme"),
]


@pytest.mark.parametrize(("url", "message"), START_URLS_REFUSED)
def test_start_url_rule_is_the_same_for_every_entry_point(
    url: str, message: str, clean_aws_env: Path
) -> None:
    from traitlets import TraitError

    from ssooidc_jupyter.notebook._configurable import SSOOIDC

    with pytest.raises(sj.ConfigurationError, match=message):
        sj.login(url, "us-east-1")
    with pytest.raises(TraitError, match=message):
        SSOOIDC(start_url=url)
    config = clean_aws_env / ".aws" / "config"
    config.parent.mkdir(exist_ok=True)
    safe = url.replace("\n", "")  # a config line cannot carry the newline itself
    if safe != url:
        return
    config.write_text(f"[sso-session s]\nsso_start_url = {url}\nsso_region = us-east-1\n")
    # The config reader refuses spaces itself, naming the line; everything else reaches the
    # same validator.
    with pytest.raises(sj.ConfigurationError, match=f"{message}|contains spaces"):
        sj.login(session_name="s")


def test_start_url_scheme_and_host_are_normalised_before_the_cache_key(emu: Emulator) -> None:
    shouted = emu.start_url.replace("http://", "HTTP://").replace("127.0.0.1", "127.0.0.1")
    token = sj.login(shouted, emu.region, on_prompt=Prompts())
    assert token.start_url == emu.start_url
    before = len(emu.requests)
    sj.login(emu.start_url, emu.region)
    assert len(emu.requests) == before  # the same cache entry


# ---- legacy profiles, as the AWS CLI signs them in (issue 12) -----------------------------


def write_legacy_config(home: Path, emu: Emulator) -> None:
    aws = home / ".aws"
    aws.mkdir(exist_ok=True)
    (aws / "config").write_text(
        f"[profile old]\nsso_start_url = {emu.start_url}\nsso_region = {emu.region}\n"
        "sso_account_id = 111111111111\nsso_role_name = ReadOnly\n"
        f"[profile older]\nsso_start_url = {emu.start_url}other\nsso_region = {emu.region}\n"
    )


def test_a_legacy_profile_signs_in_as_the_cli_does(emu: Emulator, clean_aws_env: Path) -> None:
    write_legacy_config(clean_aws_env, emu)
    token = sj.login(profile="old", on_prompt=Prompts())
    first = [r for r in emu.requests if r["operation"] == "RegisterClient"]
    assert len(first) == 1 and not first[0].get("scopes")  # registered without scopes
    registration = cache_dir() / f"botocore-client-id-{emu.region}.json"
    assert set(json.loads(registration.read_text())) == {"clientId", "clientSecret", "expiresAt"}
    data = json.loads((cache_dir() / f"{token_cache_key(None, emu.start_url)}.json").read_text())
    # Exactly the four members the CLI writes for a legacy profile: nothing to trip a reader.
    assert set(data) == {"startUrl", "region", "accessToken", "expiresAt"}
    assert token.refresh_token is None and token.access_token in emu.secrets
    assert sorted(p.name for p in cache_dir().glob("*.json")) == sorted(
        [registration.name, f"{token_cache_key(None, emu.start_url)}.json"]
    )

    # Another legacy profile in the region reuses that registration: no RegisterClient.
    sj.login(profile="older", on_prompt=Prompts())
    assert [r["operation"] for r in emu.requests].count("RegisterClient") == 1
    # And the token still reaches the portal (a scope-less token is an access token).
    assert [a.account_id for a in token.accounts()]


def test_a_legacy_token_is_read_by_botocore(emu: Emulator, clean_aws_env: Path) -> None:
    from botocore.utils import SSOTokenLoader

    write_legacy_config(clean_aws_env, emu)
    token = sj.login(profile="old", on_prompt=Prompts())
    from botocore.credentials import JSONFileCache

    loaded = SSOTokenLoader(cache=JSONFileCache(str(cache_dir())))(emu.start_url)
    assert loaded["accessToken"] == token.access_token
