"""No secret in a traceback that shows its frames' locals (issue 17, point 1).

Every user-facing failure path -- a wrong role (portal 404), a portal 500 during
``accounts()`` and ``logout()``, an sso-oidc 500 during ``refresh()``, a refresh whose
connection drops, a device sign-in whose start fails (with a cached registration) or that
is denied, a PKCE code that cannot be redeemed, a refused IAM grant, a cache file that
cannot be written -- is run, sync and async, in a real IPython ``InteractiveShell`` against the
emulator. Each exception is rendered with ``%xmode Verbose``, ``Context`` and ``Minimal``
(the shell's own display), with ``traceback.TracebackException(capture_locals=True)``
(as rich's ``show_locals`` shows them), with pytest's own ``-l`` rendering, and as an error
reporter (Sentry's serializer) sends them: every local walked into mappings, sequences and
sets, other values as their repr. None of the secrets
the emulator issued (access and refresh tokens, client secrets, device codes,
authorization codes, role secret keys and session tokens) may appear in any rendering. One
more test does the same in a real kernel (nbclient), as a notebook user sees it.
"""

from __future__ import annotations

import contextlib
import io
import os
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import nbformat
import pytest
from _pytest._code import ExceptionInfo
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

import ssooidc_jupyter as sj
from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture

MODES = ("Verbose", "Context", "Minimal")
RENDERINGS = (*MODES, "capture_locals", "pytest -l", "reporter walk")


#: One per test: a fault a failing test left queued cannot reach the next one.
#: auto_approve=None: device codes wait for emu.approve / emu.deny, as a person would.
emu = emulator_fixture(interval=0.05, auto_approve=None)


