"""What every benchmark of ``run.py`` shares: fresh interpreters running the probes of
``probes/`` (:class:`Bench`), in-process timing, interleaved samples, the throwaway root."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The programs each fresh interpreter runs. Each writes one JSON line marked "BENCH " (in
#: one write: a shell's display thread may write too); "t" is time.time() at the moment
#: measured, compared with the parent's time.time() just before the process was started.
PROBES = Path(__file__).resolve().parent / "probes"


def timeit(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm up: connection pools, lazy imports
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@dataclass
class Bench:
    """Where the fresh interpreters run: a throwaway root, its byte-code cache, their env."""

    root: Path

    def env(self, home: Path | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("AWS_ENDPOINT_URL", None)
        env.pop("AWS_PROFILE", None)
        home = home or self.root / "home-empty"
        home.mkdir(parents=True, exist_ok=True)
        env.update(
            HOME=str(home),
            PYTHONPYCACHEPREFIX=str(self.root / "pyc"),
            AWS_CONFIG_FILE=str(home / ".aws" / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            # A dependency's deprecation warning on stderr is not a figure.
            PYTHONWARNINGS="ignore",
        )
        return env

    def home(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def command(self, probe: str, *args: str) -> list[str]:
        """The command line of ``probes/<probe>.py`` with ``args``."""
        return [sys.executable, str(PROBES / f"{probe}.py"), *args]

    def run(self, probe: str, *args: str, home: Path | None = None) -> tuple[float, dict[str, Any]]:
        """Run ``probes/<probe>.py`` in a fresh interpreter: (seconds from process start, its
        JSON)."""
        env = self.env(home)
        started = time.time()
        out = subprocess.run(
            self.command(probe, *args),
            capture_output=True,
            text=True,
            env=env,
            cwd=self.root,
            timeout=120,
        )
        # The probe's answer is its last line marked BENCH (a shell may print other lines,
        # even start one that the answer then ends).
        marked = [
            line[line.index("BENCH {") + len("BENCH ") :]
            for line in out.stdout.splitlines()
            if "BENCH {" in line
        ]
        if out.returncode != 0 or not marked:
            raise RuntimeError(
                f"probe failed (exit {out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
            )
        result = json.loads(marked[-1])
        return result.get("t", started) - started, result


def interleaved(
    pairs: int, ours: Callable[[], float], theirs: Callable[[], float], *, warm_up: bool = True
) -> tuple[list[float], list[float]]:
    """``pairs`` samples of each, alternating who goes first; one warm-up of each first (it
    fills the byte-code cache and the page cache), unless the caller warmed up already."""
    if warm_up:
        ours(), theirs()
    a: list[float] = []
    b: list[float] = []
    for i in range(pairs):
        if i % 2:
            b.append(theirs())
            a.append(ours())
        else:
            a.append(ours())
            b.append(theirs())
    return a, b


def ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def approve_on_prompt(emu: Any, delay: float = 0.0) -> Callable[[Any], None]:
    def on_prompt(prompt: Any) -> None:
        threading.Timer(delay, emu.approve, args=(prompt.user_code,)).start()

    return on_prompt


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": None if load is None else [round(x, 2) for x in load],
    }


@contextlib.contextmanager
def isolated() -> Iterator[Path]:
    """A throwaway root; this process's HOME and AWS files point into it."""
    root = Path(tempfile.mkdtemp(prefix="ssooidc-bench-"))
    saved = dict(os.environ)
    home = root / "home-parent"
    home.mkdir()
    os.environ.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(name, None)
    try:
        yield root
    finally:
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(root, ignore_errors=True)
