"""The package surface: exported names, the error tree, and a nearly free import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, sj.SSOOIDCError), name


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


def test_py_typed_is_shipped() -> None:
    assert (Path(sj.__file__).parent / "py.typed").exists()
