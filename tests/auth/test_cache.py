"""The SSO token cache: botocore/CLI compatibility, atomicity, permissions, locking.

Real files and real processes throughout; botocore is the reference for every format.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import hashlib
import json
import multiprocessing
import os
import stat
import sys
import threading
import time
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import botocore.tokens
import botocore.utils
import dateutil.parser
import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter._exceptions import CacheError
from ssooidc_jupyter._secret import reveal
from ssooidc_jupyter.auth import _files
from ssooidc_jupyter.auth._cache import CacheLockTimeout, CacheWarning, TokenCache, cache_dir
from ssooidc_jupyter.auth._models import (
    CachedRegistration,
    CachedToken,
    registration_cache_key,
    token_cache_key,
)

ACCESS = "ACCESS-TOKEN-SECRET-aaaa"
REFRESH = "REFRESH-TOKEN-SECRET-bbbb"
CLIENT_SECRET = "CLIENT-SECRET-cccc"
SECRETS = (ACCESS, REFRESH, CLIENT_SECRET)
START_URL = "https://d-1234567890.awsapps.com/start"
UTC = timezone.utc
EXPIRES = datetime(2030, 1, 31, 12, 0, 0, tzinfo=UTC)
REG_EXPIRES = datetime(2030, 4, 30, 12, 0, 0, tzinfo=UTC)


def make_token(**overrides: Any) -> CachedToken:
    values: dict[str, Any] = {
        "start_url": START_URL,
        "region": "eu-west-1",
        "access_token": ACCESS,
        "expires_at": EXPIRES,
        "refresh_token": REFRESH,
        "client_id": "client-id-1",
        "client_secret": CLIENT_SECRET,
        "registration_expires_at": REG_EXPIRES,
    }
    values.update(overrides)
    return CachedToken(**values)


def make_registration(**overrides: Any) -> CachedRegistration:
    values: dict[str, Any] = {
        "client_id": "client-id-1",
        "client_secret": CLIENT_SECRET,
        "expires_at": REG_EXPIRES,
        "scopes": ["sso:account:access"],
    }
    values.update(overrides)
    return CachedRegistration(**values)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An empty directory of its own (tmp_path also holds the test's HOME)."""
    path = tmp_path / "store"
    path.mkdir()
    return path


# -- keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("session_name", "start_url"),
    [
        pytest.param("corp", START_URL, id="session"),
        pytest.param(None, START_URL, id="legacy-start-url"),
        pytest.param("my corp ü", START_URL, id="session-non-ascii"),
        pytest.param("", START_URL, id="empty-session-is-a-session"),
    ],
)
def test_token_cache_key_matches_botocore(
    session_name: str | None, start_url: str, store: Path
) -> None:
    loader = botocore.utils.SSOTokenLoader()
    assert token_cache_key(session_name, start_url) == loader._generate_cache_key(
        start_url, session_name
    )
    # And the file botocore writes for it has our name.
    file_loader = botocore.utils.SSOTokenLoader(cache=botocore.utils.JSONFileCache(store))
    file_loader.save_token(start_url, {"accessToken": "x"}, session_name=session_name)
    assert (store / f"{token_cache_key(session_name, start_url)}.json").is_file()


@pytest.mark.parametrize(
    ("kwargs", "cli_json"),
    [
        pytest.param(
            {"start_url": START_URL, "region": "us-east-1", "scopes": None, "session_name": None},
            '{"region": "us-east-1", "scopes": null, "session_name": null, '
            f'"startUrl": "{START_URL}", "tool": "botocore"}}',
            id="legacy-no-scopes",
        ),
        pytest.param(
            {
                "start_url": START_URL,
                "region": "eu-west-1",
                "scopes": ["sso:account:access"],
                "session_name": "corp",
            },
            '{"region": "eu-west-1", "scopes": ["sso:account:access"], "session_name": "corp", '
            f'"startUrl": "{START_URL}", "tool": "botocore"}}',
            id="session-with-scope",
        ),
        pytest.param(
            {"start_url": START_URL, "region": "eu-west-1", "scopes": [], "session_name": "corp"},
            '{"region": "eu-west-1", "scopes": [], "session_name": "corp", '
            f'"startUrl": "{START_URL}", "tool": "botocore"}}',
            id="empty-scopes-differ-from-none",
        ),
        pytest.param(
            {
                "start_url": START_URL,
                "region": "eu-west-1",
                "scopes": ("b:scope", "a:scope"),
                "session_name": "é",
            },
            '{"region": "eu-west-1", "scopes": ["b:scope", "a:scope"], '
            '"session_name": "\\u00e9", '
            f'"startUrl": "{START_URL}", "tool": "botocore"}}',
            id="scope-order-kept-ascii-escaped",
        ),
    ],
)
def test_registration_cache_key_matches_the_cli(kwargs: dict[str, Any], cli_json: str) -> None:
    # cli_json is written out by hand from the CLI's BaseSSOTokenFetcher._registration_cache_key
    # (json.dumps(args, sort_keys=True), default separators), so a change of separators,
    # member names or null handling on our side shows up here.
    expected = hashlib.sha1(cli_json.encode("utf-8")).hexdigest()  # noqa: S324
    assert registration_cache_key(**kwargs) == expected
    # Same as the CLI expression itself.
    args = {
        "tool": "botocore",
        "startUrl": kwargs["start_url"],
        "region": kwargs["region"],
        "scopes": None if kwargs["scopes"] is None else list(kwargs["scopes"]),
        "session_name": kwargs["session_name"],
    }
    cli_key = hashlib.sha1(json.dumps(args, sort_keys=True).encode("utf-8")).hexdigest()  # noqa: S324
    assert registration_cache_key(**kwargs) == cli_key


