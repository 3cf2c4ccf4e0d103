"""``%ssooidc`` in a real IPython ``InteractiveShell`` against the emulator.

What needs a kernel (the cell returning while the flow polls, widgets, display updates seen
by a frontend) is in test_kernel.py; here: loading, parsing, usage errors, the
configurable, and what each command shows and binds.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import CapturedIO, capture_output
from traitlets import TraitError
from traitlets.config import Config

import ssooidc_jupyter as sj
from ssooidc_jupyter import SSOToken
from ssooidc_jupyter.auth._cache import TokenCache
from ssooidc_jupyter.auth._models import token_cache_key
from ssooidc_jupyter.emulator import Emulator
from ssooidc_jupyter.notebook._configurable import SSOOIDC
from ssooidc_jupyter.notebook._pending import PendingSession, PendingSSOToken
from tests._support import emulator_fixture, extension_shell, wait_for

# Never loaded by %load_ext: the HTTP stack, widgets, AWS SDK and file lock load at first use.
HEAVY = ("httpx", "httpcore", "anyio", "h11", "ipywidgets", "boto3", "botocore", "filelock")
# Nor our own sign-in machinery: it loads with the first %ssooidc command.
SIGN_IN = (
    "ssooidc_jupyter.auth",
    "ssooidc_jupyter.notebook._signin",
    "ssooidc_jupyter.oidc._client",
)


@pytest.fixture
def ip() -> Iterator[InteractiveShell]:
    with extension_shell() as shell:
        yield shell


emu = emulator_fixture(endpoint_env="AWS_ENDPOINT_URL", interval=0.1, auto_approve=0.2)


#: An emulator nobody approves on: the test decides.
manual_emu = emulator_fixture(name="manual_emu", endpoint_env="AWS_ENDPOINT_URL", interval=0.1)


def where(emu: Emulator) -> str:
    return f"--start-url {emu.start_url} --region {emu.region}"


def ops(emu: Emulator, name: str) -> int:
    return [r["operation"] for r in emu.requests].count(name)


def texts(cap: CapturedIO) -> list[str]:
    return [output.data.get("text/plain", "") for output in cap.outputs]


def everything(cap: CapturedIO) -> str:
    return cap.stdout + cap.stderr + json.dumps([output.data for output in cap.outputs])


def assert_no_secret(emu: Emulator, text: str) -> None:
    assert emu.secrets, "the emulator issued nothing: the test proves nothing"
    for secret in emu.secrets:
        assert secret not in text


def emu_prompt_expiry(text: str) -> str:
    """The "07:56 UTC" of a prompt's "(it expires at 07:56 UTC)"."""
    found = re.search(r"\(it expires at (\d\d:\d\d \S+)\)", text)
    assert found, text
    return found.group(1)


# ---- loading ----------------------------------------------------------------------------


def test_load_registers_the_magic_and_the_configurable(ip: InteractiveShell) -> None:
    assert "ssooidc" in ip.magics_manager.magics["line"]
    assert any(type(c).__name__ == "SSOOIDC" for c in ip.configurables)
    with capture_output() as cap:
        ip.run_line_magic("config", "SSOOIDC")
    for trait in ("start_url", "region", "sso_session", "profile", "scopes", "variable"):
        assert f"SSOOIDC.{trait}" in cap.stdout


def test_unload_and_reload(ip: InteractiveShell) -> None:
    ip.run_line_magic("unload_ext", "ssooidc_jupyter")
    assert "ssooidc" not in ip.magics_manager.magics["line"]
    assert not any(type(c).__name__ == "SSOOIDC" for c in ip.configurables)
    ip.run_line_magic("load_ext", "ssooidc_jupyter")
    assert "ssooidc" in ip.magics_manager.magics["line"]
    assert sum(type(c).__name__ == "SSOOIDC" for c in ip.configurables) == 1


