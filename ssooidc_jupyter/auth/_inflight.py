"""A sign-in in progress, visible to every process that waits for it (issue 20).

The process that holds a sign-in's cache lock publishes what the user must do -- the user
code and the verification link, or "approve in the browser tab opened from JupyterLab" --
in the private lock directory, as ``<cache dir>/.locks/<key>.pending.json`` (0600, written
atomically), and removes it when the sign-in ends, whatever the outcome. A waiter (another
kernel, a script, the status bar) reads it with :func:`read_pending` and shows it; it may
ask the holder to stop with :func:`request_cancel`, which writes ``<key>.cancel`` beside it:
the holder looks for that file between its short waits and ends its sign-in as cancelled.

What is published is what the user is meant to see: never a device code, a PKCE verifier,
the authorization URL (its ``state``) or a token. A file whose holder is gone (its process
died on this host, or the lock is not held) is stale: it is ignored and removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..oidc._values import FLOWS
from ._clock import utcnow
from ._files import atomic_write
from ._models import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from ._cache import TokenCache
    from ._flow import LoginRequest

__all__ = [
    "CANCELLED_ELSEWHERE",
    "ORIGINS",
    "PendingSignIn",
    "Publication",
    "SignInLabel",
    "WaitingNotice",
    "cancel_path",
    "detect_origin",
    "label_for",
    "pending_path",
    "read_pending",
    "request_cancel",
]

#: The one format version this module writes and reads.
VERSION = 1
#: Where a sign-in was started, as published (``origin``) and as said to the user.
ORIGINS = {"status bar": "the status bar", "kernel": "a kernel", "script": "a script"}
#: The message of the holder's LoginCancelledError when a waiter cancelled it.
CANCELLED_ELSEWHERE = "Sign-in cancelled from another process."
#: How to cancel it, for the plain text of a waiter (documented in docs/notebook.md).
HOW_TO_CANCEL = (
    "To cancel it: %ssooidc cancel in the waiting notebook, or "
    "ssooidc_jupyter.cancel_pending({args}) from any Python."
)
_KEY_RE = re.compile(r"[0-9a-f]{40}")
# A published file is a few hundred bytes; anything far larger is not ours.
_MAX_BYTES = 64 * 1024


def pending_path(cache: TokenCache, key: str) -> Path:
    return _lock_dir(cache, key) / f"{key}.pending.json"


def cancel_path(cache: TokenCache, key: str) -> Path:
    return _lock_dir(cache, key) / f"{key}.cancel"


def _lock_dir(cache: TokenCache, key: str) -> Path:
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise ValueError("a sign-in key is the token cache key: 40 lowercase hex digits")
    return cache.lock_path(key).parent


def detect_origin() -> str:
    """``kernel`` inside a Jupyter kernel (ipykernel is loaded), else ``script``; the
    server's own sign-ins say ``status bar`` themselves."""
    import sys

    return "kernel" if "ipykernel" in sys.modules else "script"


