"""Eight processes on one HOME: one sign-in, one code, refreshes that never lose a token,
and cache files that always parse."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from ssooidc_jupyter.auth._cache import cache_dir
from ssooidc_jupyter.auth._models import token_cache_key
from ssooidc_jupyter.emulator import Emulator
from tests._support import emulator_fixture

PROCESSES = 8
pytestmark = pytest.mark.slow


def _login_worker(env: dict[str, str], start_url: str, region: str, refreshes: int) -> str:
    os.environ.update(env)
    import ssooidc_jupyter as sj

    token = sj.login(start_url, region, on_prompt=lambda prompt: None)
    for _ in range(refreshes):
        token.refresh()
    return str(token.access_token)


class CacheReader(threading.Thread):
    """Parses every cache file, over and over, while the processes write."""

    def __init__(self, directory: Path) -> None:
        super().__init__(daemon=True)
        self.directory = directory
        self.stop = threading.Event()
        self.reads = 0
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            for path in self.directory.glob("*.json") if self.directory.exists() else []:
                try:
                    text = path.read_text()
                except FileNotFoundError:
                    continue
                try:
                    json.loads(text)
                    self.reads += 1
                except ValueError:
                    self.failures.append(path.name)


emu = emulator_fixture(endpoint_env="AWS_ENDPOINT_URL", interval=0.1, auto_approve=1.0)


def run_processes(emu: Emulator, refreshes: int) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k.startswith("AWS_") or k == "HOME"}
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(PROCESSES) as pool:
        results = [
            pool.apply_async(_login_worker, (env, emu.start_url, emu.region, refreshes))
            for _ in range(PROCESSES)
        ]
        return [r.get(timeout=120) for r in results]


def ops(emu: Emulator) -> list[str]:
    return [r["operation"] for r in emu.requests]


def test_eight_processes_sign_in_once_and_refresh_safely(emu: Emulator) -> None:
    reader = CacheReader(cache_dir())
    reader.start()
    try:
        tokens = run_processes(emu, refreshes=0)
        assert len(set(tokens)) == 1  # everyone got the one sign-in's token
        assert ops(emu).count("RegisterClient") == 1
        assert ops(emu).count("StartDeviceAuthorization") == 1

        # Now all eight refresh three times each, concurrently: under the lock, each starts
        # from the refresh token currently in the cache, so none is refused as reused.
        before = ops(emu).count("CreateToken")
        run_processes(emu, refreshes=3)
        refresh_calls = [r for r in emu.requests if r["operation"] == "CreateToken"][before:]
        assert len(refresh_calls) == PROCESSES * 3
        assert all(r["status"] == 200 for r in refresh_calls)
    finally:
        reader.stop.set()
        reader.join()
    assert reader.failures == []
    assert reader.reads > 0
    path = cache_dir() / f"{token_cache_key(None, emu.start_url)}.json"
    assert json.loads(path.read_text())["accessToken"] in emu.secrets


def test_eight_processes_near_expiry_make_one_refresh(emu: Emulator) -> None:
    run_processes(emu, refreshes=0)
    path = cache_dir() / f"{token_cache_key(None, emu.start_url)}.json"
    data: dict[str, Any] = json.loads(path.read_text())
    data["expiresAt"] = (datetime.now(timezone.utc) + timedelta(minutes=5)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    path.write_text(json.dumps(data))
    before = len(emu.requests)
    tokens = run_processes(emu, refreshes=0)
    assert len(set(tokens)) == 1
    assert [r["operation"] for r in emu.requests[before:]] == ["CreateToken"]