_LOAD_PROBE = f"""
import json, sys, time
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config
c = Config(); c.HistoryManager.hist_file = ":memory:"
ip = InteractiveShell.instance(config=c)
before = set(sys.modules)
start = time.perf_counter()
ip.run_line_magic("load_ext", "ssooidc_jupyter")
elapsed = time.perf_counter() - start
new = set(sys.modules) - before
heavy = sorted(m for m in new if m.split(".")[0] in {HEAVY!r} or m.startswith({SIGN_IN!r}))
magic = "ssooidc" in ip.magics_manager.magics["line"]
ip.run_line_magic("ssooidc", "status --start-url https://d-1234567890.awsapps.com/start "
                  "--region us-east-1")
signin = "ssooidc_jupyter.notebook._signin" in sys.modules
print(json.dumps({{"elapsed": elapsed, "heavy": heavy, "magic": magic, "signin": signin}}))
"""


def test_load_ext_is_nearly_free_in_a_fresh_process() -> None:
    """A fresh interpreter: nothing imported it before, so sys.modules tells the truth."""
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_PROBE], capture_output=True, text=True, check=True
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["magic"]
    assert result["heavy"] == []
    assert result["signin"]  # loaded by the first command
    # ~7 ms with byte code cached (more when compiled from source, under
    # PYTHONDONTWRITEBYTECODE); the bound leaves room for a loaded machine.
    assert result["elapsed"] < 0.5, result


# ---- parsing and usage errors -----------------------------------------------------------


def test_bare_magic_and_help_show_usage(ip: InteractiveShell) -> None:
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", "")
        ip.run_line_magic("ssooidc", "--help")
    assert len(cap.outputs) == 2
    for text in texts(cap):
        for word in ("login", "status", "logout", "--account", "--wait", "--export"):
            assert word in text


USAGE_ERRORS = [
    pytest.param("bogus", "invalid choice", id="an unknown command"),
    pytest.param("login --bogus", "unrecognized", id="an unknown option"),
    pytest.param("status --wait", "does not take --wait", id="a login-only option elsewhere"),
    pytest.param("cancel --profile p", "does not take --profile", id="cancel takes nothing"),
    pytest.param(
        "login --profile a --sso-session b", "cannot be combined", id="two sources at once"
    ),
    pytest.param(
        "login --start-url https://x.awsapps.com/start --profile a",
        "cannot be combined",
        id="start URL and profile",
    ),
    pytest.param(
        "login --start-url http://evil.example/start --region us-east-1",
        "https://",
        id="a start URL over plain http to another host",
    ),
    pytest.param(
        "login --start-url https://x.awsapps.com/start --region nowhere!",
        "not an AWS region",
        id="a bad region",
    ),
    pytest.param(
        "login --start-url https://x.awsapps.com/start",
        "No region",
        id="a start URL without a region",
    ),
    pytest.param("login --account 111111111111", "go together", id="an account without a role"),
    pytest.param("login --session-var s", "needs --account", id="a session variable alone"),
    pytest.param("login --timeout 0", "positive", id="a zero timeout"),
    pytest.param("login --flow browser", "--flow must be 'device' or 'pkce'", id="an unknown flow"),
    pytest.param("login --timeout soon", "invalid float", id="a timeout that is no number"),
    pytest.param(
        'login --scopes "sso:account:access extra"',
        "is not a scope name",
        id="a scope with a space (IPython keeps the quotes: still no scope name)",
    ),
    pytest.param("login --var 1x", "identifier", id="a variable name that is no identifier"),
    pytest.param("login --var class", "identifier", id="a keyword as variable name"),
    pytest.param("login --endpoint ftp://h", "https://", id="a non-http endpoint"),
    pytest.param("login", "does not exist", id="nothing configured, no AWS config file"),
    pytest.param("login --profile nope", "not in", id="an unknown profile"),
]


@pytest.mark.parametrize(("line", "message"), USAGE_ERRORS)
def test_usage_errors_are_one_line(
    ip: InteractiveShell, clean_aws_env: Path, line: str, message: str
) -> None:
    if "--profile nope" in line:
        config = clean_aws_env / ".aws" / "config"
        config.parent.mkdir()
        config.write_text("[profile dev]\nregion = us-east-1\n")
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("ssooidc", line)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "ssooidc_token" not in ip.user_ns


def test_a_usage_error_shows_no_traceback_in_a_cell(ip: InteractiveShell) -> None:
    with capture_output() as cap:
        result = ip.run_cell("%ssooidc login --profile a --sso-session b")
    assert isinstance(result.error_in_exec, UsageError)
    assert "UsageError: --profile and --sso-session cannot be combined" in cap.stderr
    assert "Traceback" not in cap.stderr + cap.stdout


