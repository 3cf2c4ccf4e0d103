"""Reading and writing the AWS config file, cross-checked against botocore on the same files."""

from __future__ import annotations

import stat
from dataclasses import asdict
from pathlib import Path
from typing import Any

import boto3
import botocore.configloader
import botocore.credentials
import botocore.exceptions
import botocore.session
import botocore.tokens
import botocore.utils
import pytest

from ssooidc_jupyter._exceptions import ConfigurationError
from ssooidc_jupyter.auth._awsconfig import (
    DEFAULT_SCOPES,
    SSOSettings,
    config_file_path,
    load_aws_config,
    parse_registration_scopes,
    resolve_sso_settings,
    write_sso_profile,
)
from ssooidc_jupyter.auth._cache import TokenCache
from ssooidc_jupyter.auth._models import CachedToken, token_cache_key

URL = "https://d-1234567890.awsapps.com/start"
URL2 = "https://other.awsapps.com/start/#/"
SECRET = "wJalrXUtnFEMI-K7MDENG-SECRETKEY"


@pytest.fixture
def config_path(clean_aws_env: Path) -> Path:
    """The AWS_CONFIG_FILE conftest sets: HOME/.aws/config."""
    path = clean_aws_env / ".aws" / "config"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def botocore_view(profile: str | None, session_name: str | None) -> dict[str, Any]:
    """What botocore resolves from the same file: start URL, region, scopes, account, role."""
    session = botocore.session.Session(profile=profile)
    full = session.full_config
    if profile is None and session_name is not None:
        sso = full["sso_sessions"][session_name]
        return {
            "start_url": sso["sso_start_url"],
            "region": sso["sso_region"],
            "scopes": sso.get("sso_registration_scopes"),
            "session_name": session_name,
        }
    profile_name = session.get_config_variable("profile") or "default"
    provider = botocore.credentials.SSOProvider(
        load_config=lambda: session.full_config,
        client_creator=None,
        profile_name=profile_name,
    )
    sso_config = provider._load_sso_config()  # what the credential provider would use
    view: dict[str, Any] = {
        "start_url": sso_config["sso_start_url"],
        "region": sso_config["sso_region"],
        "account_id": sso_config["sso_account_id"],
        "role_name": sso_config["sso_role_name"],
        "session_name": sso_config.get("sso_session"),
        "scopes": None,
    }
    if view["session_name"] is not None:
        # The token provider (which reads the cache we write) must agree too.
        token_config = botocore.tokens.SSOTokenProvider(session, cache={})._load_sso_config()
        assert token_config == {
            "session_name": view["session_name"],
            "sso_region": view["region"],
            "sso_start_url": view["start_url"],
        }
        view["scopes"] = full["sso_sessions"][view["session_name"]].get("sso_registration_scopes")
    return view


# -- resolving: the happy paths -------------------------------------------------------------

SESSION_PROFILE = f"""\
[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Developer
region = eu-central-1

[sso-session corp]
sso_start_url = {URL}
sso_region = eu-west-1
sso_registration_scopes = sso:account:access
"""

