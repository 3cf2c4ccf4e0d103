"""The times the notebook shows, on the user's clock (shared by the displays and the
controller's status line, which must not import each other)."""

from __future__ import annotations

from datetime import datetime

__all__ = ["local_time"]


def local_time(when: datetime, *, seconds: bool = False) -> str:
    """``07:56 CET``: ``when`` in the kernel's local time zone, with its abbreviation -- the
    clock the user reads, as the status bar shows it in the browser's."""
    local = when.astimezone()
    return f"{local:%H:%M:%S %Z}" if seconds else f"{local:%H:%M %Z}"
