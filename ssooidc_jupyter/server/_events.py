"""Push instead of polling: the server tells every open tab when the sign-in status may
have changed, through jupyter_server's event bus (``/api/events/subscribe``).

:class:`StatusEvents` watches the token cache directory (``~/.aws/sso/cache``, with its
``.locks`` directory where a pending sign-in is published) and the AWS config file with
``watchfiles`` (inotify/FSEvents in a Rust thread: nothing blocks the loop), and emits a
``STATUS_SCHEMA_ID`` event whatever process wrote them: a kernel, a terminal's ``aws sso
login``, this server, another tab. It also emits at the times a token's state changes by
itself (expiring, expired, the session's end), so no client has to poll to see an expiry.

The event carries only a reason; the client then reads ``GET /ssooidc/api/status`` once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..auth._awsconfig import config_file_path
from ..auth._cache import cache_dir
from ..auth._clock import utcnow
from ..auth._context import LoginContext
from ..auth._flow import ADVISORY_REFRESH, MANDATORY_REFRESH
from ..auth._models import parse_timestamp
from ._status import SESSION_END_NOTICE, StatusReader

__all__ = ["SCHEMA_PATH", "STATUS_SCHEMA_ID", "StatusEvents"]

logger = logging.getLogger("ssooidc_jupyter.server")

STATUS_SCHEMA_ID = "https://ssooidc-jupyter.org/events/status/v1"
SCHEMA_PATH = Path(__file__).parent / "event_schemas" / "status-v1.yaml"

# watchfiles groups changes for at most this long (ms) and returns once none came for
# _STEP ms: an atomic cache write (temp file, rename) is one event, well inside the 0.5 s
# a tab has to show it.
_DEBOUNCE_MS = 150
_STEP_MS = 20
# Longer than this, a timer is re-armed instead (the loop's clock is monotonic; a laptop
# that slept must not fire an expiry hours late).
_MAX_TIMER = 3600.0


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


#: How often the polling fallback looks (ms): a push still reaches tabs within half a second.
_POLL_MS = 250


def _polling(polling: bool) -> dict[str, Any]:
    return {"force_polling": True, "poll_delay_ms": _POLL_MS} if polling else {}


def _fall_back(root: Path, exc: Exception, polling: bool) -> bool:
    """Whether to poll from now on: inotify can run out (``fs.inotify.max_user_instances``
    is 128 per user by default, shared by every process of the user on a hub host), and
    then the watch polls instead of giving up."""
    if not polling and "Too many open files" in str(exc):
        logger.warning(
            "ssooidc: no inotify watch left for %s (%s); polling it every %d ms instead "
            "(raise fs.inotify.max_user_instances to avoid this)",
            root,
            exc,
            _POLL_MS,
        )
        return True
    logger.warning("ssooidc: watching %s failed (%s); retrying", root, exc)
    return polling


async def _changes(root: Path, *, recursive: bool, polling: bool) -> AsyncGenerator[set[Any], None]:
    """What ``watchfiles.awatch`` yields, but the blocking watch runs in a daemon thread of
    ours. ``awatch`` runs it in anyio's worker threads, which are not daemons and are
    released only when the task that started them ends; a server stopped by SIGTERM closes
    its loop with the watch tasks still pending, and the interpreter then waited for those
    threads forever (the server never exited). Close it with ``contextlib.aclosing``."""
    import watchfiles  # lazy: only a running server watches

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    stop = threading.Event()

    def post(kind: str, value: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody listens
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

    def run() -> None:
        try:
            for changes in watchfiles.watch(
                root,
                recursive=recursive,
                debounce=_DEBOUNCE_MS,
                step=_STEP_MS,
                stop_event=stop,
                ignore_permission_denied=True,
                **_polling(polling),
            ):
                post("changes", changes)
        except Exception as exc:  # an OS watcher limit, a vanished directory: the caller's
            post("error", exc)
        else:
            post("end", None)

    threading.Thread(target=run, name=f"ssooidc-watch {root}", daemon=True).start()
    try:
        while True:
            kind, value = await queue.get()
            if kind == "error":
                raise value
            if kind == "end":
                return
            yield value
    finally:
        stop.set()  # the thread sees it within _STEP_MS


class StatusEvents:
    """Watches the files the status is made of and emits an event when they change."""

    def __init__(
        self,
        event_logger: Any,
        reader: StatusReader,
        extra: Callable[[], Iterable[LoginContext]] = tuple,
    ) -> None:
        self._event_logger = event_logger
        self._reader = reader
        self._extra = extra
        self._tasks: list[asyncio.Task[None]] = []
        self._timer: asyncio.TimerHandle | None = None
        #: How many events were emitted (the tests read it).
        self.emitted = 0

    def start(self) -> None:
        """Start watching (on the running loop)."""
        self._tasks = [
            asyncio.ensure_future(self._watch(cache_dir, recursive=True, reason="cache")),
            asyncio.ensure_future(self._watch_config()),
        ]
        self._tasks.append(asyncio.ensure_future(self._schedule()))

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def emit(self, reason: str) -> None:
        """Tell every subscribed client to read the status again (on the loop: the event
        bus writes to the websockets synchronously)."""
        self.emitted += 1
        self._event_logger.emit(schema_id=STATUS_SCHEMA_ID, data={"reason": reason})
        self._tasks = [task for task in self._tasks if not task.done()]
        self._tasks.append(asyncio.ensure_future(self._schedule()))

    async def _watch(self, target: Callable[[], Path], *, recursive: bool, reason: str) -> None:
        """Watch ``target()`` (a directory); while it does not exist, watch its nearest
        existing ancestor (not recursively) for its creation."""
        polling = False
        while True:
            path = target()
            root = _nearest_existing(path)
            here = root == path
            inode = _inode(root)
            try:
                async with contextlib.aclosing(
                    _changes(root, recursive=recursive and here, polling=polling)
                ) as changes:
                    await self._follow(changes, path, root, inode, reason)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # an OS watcher limit, a vanished directory
                was_polling, polling = polling, _fall_back(root, exc, polling)
                await asyncio.sleep(0 if polling and not was_polling else 5)

    async def _follow(
        self,
        changes: AsyncIterator[set[Any]],
        path: Path,
        root: Path,
        inode: tuple[int, int] | None,
        reason: str,
    ) -> None:
        """Emit on each change under ``root``; return when the watch must start again."""
        here = root == path
        async for _ in changes:
            if here:
                self.emit(reason)
                if _inode(path) != inode:
                    # The directory itself was removed (or replaced): inotify watches
                    # the old one, which sees nothing more. Start again.
                    return
            elif _nearest_existing(path) != root:
                self.emit(reason)
                return  # a step closer to the target: watch from there
        # The watch ended by itself (the watched directory went away).
        await asyncio.sleep(0.5)

    async def _watch_config(self) -> None:
        """The config file's directory, not recursively (it may be HOME), filtered to the file."""
        polling = False
        while True:
            config = config_file_path()
            root = _nearest_existing(config.parent)
            try:
                async with contextlib.aclosing(
                    _changes(root, recursive=False, polling=polling)
                ) as changes:
                    await self._follow_config(changes, config, root)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                was_polling, polling = polling, _fall_back(root, exc, polling)
                await asyncio.sleep(0 if polling and not was_polling else 5)

    async def _follow_config(
        self, changes: AsyncIterator[set[Any]], config: Path, root: Path
    ) -> None:
        async for batch in changes:
            if root != config.parent:
                if _nearest_existing(config.parent) != root:
                    return
                continue
            if any(Path(changed).name == config.name for _, changed in batch):
                self.emit("config")
        await asyncio.sleep(0.5)

    async def _schedule(self) -> None:
        """Arm one timer for the next time a token's state changes by itself."""
        now = utcnow()
        try:
            # The config as the status route last parsed it: a tab reads the status after
            # every event, so a config change is parsed once, by that request.
            entries = await self._reader.known_sign_ins(now, list(self._extra()))
        except Exception as exc:  # the status route reports it; the timer is optional
            logger.debug("ssooidc: no expiry timer (%s)", exc)
            return
        moments: list[datetime] = []
        for entry in entries:
            if entry.get("expires_at"):
                expires = parse_timestamp(entry["expires_at"])
                moments += [expires - ADVISORY_REFRESH, expires - MANDATORY_REFRESH, expires]
            if entry.get("session_ends_at"):
                moments.append(parse_timestamp(entry["session_ends_at"]) - SESSION_END_NOTICE)
        future = [moment for moment in moments if moment > now]
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not future:
            return
        delay = (min(future) - now + timedelta(milliseconds=50)).total_seconds()
        loop = asyncio.get_running_loop()
        if delay > _MAX_TIMER:
            self._timer = loop.call_later(_MAX_TIMER, self.rearm)
        else:
            self._timer = loop.call_later(delay, self.emit, "expiry")

    def rearm(self) -> None:
        """Compute the next expiry timer again (the config was parsed anew)."""
        self._tasks.append(asyncio.ensure_future(self._schedule()))