def _local_clock(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")


@dataclass(frozen=True)
class PendingSignIn:
    """One published sign-in in progress (the contract of ``<key>.pending.json``)."""

    key: str
    flow: str
    user_code: str | None
    verification_uri: str | None
    origin: str
    started_at: datetime
    expires_at: datetime
    pid: int
    host: str
    session_name: str | None
    start_url: str

    @property
    def name(self) -> str:
        return self.session_name or self.start_url

    @property
    def here(self) -> bool:
        """Published by this very process."""
        return self.pid == os.getpid() and self.host == socket.gethostname()

    def what_to_do(self) -> str:
        """The user's part: approve the code at the link, or in the browser tab."""
        if self.user_code and self.verification_uri:
            return f"approve code {self.user_code} at {self.verification_uri}"
        if self.verification_uri:
            return f"approve at {self.verification_uri}"
        if self.origin == "status bar":
            return "approve in the browser tab opened from JupyterLab"
        where = "that notebook" if self.origin == "kernel" else "that script"
        return f"approve in the browser tab opened from {where}"

    def message(self) -> str:
        """The one sentence every waiter shows (issue 20)."""
        return (
            f"A sign-in to {self.name} is waiting for approval, started from "
            f"{ORIGINS.get(self.origin, self.origin)} at {_local_clock(self.started_at)}: "
            f"{self.what_to_do()}, or cancel it"
        )

    def how_to_cancel(self) -> str:
        args = f"session_name={self.session_name!r}" if self.session_name else repr(self.start_url)
        return HOW_TO_CANCEL.format(args=args)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "key": self.key,
            "flow": self.flow,
            "user_code": self.user_code,
            "verification_uri": self.verification_uri,
            "origin": self.origin,
            "started_at": format_timestamp(self.started_at),
            "expires_at": format_timestamp(self.expires_at),
            "pid": self.pid,
            "host": self.host,
            "session_name": self.session_name,
            "start_url": self.start_url,
        }

    def summary(self) -> dict[str, Any]:
        """What the server's status route shows of it (``here``: the server's own)."""
        data = self.to_json()
        return {
            **{k: data[k] for k in ("key", "flow", "user_code", "verification_uri", "origin")},
            "started_at": data["started_at"],
            "expires_at": data["expires_at"],
            "here": self.here,
        }

    @classmethod
    def from_json(cls, data: object) -> PendingSignIn:
        """Checked member by member; ValueError names what is wrong (never a value)."""
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("not a pending sign-in of version 1")

        def text(name: str, *, optional: bool = False) -> Any:
            value = data.get(name)
            if value is None and optional:
                return None
            if not isinstance(value, str):
                raise ValueError(f"{name} is not a string")
            return value

        pid = data.get("pid")
        if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
            raise ValueError("pid is not a process id")
        pending = cls(
            key=text("key"),
            flow=text("flow"),
            user_code=text("user_code", optional=True),
            verification_uri=text("verification_uri", optional=True),
            origin=text("origin"),
            started_at=parse_timestamp(text("started_at")),
            expires_at=parse_timestamp(text("expires_at")),
            pid=pid,
            host=text("host"),
            session_name=text("session_name", optional=True),
            start_url=text("start_url"),
        )
        if pending.flow not in FLOWS or pending.origin not in ORIGINS:
            raise ValueError("unknown flow or origin")
        if not _KEY_RE.fullmatch(pending.key):
            raise ValueError("key is not a cache key")
        return pending


class WaitingNotice(str):
    """A notice (a plain ``str`` for every :data:`NoticeHandler`) that also carries the
    pending sign-in it is about, so a notebook can offer Cancel."""

    pending: PendingSignIn

    def __new__(cls, pending: PendingSignIn) -> WaitingNotice:
        notice = super().__new__(cls, f"{pending.message()}. {pending.how_to_cancel()}")
        notice.pending = pending
        return notice


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process (EPERM): alive
    return True