OK_CASES = [
    pytest.param(
        SESSION_PROFILE, {"profile": "dev"}, {},
        {"start_url": URL, "region": "eu-west-1", "scopes": ["sso:account:access"],
         "session_name": "corp", "account_id": "111122223333", "role_name": "Developer",
         "profile": "dev"},
        id="profile-to-sso-session",
    ),
    pytest.param(
        SESSION_PROFILE.replace(
            "sso:account:access", " sso:account:access , codewhisperer:completions,, "
        ),
        {"profile": "dev"}, {},
        {"scopes": ["sso:account:access", "codewhisperer:completions"]},
        id="scopes-comma-separated-with-spaces",
    ),
    pytest.param(
        SESSION_PROFILE.replace("sso_registration_scopes = sso:account:access\n", ""),
        {"profile": "dev"}, {}, {"scopes": list(DEFAULT_SCOPES)},
        id="no-scopes-means-default",
    ),
    pytest.param(
        SESSION_PROFILE.replace("scopes = sso:account:access", "scopes ="),
        {"profile": "dev"}, {}, {"scopes": list(DEFAULT_SCOPES)},
        id="empty-scopes-means-default",
    ),
    pytest.param(
        f"[profile old]\nsso_start_url = {URL}\nsso_region = us-east-1\n"
        "sso_account_id = 444455556666\nsso_role_name = ReadOnly\n",
        {"profile": "old"}, {},
        {"start_url": URL, "region": "us-east-1", "session_name": None,
         "account_id": "444455556666", "role_name": "ReadOnly", "profile": "old",
         "scopes": []},
        id="legacy-profile",
    ),
    pytest.param(
        SESSION_PROFILE.replace("[profile dev]", "[default]"), {}, {},
        {"profile": "default", "session_name": "corp"},
        id="default-profile",
    ),
    pytest.param(
        SESSION_PROFILE.replace("[profile dev]", "[profile default]"), {}, {},
        {"profile": "default", "session_name": "corp"},
        id="profile-default-spelled-out",
    ),
    pytest.param(
        SESSION_PROFILE, {}, {"AWS_PROFILE": "dev"}, {"profile": "dev"},
        id="aws-profile-env",
    ),
    pytest.param(
        SESSION_PROFILE + "\n[profile other]\nsso_session = corp\nsso_account_id = 1\n"
        "sso_role_name = R\n",
        {}, {"AWS_PROFILE": "dev", "AWS_DEFAULT_PROFILE": "other"},
        {"profile": "other", "account_id": "1"},
        id="aws-default-profile-wins-like-botocore",
    ),
    pytest.param(
        SESSION_PROFILE, {"profile": "dev"}, {"AWS_PROFILE": "nope"}, {"profile": "dev"},
        id="explicit-profile-beats-env",
    ),
    pytest.param(
        SESSION_PROFILE, {"session_name": "corp"}, {"AWS_PROFILE": "dev"},
        {"start_url": URL, "region": "eu-west-1", "session_name": "corp", "profile": None,
         "account_id": None, "role_name": None},
        id="session-name-only",
    ),
    pytest.param(
        SESSION_PROFILE, {"profile": "dev", "session_name": "corp"}, {},
        {"profile": "dev", "session_name": "corp"},
        id="profile-and-matching-session",
    ),
    pytest.param(
        f"[profile dev]\nSSO_Session = corp\nSSO_ACCOUNT_ID = 1\nsso_role_name = R\n"
        f"[sso-session corp]\nSSO_Start_URL = {URL}\nSso_Region = eu-west-1\n",
        {"profile": "dev"}, {}, {"start_url": URL, "region": "eu-west-1", "account_id": "1"},
        id="option-names-case-insensitive",
    ),
    pytest.param(
        f'[profile "my dev"]\nsso_session = my corp\nsso_account_id = 1\nsso_role_name = R\n'
        f'[sso-session "my corp"]\nsso_start_url = {URL}\nsso_region = eu-west-1\n',
        {"profile": "my dev"}, {}, {"session_name": "my corp", "profile": "my dev"},
        id="quoted-names-with-spaces",
    ),
    pytest.param(
        SESSION_PROFILE.replace(
            "region = eu-central-1\n",
            "region = eu-central-1\ns3 =\n  addressing_style = path\n  signature_version = s3v4\n",
        ) + "\n[services corp-s3]\ns3 =\n  endpoint_url = http://localhost:9000\n",
        {"profile": "dev"}, {}, {"session_name": "corp"},
        id="nested-subsections-do-not-crash",
    ),
    pytest.param(
        "# a comment\n; another\n" + SESSION_PROFILE.replace(
            "[sso-session corp]", "# between\n[sso-session corp]\n; inside"
        ),
        {"profile": "dev"}, {}, {"session_name": "corp"},
        id="full-line-comments",
    ),
    pytest.param(
        SESSION_PROFILE.replace(
            "sso_role_name = Developer", f"sso_role_name = Developer\nsso_start_url = {URL}"
        ),
        {"profile": "dev"}, {}, {"start_url": URL},
        id="same-value-in-profile-and-session",
    ),
    pytest.param(
        "[DEFAULT]\nsso_region = ap-southeast-2\n" + SESSION_PROFILE.replace(
            "sso_region = eu-west-1\n", ""
        ),
        {"profile": "dev"}, {}, {"region": "ap-southeast-2"},
        id="configparser-DEFAULT-section-inherited-as-in-botocore",
    ),
    pytest.param(
        f"[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n"
        f"[sso-session corp]\nsso_start_url = {URL2}\nsso_region = eu-west-1\n",
        {"profile": "dev"}, {}, {"start_url": URL2},
        id="url-with-hash-fragment-is-not-a-comment",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "kwargs", "env", "expected"), OK_CASES)