def test_registration_key_never_collides_with_token_key() -> None:
    assert registration_cache_key(
        start_url=START_URL, region="eu-west-1", scopes=None, session_name="corp"
    ) != token_cache_key("corp", START_URL)


# -- formats ------------------------------------------------------------------------------


def test_token_to_json_is_exactly_what_botocore_writes() -> None:
    token = make_token()
    botocore_dict = {
        "startUrl": START_URL,
        "region": "eu-west-1",
        "accessToken": ACCESS,
        "expiresAt": EXPIRES,
        "clientId": "client-id-1",
        "clientSecret": CLIENT_SECRET,
        "registrationExpiresAt": REG_EXPIRES,
        "refreshToken": REFRESH,
    }
    ours = token.to_json()
    assert json.loads(botocore.tokens._sso_json_dumps(botocore_dict)) == ours
    assert ours["expiresAt"] == "2030-01-31T12:00:00Z"


def test_token_to_json_omits_absent_optional_members() -> None:
    token = CachedToken(START_URL, "eu-west-1", ACCESS, EXPIRES)
    assert token.to_json() == {
        "startUrl": START_URL,
        "region": "eu-west-1",
        "accessToken": ACCESS,
        "expiresAt": "2030-01-31T12:00:00Z",
    }


def test_token_round_trip_and_extra_members_are_kept() -> None:
    data = make_token().to_json()
    data["somethingNew"] = {"nested": [1, 2]}
    token = CachedToken.from_json(data)
    assert token == dataclasses.replace(make_token(), extra={"somethingNew": {"nested": [1, 2]}})
    assert token.to_json() == data
    assert CachedToken.from_json(make_token().to_json()) == make_token()


def test_token_expiry_is_normalised_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    token = make_token(expires_at=datetime(2030, 1, 31, 14, 0, tzinfo=plus_two))
    assert token.expires_at == EXPIRES
    assert token.expires_at.utcoffset() == timedelta(0)
    assert token.to_json()["expiresAt"] == "2030-01-31T12:00:00Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        make_token(expires_at=datetime(2030, 1, 31, 12, 0))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2030-01-31T12:00:00Z", id="botocore-format"),
        pytest.param("2030-01-31T12:00:00+00:00", id="isoformat-offset"),
        pytest.param("2030-01-31T12:00:00+0000", id="compact-offset"),
        pytest.param("2030-01-31T12:00:00.123456Z", id="microseconds"),
        pytest.param("2030-01-31T12:00:00.123Z", id="milliseconds"),
        pytest.param("2030-01-31T12:00:00.123456789Z", id="nanoseconds"),
        pytest.param("2030-01-31T12:00:00UTC", id="strftime-%Z-utc"),
        pytest.param("2030-01-31T12:00:00 UTC", id="space-utc"),
        pytest.param("2030-01-31 12:00:00Z", id="space-separator"),
        pytest.param("2030-01-31T14:30:00+02:30", id="other-offset"),
        pytest.param("2030-01-31T07:00:00-05:00", id="negative-offset"),
        pytest.param("2030-01-31T12:00:00", id="naive-means-utc"),
    ],
)
def test_expires_at_parsing_is_as_liberal_as_botocore(text: str) -> None:
    data = make_token().to_json()
    data["expiresAt"] = text
    ours = CachedToken.from_json(data).expires_at
    theirs = dateutil.parser.parse(text)  # what botocore uses on the same string
    if theirs.tzinfo is None:
        theirs = theirs.replace(tzinfo=UTC)
    assert ours == theirs.astimezone(UTC).replace(microsecond=ours.microsecond)
    assert abs(ours - theirs) < timedelta(seconds=1)
    assert ours.tzinfo == UTC


