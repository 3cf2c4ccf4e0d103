"""``GET /ssooidc/api/status``: every sign-in the user can choose, with its state.

First the admin's default sign-in (the ``SSOOIDC_*`` environment of the single-user server,
which every kernel reads too, see ``auth._context.ADMIN_ENV``), even with no AWS config
file; then the sso-sessions and the legacy start URLs (profiles with ``sso_start_url`` and
no ``sso_session``) of ``~/.aws/config``; then sign-ins made through the server by start URL.
Each with the state of its token in the shared cache. No network call.

:class:`StatusReader` keeps the server's loop free: it parses the config file again only
when it changed (path, inode, mtime, size), and then in a child process (``python -m
ssooidc_jupyter.server._status``), so even a 3,000-profile file (a quarter to a whole second
of pure Python) never holds the server's GIL; the cache reads run in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from .._exceptions import ConfigurationError
from ..auth._awsconfig import config_file_path, load_aws_config
from ..auth._cache import TokenCache
from ..auth._context import LoginContext, admin_defaults
from ._choices import SESSION_END_NOTICE, STATE_NAMES, Choice, from_config, ordered, started_here

__all__ = ["SESSION_END_NOTICE", "STATE_NAMES", "StatusReader"]

logger = logging.getLogger("ssooidc_jupyter.server")

# A config file the child takes longer than this to parse is parsed in a thread instead.
_PARSE_TIMEOUT = 30.0


def _parse(path: str) -> tuple[list[Choice], str | None]:
    """The config file's choices, or why it cannot be read."""
    try:
        return from_config(load_aws_config(Path(path)), path), None
    except ConfigurationError as exc:
        return [], str(exc)


def _stamp(path: str) -> tuple[object, ...] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None  # no config file: only the admin's default and start URLs
    return (path, stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)


class StatusReader:
    """Reads the status for the server's status route; the parsed config is kept until the
    file changes. Loop-bound: one instance in the web app's settings."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._stamp: tuple[object, ...] | None = None
        self._config: tuple[list[Choice], str | None] = ([], None)
        #: How many times the config file was parsed (the tests read it).
        self.parses = 0

    async def _config_choices(self) -> tuple[list[Choice], str | None]:
        path = str(config_file_path())
        # One parse for every poll waiting on it: the lock is held across the await.
        async with self._lock:
            stamp = await asyncio.to_thread(_stamp, path)
            if stamp is None:
                return [], None
            if stamp != self._stamp:
                self._config = await self._parse_elsewhere(path)
                self._stamp = stamp
                self.parses += 1
            return self._config

    @staticmethod
    async def _parse_elsewhere(path: str) -> tuple[list[Choice], str | None]:
        """Parse ``path`` in a child process (its own GIL); in a thread if that fails."""
        try:
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                __name__,
                path,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            try:
                out, _ = await asyncio.wait_for(child.communicate(), _PARSE_TIMEOUT)
            except asyncio.TimeoutError:
                child.kill()
                await child.wait()
                raise
            if child.returncode != 0:
                raise OSError(f"exit status {child.returncode}")
            data = json.loads(out)
            return [Choice(**values) for values in data["choices"]], data["error"]
        except (OSError, ValueError, KeyError, TypeError, asyncio.TimeoutError) as exc:
            logger.warning("ssooidc: parsing %s in a child process failed (%s)", path, exc)
            return await asyncio.to_thread(_parse, path)

    @staticmethod
    def admin_errors() -> list[str]:
        return list(admin_defaults().errors)

    async def sign_ins(
        self, now: datetime, extra: Iterable[LoginContext] = ()
    ) -> tuple[list[dict[str, Any]], str | None, str | None]:
        """``(entries, config_error, default)``: the sign-ins with their states, why the
        config file could not be read (None when it was, or when there is none), and the
        name of the admin's default sign-in (listed first; None when the admin set none)."""
        cached, error = await self._config_choices()
        # The cache entries (one small file each) are read in a worker thread.
        return await asyncio.to_thread(self._entries, now, cached, error, list(extra))

    async def known_sign_ins(
        self, now: datetime, extra: Iterable[LoginContext] = ()
    ) -> list[dict[str, Any]]:
        """The entries of the config as last parsed, without parsing it again (the status
        route does that when the file changed): what the expiry timers need, for free."""
        cached, error = self._config
        entries, _, _ = await asyncio.to_thread(self._entries, now, cached, error, list(extra))
        return entries

    @staticmethod
    def _entries(
        now: datetime, cached: list[Choice], error: str | None, extra: list[LoginContext]
    ) -> tuple[list[dict[str, Any]], str | None, str | None]:
        cache = TokenCache()
        choices = ordered(cached)
        entries = [choice.entry(cache, now) for choice in choices]
        default = next((choice.name for choice in choices if choice.default), None)
        seen = {choice.key for choice in choices}
        for context in extra:
            # A sign-in this server made: resolved already, its key the one it signed in under.
            key = context.slot.token_key
            if key in seen:
                continue
            seen.add(key)
            entries.append(started_here(context).entry(cache, now))
        return entries, error, default


def _main(argv: list[str]) -> int:
    """``python -m ssooidc_jupyter.server._status PATH``: the choices of the AWS config file
    at PATH, as JSON on stdout (what :class:`StatusReader` runs in a child process)."""
    choices, error = _parse(argv[0])
    json.dump({"choices": [vars(choice) for choice in choices], "error": error}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
