"""A kernel configured the way docs/jupyterhub.md tells an admin to: the extension
auto-loads, the defaults come from config, and a bare ``%ssooidc login --wait`` signs in.

``IPYTHONDIR`` points at a temporary profile standing in for ``/etc/ipython``: IPython reads
``ipython_config.py``, ``ipython_kernel_config.py`` and ``startup/*.py`` there exactly as in
the system directories (which a test must not write to).
"""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from jupyter_client import KernelManager

from ssooidc_jupyter.auth._models import token_cache_key
from ssooidc_jupyter.emulator import Emulator
from tests._support import ROOT, emulator_fixture

pytestmark = pytest.mark.slow


def kernel_env(home: Path, ipythondir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_"))}
    env.update(
        HOME=str(home),
        IPYTHONDIR=str(ipythondir),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_EC2_METADATA_DISABLED="true",
        JUPYTER_PLATFORM_DIRS="1",
    )
    env.update(extra)
    return env


class Kernel:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(env=env, cwd=str(cwd))
        self._connect()

    def _connect(self) -> None:
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def restart(self) -> None:
        self.kc.stop_channels()
        self.km.restart_kernel(now=True)
        self._connect()

    def run(self, code: str) -> tuple[str, list[str]]:
        """(reply status, text/plain of every output)."""
        outputs: list[str] = []

        def hook(message: dict[str, Any]) -> None:
            content = message["content"]
            if message["msg_type"].startswith("comm"):
                return  # widget traffic
            if "data" in content:
                outputs.append(content["data"].get("text/plain", ""))
            elif "text" in content:
                outputs.append(content["text"])
            elif "evalue" in content:
                outputs.append(f"{content['ename']}: {content['evalue']}")

        reply = self.kc.execute_interactive(code, output_hook=hook, timeout=60)
        return reply["content"]["status"], outputs

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


emu = emulator_fixture(interval=0.1, auto_approve=0.3)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def test_system_config_autoloads_and_a_bare_login_signs_in(tmp_path: Path, emu: Emulator) -> None:
    home, ipythondir = tmp_path / "user", tmp_path / "etc-ipython"
    profile = ipythondir / "profile_default"
    write(
        profile / "ipython_config.py",
        """
        c = get_config()  # noqa: F821
        c.InteractiveShellApp.extensions.append("ssooidc_jupyter")
        """,
    )
    write(
        profile / "ipython_kernel_config.py",
        f"""
        c = get_config()  # noqa: F821
        c.SSOOIDC.start_url = {emu.start_url!r}
        c.SSOOIDC.region = {emu.region!r}
        c.SSOOIDC.endpoint = {emu.url!r}
        """,
    )
    home.mkdir()
    # No AWS_ENDPOINT_URL: the endpoint comes from the config alone.
    kernel = Kernel(kernel_env(home, ipythondir), home)
    try:
        status, shown = kernel.run("%config SSOOIDC")
        assert status == "ok" and f"Current: {emu.start_url!r}" in "".join(shown)
        started = time.perf_counter()
        status, shown = kernel.run("%ssooidc login --wait")
        assert status == "ok", shown
        assert time.perf_counter() - started < 30
        assert shown[-1].startswith(f"Signed in to {emu.start_url} until ")
        assert kernel.run("type(ssooidc_token).__name__")[1] == ["'SSOToken'"]
        cache = home / ".aws" / "sso" / "cache" / f"{token_cache_key(None, emu.start_url)}.json"
        assert cache.exists()

        # A kernel restart (or a server restart) keeps the user signed in: the token lives
        # in the cache in their home directory.
        starts = [r["operation"] for r in emu.requests].count("StartDeviceAuthorization")
        kernel.restart()
        status, shown = kernel.run("%ssooidc login")
        assert status == "ok" and shown[0].startswith("Already signed in to ")
        assert [r["operation"] for r in emu.requests].count("StartDeviceAuthorization") == starts
    finally:
        kernel.shutdown()


def test_startup_file_survives_a_user_config_that_resets_extensions(
    tmp_path: Path, emu: Emulator
) -> None:
    """A user's ``c.InteractiveShellApp.extensions = [...]`` drops an admin's append; the
    startup file still loads the extension. Defaults come from an [sso-session] in the
    AWS config file, and the token is cached under that session's key, as the CLI does."""
    home, ipythondir = tmp_path / "user", tmp_path / "ipython"
    profile = ipythondir / "profile_default"
    write(
        profile / "ipython_config.py",
        """
        c = get_config()  # noqa: F821
        c.InteractiveShellApp.extensions = ["autoreload"]
        c.SSOOIDC.sso_session = "corp"
        """,
    )
    startup = ROOT / "docs" / "jupyterhub.md"
    source = startup.read_text().split("```python startup\n")[1].split("```")[0]
    write(profile / "startup" / "50-ssooidc.py", source)
    write(
        home / ".aws" / "config",
        f"""
        [sso-session corp]
        sso_start_url = {emu.start_url}
        sso_region = {emu.region}
        sso_registration_scopes = sso:account:access
        """,
    )
    kernel = Kernel(kernel_env(home, ipythondir, AWS_ENDPOINT_URL=emu.url), home)
    try:
        status, shown = kernel.run("%ssooidc login --wait")
        assert status == "ok", shown
        assert shown[-1].startswith("Signed in to corp until ")
        cache = home / ".aws" / "sso" / "cache" / f"{token_cache_key('corp', emu.start_url)}.json"
        assert cache.exists()
    finally:
        kernel.shutdown()


def test_the_environment_is_the_one_place_kernels_and_the_status_bar_read(
    tmp_path: Path, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/jupyterhub.md step 3: the admin's defaults in the single-user environment
    (``c.Spawner.environment``), no IPython config of defaults, no AWS config file. The
    kernel's ``SSOOIDC`` configurable shows them, a bare login caches under the session
    name, and the server extension's status (same environment) lists it signed in."""
    home, ipythondir = tmp_path / "user", tmp_path / "etc-ipython"
    write(
        ipythondir / "profile_default" / "ipython_config.py",
        """
        c = get_config()  # noqa: F821
        c.InteractiveShellApp.extensions.append("ssooidc_jupyter")
        """,
    )
    home.mkdir()
    admin = {
        "SSOOIDC_START_URL": emu.start_url,
        "SSOOIDC_REGION": emu.region,
        "SSOOIDC_SESSION_NAME": "corp",
        "SSOOIDC_ENDPOINT": emu.url,
    }
    kernel = Kernel(kernel_env(home, ipythondir, **admin), home)
    try:
        status, shown = kernel.run("%config SSOOIDC")
        listing = "".join(shown)
        assert status == "ok" and f"Current: {emu.start_url!r}" in listing
        assert "Current: 'corp'" in listing
        status, shown = kernel.run("%ssooidc login --wait")
        assert status == "ok", shown
        assert shown[-1].startswith("Signed in to corp until ")
    finally:
        kernel.shutdown()
    assert not (home / ".aws" / "config").exists()
    cache = home / ".aws" / "sso" / "cache" / f"{token_cache_key('corp', emu.start_url)}.json"
    assert cache.exists()

    # The server extension, in the same environment, lists the same sign-in, signed in.
    import asyncio
    from datetime import datetime, timezone

    from ssooidc_jupyter.server._status import StatusReader

    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    for name, value in admin.items():
        monkeypatch.setenv(name, value)
    entries, error, default = asyncio.run(StatusReader().sign_ins(datetime.now(timezone.utc)))
    assert default == "corp" and error is None
    assert [(e["name"], e["state"]) for e in entries] == [("corp", "signed_in")]