@pytest.mark.parametrize(
    ("data", "member"),
    [
        pytest.param([1, 2], "JSON object", id="list"),
        pytest.param("just a string", "JSON object", id="string"),
        pytest.param({"region": "x", "accessToken": ACCESS, "expiresAt": "2030-01-01T00:00:00Z"},
                     "startUrl", id="missing-start-url"),
        pytest.param({"startUrl": START_URL, "region": "x", "expiresAt": "2030-01-01T00:00:00Z"},
                     "accessToken", id="missing-access-token"),
        pytest.param({"startUrl": START_URL, "region": "x", "accessToken": ACCESS},
                     "expiresAt", id="missing-expires-at"),
        pytest.param({"startUrl": START_URL, "region": "x", "accessToken": ACCESS,
                      "expiresAt": "tomorrow"}, "expiresAt", id="bad-date"),
        pytest.param({"startUrl": START_URL, "region": "x", "accessToken": ACCESS,
                      "expiresAt": "2030-02-30T00:00:00Z"}, "expiresAt", id="impossible-date"),
        pytest.param({"startUrl": START_URL, "region": "x", "accessToken": ACCESS,
                      "expiresAt": 1893456000}, "expiresAt", id="number-date"),
        pytest.param({"startUrl": START_URL, "region": "x", "accessToken": "",
                      "expiresAt": "2030-01-01T00:00:00Z"}, "accessToken", id="empty-token"),
        pytest.param({"startUrl": START_URL, "region": "x", "accessToken": ACCESS,
                      "expiresAt": "2030-01-01T00:00:00Z", "refreshToken": 5},
                     "refreshToken", id="refresh-not-string"),
        pytest.param({"startUrl": START_URL, "region": "x", "accessToken": ACCESS,
                      "expiresAt": "2030-01-01T00:00:00Z", "registrationExpiresAt": "soon"},
                     "registrationExpiresAt", id="bad-registration-date"),
    ],
)  # fmt: skip
def test_token_from_json_rejects_invalid(data: object, member: str) -> None:
    with pytest.raises(ValueError, match=member) as info:
        CachedToken.from_json(data)
    assert_no_secret(str(info.value))


def test_token_and_registration_reprs_hide_secrets() -> None:
    token = make_token()
    registration = make_registration()
    for text in (repr(token), str(token), repr(registration), str(registration)):
        assert_no_secret(text)
    assert repr(token) == (
        f"CachedToken(start_url={START_URL!r}, region='eu-west-1', "
        f"expires_at='2030-01-31T12:00:00Z')"
    )
    assert "client-id" not in repr(registration)


def test_registration_json_is_the_clis_format() -> None:
    assert make_registration().to_json() == {
        "clientId": "client-id-1",
        "clientSecret": CLIENT_SECRET,
        "expiresAt": "2030-04-30T12:00:00Z",
        "scopes": ["sso:account:access"],
    }
    # Registered without scopes: the CLI writes no "scopes" member at all.
    assert "scopes" not in make_registration(scopes=[]).to_json()
    cli_auth_code = {
        "clientId": "c",
        "clientSecret": CLIENT_SECRET,
        "expiresAt": "2030-04-30T12:00:00Z",
        "scopes": ["sso:account:access"],
        "grantTypes": ["authorization_code", "refresh_token"],
    }
    registration = CachedRegistration.from_json(cli_auth_code)
    assert registration.grant_types == ["authorization_code", "refresh_token"]
    assert registration.to_json() == cli_auth_code
    assert CachedRegistration.from_json(make_registration().to_json()) == make_registration()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param([], id="list"),
        pytest.param({"clientSecret": CLIENT_SECRET, "expiresAt": "2030-01-01T00:00:00Z"},
                     id="missing-client-id"),
        pytest.param({"clientId": "c", "expiresAt": "2030-01-01T00:00:00Z"},
                     id="missing-secret"),
        pytest.param({"clientId": "c", "clientSecret": CLIENT_SECRET}, id="missing-expiry"),
        pytest.param({"clientId": "c", "clientSecret": CLIENT_SECRET,
                      "expiresAt": "2030-01-01T00:00:00Z", "scopes": "sso:account:access"},
                     id="scopes-not-list"),
    ],
)  # fmt: skip
def test_registration_from_json_rejects_invalid(data: object) -> None:
    with pytest.raises(ValueError) as info:
        CachedRegistration.from_json(data)
    assert_no_secret(str(info.value))


@pytest.mark.parametrize(
    ("remaining", "grant_types", "usable"),
    [
        pytest.param(timedelta(days=80), None, True, id="fresh"),
        pytest.param(timedelta(minutes=16), None, True, id="16-min-left"),
        pytest.param(timedelta(minutes=15), None, True, id="exactly-15-min-left"),
        pytest.param(timedelta(minutes=14, seconds=59), None, False, id="inside-window"),
        pytest.param(-timedelta(days=1), None, False, id="expired"),
        pytest.param(timedelta(days=80), ["authorization_code", "refresh_token"], False,
                     id="cli-auth-code-registration"),
        pytest.param(timedelta(days=80), ["urn:ietf:params:oauth:grant-type:device_code",
                                          "refresh_token"], True, id="device-grant-types"),
    ],
)  # fmt: skip
def test_registration_usable(
    remaining: timedelta, grant_types: list[str] | None, usable: bool
) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    registration = make_registration(expires_at=now + remaining, grant_types=grant_types)
    assert registration.usable(now) is usable


