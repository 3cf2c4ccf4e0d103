"""Shared fixtures: a clean AWS environment for every test, and a running emulator (over
plain HTTP, or over TLS with a private CA)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_AWS_VARS_PREFIXES = ("AWS_", "BOTO_")
# The admin's defaults (auth._context.ADMIN_ENV) and a hub's variables: a test sets its own.
_ADMIN_VARS = (
    "SSOOIDC_START_URL",
    "SSOOIDC_REGION",
    "SSOOIDC_SESSION_NAME",
    "SSOOIDC_PROFILE",
    "SSOOIDC_ENDPOINT",
    "SSOOIDC_SCOPES",
    "SSOOIDC_FLOW",
    "SSOOIDC_REDIRECT_BASE_URL",
    "SSOOIDC_TERMINAL_PATH",
    "JUPYTERHUB_SERVICE_PREFIX",
    "JUPYTERHUB_PUBLIC_URL",
)


# ---- CI: a missing test dependency is a failure, not a skip --------------------------------

#: What a skip's reason says when a package is missing (``pytest.importorskip``, or a
#: ``skipif`` that says how to install it). `.ci/run` installs every test dependency, so in CI
#: (``CI`` set) such a skip hides a broken install: it fails instead. Skips that describe the
#: machine (no IPv6 loopback, not root, not Linux) stay skips.
_MISSING_PACKAGE = ("could not import", "pip install")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def _fail_missing_package(report: pytest.CollectReport | pytest.TestReport) -> None:
    if not (report.skipped and _in_ci()) or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
    if any(words in reason.lower() for words in _MISSING_PACKAGE):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test dependency is installed: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    _fail_missing_package(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    report = yield  # a module-level importorskip skips the whole module here
    _fail_missing_package(report)
    return report


# ---- every test ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def clean_aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own HOME and no AWS_* variables from the machine.

    Nothing a test does can read or write the developer's real ~/.aws.
    """
    for name in list(os.environ):
        if name.startswith(_AWS_VARS_PREFIXES) or name in _ADMIN_VARS:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # A PKCE sign-in in a kernel opens the browser when the machine has one: never in tests
    # (kernels started by a test inherit this too).
    monkeypatch.setenv("SSOOIDC_NO_BROWSER", "1")
    yield home


@pytest.fixture
def emulator(emulator_factory: Callable[..., Any]) -> Any:
    """A default emulator (plain HTTP) for this test."""
    return emulator_factory()


class _Factory:
    """Starts emulators and stops them all at the end of the fixture's scope."""

    def __init__(self, trust: Callable[[str], None] | None) -> None:
        self._trust = trust
        self.started: list[Any] = []

    def __call__(self, scheme: str = "http", **options: Any) -> Any:
        from ssooidc_jupyter.emulator import Emulator

        assert scheme in ("http", "https")
        emulator = Emulator(tls=scheme == "https", **options).start()
        self.started.append(emulator)
        if emulator.ca_file is not None and self._trust is not None:
            self._trust(emulator.ca_file)
        return emulator

    def stop_all(self) -> None:
        for emulator in self.started:
            emulator.stop()


@pytest.fixture
def emulator_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """``make(scheme, **options)`` starts an emulator for this test, stopped after it.

    ``scheme="https"``: ``Emulator(tls=True)``, whose certificate a throwaway CA signed, and
    ``AWS_CA_BUNDLE`` names that CA, as a user behind a company CA sets it: botocore and our
    clients trust it from there, nothing else does. Tests that also run over TLS take their
    emulator through here (``@pytest.mark.parametrize("emu", ["http", "https"],
    indirect=True)``): real IAM Identity Center is only ever reached over TLS. A module
    declares its emulator with ``tests._support.emulator_fixture``.
    """
    factory = _Factory(lambda ca_file: monkeypatch.setenv("AWS_CA_BUNDLE", ca_file))
    yield factory
    factory.stop_all()


@pytest.fixture(scope="module")
def module_emulator_factory() -> Iterator[Callable[..., Any]]:
    """The same for every test of a module (started once, stopped after its last test):
    for modules whose tests share one emulator. Over TLS the test module trusts its CA
    itself (``clean_aws_env`` clears ``AWS_CA_BUNDLE`` before each test)."""
    factory = _Factory(None)
    yield factory
    factory.stop_all()