# ---- the configurable -------------------------------------------------------------------

BAD_SETTINGS = [
    pytest.param("region", "us east 1", id="region with spaces"),
    pytest.param("region", "us-east-1.evil.example", id="region that is a host name"),
    pytest.param("start_url", "http://portal.example.com/start", id="start URL over http"),
    pytest.param("start_url", "portal.example.com", id="start URL without scheme"),
    pytest.param("endpoint", "ftp://127.0.0.1", id="endpoint with another scheme"),
    pytest.param("timeout", 0.0, id="zero timeout"),
    pytest.param("timeout", -5.0, id="negative timeout"),
    pytest.param("variable", "my token", id="variable with a space"),
    pytest.param("variable", "for", id="variable that is a keyword"),
    pytest.param("session_variable", "2x", id="session variable starting with a digit"),
    pytest.param("scopes", ["sso:account:access", "a b"], id="scope with a space"),
    pytest.param("sso_session", "my session", id="sso-session name with a space"),
]


@pytest.mark.parametrize(("trait", "value"), BAD_SETTINGS)
def test_configurable_refuses_bad_values(trait: str, value: Any) -> None:
    settings = SSOOIDC()
    with pytest.raises(TraitError):
        setattr(settings, trait, value)


def test_configurable_accepts_good_values_and_blank_means_unset() -> None:
    settings = SSOOIDC()
    settings.start_url = "https://d-1234567890.awsapps.com/start"
    settings.region = "eu-west-1"
    settings.endpoint = "http://127.0.0.1:8080"
    settings.timeout = 30
    settings.scopes = ["sso:account:access", "codewhisperer:completions"]
    settings.variable = "tok"
    assert settings.region == "eu-west-1" and settings.timeout == 30.0
    settings.start_url = ""
    settings.region = ""
    assert settings.start_url is None and settings.region is None


def test_config_magic_sets_and_validates(ip: InteractiveShell) -> None:
    settings = next(c for c in ip.configurables if type(c).__name__ == "SSOOIDC")
    ip.run_line_magic("config", 'SSOOIDC.region = "eu-west-1"')
    assert settings.region == "eu-west-1"
    assert ip.run_line_magic("config", "SSOOIDC.region") == "eu-west-1"
    ip.run_line_magic("config", 'SSOOIDC.region = "not a region"')  # IPython logs the error
    assert settings.region == "eu-west-1"


def test_defaults_come_from_the_config(emu: Emulator) -> None:
    """As an admin's ipython_config.py would set them: a bare login signs in."""
    config = Config()
    config.SSOOIDC.start_url = emu.start_url
    config.SSOOIDC.region = emu.region
    config.SSOOIDC.variable = "tok"
    with extension_shell(config) as shell:
        with capture_output():
            shell.run_line_magic("ssooidc", "login --wait")
        assert type(shell.user_ns["tok"]) is SSOToken
        assert shell.user_ns["tok"].start_url == emu.start_url


# ---- login ------------------------------------------------------------------------------


def test_login_wait_shows_the_prompt_then_a_status_line(
    ip: InteractiveShell, emu: Emulator
) -> None:
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", f"login {where(emu)} --wait")
    token = ip.user_ns["ssooidc_token"]
    assert type(token) is SSOToken and token.access_token in emu.secrets
    shown = texts(cap)
    # The first output is the prompt itself (the cell waited for the code): a frontend
    # that applies no display update (jupyter console) shows the code and the link.
    assert "confirm the code" in shown[0]
    prompt = cap.outputs[0].data
    code = emu.user_codes[-1]
    assert code in prompt["text/plain"]
    html = prompt["text/html"]
    # The expiry once, as a time of the user's clock: no "10:00 left" that goes stale.
    expires = emu_prompt_expiry(prompt["text/plain"])
    assert f"Expires at {expires}." in html and html.count("xpires") == 1
    assert "left" not in prompt["text/plain"] and "left" not in html
    assert f">{code}</div>" in html and "monospace" in html
    assert 'target="_blank"' in html and f"user_code={code}" in html
    assert shown[-1].startswith(f"Signed in to {emu.start_url} until ")
    assert code not in shown[-1]  # the code is gone once signed in
    assert not any("widget" in key for output in cap.outputs for key in output.data)
    assert_no_secret(emu, everything(cap) + repr(token) + str(token))


