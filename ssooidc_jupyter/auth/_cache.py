"""The SSO token cache shared with the AWS CLI v2 and botocore (``~/.aws/sso/cache``).

File names and JSON shapes are exactly those of botocore's ``SSOTokenLoader`` /
``SSOTokenProvider`` and the CLI's ``SSOTokenFetcher``, so a token saved here is used by
``aws s3 ls --profile x`` and ``boto3.Session(profile_name="x")``, and a token from
``aws sso login`` is used here.

What this cache does better than theirs:

* writes are atomic (temporary file in the same directory, ``fsync``, ``os.replace``), so a
  parallel reader never sees half-written JSON, and a failed write leaves the old file intact;
* files are ``0600`` from the moment they exist, and the cache directory is ``0700``;
* a corrupt or foreign file is reported with a :class:`CacheWarning` and treated as absent,
  never deleted and never allowed to crash the caller;
* a cross-process lock (:meth:`TokenCache.lock`, :meth:`TokenCache.alock`, from
  ``_cachelock.py``: this module is the file store, that one the lock loop) serialises
  read-modify-write cycles and sign-ins; its files live in a private ``.locks/``
  subdirectory (0700), out of the way of the AWS CLI and of people listing the cache;
* a shared host is taken seriously: a lock that is a symbolic link is refused with an error
  saying so, a cache directory that is a link, world-writable or another user's is warned
  about (:class:`CacheWarning`), and tokens are never written into another user's directory.

Nothing here ever puts a token, refresh token or client secret in a log line, warning,
exception message or ``repr``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import stat
import warnings
from collections.abc import Sequence
from pathlib import Path

from .._exceptions import CacheError, CacheLockTimeout, CacheWarning
from .._secret import Secret
from ._cachelock import LOCK_DIRECTORY, LOCK_POLL_SECONDS, CacheLocks
from ._files import atomic_write, failure_advice, make_private_dirs, os_reason
from ._models import (
    CachedRegistration,
    CachedToken,
    legacy_registration_key,
    registration_cache_key,
)

__all__ = [
    "LOCK_DIRECTORY",
    "LOCK_POLL_SECONDS",
    "CacheLockTimeout",
    "CacheWarning",
    "TokenCache",
    "cache_dir",
    "registration_key",
]

logger = logging.getLogger(__name__)

#: Key names must stay plain file names inside the cache directory: no separators, no dot
#: files (our temporary files start with a dot), nothing the CLI would not produce itself.
_KEY_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}")

# (directory, problem) pairs already warned about: a warning per process, not per call.
_warned: set[tuple[str, str]] = set()

# Distinguishes "no usable file" from a file that holds JSON null (which must be warned about).
_ABSENT = object()


def registration_key(
    *,
    start_url: str,
    region: str,
    scopes: Sequence[str] | None,
    session_name: str | None,
    legacy: bool = False,
) -> str:
    """The key of a sign-in's client registration, as the AWS CLI v2 names the file: for a
    legacy profile (no sso-session) the CLI's one ``botocore-client-id-<region>`` per region,
    else the sha1 of the registration's parameters as JSON (:func:`registration_cache_key`).
    Never a token's key, which hashes the session name or start URL alone."""
    if legacy:
        return legacy_registration_key(region)
    return registration_cache_key(
        start_url=start_url, region=region, scopes=scopes, session_name=session_name
    )


def cache_dir() -> Path:
    """``~/.aws/sso/cache`` for the HOME of *this* call.

    botocore computes this at import time; we do not, so a kernel whose HOME changes (tests,
    ``os.environ["HOME"] = ...`` in a notebook) writes where the next ``aws`` process reads.
    """
    return Path(os.path.expanduser("~")) / ".aws" / "sso" / "cache"


