"""Stopping the demo's JupyterLab with every kernel and terminal it started, from ``/proc``."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence

__all__ = ["descendants", "stop"]


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (kernels of the Jupyter server), from /proc; [] elsewhere."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                # "pid (comm) state ppid ...": comm may hold spaces, so split after ")".
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _groups(pids: Sequence[int]) -> set[int]:
    """The process groups of ``pids``, never our own (killing it would kill us)."""
    ours = os.getpgrp()
    groups: set[int] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(pid))
    groups.discard(ours)
    return groups


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop JupyterLab and every kernel and terminal it started: SIGTERM to the server's
    process group (a clean shutdown of its kernels), then SIGKILL to every process group
    below it (jupyter_client starts each kernel in a session of its own) and to every
    process left after a grace period.

    Signals are ignored meanwhile: a second Ctrl-C must not cut the clean-up short and
    leave servers or kernels behind."""
    previous = {
        signum: signal.signal(signum, signal.SIG_IGN)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    try:
        doomed = [server.pid, *descendants(server.pid)]
        groups = _groups(doomed)
        if server.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(server.pid, signal.SIGTERM)  # the server leads its own group
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        for group in groups:
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGKILL)
        for pid in doomed[1:]:  # the server is reaped: its pid is no longer ours
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