def test_login_returns_at_once_and_the_token_waits_when_used(
    ip: InteractiveShell, manual_emu: Emulator
) -> None:
    emu = manual_emu
    with capture_output():
        started = time.perf_counter()
        ip.run_line_magic("ssooidc", f"login {where(emu)}")
        elapsed = time.perf_counter() - started
        assert elapsed < 2.0
        pending = ip.user_ns["ssooidc_token"]
        assert isinstance(pending, PendingSSOToken)
        wait_for(lambda: bool(emu.user_codes), timeout=15)
        assert "pending approval" in repr(pending)  # the repr never waits
        emu.approve(emu.user_codes[-1])
        assert pending.expires_in > 3000  # waits for the approval, then works
        wait_for(lambda: type(ip.user_ns["ssooidc_token"]) is SSOToken, timeout=15)
    assert_no_secret(emu, repr(pending))


def test_cached_token_needs_no_prompt_and_force_signs_in_again(
    ip: InteractiveShell, emu: Emulator
) -> None:
    with capture_output():
        ip.run_line_magic("ssooidc", f"login {where(emu)} --wait")
    first = ip.user_ns["ssooidc_token"]
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", f"login {where(emu)}")
    assert ops(emu, "StartDeviceAuthorization") == 1
    assert texts(cap) == [
        f"Already signed in to {emu.start_url} until {first.expires_at.astimezone():%H:%M %Z}."
    ]
    again = ip.user_ns["ssooidc_token"]
    assert type(again) is SSOToken and again.access_token == first.access_token
    with capture_output():
        ip.run_line_magic("ssooidc", f"login {where(emu)} --force --wait")
    assert ops(emu, "StartDeviceAuthorization") == 2
    assert ip.user_ns["ssooidc_token"].access_token != first.access_token


def test_account_and_role_bind_a_session_at_once(ip: InteractiveShell, emu: Emulator) -> None:
    account = emu.accounts[0]
    with capture_output():
        ip.run_line_magic(
            "ssooidc",
            f"login {where(emu)} --account {account['accountId']} --role {account['roles'][0]} "
            "--session-var aws",
        )
        bound = ip.user_ns["aws"]
        assert isinstance(bound, PendingSession)
        assert "waiting for the sign-in" in repr(bound) or bound.ready
        identity = bound.client("sts").get_caller_identity()  # waits, then works
        assert identity["Account"] == account["accountId"]
        wait_for(lambda: not isinstance(ip.user_ns["aws"], PendingSession), timeout=15)
    import boto3

    real = ip.user_ns["aws"]
    assert isinstance(real, boto3.session.Session)
    assert repr(real) == (
        f"Session(account_id={account['accountId']!r}, role_name={account['roles'][0]!r}, "
        f"region_name={emu.region!r})"
    )
    assert real.get_credentials().secret_key in emu.secrets


def test_a_denied_wait_fails_the_cell_in_one_line(
    ip: InteractiveShell, manual_emu: Emulator
) -> None:
    import threading

    def deny() -> None:
        wait_for(lambda: bool(manual_emu.user_codes), timeout=15)
        manual_emu.deny(manual_emu.user_codes[-1])

    denier = threading.Thread(target=deny)
    denier.start()
    with capture_output() as cap:
        result = ip.run_cell(f"%ssooidc login {where(manual_emu)} --wait")
    denier.join()
    assert type(result.error_in_exec).__name__ == "LoginDeniedError"
    assert "was denied" in texts(cap)[-1]
    assert "LoginDeniedError: The sign-in request" in cap.stderr + cap.stdout
    assert "Traceback" not in cap.stderr + cap.stdout