def test_resolve(
    config_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    kwargs: dict[str, str],
    env: dict[str, str],
    expected: dict[str, Any],
) -> None:
    config_path.write_text(text)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = resolve_sso_settings(**kwargs)
    got = asdict(settings)
    assert {key: got[key] for key in expected} == expected
    assert str(config_path) in settings.source

    # botocore, reading the same file, sees the same sign-in.
    theirs = botocore_view(kwargs.get("profile"), kwargs.get("session_name"))
    assert settings.start_url == theirs["start_url"]
    assert settings.region == theirs["region"]
    assert settings.session_name == theirs["session_name"]
    raw_scopes = theirs["scopes"]
    cli_scopes = parse_registration_scopes(raw_scopes) if raw_scopes else []
    if settings.legacy:
        # A legacy profile registers as the CLI does: without scopes.
        assert settings.scopes == []
    else:
        assert settings.scopes == (cli_scopes or list(DEFAULT_SCOPES))
    if "account_id" in theirs:
        assert settings.account_id == theirs["account_id"]
        assert settings.role_name == theirs["role_name"]
    # So the token file name is the one botocore will open.
    assert token_cache_key(
        settings.session_name, settings.start_url
    ) == botocore.utils.SSOTokenLoader()._generate_cache_key(
        theirs["start_url"], theirs["session_name"]
    )


def test_source_describes_the_chain(config_path: Path) -> None:
    config_path.write_text(SESSION_PROFILE)
    assert resolve_sso_settings(profile="dev").source == (
        f"profile 'dev' → sso-session 'corp' in {config_path}"
    )
    assert (
        resolve_sso_settings(session_name="corp").source == f"sso-session 'corp' in {config_path}"
    )


