"""The package surface: exported names, the error tree, and a nearly free import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ssooidc_jupyter as sj
from ssooidc_jupyter import _exceptions

HEAVY = ["httpx", "ipywidgets", "boto3", "botocore", "IPython.display"]


def test_every_exported_name_resolves() -> None:
    for name in sj.__all__:
        assert getattr(sj, name) is not None, name
    assert len(set(sj.__all__)) == len(sj.__all__)  # no duplicates
    assert set(dir(sj)) >= set(sj.__all__)


def test_contract_names_are_exported() -> None:
    for name in [
        "ssooidc",
        "SSOOIDCClient",
        "AsyncSSOOIDCClient",
        "SSOOIDCError",
        "login",
        "login_async",
        "SSOToken",
        "DevicePrompt",
        "session",
        "load_ipython_extension",
    ]:
        assert name in sj.__all__


def test_error_tree() -> None:
    modeled = _exceptions.MODELED_EXCEPTIONS
    assert len(modeled) == 14
    for name, cls in modeled.items():
        assert name.endswith("Exception") and cls.__name__ == name
        assert issubclass(cls, sj.ServiceError) and issubclass(cls, sj.SSOOIDCError)
        assert getattr(sj, name) is cls
    for name in _exceptions.__all__:
        obj = getattr(_exceptions, name)
        if isinstance(obj, type) and issubclass(obj, Warning):
            assert getattr(sj, name) is obj, name  # a warning users filter on: exported
        elif isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, sj.SSOOIDCError), name
            assert getattr(sj, name) is obj, name


def test_cache_errors_are_in_the_tree_and_where_they_were() -> None:
    from ssooidc_jupyter.auth._cache import CacheLockTimeout, CacheWarning

    assert CacheLockTimeout is sj.CacheLockTimeout and CacheWarning is sj.CacheWarning
    assert issubclass(sj.CacheLockTimeout, sj.CacheError)
    assert issubclass(sj.CacheLockTimeout, TimeoutError)
    assert issubclass(sj.CacheWarning, UserWarning)
    assert "CacheLockTimeout" in (_exceptions.__doc__ or "")
    assert "CacheWarning" in (_exceptions.__doc__ or "")


def test_modeled_error_pickles_with_its_attributes() -> None:
    import pickle

    error = sj.SlowDownException(
        operation="CreateToken", error="slow_down", status_code=400, request_id="r-1"
    )
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is sj.SlowDownException
    assert (again.code, again.error, again.status_code, again.request_id) == (
        "SlowDownException",
        "slow_down",
        400,
        "r-1",
    )


def test_import_is_nearly_free() -> None:
    code = (
        "import json, sys, time\n"
        "t = time.perf_counter()\n"
        "import ssooidc_jupyter\n"
        "elapsed = time.perf_counter() - t\n"
        f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert not any(loaded.values()), loaded


# What a sign-in with a valid cached token must not load: it makes no request and takes no
# lock, so no HTTP stack (httpx and what it builds on) and no file lock.
HTTP_STACK = ["httpx", "httpcore", "anyio", "h11", "filelock"]

_CACHED_LOGIN_PROBE = """
import json, sys
import ssooidc_jupyter
token = ssooidc_jupyter.login(sys.argv[1], sys.argv[2])
assert token.expires_at is not None
print(json.dumps(sorted(sys.modules)))
"""


def cached_login_modules(home: Path, make_emulator: Callable[..., Any]) -> set[str]:
    """The modules a fresh interpreter loaded for a cached-token ``login()`` in ``home``."""
    emu = make_emulator(interval=0.05, auto_approve=0.0)
    sj.login(emu.start_url, emu.region, endpoint=emu.url, on_prompt=lambda prompt: None)
    where = [emu.start_url, emu.region]
    emu.stop()
    out = subprocess.run(
        [sys.executable, "-c", _CACHED_LOGIN_PROBE, *where],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HOME": str(home)},
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_cached_login_loads_no_http_stack_and_no_lock(
    clean_aws_env: Path, emulator_factory: Callable[..., Any]
) -> None:
    """The emulator is stopped before the probe runs: a request would fail, not just cost."""
    loaded = cached_login_modules(clean_aws_env, emulator_factory)
    assert "ssooidc_jupyter.auth._login" in loaded  # the probe did sign in
    assert not [m for m in loaded if m.split(".")[0] in HTTP_STACK]
    assert "ssooidc_jupyter.oidc._client" not in loaded


def test_cached_login_loads_no_asyncio(
    clean_aws_env: Path, emulator_factory: Callable[..., Any]
) -> None:
    loaded = cached_login_modules(clean_aws_env, emulator_factory)
    assert not [m for m in loaded if m.split(".")[0] in ("asyncio", "ssl")]


def test_py_typed_is_shipped() -> None:
    assert (Path(sj.__file__).parent / "py.typed").exists()