def test_cancel_stops_the_sign_in(ip: InteractiveShell, manual_emu: Emulator) -> None:
    emu = manual_emu
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", f"login {where(emu)}")
        wait_for(lambda: ops(emu, "CreateToken") >= 1, timeout=15)
        ip.run_line_magic("ssooidc", "cancel")
        polls = ops(emu, "CreateToken")
        time.sleep(0.5)  # five polling intervals
        assert ops(emu, "CreateToken") == polls
        ip.run_line_magic("ssooidc", "cancel")
    shown = texts(cap)
    assert "Sign-in cancelled." in shown
    assert shown[-1] == "No sign-in is running."
    assert "cancelled" in repr(ip.user_ns["ssooidc_token"])


# ---- the other commands -----------------------------------------------------------------


def test_status_accounts_refresh_show_no_secret(ip: InteractiveShell, emu: Emulator) -> None:
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", f"status {where(emu)}")
    assert "Not signed in" in texts(cap)[0]
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", f"login {where(emu)} --wait")
        ip.run_line_magic("ssooidc", "status")
        ip.run_line_magic("ssooidc", "accounts")
        ip.run_line_magic("ssooidc", "refresh")
    status, table = cap.outputs[-3].data, cap.outputs[-2].data
    for text in (status["text/plain"], status["text/html"]):
        assert emu.start_url in text and emu.region in text and "2 reachable" in text
    for account in emu.accounts:
        for text in (table["text/plain"], table["text/html"]):
            assert account["accountId"] in text and account["accountName"] in text
            assert all(role in text for role in account["roles"])
    assert texts(cap)[-1].startswith(f"Refreshed: signed in to {emu.start_url} until ")
    assert ops(emu, "CreateToken") >= 2  # the refresh_token grant went out
    assert_no_secret(emu, everything(cap))


def test_status_after_a_kernel_restart_reads_the_cache(ip: InteractiveShell, emu: Emulator) -> None:
    with capture_output():
        ip.run_line_magic("ssooidc", f"login {where(emu)} --wait")
    # A new shell (as after a restart) knows nothing but the cache.
    ip.run_line_magic("unload_ext", "ssooidc_jupyter")
    ip.run_line_magic("load_ext", "ssooidc_jupyter")
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", f"status {where(emu)}")
        ip.run_line_magic("ssooidc", f"login {where(emu)}")
    assert "Signed in." in texts(cap)[0]
    assert texts(cap)[1].startswith("Already signed in")
    assert ops(emu, "StartDeviceAuthorization") == 1


def test_logout_clears_namespace_cache_and_portal_session(
    ip: InteractiveShell, emu: Emulator, clean_aws_env: Path
) -> None:
    account = emu.accounts[0]
    with capture_output():
        ip.run_line_magic(
            "ssooidc",
            f"login {where(emu)} --wait --account {account['accountId']} "
            f"--role {account['roles'][0]}",
        )
    key = token_cache_key(None, emu.start_url)
    cache = TokenCache()
    assert cache.load_token(key) is not None
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", "logout")
    assert "ssooidc_token" not in ip.user_ns and "session" not in ip.user_ns
    assert cache.load_token(key) is None
    assert not list((clean_aws_env / ".aws" / "sso" / "cache").glob("*.json"))
    assert ops(emu, "Logout") == 1
    assert texts(cap)[-1] == f"Signed out of {emu.start_url}. Removed ssooidc_token, session."
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", "status")
    assert "Not signed in" in texts(cap)[0]
    with pytest.raises(UsageError, match="Not signed in"):
        ip.run_line_magic("ssooidc", "accounts")


def test_logout_keeps_a_name_the_user_reassigned(ip: InteractiveShell, emu: Emulator) -> None:
    with capture_output():
        ip.run_line_magic("ssooidc", f"login {where(emu)} --wait")
        ip.user_ns["ssooidc_token"] = "mine"
        ip.run_line_magic("ssooidc", "logout")
    assert ip.user_ns["ssooidc_token"] == "mine"