def test_config_file_is_read_at_call_time(
    config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path.write_text(SESSION_PROFILE)
    assert resolve_sso_settings(profile="dev").region == "eu-west-1"
    elsewhere = tmp_path / "home" / "elsewhere.ini"
    elsewhere.write_text(SESSION_PROFILE.replace("eu-west-1", "us-west-2"))
    monkeypatch.setenv("AWS_CONFIG_FILE", "~/elsewhere.ini")
    assert config_file_path() == elsewhere
    assert resolve_sso_settings(profile="dev").region == "us-west-2"
    monkeypatch.delenv("AWS_CONFIG_FILE")
    assert config_file_path() == config_path


def test_settings_are_frozen_and_default_scopes_are_not_shared() -> None:
    one = SSOSettings(start_url=URL, region="eu-west-1")
    two = SSOSettings(start_url=URL, region="eu-west-1")
    assert one.scopes == ["sso:account:access"]
    assert one.scopes is not two.scopes
    with pytest.raises(AttributeError):
        one.region = "x"  # type: ignore[misc]


# -- resolving: the errors ------------------------------------------------------------------

ERROR_CASES = [
    pytest.param(None, {"profile": "dev"}, {}, r"does not exist.*aws configure sso", False,
                 id="missing-file"),
    pytest.param("[profile a]\n[profile b]\n", {"profile": "dev"}, {},
                 r"Profile 'dev' is not in .*known profiles: 'a', 'b'", False,
                 id="unknown-profile-lists-known"),
    pytest.param("", {}, {}, r"Profile 'default' is not in .*AWS_PROFILE.*defines no profiles",
                 False, id="no-default-profile"),
    pytest.param("[profile dev]\nregion = eu-west-1\n", {"profile": "dev"}, {},
                 r"no IAM Identity Center settings.*aws configure sso --profile dev", False,
                 id="profile-without-sso"),
    pytest.param("[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n"
                 "[sso-session other]\nsso_start_url = x\n",
                 {"profile": "dev"}, {}, r"no \[sso-session corp\] section.*'other'", True,
                 id="missing-sso-session-section"),
    pytest.param("[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n"
                 "[sso-session corp]\nsso_region = eu-west-1\n",
                 {"profile": "dev"}, {}, r"missing sso_start_url", True,
                 id="session-without-start-url"),
    pytest.param(f"[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n"
                 f"[sso-session corp]\nsso_start_url = {URL}\n",
                 {"profile": "dev"}, {}, r"missing sso_region", True,
                 id="session-without-region"),
    pytest.param(f"[profile dev]\nsso_session = corp\nsso_start_url = {URL}\n"
                 "sso_region = eu-west-1\n[sso-session corp]\nsso_registration_scopes = a\n",
                 {"profile": "dev"}, {}, r"missing sso_start_url and sso_region.*not from the "
                 r"profile", None, id="start-url-in-profile-but-not-in-session"),
    pytest.param(f"[profile old]\nsso_start_url = {URL}\nsso_account_id = 1\n"
                 "sso_role_name = R\n",
                 {"profile": "old"}, {}, r"legacy SSO settings but no sso_region", True,
                 id="legacy-without-region"),
    pytest.param(SESSION_PROFILE.replace("sso_role_name = Developer",
                                         "sso_role_name = Developer\nsso_region = us-east-1"),
                 {"profile": "dev"}, {},
                 r"sso_region is inconsistent between profile 'dev' \('us-east-1'\) and "
                 r"sso-session 'corp' \('eu-west-1'\)", True, id="inconsistent-values"),
    pytest.param(SESSION_PROFILE.replace(f"= {URL}", f"= {URL}  # corporate"),
                 {"profile": "dev"}, {}, r"sso_start_url .* comment after its value.*own line",
                 None, id="inline-comment-on-start-url"),
    pytest.param(SESSION_PROFILE.replace("sso_session = corp", "sso_session = corp ; main"),
                 {"profile": "dev"}, {}, r"sso_session .* comment after its value", True,
                 id="inline-comment-on-session-reference"),
    pytest.param(SESSION_PROFILE.replace("sso_session = corp", "sso_session ="),
                 {"profile": "dev"}, {}, r"sso_session in profile 'dev' .* is empty", True,
                 id="empty-session-reference"),
    pytest.param(SESSION_PROFILE.replace(f"sso_start_url = {URL}",
                                         f"sso_start_url =\n  url = {URL}"),
                 {"profile": "dev"}, {}, r"sso_start_url .* indented sub-section", None,
                 id="start-url-as-nested-section"),
    pytest.param(SESSION_PROFILE, {"profile": "dev", "session_name": "other"}, {},
                 r"Profile 'dev' uses sso-session 'corp', not 'other'", False,
                 id="profile-and-other-session"),
    pytest.param(f"[profile old]\nsso_start_url = {URL}\nsso_region = eu-west-1\n",
                 {"profile": "old", "session_name": "corp"}, {},
                 r"no sso_session setting.*sso_session = corp", False,
                 id="legacy-profile-with-session-name"),
    pytest.param(SESSION_PROFILE, {"session_name": "nope"}, {},
                 r"no \[sso-session nope\] section.*'corp'", False,
                 id="unknown-session-name"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "kwargs", "env", "pattern", "botocore_fails"), ERROR_CASES)
def test_resolve_errors(
    config_path: Path,
    text: str | None,
    kwargs: dict[str, str],
    env: dict[str, str],
    pattern: str,
    botocore_fails: bool | None,
) -> None:
    if text is not None:
        config_path.write_text(text)
    with pytest.raises(ConfigurationError, match=pattern) as info:
        resolve_sso_settings(**kwargs)
    assert isinstance(info.value, ValueError)
    # No configparser/KeyError leaks through as a visible cause or context.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    if botocore_fails:
        # botocore rejects the same profile (None: it accepts or defers; we are stricter).
        with pytest.raises(botocore.exceptions.InvalidConfigError):
            botocore_view(kwargs.get("profile"), kwargs.get("session_name"))


MALFORMED = [
    pytest.param(f"aws_secret_access_key = {SECRET}\n[profile dev]\n", r"line 1 comes before",
                 id="no-section-header"),
    pytest.param(f"[profile dev]\nregion = x\nthis line {SECRET} has no equals sign\n",
                 r"line 3 cannot be parsed", id="line-without-equals"),
    pytest.param("[profile dev]\n[profile dev]\n", r"section \[profile dev\] appears twice "
                 r"\(again on line 2\)", id="duplicate-section"),
    pytest.param(f"[profile dev]\nregion = a\nregion = {SECRET}\n",
                 r"option 'region' appears twice in section \[profile dev\] \(again on line 3\)",
                 id="duplicate-option"),
    pytest.param(f"[profile dev]\ns3 =\n  addressing_style = path\n  {SECRET}\n",
                 r"section \[profile dev\], option 's3': a line has no '='",
                 id="nested-line-without-equals"),
    pytest.param(b"[profile dev]\nregion = \xff\xfe\n", r"not valid utf-8 text",
                 id="not-utf8"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "pattern"), MALFORMED)
def test_malformed_file(config_path: Path, content: str | bytes, pattern: str) -> None:
    if isinstance(content, bytes):
        config_path.write_bytes(content)
    else:
        config_path.write_text(content)
    with pytest.raises(ConfigurationError, match=pattern) as info:
        resolve_sso_settings(profile="dev")
    message = str(info.value)
    assert str(config_path) in message
    assert SECRET not in message
    # No configparser/KeyError leaks through as a visible cause or context.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    # botocore cannot read it either, which is what the message says.
    with pytest.raises(botocore.exceptions.ConfigParseError):
        botocore.configloader.raw_config_parse(str(config_path))


def test_config_path_that_is_a_directory(config_path: Path) -> None:
    config_path.mkdir()
    with pytest.raises(ConfigurationError, match="not a regular file"):
        resolve_sso_settings(profile="dev")


LOAD_FILES = [
    pytest.param(SESSION_PROFILE, id="simple"),
    pytest.param(
        "[default]\nregion = a\n[profile default]\nregion = b\n[profiles x]\nregion = c\n"
        "[profile a b]\nregion = d\n[profile 'unbalanced]\nregion = e\n"
        "[preview]\ncloudfront = true\n"
        "[sso-session s]\nsso_region = r\n[services svc]\ns3 =\n  endpoint_url = http://x\n"
        "[profile q]\nx = 100%\nmulti = line one\n  line two\n",
        id="quirks",
    ),
    pytest.param(
        "[DEFAULT]\nshared = 1\n[profile a]\nregion = r\n[sso-session s]\nk = v\n",
        id="DEFAULT-section",
    ),
    pytest.param("", id="empty"),
]  # fmt: skip


@pytest.mark.parametrize("text", LOAD_FILES)
def test_load_aws_config_equals_botocore(config_path: Path, text: str) -> None:
    config_path.write_text(text)
    assert load_aws_config() == botocore.configloader.load_config(str(config_path))
    assert load_aws_config(config_path) == botocore.session.Session().full_config


# -- writing a kernel-private profile -----------------------------------------------------


def test_written_profile_is_read_by_boto3_and_botocore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kernel" / "config"
    write_sso_profile(
        path,
        profile="ssooidc-kernel",
        session_name="ssooidc-corp",
        start_url=URL,
        region="eu-west-1",
        scopes=["sso:account:access", "codewhisperer:completions"],
        account_id="111122223333",
        role_name="Developer",
        default_region="eu-central-1",
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))

    session = boto3.Session(profile_name="ssooidc-kernel")
    assert session.region_name == "eu-central-1"
    core = session._session
    full = core.full_config
    assert full["profiles"]["ssooidc-kernel"]["sso_session"] == "ssooidc-corp"
    assert full["sso_sessions"]["ssooidc-corp"]["sso_start_url"] == URL
    assert botocore.tokens.SSOTokenProvider(core, cache={})._load_sso_config() == {
        "session_name": "ssooidc-corp",
        "sso_region": "eu-west-1",
        "sso_start_url": URL,
    }
    provider = botocore.credentials.SSOProvider(
        load_config=lambda: core.full_config, client_creator=None, profile_name="ssooidc-kernel"
    )
    assert provider._load_sso_config()["sso_account_id"] == "111122223333"

    settings = resolve_sso_settings(profile="ssooidc-kernel")
    assert settings.scopes == ["sso:account:access", "codewhisperer:completions"]
    assert (settings.account_id, settings.role_name) == ("111122223333", "Developer")
    assert settings.session_name == "ssooidc-corp"