def test_registration_usable_defaults_to_now() -> None:
    assert make_registration(expires_at=datetime.now(UTC) + timedelta(hours=1)).usable()
    assert not make_registration(expires_at=datetime.now(UTC) + timedelta(minutes=5)).usable()


# -- files --------------------------------------------------------------------------------


def test_default_directory_follows_home_at_call_time(
    clean_aws_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = TokenCache()
    assert cache_dir() == clean_aws_env / ".aws" / "sso" / "cache"
    cache.save_token("k1", make_token())
    assert (clean_aws_env / ".aws" / "sso" / "cache" / "k1.json").is_file()

    other_home = tmp_path / "other-home"
    other_home.mkdir()
    monkeypatch.setenv("HOME", str(other_home))
    assert cache.directory == other_home / ".aws" / "sso" / "cache"
    assert cache.load_token("k1") is None
    cache.save_token("k1", make_token())
    assert (other_home / ".aws" / "sso" / "cache" / "k1.json").is_file()


def test_save_and_load_round_trip_with_private_modes(clean_aws_env: Path) -> None:
    cache = TokenCache()
    key = token_cache_key("corp", START_URL)
    cache.save_token(key, make_token())
    assert cache.load_token(key) == make_token()

    reg_key = registration_cache_key(
        start_url=START_URL, region="eu-west-1", scopes=["sso:account:access"], session_name="corp"
    )
    cache.save_registration(reg_key, make_registration())
    assert cache.load_registration(reg_key) == make_registration()

    directory = clean_aws_env / ".aws" / "sso" / "cache"
    assert cache.token_path(key) == directory / f"{key}.json"
    assert mode_of(cache.token_path(key)) == 0o600
    assert mode_of(cache.registration_path(reg_key)) == 0o600
    for created in (clean_aws_env / ".aws", clean_aws_env / ".aws" / "sso", directory):
        assert mode_of(created) == 0o700
    # Nothing but the two entries: no temporary file left behind.
    assert sorted(p.name for p in directory.iterdir()) == sorted([f"{key}.json", f"{reg_key}.json"])


def test_existing_default_directory_and_file_are_tightened(clean_aws_env: Path) -> None:
    directory = clean_aws_env / ".aws" / "sso" / "cache"
    directory.mkdir(parents=True)
    directory.chmod(0o755)  # what the CLI leaves with a 022 umask
    old = directory / "k.json"
    old.write_text("{}")
    old.chmod(0o644)
    TokenCache().save_token("k", make_token())
    assert mode_of(directory) == 0o700
    assert mode_of(old) == 0o600  # a new inode, created 0600


def test_a_directory_the_caller_chose_is_not_chmodded(store: Path) -> None:
    shared = store / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    TokenCache(shared).save_token("k", make_token())
    assert mode_of(shared) == 0o755
    assert mode_of(shared / "k.json") == 0o600


def test_our_file_is_read_by_botocore(store: Path) -> None:
    cache = TokenCache(store)
    cache.save_token(token_cache_key("corp", START_URL), make_token())
    cache.save_token(token_cache_key(None, START_URL), make_token(access_token="legacy"))
    loader = botocore.utils.SSOTokenLoader(cache=botocore.utils.JSONFileCache(str(store)))
    loaded = loader(START_URL, session_name="corp")
    assert loaded == make_token().to_json()
    assert dateutil.parser.parse(loaded["expiresAt"]) == EXPIRES
    assert loader(START_URL)["accessToken"] == "legacy"


@pytest.mark.parametrize(
    "dumps_func",
    [
        pytest.param(botocore.tokens._sso_json_dumps, id="sso-dumps"),
        pytest.param(None, id="jsonfilecache-default-dumps-%Z"),
    ],
)
def test_botocore_file_is_read_by_us(store: Path, dumps_func: Any) -> None:
    file_cache = botocore.utils.JSONFileCache(str(store), dumps_func=dumps_func)
    loader = botocore.utils.SSOTokenLoader(cache=file_cache)
    # What SSOTokenProvider._attempt_create_token saves: datetimes, and the registration
    # expiry as the string it read earlier.
    loader.save_token(
        START_URL,
        {
            "startUrl": START_URL,
            "region": "eu-west-1",
            "accessToken": ACCESS,
            "expiresAt": EXPIRES,
            "clientId": "client-id-1",
            "clientSecret": CLIENT_SECRET,
            "registrationExpiresAt": "2030-04-30T12:00:00Z",
            "refreshToken": REFRESH,
        },
        session_name="corp",
    )
    assert TokenCache(store).load_token(token_cache_key("corp", START_URL)) == make_token()


def test_cli_registration_file_is_read_by_us(store: Path) -> None:
    key = registration_cache_key(
        start_url=START_URL, region="eu-west-1", scopes=None, session_name="corp"
    )
    file_cache = botocore.utils.JSONFileCache(
        str(store), dumps_func=botocore.tokens._sso_json_dumps
    )
    file_cache[key] = {"clientId": "c", "clientSecret": CLIENT_SECRET, "expiresAt": REG_EXPIRES}
    registration = TokenCache(store).load_registration(key)
    assert registration == CachedRegistration("c", CLIENT_SECRET, REG_EXPIRES, [])


def test_missing_files_are_none_without_warning(store: Path) -> None:
    cache = TokenCache(store / "does-not-exist")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.load_token("k") is None
        assert cache.load_registration("k") is None
    assert not (store / "does-not-exist").exists()


VALID = json.dumps(make_token().to_json()).encode()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(VALID[: len(VALID) // 2], id="truncated-half-written"),
        pytest.param(b"{", id="open-brace"),
        pytest.param(b"\xff\xfe\x00garbage " + ACCESS.encode(), id="binary"),
        pytest.param(b"[1, 2, 3]", id="list"),
        pytest.param(b"null", id="null"),
        pytest.param(b'"' + ACCESS.encode() + b'"', id="string"),
        pytest.param(json.dumps({"accessToken": ACCESS}).encode(), id="missing-members"),
        pytest.param(
            json.dumps({**make_token().to_json(), "expiresAt": "whenever"}).encode(),
            id="bad-date",
        ),
        pytest.param(json.dumps(make_registration().to_json()).encode(), id="foreign-kind"),
    ],
)
def test_unusable_token_file_warns_and_is_left_alone(store: Path, content: bytes) -> None:
    path = store / "k.json"
    path.write_bytes(content)
    with pytest.warns(CacheWarning) as record:
        assert TokenCache(store).load_token("k") is None
    assert len(record) == 1
    message = str(record[0].message)
    assert str(path) in message
    assert_no_secret(message)
    assert record[0].filename == __file__  # points at the caller
    assert path.read_bytes() == content


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"clientId": ', id="truncated"),
        pytest.param(b"{}", id="empty-object"),
        pytest.param(VALID, id="a-token-not-a-registration"),
    ],
)
def test_unusable_registration_file_warns(store: Path, content: bytes) -> None:
    path = store / "k.json"
    path.write_bytes(content)
    with pytest.warns(CacheWarning, match="k.json") as record:
        assert TokenCache(store).load_registration("k") is None
    assert_no_secret(str(record[0].message))
    assert path.read_bytes() == content