def test_export_points_boto3_at_the_role_and_logout_undoes_it(
    ip: InteractiveShell, emu: Emulator, clean_aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    import botocore.credentials
    import botocore.tokens

    # botocore fixes its SSO cache directory at import time, from the HOME of whichever test
    # imported it first; a kernel keeps one HOME, this process does not.
    cache_dir = str(clean_aws_env / ".aws" / "sso" / "cache")
    monkeypatch.setattr(botocore.credentials.SSOProvider, "_SSO_TOKEN_CACHE_DIR", cache_dir)
    monkeypatch.setattr(botocore.tokens.SSOTokenProvider, "_SSO_TOKEN_CACHE_DIR", cache_dir)

    account = emu.accounts[1]
    before = os.environ["AWS_CONFIG_FILE"]
    with capture_output():
        ip.run_line_magic(
            "ssooidc",
            f"login {where(emu)} --wait --export --account {account['accountId']} "
            f"--role {account['roles'][0]}",
        )
    path = Path(os.environ["AWS_CONFIG_FILE"])
    assert path != Path(before) and os.environ["AWS_PROFILE"] == "ssooidc-jupyter"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert f"sso_account_id = {account['accountId']}" in text
    assert_no_secret(emu, text)
    # The token is cached under the generated sso-session's key, where botocore looks.
    session_name = next(
        line.split("=")[1].strip() for line in text.splitlines() if line.startswith("sso_session")
    )
    assert TokenCache().load_token(token_cache_key(session_name, emu.start_url)) is not None
    identity = boto3.client("sts").get_caller_identity()  # a default client, no arguments
    assert identity["Account"] == account["accountId"]
    with capture_output():
        ip.run_line_magic("ssooidc", "logout")
    assert os.environ["AWS_CONFIG_FILE"] == before and "AWS_PROFILE" not in os.environ
    assert not path.exists()


def test_scopes_option(ip: InteractiveShell, emu: Emulator) -> None:
    with capture_output():
        ip.run_line_magic(
            "ssooidc", f"login {where(emu)} --wait --scopes sso:account:access,openid"
        )
    context = ip.user_ns["ssooidc_token"]._context
    assert context.request.scopes == ("sso:account:access", "openid")
    registration = context.slot.load_registration()
    assert registration is not None and registration.scopes == ["sso:account:access", "openid"]


@pytest.mark.parametrize("option", ["--sso-session corp", "--profile dev"])
def test_sign_in_through_the_aws_config_file(
    ip: InteractiveShell, emu: Emulator, clean_aws_env: Path, option: str
) -> None:
    """The token lands under the sso-session's cache key, shared with the AWS CLI."""
    config = clean_aws_env / ".aws" / "config"
    config.parent.mkdir()
    config.write_text(
        f"[profile dev]\nsso_session = corp\n\n"
        f"[sso-session corp]\nsso_start_url = {emu.start_url}\nsso_region = {emu.region}\n"
    )
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", f"login {option} --wait")
    # The sso-session's name, as the status bar says it.
    assert texts(cap)[-1].startswith("Signed in to corp until ")
    assert TokenCache().load_token(token_cache_key("corp", emu.start_url)) is not None
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", "status")
    assert "sso-session  corp" in texts(cap)[0]


# ---- a newcomer's faults (issue 12) -----------------------------------------------------


def test_help_starts_with_the_usage_line(ip: InteractiveShell) -> None:
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", "--help")
    text = texts(cap)[0]
    assert text.startswith("%ssooidc [-h]"), text[:80]
    assert "::" not in text.splitlines()[0]


def test_help_shows_each_option_as_the_usage_line_does(ip: InteractiveShell) -> None:
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", "--help")
    usage, _, options = texts(cap)[0].partition("options:")
    for shown in ("--scopes A,B", "--flow {device,pkce}"):
        assert f"[{shown}]" in usage
        assert f"  {shown}  " in options, options
    assert "<" not in options


def test_a_missing_region_names_the_option_of_the_magic(
    ip: InteractiveShell, clean_aws_env: Path
) -> None:
    url = "https://d-1234567890.awsapps.com/start"
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("ssooidc", f"login --start-url {url}")
    assert f"No region for {url}: pass --region REGION" in str(caught.value)
    assert "region=" not in str(caught.value)
    # From Python, the argument's name.
    with pytest.raises(sj.ConfigurationError, match="pass region="):
        sj.login(url)


@pytest.fixture
def kolkata() -> Iterator[None]:
    """The kernel's local time zone: India (UTC+05:30 all year, so never a whole hour)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


def test_times_are_the_users_local_time_and_minutes_say_no_zero_hours(
    ip: InteractiveShell, emu: Emulator, kolkata: None
) -> None:
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", f"login {where(emu)} --wait")
        ip.run_line_magic("ssooidc", "status")
    token = ip.user_ns["ssooidc_token"]
    local = token.expires_at.astimezone()
    assert local.utcoffset() == timedelta(hours=5, minutes=30)
    assert texts(cap)[-2].startswith(f"Signed in to {emu.start_url} until {local:%H:%M} IST.")
    status = texts(cap)[-1]
    assert f"{local:%Y-%m-%d %H:%M} IST (in " in status, status
    # The emulator's tokens live an hour: "in 59 min", never "in 0 h 59 min".
    assert re.search(r"\(in (59|60) min\)|\(in 1 h\)", status), status
    assert " 0 h" not in status


def test_a_failed_wait_is_one_line_without_traceback(ip: InteractiveShell) -> None:
    # Nothing listens on this port: the sign-in cannot even register.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = (
        "%ssooidc login --start-url https://d-1234567890.awsapps.com/start --region us-east-1 "
        f"--endpoint http://127.0.0.1:{port} --wait"
    )
    with capture_output() as cap:
        result = ip.run_cell(line)
    assert isinstance(result.error_in_exec, sj.SSOOIDCError)
    shown = cap.stderr + cap.stdout
    assert "Traceback" not in shown
    name = type(result.error_in_exec).__name__
    error_lines = [x for x in shown.splitlines() if x.startswith(f"{name}:")]
    assert len(error_lines) == 1 and "127.0.0.1" in error_lines[0], shown


def test_an_unknown_region_is_refused_before_the_cache(ip: InteractiveShell, emu: Emulator) -> None:
    with capture_output():
        ip.run_line_magic("ssooidc", f"login {where(emu)} --wait")  # a token is cached now
    requests = len(emu.requests)
    with pytest.raises(UsageError, match="not a region of any AWS partition"):
        ip.run_line_magic("ssooidc", f"login --start-url {emu.start_url} --region nowhere-1")
    assert len(emu.requests) == requests


def test_logout_acts_on_the_active_sign_in_not_the_last_attempt(
    ip: InteractiveShell, manual_emu: Emulator
) -> None:
    emu = manual_emu
    approver = threading.Thread(
        target=lambda: (
            wait_for(lambda: bool(emu.user_codes), timeout=15),
            emu.approve(emu.user_codes[-1]),
        )
    )
    approver.start()
    with capture_output():
        ip.run_line_magic("ssooidc", f"login {where(emu)} --wait")
    approver.join()
    key = token_cache_key(None, emu.start_url)
    assert TokenCache().load_token(key) is not None
    # A second login, to a start URL with a typo, is never approved and fails.
    bogus = "https://d-0000000000.awsapps.com/start"
    with capture_output():
        result = ip.run_cell(
            f"%ssooidc login --start-url {bogus} --region {emu.region} --wait --timeout 0.3"
        )
    assert type(result.error_in_exec).__name__ == "LoginExpiredError"
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", "logout")
    assert texts(cap)[-1].startswith(f"Signed out of {emu.start_url}")
    assert TokenCache().load_token(key) is None
    assert ops(emu, "Logout") == 1


def test_cancel_in_a_terminal_says_it_once(manual_emu: Emulator) -> None:
    code = f"""
import time
from IPython.terminal.interactiveshell import TerminalInteractiveShell
ip = TerminalInteractiveShell.instance()
ip.run_line_magic("load_ext", "ssooidc_jupyter")
ip.run_line_magic("ssooidc", "login --start-url {manual_emu.start_url} --region us-east-1")
time.sleep(0.5)
ip.run_line_magic("ssooidc", "cancel")
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    # A terminal prints every display update: each state once, the end once, on its line.
    assert out.stdout.count("Sign-in cancelled.") == 1, out.stdout
    assert out.stdout.count("confirm the code") == 1, out.stdout  # the first output
    assert "Starting sign-in" not in out.stdout
    assert "Sign-in cancelled.\n" in out.stdout


def test_the_pending_token_is_composition_and_private_names_never_wait(
    ip: InteractiveShell, manual_emu: Emulator
) -> None:
    with capture_output():
        ip.run_line_magic("ssooidc", f"login {where(manual_emu)}")
    pending = ip.user_ns["ssooidc_token"]
    assert isinstance(pending, PendingSSOToken) and not isinstance(pending, SSOToken)
    started = time.monotonic()
    # What IPython and the variable inspector probe: answered at once, never waiting.
    assert not hasattr(pending, "_repr_html_")
    assert not hasattr(pending, "_cached")
    assert "pending approval" in repr(pending) or "starting" in repr(pending)
    assert "access_token" in dir(pending)
    assert not pending.ready
    assert time.monotonic() - started < 1.0
    wait_for(lambda: bool(manual_emu.user_codes), timeout=15)
    manual_emu.approve(manual_emu.user_codes[-1])
    assert pending.access_token in manual_emu.secrets  # public names wait, then delegate
    assert pending.ready and pending.resolve() is pending.controller.token


def _logout_elsewhere(emu: Emulator, access_token: str) -> None:
    """What `aws sso logout` or the portal's sign-out does: the token dies at the service."""
    from ssooidc_jupyter.oidc._portal import PortalClient

    with PortalClient(endpoint=emu.url, region=emu.region) as portal:
        portal.logout(accessToken=access_token)


def test_a_token_the_portal_refuses_turns_the_sign_in_to_signed_out(
    ip: InteractiveShell, emu: Emulator
) -> None:
    with capture_output():
        ip.run_line_magic("ssooidc", f"login {where(emu)} --wait")
    token = ip.user_ns["ssooidc_token"]
    _logout_elsewhere(emu, token.access_token)
    with capture_output() as cap:
        result = ip.run_cell("%ssooidc accounts")
    assert type(result.error_in_exec).__name__ == "UnauthorizedException"
    assert "Traceback" not in cap.stderr + cap.stdout
    signin = ip.magics_manager.registry["SSOOIDCMagics"].signin
    controller = signin.current.controller
    assert controller.state.value == "signed_out"
    # The login cell's output now says so and how to sign in again.
    assert "Sign in again" in signin.current.status.last_text
    with pytest.raises(UsageError, match="Not signed in"):
        ip.run_line_magic("ssooidc", "accounts")
    # And a new login does not hand back the dead token: it signs in again.
    before = ops(emu, "StartDeviceAuthorization") + ops(emu, "CreateToken")
    with capture_output():
        ip.run_line_magic("ssooidc", f"login {where(emu)} --wait")
    assert ops(emu, "StartDeviceAuthorization") + ops(emu, "CreateToken") > before
    assert ip.user_ns["ssooidc_token"].access_token != token.access_token
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", "accounts")
    assert "accounts at" in texts(cap)[0]


def test_login_with_the_pkce_flow(ip: InteractiveShell, manual_emu: Emulator) -> None:
    """`--flow pkce`: the browser flow with a 127.0.0.1 callback, no code to confirm."""
    import httpx

    emu = manual_emu
    with capture_output() as cap:
        ip.run_line_magic("ssooidc", f"login {where(emu)} --flow pkce")
        signin = ip.magics_manager.registry["SSOOIDCMagics"].signin
        controller = signin.current.controller
        wait_for(lambda: controller.prompt is not None, timeout=15)
        prompt = controller.prompt
        # The one-time launch link of the kernel's listener (no state in the saved notebook).
        assert prompt.user_code == "" and "/start?" in prompt.verification_uri_complete
        assert controller.status_line() == "Waiting for approval in the browser."
        # The browser: the launch link (a cookie), the consent page, then the redirect to
        # the kernel's loopback callback with that cookie.
        with httpx.Client(timeout=10) as browser:
            authorize = browser.get(prompt.verification_uri_complete).headers["location"]
            location = emu.consent(authorize)
            assert location.startswith("http://127.0.0.1:")
            assert browser.get(location).status_code == 200
        token = ip.user_ns["ssooidc_token"].resolve()
    assert token.access_token in emu.secrets
    shown = "\n".join(texts(cap))
    assert "confirm the code" not in shown and "approve there" in shown
    assert "StartDeviceAuthorization" not in [r["operation"] for r in emu.requests]
