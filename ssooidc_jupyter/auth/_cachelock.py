"""The cross-process lock of the token cache: where its files live, and the one lock loop.

:class:`CacheLocks` is the locking half of :class:`~._cache.TokenCache` (the file store is
the other half, in ``_cache.py``): the lock files live in a private ``.locks/`` subdirectory
(0700) of the cache directory, out of the way of the AWS CLI; a lock path that is a link or
another user's is refused; :meth:`CacheLocks._attempts` is the one loop that tries the lock
without blocking, and :meth:`~CacheLocks.lock` / :meth:`~CacheLocks.alock` only do its
waits (a thread's sleep or a Cancel, an ``asyncio.sleep``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .._exceptions import CacheError, LoginCancelledError
from ._files import failure_advice, make_private_dirs, os_reason

if TYPE_CHECKING:
    import filelock

__all__ = ["LOCK_DIRECTORY", "LOCK_POLL_SECONDS", "CacheLocks"]

logger = logging.getLogger("ssooidc_jupyter.auth._cache")

#: How often a waiting sign-in tries the lock again: short, so a Cancel or a finished
#: sign-in in another kernel is noticed at once, long enough to cost nothing.
LOCK_POLL_SECONDS = 0.05

#: The lock files' own directory inside the cache directory (issue 12: lock files beside the
#: tokens puzzled people and tools listing ``~/.aws/sso/cache``).
LOCK_DIRECTORY = ".locks"


class CacheLocks:
    """The lock half of :class:`~._cache.TokenCache`, which supplies the paths and the
    cache directory (the methods declared below for the type checker)."""

    if TYPE_CHECKING:

        @property
        def directory(self) -> Path: ...

        def _path(self, key: str, suffix: str) -> Path: ...

        def lock_path(self, key: str) -> Path: ...

        def _warn_directory(self) -> None: ...

        def _ensure_directory(self) -> Path: ...

        @staticmethod
        def _timeout_error(path: Path, timeout: float | None) -> CacheError: ...

    def _lock_directory(self) -> Path:
        """``<dir>/.locks``, created 0700, checked to be a real directory of ours."""
        self._warn_directory()
        try:
            directory = self._ensure_directory()
        except OSError as exc:
            raise CacheError(
                f"Could not create the SSO cache directory {self.directory}: "
                f"{os_reason(exc)}. {failure_advice(exc)}."
            ) from exc
        locks = directory / LOCK_DIRECTORY
        try:
            make_private_dirs(locks)
            link = os.lstat(locks)
        except OSError as exc:
            raise CacheError(
                f"Could not create the SSO lock directory {locks}: {os_reason(exc)}. "
                f"{failure_advice(exc)}."
            ) from exc
        if stat.S_ISLNK(link.st_mode) or not stat.S_ISDIR(link.st_mode):
            raise CacheError(
                f"The SSO lock directory {locks} is {_what_is(locks, link)}, not the private "
                f"directory this package creates. Someone else may have put it there: remove "
                f"it, and check who else can write to {directory}."
            )
        if hasattr(os, "geteuid") and link.st_uid != os.geteuid():
            raise CacheError(
                f"The SSO lock directory {locks} belongs to another user (uid {link.st_uid}). "
                f"Remove it, and check who else can write to {directory}."
            )
        return locks

    def _check_lock_file(self, path: Path) -> None:
        # filelock opens the path and follows links: a planted link would make us create or
        # truncate a file elsewhere, or fail with "Too many levels of symbolic links".
        try:
            link = os.lstat(path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise CacheError(
                f"Could not examine the SSO cache lock {path}: {os_reason(exc)}."
            ) from exc
        if not stat.S_ISREG(link.st_mode):
            raise CacheError(
                f"The SSO cache lock {path} is {_what_is(path, link)}, not a lock file. "
                f"Something other than this package put it there: remove it, and check who "
                f"else can write to {path.parent}."
            )

    def _file_lock(self, key: str) -> filelock.BaseFileLock:
        # Lazy: a cached sign-in takes no lock, so filelock is imported only when one is.
        import filelock

        self._lock_directory()
        path = self.lock_path(key)
        self._check_lock_file(path)
        # A fresh instance per call (no singleton): two lock() calls in one process then hold
        # two descriptors and exclude each other like two processes would. thread_local=False
        # so a lock taken in one thread may be released in another (executor hand-offs).
        return filelock.FileLock(str(path), mode=0o600, thread_local=False)

    def _attempts(
        self, key: str, timeout: float | None
    ) -> Generator[float, None, filelock.BaseFileLock]:
        """The one lock loop: try without blocking, else yield how long to wait before the
        next try; return the held lock. The sync and async lock methods only do the waits."""
        import filelock

        flock = self._file_lock(key)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                flock.acquire(timeout=0)
                self._remove_legacy_lock(key)
                return flock
            except filelock.Timeout:
                if deadline is not None and time.monotonic() >= deadline:
                    raise self._timeout_error(self.lock_path(key), timeout) from None
            except OSError as exc:
                raise CacheError(
                    f"Could not lock {self.lock_path(key)}: {os_reason(exc)}. "
                    f"{failure_advice(exc)}."
                ) from exc
            yield LOCK_POLL_SECONDS

    def _remove_legacy_lock(self, key: str) -> None:
        """Earlier versions locked ``<dir>/<key>.lock`` beside the tokens (issue 12). Holding
        the new lock, remove such a leftover: only an empty regular file of ours, and only
        while no process of an earlier version holds it (it is flocked first)."""
        try:
            # Lazy and optional: fcntl is Unix-only, as are the leftovers (filelock's Unix lock).
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        legacy = self._path(key, ".lock")
        try:
            fd = os.open(legacy, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return  # absent, or a link (never followed, never touched)
        try:
            st = os.fstat(fd)
            ours = not hasattr(os, "geteuid") or st.st_uid == os.geteuid()
            if not stat.S_ISREG(st.st_mode) or not ours or st.st_size:
                return
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(legacy)
            logger.debug("Removed the leftover lock file %s", legacy)
        except OSError:
            return  # held by a running older version, or already gone
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def lock(
        self,
        key: str,
        timeout: float | None = None,
        *,
        cancel: threading.Event | None = None,
        waiting: Callable[[], None] | None = None,
    ) -> Iterator[None]:
        """Hold the cross-process lock ``<key>.lock`` for the ``with`` block.

        ``timeout=None`` waits forever; otherwise :class:`CacheLockTimeout` after *timeout*
        seconds; a set ``cancel`` event stops the wait with :class:`LoginCancelledError`.
        ``waiting`` is called before each retry while another process holds the lock (to
        show the sign-in it is waiting for). Blocks the calling thread: in a coroutine use
        :meth:`alock`.
        """
        attempts = self._attempts(key, timeout)
        try:
            while True:
                delay = next(attempts)
                if waiting is not None:
                    waiting()
                if cancel is None:
                    time.sleep(delay)
                elif cancel.wait(delay):
                    raise LoginCancelledError("Sign-in cancelled.")
        except StopIteration as held:
            flock: filelock.BaseFileLock = held.value
        try:
            yield
        finally:
            flock.release()

    @contextlib.asynccontextmanager
    async def alock(
        self,
        key: str,
        timeout: float | None = None,
        *,
        waiting: Callable[[], None] | None = None,
    ) -> AsyncIterator[None]:
        """:meth:`lock` for coroutines: waits with ``asyncio.sleep``, never blocking the
        event loop. Cancel the task to stop waiting."""
        # Lazy: only the async driver waits on a lock, and the sync path stays asyncio-free.
        import asyncio

        attempts = self._attempts(key, timeout)
        try:
            while True:
                delay = next(attempts)
                if waiting is not None:
                    waiting()
                await asyncio.sleep(delay)
        except StopIteration as held:
            flock: filelock.BaseFileLock = held.value
        try:
            yield
        finally:
            flock.release()


def _what_is(path: Path, link: os.stat_result) -> str:
    """A lock path's nature in words, for an error message."""
    if stat.S_ISLNK(link.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        state = "a symbolic link" if os.path.exists(path) else "a dangling symbolic link"
        return f"{state} (to {target})"
    if stat.S_ISDIR(link.st_mode):
        return "a directory"
    return "a special file"