def test_unreadable_entry_warns(store: Path) -> None:
    (store / "k.json").mkdir()  # a directory where the file should be
    with pytest.warns(CacheWarning, match="cannot be read"):
        assert TokenCache(store).load_token("k") is None


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_token_planted_by_another_user_is_not_used(store: Path) -> None:
    # A co-tenant who can write to the directory must not make us use their session.
    TokenCache(store).save_token("k", make_token())
    os.chown(store / "k.json", 65534, 65534)
    with pytest.warns(CacheWarning, match=r"owned by another user \(uid 65534\)") as caught:
        assert TokenCache(store).load_token("k") is None
    assert_no_secret(str(caught[0].message))
    assert (store / "k.json").exists()  # reported, never deleted


def test_a_fifo_in_place_of_an_entry_does_not_hang(store: Path) -> None:
    os.mkfifo(store / "k.json")
    with pytest.warns(CacheWarning, match="not a regular file"):
        assert TokenCache(store).load_token("k") is None


def test_an_oversized_entry_is_not_read(store: Path) -> None:
    (store / "k.json").write_bytes(b" " * (2 * 1024 * 1024))
    with pytest.warns(CacheWarning, match="far too large"):
        assert TokenCache(store).load_token("k") is None


@pytest.mark.parametrize("key", ["../escape", "a/b", ".hidden", "", "x" * 300, "k\n"])
def test_keys_must_be_plain_file_names(store: Path, key: str) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        TokenCache(store).token_path(key)


def test_delete(store: Path) -> None:
    cache = TokenCache(store)
    cache.save_token("k", make_token())
    cache.save_registration("r", make_registration())
    assert cache.delete_token("k") is True
    assert cache.delete_token("k") is False
    assert cache.delete_registration("r") is True
    assert cache.delete_registration("r") is False
    assert not any(store.iterdir())


# -- failures -----------------------------------------------------------------------------


def test_save_fails_cleanly_when_a_file_is_in_the_way(store: Path) -> None:
    blocker = store / "not-a-dir"
    blocker.write_text("I am a file")
    cache = TokenCache(blocker / "cache")
    with pytest.raises(CacheError) as info:
        cache.save_token("k", make_token())
    message = str(info.value)
    assert str(blocker / "cache" / "k.json") in message
    assert "in the way" in message
    assert_no_secret(message)
    assert blocker.read_text() == "I am a file"