def test_boto3_uses_a_token_we_cached_for_the_written_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime, timedelta, timezone

    path = tmp_path / "config"
    write_sso_profile(
        path, profile="k", session_name="corp", start_url=URL, region="eu-west-1", scopes=[]
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    settings = resolve_sso_settings(profile="k")
    assert settings.scopes == list(DEFAULT_SCOPES)
    cache = TokenCache(tmp_path / "sso-cache")
    cache.save_token(
        token_cache_key(settings.session_name, settings.start_url),
        CachedToken(
            start_url=settings.start_url,
            region=settings.region,
            access_token="the-access-token",
            expires_at=datetime.now(timezone.utc) + timedelta(hours=8),
        ),
    )
    # botocore's token provider, on our file, without any network call (the token is fresh).
    provider = botocore.tokens.SSOTokenProvider(
        boto3.Session(profile_name="k")._session,
        cache=botocore.utils.JSONFileCache(str(tmp_path / "sso-cache")),
    )
    frozen = provider.load_token().get_frozen_token()
    assert frozen.token == "the-access-token"


def test_rewrite_replaces_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("[profile stale]\nregion = x\n")
    path.chmod(0o644)
    write_sso_profile(
        path, profile="k", session_name="s", start_url=URL, region="eu-west-1", scopes=["a"]
    )
    text = path.read_text()
    assert "stale" not in text
    assert "sso_account_id" not in text
    assert "sso_registration_scopes = a\n" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["config"]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"profile": "my profile"}, id="profile-with-space"),
        pytest.param({"profile": "a]b"}, id="profile-with-bracket"),
        pytest.param({"session_name": "x\ny"}, id="session-with-newline"),
        pytest.param({"session_name": ""}, id="empty-session"),
        pytest.param({"start_url": f"{URL} # x"}, id="start-url-with-space"),
        pytest.param({"region": ""}, id="empty-region"),
        pytest.param({"scopes": ["a,b"]}, id="scope-with-comma"),
        pytest.param({"scopes": ["a b"]}, id="scope-with-space"),
        pytest.param({"role_name": "Role\n[profile evil]"}, id="role-injection"),
        pytest.param({"default_region": "eu west"}, id="default-region-with-space"),
    ],
)
def test_write_refuses_values_it_cannot_write_faithfully(
    tmp_path: Path, overrides: dict[str, Any]
) -> None:
    kwargs: dict[str, Any] = {
        "profile": "k",
        "session_name": "s",
        "start_url": URL,
        "region": "eu-west-1",
        "scopes": ["sso:account:access"],
    }
    kwargs.update(overrides)
    with pytest.raises(ConfigurationError):
        write_sso_profile(tmp_path / "config", **kwargs)
    assert not (tmp_path / "config").exists()


def test_write_failure_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigurationError, match="Could not write the AWS config file"):
        write_sso_profile(
            blocker / "config", profile="k", session_name="s", start_url=URL,
            region="eu-west-1", scopes=[],
        )  # fmt: skip