def _load(path: Path) -> PendingSignIn | None:
    """The published file, or None (absent, or not a file of ours in the right shape)."""
    try:
        # No link followed, no FIFO waited on: a planted file must not hang or fool us.
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not _regular_and_ours(st):
            return None
        with os.fdopen(fd, "rb", closefd=False) as stream:
            raw = stream.read(_MAX_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        return PendingSignIn.from_json(json.loads(raw))
    except (ValueError, RecursionError):
        return None


def _regular_and_ours(st: os.stat_result) -> bool:
    import stat

    ours = not hasattr(os, "geteuid") or st.st_uid == os.geteuid()
    return stat.S_ISREG(st.st_mode) and ours and st.st_size <= _MAX_BYTES


def _remove(cache: TokenCache, key: str) -> None:
    for path in (pending_path(cache, key), cancel_path(cache, key)):
        with contextlib.suppress(OSError):
            path.unlink()


def read_pending(cache: TokenCache, key: str) -> PendingSignIn | None:
    """The sign-in in progress for ``key`` (the token cache key) in ``cache``, or None.

    A stale file -- its process is gone from this host, or nobody holds the lock -- is
    removed (while holding the lock for a moment, so a new holder's file is never taken
    for it) and None is returned."""
    path = pending_path(cache, key)
    if not os.path.lexists(path):
        return None
    pending = _load(path)
    if pending is not None and pending.key != key:
        pending = None
    dead = pending is not None and pending.host == socket.gethostname() and not _alive(pending.pid)
    if not dead and _lock_held(cache, key):
        return pending
    # Removed only if the lock is free now (a new holder's file is not ours to remove).
    _lock_held(cache, key, clean=True)
    return None


def _lock_held(cache: TokenCache, key: str, *, clean: bool = False) -> bool:
    """Whether another open file description holds the lock; ``clean``: when it is free,
    remove the published files while holding it."""
    import filelock

    from .._exceptions import CacheError

    try:
        flock = cache._file_lock(key)
        flock.acquire(timeout=0)
    except filelock.Timeout:
        return True
    except (CacheError, OSError):
        return True  # not ours to judge: leave the file alone
    try:
        if clean:
            _remove(cache, key)
    finally:
        flock.release()
    return False


def request_cancel(cache: TokenCache, key: str) -> bool:
    """Ask the process holding ``key``'s sign-in to cancel it: True when one was pending
    (its holder notices within half a second), False when none was."""
    if read_pending(cache, key) is None:
        return False
    stamp = json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
    atomic_write(cancel_path(cache, key), stamp.encode())
    return True


@dataclass(frozen=True)
class SignInLabel:
    """What a driver publishes about its sign-in besides the prompt: the flow, where it
    was started, and what it signs in to."""

    flow: str
    origin: str
    session_name: str | None
    start_url: str

    def pending(self, key: str, prompt: Any) -> PendingSignIn:
        return new_pending(
            key=key,
            flow=self.flow,
            origin=self.origin,
            session_name=self.session_name,
            start_url=self.start_url,
            user_code=prompt.user_code,
            verification_uri=prompt.verification_uri_complete,
            expires_at=prompt.expires_at,
        )


class Publication:
    """The holder's side: publish once the prompt is known, notice a cancel, withdraw."""

    def __init__(self, cache: TokenCache, pending: PendingSignIn) -> None:
        self.cache = cache
        self.pending = pending
        self._cancel = cancel_path(cache, pending.key)

    def publish(self) -> None:
        # A cancel left by an earlier sign-in must not end this one.
        with contextlib.suppress(OSError):
            self._cancel.unlink()
        body = json.dumps(self.pending.to_json()).encode()
        atomic_write(pending_path(self.cache, self.pending.key), body)

    def cancelled(self) -> bool:
        return os.path.lexists(self._cancel)

    def withdraw(self) -> None:
        _remove(self.cache, self.pending.key)


def new_pending(
    *,
    key: str,
    flow: str,
    origin: str,
    session_name: str | None,
    start_url: str,
    user_code: str | None,
    verification_uri: str | None,
    expires_at: datetime,
) -> PendingSignIn:
    """A pending sign-in of this process, started now."""
    return PendingSignIn(
        key=key,
        flow=flow,
        user_code=user_code or None,
        # PKCE: the authorization URL carries the state, and the kernel's launch link is a
        # one-time key to its listener: neither is published.
        verification_uri=verification_uri if flow == "device" else None,
        origin=origin,
        started_at=utcnow(),
        expires_at=expires_at,
        pid=os.getpid(),
        host=socket.gethostname(),
        session_name=session_name,
        start_url=start_url,
    )


def label_for(flow: str, request: LoginRequest, origin: str | None = None) -> SignInLabel:
    """The label of a resolved sign-in; ``origin`` None: :func:`detect_origin`."""
    return SignInLabel(
        flow=flow,
        origin=origin or detect_origin(),
        session_name=request.session_name,
        start_url=request.start_url,
    )