def test_save_fails_cleanly_when_the_target_is_a_directory(store: Path) -> None:
    (store / "k.json").mkdir()
    with pytest.raises(CacheError):
        TokenCache(store).save_token("k", make_token())
    assert (store / "k.json").is_dir()
    assert sorted(p.name for p in store.iterdir()) == ["k.json"]


@pytest.mark.parametrize("failing", ["fsync", "replace", "write"])
def test_disk_full_keeps_the_old_file(
    store: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    cache = TokenCache(store)
    cache.save_token("k", make_token(access_token="old"))
    before = (store / "k.json").read_bytes()

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_files.os, failing, fail)
    with pytest.raises(CacheError, match="disk space") as info:
        cache.save_token("k", make_token())
    monkeypatch.undo()
    assert_no_secret(str(info.value))
    assert (store / "k.json").read_bytes() == before
    assert sorted(p.name for p in store.iterdir()) == ["k.json"]
    assert cache.load_token("k") == make_token(access_token="old")


def _save_with_file_size_limit(directory: str, limit: int) -> str:
    import resource

    # Python ignores SIGXFSZ, so exceeding the limit is an EFBIG OSError: a real full disk.
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        TokenCache(Path(directory)).save_token("k", make_token(access_token="x" * (limit * 4)))
    except CacheError as exc:
        return f"CacheError: {exc}"
    return "saved"


@pytest.mark.skipif(sys.platform == "win32", reason="needs RLIMIT_FSIZE")
def test_real_write_failure_in_a_process_keeps_the_old_file(store: Path) -> None:
    cache = TokenCache(store)
    cache.save_token("k", make_token(access_token="old"))
    before = (store / "k.json").read_bytes()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        outcome = pool.apply(_save_with_file_size_limit, (str(store), 4096))
    assert outcome.startswith("CacheError: Could not save the SSO token")
    assert "File too large" in outcome or "disk space" in outcome
    assert (store / "k.json").read_bytes() == before
    assert sorted(p.name for p in store.iterdir()) == ["k.json"]


def test_delete_failure_is_a_cache_error(store: Path) -> None:
    (store / "k.json").mkdir()
    (store / "k.json" / "inner").write_text("x")
    with pytest.raises(CacheError, match="Delete it by hand"):
        TokenCache(store).delete_token("k")


# -- locking ------------------------------------------------------------------------------


def test_lock_file_is_private_and_not_a_cache_entry(store: Path) -> None:
    cache = TokenCache(store / "cache")
    with cache.lock("k"):
        assert cache.lock_path("k") == store / "cache" / ".locks" / "k.lock"
        assert mode_of(store / "cache" / ".locks" / "k.lock") == 0o600
        assert mode_of(store / "cache" / ".locks") == 0o700
        assert mode_of(store / "cache") == 0o700
    assert not (store / "cache" / "k.json").exists()
    # Issue 12: nothing but cache entries beside the tokens, after locking and unlocking.
    assert [p.name for p in (store / "cache").iterdir()] == [".locks"]


def test_sign_in_and_logout_leave_no_lock_beside_the_tokens(
    clean_aws_env: Path, monkeypatch: pytest.MonkeyPatch, emulator_factory: Callable[..., Any]
) -> None:

    emu = emulator_factory(interval=0.05, auto_approve=0.02)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    token = sj.login(emu.start_url, emu.region, on_prompt=lambda prompt: None)
    token.refresh()
    token.logout()
    directory = clean_aws_env / ".aws" / "sso" / "cache"
    visible = [p.name for p in directory.iterdir() if not p.name.startswith(".")]
    assert all(name.endswith(".json") for name in visible), visible
    assert [p.suffix for p in (directory / ".locks").iterdir()] == [".lock"]


@pytest.mark.parametrize("dangling", [False, True], ids=["live", "dangling"])
def test_a_planted_lock_link_is_a_clear_error(store: Path, dangling: bool) -> None:
    cache = TokenCache(store / "cache")
    with cache.lock("k"):
        pass
    target = store / ("nowhere" if dangling else "victim")
    if not dangling:
        target.write_text("precious")
    cache.lock_path("k").unlink()
    cache.lock_path("k").symlink_to(target)
    with pytest.raises(CacheError) as caught, cache.lock("k", timeout=1):
        pass
    message = str(caught.value)
    assert str(cache.lock_path("k")) in message
    assert ("dangling symbolic link" if dangling else "a symbolic link") in message
    assert "Too many levels" not in message
    if not dangling:
        assert target.read_text() == "precious"  # neither truncated nor locked
    else:
        assert not target.exists()


@pytest.mark.parametrize("dangling", [False, True], ids=["live", "dangling"])
def test_a_planted_lock_directory_link_is_a_clear_error(store: Path, dangling: bool) -> None:
    (store / "cache").mkdir(mode=0o700)
    elsewhere = store / "elsewhere"
    if not dangling:
        elsewhere.mkdir()
    (store / "cache" / ".locks").symlink_to(elsewhere)
    with (
        pytest.raises(CacheError, match=r"\.locks is a .*symbolic link"),
        TokenCache(store / "cache").lock("k", timeout=1),
    ):
        pass
    assert not dangling or not elsewhere.exists()


