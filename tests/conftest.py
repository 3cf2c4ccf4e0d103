"""Shared fixtures: a clean AWS environment for every test, and a running emulator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

_AWS_VARS_PREFIXES = ("AWS_", "BOTO_")


@pytest.fixture(autouse=True)
def clean_aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own HOME and no AWS_* variables from the machine.

    Nothing a test does can read or write the developer's real ~/.aws.
    """
    for name in list(os.environ):
        if name.startswith(_AWS_VARS_PREFIXES):
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
def emulator() -> Iterator[object]:
    from ssooidc_jupyter.emulator import Emulator

    with Emulator() as emu:
        yield emu
