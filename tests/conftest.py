"""Shared fixtures: a clean AWS environment for every test, and a running emulator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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
    yield home


@pytest.fixture
def emulator() -> Iterator[object]:
    from ssooidc_jupyter.emulator import Emulator

    with Emulator() as emu:
        yield emu