def test_an_old_style_lock_link_beside_the_tokens_is_harmless(store: Path) -> None:
    # The attack: <key>.lock planted where earlier versions put the lock.
    (store / "cache").mkdir(mode=0o700)
    (store / "cache" / "k.lock").symlink_to(store / "cache" / "k.lock")  # a loop
    with TokenCache(store / "cache").lock("k", timeout=1):
        pass


def test_leftover_lock_files_of_earlier_versions_are_removed(store: Path) -> None:
    import filelock

    (store / "cache").mkdir(mode=0o700)
    (store / "cache" / "free.lock").touch(mode=0o600)
    (store / "cache" / "held.lock").touch(mode=0o600)
    (store / "cache" / "full.lock").write_text("not a lock of ours")
    cache = TokenCache(store / "cache")
    older = filelock.FileLock(str(store / "cache" / "held.lock"))  # an earlier version, running
    with older:
        for key in ("free", "held", "full"):
            with cache.lock(key, timeout=1):
                pass
    assert not (store / "cache" / "free.lock").exists()
    assert (store / "cache" / "held.lock").exists()  # in use: left alone
    assert (store / "cache" / "full.lock").read_text() == "not a lock of ours"


def test_a_world_writable_cache_directory_is_warned_about_once(store: Path) -> None:
    directory = store / "shared"
    directory.mkdir()
    os.chmod(directory, 0o777)  # noqa: S103 - the shared directory under test
    cache = TokenCache(directory)
    with pytest.warns(CacheWarning, match="writable by every user") as caught:
        cache.save_token("k", make_token())
        cache.save_token("k", make_token())
        with cache.lock("k"):
            pass
    # Warnings are recorded process-wide: a sign-in thread left over from an earlier test
    # may warn about its own directory meanwhile. Exactly one is about this directory.
    ours = [w for w in caught if str(directory) in str(w.message)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    assert_no_secret(str(ours[0].message))


def test_a_linked_cache_directory_is_warned_about(store: Path) -> None:
    real = store / "real"
    real.mkdir(mode=0o700)
    (store / "link").symlink_to(real)
    with pytest.warns(CacheWarning, match="symbolic link"):
        TokenCache(store / "link").save_token("k", make_token())
    assert (real / "k.json").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_no_token_is_written_into_another_users_directory(store: Path) -> None:
    directory = store / "theirs"
    directory.mkdir(mode=0o700)
    os.chown(directory, 65534, 65534)
    cache = TokenCache(directory)
    assert cache.unwritable_reason() == f"{directory} is owned by another user (uid 65534)"
    with (
        pytest.warns(CacheWarning, match="owned by another user"),
        pytest.raises(CacheError, match="owned by another user"),
    ):
        cache.save_token("k", make_token())
    assert list(directory.iterdir()) == []


def test_lock_excludes_another_holder_in_the_same_process(store: Path) -> None:
    cache = TokenCache(store)
    with cache.lock("k"):
        started = time.monotonic()
        with (
            pytest.raises(CacheLockTimeout, match=r"k\.lock") as info,
            cache.lock("k", timeout=0.2),
        ):
            pytest.fail("lock acquired twice")
        assert time.monotonic() - started >= 0.2
        assert isinstance(info.value, TimeoutError)
        assert isinstance(info.value, CacheError)
        with cache.lock("other-key", timeout=0):
            pass  # other keys are independent
    with cache.lock("k", timeout=0):
        pass  # released


def _hold_lock(directory: str, key: str, ready: Any, release: Any) -> None:
    with TokenCache(Path(directory)).lock(key):
        ready.set()
        release.wait(30)


def test_lock_excludes_another_process(store: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(store), "k", ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(CacheLockTimeout), TokenCache(store).lock("k", timeout=0.1):
            pass
    finally:
        release.set()
        holder.join(30)
    assert holder.exitcode == 0
    with TokenCache(store).lock("k", timeout=5):
        pass


async def test_alock_waits_without_blocking_the_event_loop(store: Path) -> None:
    cache = TokenCache(store)
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with cache.lock("k"):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        tick_task = asyncio.create_task(ticker())
        asyncio.get_running_loop().call_later(0.3, release.set)
        started = time.monotonic()
        async with cache.alock("k", timeout=10):
            waited = time.monotonic() - started
            assert waited >= 0.25
            # The loop kept running while we waited for the lock.
            assert ticks >= 10
            with pytest.raises(CacheLockTimeout):
                async with cache.alock("k", timeout=0.1):
                    pytest.fail("lock acquired twice")
        tick_task.cancel()
    finally:
        release.set()
        thread.join(10)
    async with cache.alock("k", timeout=0):
        pass


async def test_alock_timeout(store: Path) -> None:
    cache = TokenCache(store)
    with cache.lock("k"):
        started = time.monotonic()
        with pytest.raises(CacheLockTimeout):
            async with cache.alock("k", timeout=0.2):
                pytest.fail("lock acquired twice")
        assert 0.2 <= time.monotonic() - started < 2


def test_lock_in_an_impossible_directory_is_a_cache_error(store: Path) -> None:
    blocker = store / "file"
    blocker.write_text("x")
    with pytest.raises(CacheError, match="Could not create"), TokenCache(blocker).lock("k"):
        pass


# -- concurrency --------------------------------------------------------------------------

CYCLES = 50
WRITERS = 8


def _increment(directory: str, key: str, cycles: int) -> None:
    cache = TokenCache(Path(directory))
    for _ in range(cycles):
        with cache.lock(key):
            token = cache.load_token(key)
            assert token is not None
            count = int(token.extra["counter"])
            # A longer token on odd counts makes the file size change on every write, so
            # a torn write would show up as truncated or trailing bytes.
            access = "z" * (1000 + 3000 * (count % 2))
            cache.save_token(
                key,
                dataclasses.replace(token, access_token=access, extra={"counter": count + 1}),
            )


def _read_continuously(path: str, stop: Any, result: Any) -> None:
    reads = failures = 0
    while not stop.is_set():
        with open(path, "rb") as handle:
            raw = handle.read()
        try:
            CachedToken.from_json(json.loads(raw))
        except ValueError:
            failures += 1
        reads += 1
    result.put((reads, failures))


def test_parallel_read_modify_write_loses_nothing_and_never_tears(store: Path) -> None:
    cache = TokenCache(store)
    key = token_cache_key("corp", START_URL)
    cache.save_token(key, make_token(extra={"counter": 0}))
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    result = ctx.Queue()
    reader = ctx.Process(target=_read_continuously, args=(str(cache.token_path(key)), stop, result))
    writers = [
        ctx.Process(target=_increment, args=(str(store), key, CYCLES)) for _ in range(WRITERS)
    ]
    reader.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(90)
    stop.set()
    reads, failures = result.get(timeout=30)
    reader.join(30)

    assert [w.exitcode for w in writers] == [0] * WRITERS
    assert reader.exitcode == 0
    assert failures == 0
    assert reads > 0
    final = cache.load_token(key)
    assert final is not None
    assert final.extra["counter"] == WRITERS * CYCLES
    assert mode_of(cache.token_path(key)) == 0o600
    assert sorted(p.name for p in store.iterdir()) == sorted([f"{key}.json", ".locks"])


# -- refresh and the lock, through the real drivers ---------------------------------------


def _signed_in_with(left: timedelta, emu: Any) -> tuple[TokenCache, str]:
    """A real sign-in, then its cached token made to expire in ``left``."""
    sj.login(emu.start_url, emu.region, on_prompt=lambda prompt: None)
    cache, key = TokenCache(), token_cache_key(None, emu.start_url)
    token = cache.load_token(key)
    assert token is not None
    cache.save_token(key, dataclasses.replace(token, expires_at=datetime.now(timezone.utc) + left))
    return cache, key


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch, emulator_factory: Callable[..., Any]) -> Any:
    from ssooidc_jupyter.auth._flow import forget_refresh_failures

    forget_refresh_failures()
    emulator = emulator_factory(interval=0.05, auto_approve=0.02)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.url)
    yield emulator
    forget_refresh_failures()