@pytest.fixture
def env(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    # The portal (accounts, role credentials, logout) finds the emulator as boto3 would.
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    return emu


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    ip.run_line_magic("colors", "nocolor")
    try:
        yield ip
    finally:
        InteractiveShell.clear_instance()


def _approve(emu: Emulator) -> Callable[[Any], None]:
    return lambda prompt: emu.approve(prompt.user_code)


def signed_in(emu: Emulator) -> Any:
    return sj.login(emu.start_url, emu.region, endpoint=emu.url, on_prompt=_approve(emu))


def iam_creds(emu: Emulator) -> dict[str, Any]:
    key_id, secret = emu.iam_credentials
    return {"creds": {"access_key_id": key_id, "secret_access_key": secret}}


# ---- the failure paths -------------------------------------------------------------------
#
# Each sets up what a user has at that point (in the shell's namespace) and names the cell
# that fails, sync and async. The setup runs in the test, the failing cell in the shell.


@dataclass(frozen=True)
class Path_:
    name: str
    setup: Callable[[Emulator, Path, pytest.MonkeyPatch], dict[str, Any]]
    sync: str
    asynchronous: str


def _token_ns(emu: Emulator, home: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    return {"token": signed_in(emu)}


def _accounts_500(emu: Emulator, home: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    ns = _token_ns(emu, home, mp)
    emu.inject("ListAccounts", "http_500", times=3)  # every attempt of the client's retries
    return ns


def _logout_500(emu: Emulator, home: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    ns = _token_ns(emu, home, mp)
    emu.inject("Logout", "http_500", times=3)
    return ns


def _refresh_500(emu: Emulator, home: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    ns = _token_ns(emu, home, mp)
    emu.inject("CreateToken", "http_500", times=3)
    return ns


def _device_denied(emu: Emulator, home: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    return {
        "sj": sj,
        "emu_start_url": emu.start_url,
        "emu_region": emu.region,
        "emu_url": emu.url,
        "deny": lambda prompt: emu.deny(prompt.user_code),
    }


def _refresh_dropped(emu: Emulator, home: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    ns = _token_ns(emu, home, mp)
    emu.inject("CreateToken", "drop", times=3)  # no answer at all: a transport error
    return ns


def _device_start_500(emu: Emulator, home: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    ns = _device_denied(emu, home, mp)
    signed_in(emu)  # a cached registration (its client secret) is reused by the next login
    emu.inject("StartDeviceAuthorization", "http_500", times=3)
    return ns


def _pkce_not_redeemed(emu: Emulator, home: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    def browser(prompt: Any) -> None:
        # The person approves; the browser follows the redirect to the kernel's listener.
        # Then the code cannot be redeemed: CreateToken fails on every attempt.
        # The prompt's link is the listener's one-time launch link: it sets the cookie
        # the callback must carry, so one client plays the one browser.
        with httpx.Client(timeout=10) as client:
            authorize = client.get(prompt.verification_uri_complete).headers["location"]
            location = emu.consent(authorize)
            emu.inject("CreateToken", "http_500", times=3)
            client.get(location)

    return {**_device_denied(emu, home, mp), "browser": browser}


def _iam_refused(emu: Emulator, home: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    common = {"endpoint": emu.url, "region": emu.region, "credentials": iam_creds(emu)}
    code = emu.issue_authorization_code("http://127.0.0.1:8400/cb", _challenge("v" * 64))
    first = sj.iam_token(
        emu.iam_client_id,
        "authorization_code",
        code=code,
        redirect_uri="http://127.0.0.1:8400/cb",
        code_verifier="v" * 64,
        **common,
    )
    # The refresh token rotates: the first one is refused from now on (invalid_grant).
    sj.iam_token(emu.iam_client_id, "refresh_token", refresh_token=first.refresh_token, **common)
    # The failing cell signs with the default chain (the environment): a user's own cell
    # that names a credentials dict shows it whatever a library does.
    # (test_explicit_iam_credentials_stay_out_of_our_frames covers credentials=.)
    key_id, secret = emu.iam_credentials
    mp.setenv("AWS_ACCESS_KEY_ID", key_id)
    mp.setenv("AWS_SECRET_ACCESS_KEY", secret)
    return {
        "sj": sj,
        "old": first,
        "cid": emu.iam_client_id,
        "common": {"endpoint": emu.url, "region": emu.region},
    }


def _iam_refused_role_signed(emu: Emulator, home: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    # Signed with role credentials the emulator issued: its session token is in the
    # signed headers of every attempt.
    token = signed_in(emu)
    account = emu.accounts[0]
    creds = token.credentials(account["accountId"], account["roles"][0])
    mp.setenv("AWS_ACCESS_KEY_ID", creds.access_key_id)
    mp.setenv("AWS_SECRET_ACCESS_KEY", _plain(creds.secret_access_key))
    mp.setenv("AWS_SESSION_TOKEN", _plain(creds.session_token))
    return {
        "sj": sj,
        "cid": emu.iam_client_id,
        "common": {"endpoint": emu.url, "region": emu.region},
    }


def _plain(value: Any) -> str:
    # Before issue 17 these were plain strings; now they are Secret.
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value  # type: ignore[no-any-return]


def _challenge(verifier: str) -> str:
    import base64
    import hashlib

    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _cache_unwritable(emu: Emulator, home: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    ns = _token_ns(emu, home, mp)
    # The token file's name is taken by a directory: the refreshed token cannot be written.
    cache = home / ".aws" / "sso" / "cache"
    (entry,) = (p for p in cache.glob("*.json") if "accessToken" in p.read_text())
    entry.unlink()
    entry.mkdir()
    (entry / "keep").write_text("")
    return ns


PATHS = [
    Path_(
        "wrong_role",
        _token_ns,
        "token.credentials('000000000000', 'NoSuchRole')",
        "await token.acredentials('000000000000', 'NoSuchRole')",
    ),
    Path_("accounts_500", _accounts_500, "token.accounts()", "await token.aaccounts()"),
    Path_("logout_500", _logout_500, "token.logout()", "await token.alogout()"),
    Path_("refresh_500", _refresh_500, "token.refresh()", "await token.arefresh()"),
    Path_(
        "device_denied",
        _device_denied,
        "sj.login(emu_start_url, emu_region, endpoint=emu_url, force=True, on_prompt=deny)",
        "await sj.login_async(emu_start_url, emu_region, endpoint=emu_url, force=True, "
        "on_prompt=deny)",
    ),
    Path_("refresh_dropped", _refresh_dropped, "token.refresh()", "await token.arefresh()"),
    Path_(
        "device_start_500",
        _device_start_500,
        "sj.login(emu_start_url, emu_region, endpoint=emu_url, force=True, on_prompt=deny)",
        "await sj.login_async(emu_start_url, emu_region, endpoint=emu_url, force=True, "
        "on_prompt=deny)",
    ),
    Path_(
        "pkce_not_redeemed",
        _pkce_not_redeemed,
        "sj.login(emu_start_url, emu_region, endpoint=emu_url, flow='pkce', on_prompt=browser)",
        "await sj.login_async(emu_start_url, emu_region, endpoint=emu_url, flow='pkce', "
        "on_prompt=browser)",
    ),
    Path_(
        "iam_refused",
        _iam_refused,
        "sj.iam_token(cid, 'refresh_token', refresh_token=old.refresh_token, **common)",
        "await sj.iam_token_async(cid, 'refresh_token', refresh_token=old.refresh_token, **common)",
    ),
    Path_(
        "iam_role_signed_refused",
        _iam_refused_role_signed,
        "sj.iam_token(cid, 'refresh_token', refresh_token='aor-unknown-0123456789', **common)",
        "await sj.iam_token_async(cid, 'refresh_token', refresh_token='aor-unknown-0123456789', "
        "**common)",
    ),
    Path_("cache_unwritable", _cache_unwritable, "token.refresh()", "await token.arefresh()"),
]


# ---- rendering -----------------------------------------------------------------------------


def render_in_shell(
    shell: InteractiveShell, namespace: dict[str, Any], cell: str
) -> tuple[BaseException, dict[str, str]]:
    """Run ``cell`` in the shell under ``%xmode Verbose`` and return the exception with its
    rendering in every mode (the shell's own traceback display, then capture_locals)."""
    shell.user_ns.update(namespace)
    shell.run_line_magic("xmode", "Verbose")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        result = shell.run_cell(cell)
    error = result.error_in_exec
    assert error is not None, f"{cell!r} did not fail"
    rendered = {"Verbose": out.getvalue()}
    for mode in MODES[1:]:
        shell.run_line_magic("xmode", mode)
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            shell.showtraceback((type(error), error, error.__traceback__))
        rendered[mode] = out.getvalue()
    exception = traceback.TracebackException.from_exception(error, capture_locals=True)
    rendered["capture_locals"] = "".join(exception.format())
    rendered["pytest -l"] = str(
        ExceptionInfo.from_exception(error).getrepr(showlocals=True, style="long", chain=True)
    )
    rendered["reporter walk"] = reporter_walk(error)
    return error, rendered


def _tracebacks(error: BaseException) -> Iterator[TracebackType]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            yield tb
            tb = tb.tb_next
        current = current.__cause__ or current.__context__


def reporter_walk(error: BaseException) -> str:
    """What an error reporter (Sentry's serializer) sends: every local of every frame,
    walked into mappings, sequences and sets, every other value as its repr."""
    out: list[str] = []

    def walk(value: Any, depth: int) -> None:
        if depth > 6:
            return
        if isinstance(value, str | bytes):
            out.append(repr(value))
        elif isinstance(value, Mapping):
            for key, item in list(value.items()):
                walk(key, depth + 1)
                walk(item, depth + 1)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in list(value):
                walk(item, depth + 1)
        else:
            try:
                out.append(repr(value))
            except Exception:  # a repr that fails is the reporter's problem, not a leak
                out.append("<repr failed>")

    for tb in _tracebacks(error):
        for name, value in tb.tb_frame.f_locals.items():
            out.append(f"{tb.tb_frame.f_code.co_name}.{name}")
            walk(value, 0)
    out.append(f"{type(error).__name__}: {error}")
    return "\n".join(out)


def leaks(secrets: set[str], rendered: dict[str, str]) -> dict[str, int]:
    """How many distinct issued secrets each rendering shows."""
    return {mode: sum(secret in text for secret in secrets) for mode, text in rendered.items()}


@pytest.mark.parametrize("variant", ["sync", "async"])
@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_no_issued_secret_in_any_traceback_rendering(
    path: Path_,
    variant: str,
    env: Emulator,
    shell: InteractiveShell,
    clean_aws_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with warnings.catch_warnings():
        # The cache path's unreadable entry is warned about; the failure is what we render.
        warnings.simplefilter("ignore")
        namespace = path.setup(env, clean_aws_env, monkeypatch)
        cell = path.sync if variant == "sync" else path.asynchronous
        error, rendered = render_in_shell(shell, namespace, cell)
    assert isinstance(error, sj.SSOOIDCError), repr(error)
    for mode, text in rendered.items():
        # The rendering happened and is of this failure (Minimal shows only the last line).
        assert type(error).__name__ in text, (mode, text[-500:])
    # Verbose and capture_locals really show locals (the test could see a secret).
    assert "self = " in rendered["Verbose"] or "params = " in rendered["Verbose"]
    assert "self = " in rendered["capture_locals"]
    found = leaks(env.secrets, rendered)
    report = ", ".join(f"{m}={n}" for m, n in found.items())
    print(f"{path.name}[{variant}]: secrets shown: {report}")
    for mode, text in rendered.items():  # where, for whoever fixes it (values cut out)
        for line in text.splitlines():
            if any(secret in line for secret in env.secrets):
                for secret in env.secrets:
                    line = line.replace(secret, "<ISSUED SECRET>")
                print("LEAK", mode, line[:300])
    assert sum(found.values()) == 0, f"secrets in the traceback: {report}"


# ---- a real kernel ----------------------------------------------------------------------------

KERNEL_CELLS = [
    "import ssooidc_jupyter as sj\ntoken = sj.login({start_url!r}, {region!r}, endpoint={url!r})",
    "%colors nocolor",
    "%xmode Verbose",
    "token.credentials('000000000000', 'NoSuchRole')",
    "token.accounts()",
    "token.refresh()",
    "%xmode Context",
    "token.credentials('000000000000', 'NoSuchRole')",
    "%xmode Minimal",
    "token.credentials('000000000000', 'NoSuchRole')",
    "await token.acredentials('000000000000', 'NoSuchRole')",
]


@pytest.mark.slow
def test_no_issued_secret_in_a_real_kernels_verbose_tracebacks(
    env: Emulator, clean_aws_env: Path, tmp_path: Path
) -> None:
    from nbclient import NotebookClient

    signed_in(env)  # the kernel's login() then reads the cache: no CreateToken of its own
    env.inject("ListAccounts", "http_500", times=3)
    env.inject("CreateToken", "http_500", times=3)
    values = {"start_url": env.start_url, "region": env.region, "url": env.url}
    cells = [nbformat.v4.new_code_cell(source.format(**values)) for source in KERNEL_CELLS]
    notebook = nbformat.v4.new_notebook(cells=cells)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_"))}
    environment.update(
        HOME=str(clean_aws_env),
        AWS_CONFIG_FILE=str(clean_aws_env / ".aws" / "config"),
        AWS_ENDPOINT_URL=env.url,
        AWS_EC2_METADATA_DISABLED="true",
        IPYTHONDIR=str(clean_aws_env / ".ipython"),
        JUPYTER_PLATFORM_DIRS="1",
    )
    client = NotebookClient(
        notebook,
        timeout=90,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env=environment)
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output["output_type"] == "error"
    ]
    # Six failing cells: wrong role (Verbose), accounts 500, refresh 500, wrong role
    # (Context, Minimal) and its async twin.
    assert len(errors) == 6, [e["ename"] for e in errors]
    text = nbformat.writes(notebook)
    shown = sorted(secret for secret in env.secrets if secret in text)
    print(f"kernel: {len(errors)} tracebacks, secrets shown: {len(shown)}")
    assert "self = <SSOToken" in text  # Verbose showed the frames' locals
    assert not shown


def _our_frames(error: BaseException) -> str:
    """capture_locals, keeping only the frames of the package (a user's own cell shows
    whatever its variables hold, whatever a library does)."""
    exception = traceback.TracebackException.from_exception(error, capture_locals=True)
    text = []
    for chained in (exception, exception.__cause__, exception.__context__):
        if chained is None:
            continue
        for frame in chained.stack:
            if f"{os.sep}ssooidc_jupyter{os.sep}" in frame.filename:
                text.append(f"{frame.filename}:{frame.name} {frame.locals}")
    return "\n".join(text)


@pytest.mark.parametrize("variant", ["sync", "async"])
def test_explicit_iam_credentials_stay_out_of_our_frames(env: Emulator, variant: str) -> None:
    import asyncio

    key_id, secret = env.iam_credentials
    arguments: dict[str, Any] = {
        "endpoint": env.url,
        "region": env.region,
        "credentials": {"creds": {"access_key_id": key_id, "secret_access_key": secret}},
        "refresh_token": "aor-not-a-refresh-token-the-emulator-knows-0123456789",
    }
    with pytest.raises(sj.InvalidGrantException) as raised:
        if variant == "sync":
            sj.iam_token(env.iam_client_id, "refresh_token", **arguments)
        else:
            asyncio.run(sj.iam_token_async(env.iam_client_id, "refresh_token", **arguments))
    shown = _our_frames(raised.value)
    assert "iam_token" in shown and "credentials" in shown  # the frames are there
    assert secret not in shown
    assert arguments["refresh_token"] not in shown
    # The caller's own dict is left as it was (only the **kwargs copy is wrapped).
    assert isinstance(arguments["refresh_token"], str)