class TokenCache(CacheLocks):
    """The SSO token cache in *directory*, by default ``~/.aws/sso/cache`` of the current HOME.

    Token and registration files share the directory and the ``<key>.json`` naming, as in
    the CLI; they differ only by key (see :func:`token_cache_key` and
    :func:`registration_cache_key`).

    Loading never raises and never deletes: a missing file is ``None``; an unusable file is
    ``None`` plus a :class:`CacheWarning` naming the path. Saving is atomic and raises
    :class:`~ssooidc_jupyter.CacheError` (with the old file intact) when it cannot write.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        self._directory = None if directory is None else Path(directory)

    def __repr__(self) -> str:
        where = "default" if self._directory is None else str(self._directory)
        return f"TokenCache({where!r})"

    @property
    def directory(self) -> Path:
        """The cache directory, recomputed from HOME on every call when not given."""
        return cache_dir() if self._directory is None else self._directory

    # paths

    def _path(self, key: str, suffix: str) -> Path:
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
            # A programming error, and a guard against writing outside the directory.
            raise ValueError("cache key must be a plain file name such as a sha1 hex digest")
        return self.directory / f"{key}{suffix}"

    def token_path(self, key: str) -> Path:
        """``<dir>/<key>.json``, where botocore looks for the token."""
        return self._path(key, ".json")

    def registration_path(self, key: str) -> Path:
        """``<dir>/<key>.json`` for a key of :func:`registration_key`: the CLI names token and
        registration files alike, so only the key tells them apart (see
        :meth:`registration_path_for`, which derives it)."""
        return self._path(key, ".json")

    def registration_path_for(
        self,
        *,
        start_url: str,
        region: str,
        scopes: Sequence[str] | None,
        session_name: str | None,
        legacy: bool = False,
    ) -> Path:
        """Where the client registration of this sign-in lives (the AWS CLI v2's file)."""
        key = registration_key(
            start_url=start_url,
            region=region,
            scopes=scopes,
            session_name=session_name,
            legacy=legacy,
        )
        return self.registration_path(key)

    def lock_path(self, key: str) -> Path:
        """``<dir>/.locks/<key>.lock``: a subdirectory no AWS tool looks into."""
        return self._path(key, ".lock").parent / LOCK_DIRECTORY / f"{key}.lock"

    # a shared host

    def directory_problems(self) -> list[str]:
        """What is unsafe about the cache directory on a shared host (empty: nothing)."""
        directory = self.directory
        problems: list[str] = []
        try:
            link = os.lstat(directory)
            st = directory.stat()
        except OSError:
            return problems  # missing (we create it 0700) or unreachable (reported on use)
        if stat.S_ISLNK(link.st_mode):
            problems.append(f"is a symbolic link (to {os.readlink(directory)})")
        if st.st_mode & stat.S_IWOTH:
            problems.append("is writable by every user")
        if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
            problems.append(f"is owned by another user (uid {st.st_uid})")
        return problems

    def _warn_directory(self) -> None:
        directory = str(self.directory)
        fresh = [p for p in self.directory_problems() if (directory, p) not in _warned]
        if not fresh:
            return
        _warned.update((directory, p) for p in fresh)
        message = (
            f"The SSO cache directory {directory} {' and '.join(fresh)}: on a shared host "
            "another user could read, replace or plant files there. Make it a directory of "
            "your own with mode 0700 (or set HOME to one)."
        )
        logger.debug("%s", message)
        warnings.warn(message, CacheWarning, stacklevel=5)

    def unwritable_reason(self) -> str | None:
        """Why no token may be written here, or None.

        The directory (or, while it does not exist, its nearest existing parent) must be
        writable by this process, and neither may belong to another user: a token written
        there would be theirs to read (root's parents, such as ``/tmp``, are fine)."""
        directory = self.directory
        probe = directory
        while not os.path.lexists(probe) and probe.parent != probe:
            probe = probe.parent
        try:
            st = probe.stat()
        except OSError as exc:
            return f"{probe} cannot be examined ({os_reason(exc)})"
        # A parent we would create the directory in may be root's (/tmp); any other user's
        # (a HOME not ours) could rename our directory away and plant their own.
        foreign = hasattr(os, "geteuid") and st.st_uid != os.geteuid()
        if foreign and (probe == directory or st.st_uid != 0):
            return f"{probe} is owned by another user (uid {st.st_uid})"
        if not os.access(probe, os.W_OK | os.X_OK):
            return f"{probe} is not writable by this user"
        return None

    # loading

    def _load_json(self, path: Path) -> object:
        """The parsed file, or ``_ABSENT`` (missing, or unusable and already warned about)."""
        try:
            raw = _read_entry(path)
        except FileNotFoundError:
            return _ABSENT
        except OSError as exc:
            self._warn(path, f"cannot be read ({os_reason(exc)})", stacklevel=4)
            return _ABSENT
        except _Unsafe as exc:
            self._warn(path, str(exc), stacklevel=4)
            return _ABSENT
        try:
            data: object = json.loads(raw)
        except (ValueError, RecursionError):
            # ValueError covers truncated JSON and undecodable bytes; never show either.
            self._warn(path, "is not valid JSON (truncated or corrupt)", stacklevel=4)
            return _ABSENT
        return data

    @staticmethod
    def _warn(path: Path, problem: str, *, stacklevel: int = 3) -> None:
        # stacklevel points the warning at the caller of load_token/load_registration.
        message = (
            f"Ignoring SSO cache file {path}: it {problem}. It was left in place; "
            f"sign in again to replace it, or delete it if it is not yours."
        )
        logger.debug("%s", message)
        warnings.warn(message, CacheWarning, stacklevel=stacklevel)

    def load_token(self, key: str) -> CachedToken | None:
        """The token in ``<key>.json``, or None (see the class docstring)."""
        path = self.token_path(key)
        data = self._load_json(path)
        if data is _ABSENT:
            return None
        try:
            return CachedToken.from_json(data)
        except ValueError as exc:
            self._warn(path, f"is not an SSO token ({exc})")
            return None

    def load_registration(self, key: str) -> CachedRegistration | None:
        """The client registration in ``<key>.json``, or None (see the class docstring)."""
        path = self.registration_path(key)
        data = self._load_json(path)
        if data is _ABSENT:
            return None
        try:
            return CachedRegistration.from_json(data)
        except ValueError as exc:
            self._warn(path, f"is not a client registration ({exc})")
            return None

    # saving

    def _ensure_directory(self) -> Path:
        directory = self.directory
        created = make_private_dirs(directory)
        if self._directory is None and not created:
            # ~/.aws/sso/cache is ours by definition; the CLI creates it 0755 (umask), which
            # lets other local users list whose sessions exist. Only the default directory
            # is tightened: a directory the caller chose may be shared on purpose.
            with contextlib.suppress(OSError):
                st = directory.stat()
                owned = not hasattr(os, "getuid") or st.st_uid == os.getuid()
                if owned and st.st_mode & 0o077:
                    os.chmod(directory, 0o700)
        return directory

    def _save(self, path: Path, payload: Secret, what: str) -> None:
        self._warn_directory()
        st = _stat_or_none(self.directory)
        if st is not None and hasattr(os, "geteuid") and st.st_uid != os.geteuid():
            # Its owner could read the token; as root we would hand them our session.
            raise CacheError(
                f"Not saving the SSO {what} to {self.directory}: the directory is owned by "
                f"another user (uid {st.st_uid}). Use a cache directory of your own (or set "
                "HOME to one)."
            )
        try:
            self._ensure_directory()
            atomic_write(path, payload)
        except OSError as exc:
            raise CacheError(
                f"Could not save the SSO {what} to {path}: {os_reason(exc)}. "
                f"{failure_advice(exc)}; the previous file, if any, is unchanged."
            ) from exc
        logger.debug("Saved SSO %s to %s", what, path)

    def save_token(self, key: str, token: CachedToken) -> None:
        """Atomically write *token* to ``<key>.json`` (0600, directory 0700)."""
        self._save(self.token_path(key), _serialized(token), "token")

    def save_registration(self, key: str, registration: CachedRegistration) -> None:
        """Atomically write *registration* to ``<key>.json`` (0600, directory 0700)."""
        self._save(self.registration_path(key), _serialized(registration), "client registration")

    # deleting

    def _delete(self, path: Path, what: str) -> bool:
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise CacheError(
                f"Could not delete the SSO {what} {path}: {os_reason(exc)}. "
                f"Delete it by hand to sign out."
            ) from exc
        logger.debug("Deleted SSO %s %s", what, path)
        return True

    def delete_token(self, key: str) -> bool:
        """Remove ``<key>.json``; True if there was one. Missing is fine (logout twice)."""
        return self._delete(self.token_path(key), "token")

    def delete_registration(self, key: str) -> bool:
        """Remove ``<key>.json``; True if there was one."""
        return self._delete(self.registration_path(key), "client registration")

    @staticmethod
    def _timeout_error(path: Path, timeout: float | None) -> CacheLockTimeout:
        return CacheLockTimeout(
            f"Another process has held the SSO cache lock {path} for more than {timeout} s "
            f"(probably a sign-in in another notebook or terminal). Finish or cancel it and "
            f"try again."
        )


#: No cache entry is anywhere near this (a token file is ~2-5 KB).
MAX_ENTRY_BYTES = 1024 * 1024


class _Unsafe(Exception):
    """A cache entry that must not be used; the message says why (never its content)."""


def _serialized(entry: CachedToken | CachedRegistration) -> Secret:
    """The file's content, wrapped: one expression, so the plain JSON never sits in a local
    of a frame that can raise (the write that may fail gets the Secret)."""
    return Secret(json.dumps(entry.to_json()))


def _read_entry(path: Path) -> bytes:
    """The bytes of a cache entry that is a regular file of ours (or root's), read through one
    descriptor so that what is checked is what is read.

    A file of another user is refused: on a shared host, a co-tenant who can write to the
    directory could otherwise make us use *their* session (and upload our data to it)."""
    # O_NONBLOCK: a FIFO planted under the entry's name must not hang the kernel.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Unsafe("cannot be read (not a regular file)")
        if hasattr(os, "geteuid") and st.st_uid not in (os.geteuid(), 0):
            raise _Unsafe(f"is owned by another user (uid {st.st_uid})")
        if st.st_size > MAX_ENTRY_BYTES:
            raise _Unsafe(f"is far too large for a cache entry ({st.st_size} bytes)")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read(MAX_ENTRY_BYTES + 1)
    finally:
        os.close(fd)


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None