def test_advisory_refresh_does_not_wait_for_another_holder(emu: Any) -> None:
    cache, key = _signed_in_with(timedelta(minutes=12), emu)
    before = cache.load_token(key)
    assert before is not None
    calls = len(emu.requests)
    with cache.lock(key):  # another process is refreshing (a second descriptor, same effect)
        started = time.monotonic()
        token = sj.login(emu.start_url, emu.region, on_prompt=lambda prompt: None)
        assert time.monotonic() - started < 1
    assert token.access_token == reveal(before.access_token)
    assert len(emu.requests) == calls  # no network at all


def test_mandatory_refresh_waits_for_another_holder(emu: Any) -> None:
    cache, key = _signed_in_with(timedelta(minutes=5), emu)
    before = cache.load_token(key)
    assert before is not None
    release = threading.Event()

    def holder() -> None:
        with TokenCache().lock(key):
            release.wait(5)

    thread = threading.Thread(target=holder)
    with cache.lock(key):
        thread.start()  # queued behind us; it takes the lock once we let go
    time.sleep(0.1)
    started = time.monotonic()
    threading.Timer(0.5, release.set).start()
    token = sj.login(emu.start_url, emu.region, on_prompt=lambda prompt: None)
    waited = time.monotonic() - started
    thread.join(5)
    assert waited >= 0.4
    assert token.access_token != reveal(before.access_token)
