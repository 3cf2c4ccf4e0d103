"""A multi-visitor kernel (Voilà) never uses the shared token cache (issue 17, point 10).

Voilà serves each visitor a kernel of the dashboard owner's server. With the shared cache,
visitor 2's ``%ssooidc login`` would hand back visitor 1's (or the owner's) session. In such a
kernel every sign-in stays in that kernel's memory: no cache read, no lock, no write.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter.auth._context import MULTI_VISITOR_ENV, multi_visitor, resolve_login
from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture

VOILA = shutil.which("voila", path=str(Path(sys.executable).parent)) or shutil.which("voila")
# What Voilà 0.5 sets in a visitor's kernel (voila/handler.py), and in a pre-heated one.
VOILA_KERNEL_ENV = {"SERVER_SOFTWARE": "voila/0.5.13", "VOILA_BASE_URL": "/"}
VOILA_PREHEATED_ENV = {"VOILA_PREHEAT": "True", "VOILA_SERVER_URL": "/"}


@pytest.fixture
def no_voila(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*VOILA_KERNEL_ENV, *VOILA_PREHEATED_ENV, "VOILA_KERNEL_ID", MULTI_VISITOR_ENV]:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        (VOILA_KERNEL_ENV, "Voilà"),
        (VOILA_PREHEATED_ENV, "Voilà"),
        ({"VOILA_KERNEL_ID": "abc"}, "Voilà"),
        ({"SERVER_SOFTWARE": "Apache/2.4"}, None),
        ({MULTI_VISITOR_ENV: "1"}, MULTI_VISITOR_ENV),
        ({**VOILA_KERNEL_ENV, MULTI_VISITOR_ENV: "0"}, None),
    ],
    ids=["plain", "voila", "voila-preheated", "voila-kernel-id", "other-cgi", "forced", "opt-out"],
)
def test_multi_visitor_detection(
    env: dict[str, str], expected: str | None, monkeypatch: pytest.MonkeyPatch, no_voila: None
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reason = multi_visitor()
    assert (reason is None) if expected is None else (expected in (reason or ""))


def test_a_voila_kernel_signs_in_in_memory_only(
    monkeypatch: pytest.MonkeyPatch,
    no_voila: None,
    tmp_path: Path,
    emulator_factory: Callable[..., Emulator],
) -> None:
    emu = emulator_factory(auto_approve=0.1, interval=0.1)
    owner = sj.login(emu.start_url, emu.region, endpoint=emu.url, on_prompt=lambda p: None)
    cache = Path.home() / ".aws" / "sso" / "cache"
    before = {path.name: path.read_bytes() for path in cache.glob("*.json")}
    assert before
    for name, value in VOILA_KERNEL_ENV.items():
        monkeypatch.setenv(name, value)
    context = resolve_login(emu.start_url, emu.region, cache=str(tmp_path / "explicit"))
    assert not context.cache_enabled and context.slot.cache is None
    visitors = [
        sj.login(emu.start_url, emu.region, endpoint=emu.url, on_prompt=lambda p: None)
        for _ in range(2)
    ]
    tokens = {owner.access_token, *(v.access_token for v in visitors)}
    assert len(tokens) == 3  # nobody got anybody else's session
    after = {path.name: path.read_bytes() for path in cache.glob("*.json")}
    assert after == before  # not read into a visitor, not overwritten by one
    assert not (tmp_path / "explicit").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


emu = emulator_fixture(auto_approve=0.1, interval=0.1)


@pytest.mark.slow
@pytest.mark.skipif(VOILA is None, reason="needs voila (pip install voila)")
def test_two_voila_visitors_each_sign_in_and_never_get_the_owners_session(
    emu: Emulator, tmp_path: Path, no_voila: None
) -> None:
    """A real Voilà server renders a dashboard whose cell runs ``%ssooidc login`` for two
    visitors, while its owner is signed in with the shared cache."""
    home = Path.home()
    owner = sj.login(emu.start_url, emu.region, endpoint=emu.url, on_prompt=lambda p: None)
    cache = home / ".aws" / "sso" / "cache"
    before = {path.name: path.read_bytes() for path in cache.glob("*.json")}
    notebook = tmp_path / "dashboard.ipynb"
    notebook.write_text(
        json.dumps(
            {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
                "cells": [
                    {
                        "cell_type": "code",
                        "id": "signin",
                        "metadata": {},
                        "execution_count": None,
                        "outputs": [],
                        "source": (
                            "%load_ext ssooidc_jupyter\n"
                            f"%ssooidc login --start-url {emu.start_url} --region {emu.region}"
                            " --wait\n"
                            "import hashlib\n"
                            "from ssooidc_jupyter.auth._context import multi_visitor\n"
                            "print('VISITOR', hashlib.sha256(ssooidc_token.access_token"
                            ".encode()).hexdigest()[:16], multi_visitor())\n"
                        ),
                    }
                ],
            }
        )
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_"))}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_ENDPOINT_URL=emu.url,
        AWS_EC2_METADATA_DISABLED="true",
        JUPYTER_PLATFORM_DIRS="1",
    )
    assert VOILA is not None
    server = subprocess.Popen(
        [
            VOILA,
            str(notebook),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--show_tracebacks=True",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        pages = [_render(port) for _ in range(2)]
    finally:
        server.terminate()
        server.wait(30)
    seen = []
    for page in pages:
        found = re.search(r"VISITOR ([0-9a-f]{16}) ([^<\n]+)", page)
        assert found, page[-3000:]
        seen.append(found.group(1))
        assert "Voilà" in found.group(2)
    assert len(set(seen)) == 2 and _digest(owner.access_token) not in seen
    assert owner.access_token not in "".join(pages)
    after = {path.name: path.read_bytes() for path in cache.glob("*.json")}
    assert after == before


def _render(port: int) -> str:
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=90) as reply:
                return str(reply.read().decode("utf-8"))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)  # Voilà is still starting: its port is not open yet


def test_export_is_refused_in_a_voila_kernel(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, no_voila: None
) -> None:
    """``--export`` hands boto3 the shared cache through a profile: not for visitors."""
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    for name, value in VOILA_KERNEL_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emu.url)
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    try:
        shell.run_line_magic("load_ext", "ssooidc_jupyter")
        with pytest.raises(UsageError, match=r"--export is not available here \(this kernel"):
            shell.run_line_magic(
                "ssooidc", f"login --start-url {emu.start_url} --region {emu.region} --export"
            )
        assert "AWS_PROFILE" not in os.environ
    finally:
        shell.run_line_magic("unload_ext", "ssooidc_jupyter")
        InteractiveShell.clear_instance()
