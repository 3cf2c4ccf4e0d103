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
* a cross-process lock (:meth:`TokenCache.lock`, :meth:`TokenCache.alock`) serialises
  read-modify-write cycles and sign-ins.

Nothing here ever puts a token, refresh token or client secret in a log line, warning,
exception message or ``repr``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import filelock

from ._exceptions import CacheError

__all__ = [
    "REGISTRATION_EXPIRY_WINDOW",
    "CacheLockTimeout",
    "CacheWarning",
    "CachedRegistration",
    "CachedToken",
    "TokenCache",
    "atomic_write",
    "cache_dir",
    "format_timestamp",
    "parse_timestamp",
    "registration_cache_key",
    "token_cache_key",
]

logger = logging.getLogger(__name__)

#: botocore's serialisation of datetimes in the SSO cache (``tokens._serialize_utc_timestamp``).
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

#: The CLI treats a registration as expired 15 minutes early (``_EXPIRY_WINDOW``).
REGISTRATION_EXPIRY_WINDOW = timedelta(minutes=15)

#: Key names must stay plain file names inside the cache directory: no separators, no dot
#: files (our temporary files start with a dot), nothing the CLI would not produce itself.
_KEY_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}")

_LOCK_POLL_SECONDS = 0.05

# Distinguishes "no usable file" from a file that holds JSON null (which must be warned about).
_ABSENT = object()


class CacheWarning(UserWarning):
    """A cache file exists but cannot be used (corrupt, truncated, foreign or unreadable)."""


class CacheLockTimeout(CacheError, TimeoutError):
    """Another process held the cache lock for longer than the timeout."""


# -- paths and keys -----------------------------------------------------------------------


def cache_dir() -> Path:
    """``~/.aws/sso/cache`` for the HOME of *this* call.

    botocore computes this at import time; we do not, so a kernel whose HOME changes (tests,
    ``os.environ["HOME"] = ...`` in a notebook) writes where the next ``aws`` process reads.
    """
    return Path(os.path.expanduser("~")) / ".aws" / "sso" / "cache"


def token_cache_key(session_name: str | None, start_url: str) -> str:
    """The token file name (without ``.json``) botocore and the CLI use.

    sha1 of the sso-session name, or of the start URL for legacy profiles that have none
    (``botocore.utils.SSOTokenLoader._generate_cache_key``).
    """
    input_str = start_url if session_name is None else session_name
    # sha1 is botocore's choice of file name, not a security measure.
    return hashlib.sha1(input_str.encode("utf-8"), usedforsecurity=False).hexdigest()


def registration_cache_key(
    *,
    start_url: str,
    region: str,
    scopes: Sequence[str] | None,
    session_name: str | None,
) -> str:
    """The client-registration file name the AWS CLI v2 uses.

    ``BaseSSOTokenFetcher._registration_cache_key`` in the CLI's botocore: all five members
    are always present (``None`` becomes JSON ``null``), default ``json.dumps`` separators,
    ``sort_keys=True``. ``scopes=None`` (no ``sso_registration_scopes`` in the config) and
    ``scopes=[]`` give different keys, exactly as in the CLI.
    """
    args = {
        "tool": "botocore",
        "startUrl": start_url,
        "region": region,
        "scopes": None if scopes is None else list(scopes),
        "session_name": session_name,
    }
    cache_args = json.dumps(args, sort_keys=True).encode("utf-8")
    return hashlib.sha1(cache_args, usedforsecurity=False).hexdigest()


# -- timestamps ---------------------------------------------------------------------------

_TIMESTAMP_RE = re.compile(
    r"""
    (?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})
    (?:[Tt\s]+
        (?P<hour>\d{1,2}):(?P<minute>\d{2})
        (?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?
    )?
    \s*
    (?P<tz>[Zz]|UTC|utc|GMT|gmt|[+-]\d{2}(?::?\d{2})?)?
    """,
    re.VERBOSE,
)


def parse_timestamp(value: object) -> datetime:
    """Parse a cache timestamp into an aware UTC datetime, as liberally as botocore does.

    botocore hands these strings to ``dateutil.parser.parse``; we accept what the AWS tools
    and their look-alikes actually write: ``Z``, ``+00:00``, ``+0000``, ``UTC``/``GMT``
    suffixes (also from ``strftime('%Z')``), fractional seconds of any length, a space
    instead of ``T``. A timestamp without a zone is taken as UTC (every writer means UTC).
    Raises ValueError for anything else.
    """
    if not isinstance(value, str):
        raise ValueError("timestamp is not a string")
    match = _TIMESTAMP_RE.fullmatch(value.strip())
    if match is None:
        raise ValueError("timestamp is not in ISO 8601 form")
    fraction = match["fraction"] or "0"
    # Round to microseconds the way dateutil does (truncate beyond 6 digits).
    microsecond = int(fraction[:6].ljust(6, "0"))
    offset = timedelta(0)
    tz_text = match["tz"]
    if tz_text and tz_text[0] in "+-":
        digits = tz_text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError("timestamp has an invalid UTC offset")
        offset = timedelta(hours=hours, minutes=minutes)
        if tz_text[0] == "-":
            offset = -offset
    try:
        parsed = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            int(match["second"] or 0),
            microsecond,
            tzinfo=timezone(offset),
        )
    except (ValueError, OverflowError):
        raise ValueError("timestamp is not a valid date and time") from None
    return parsed.astimezone(timezone.utc)


def format_timestamp(value: datetime) -> str:
    """botocore's cache format: ``2024-01-31T12:00:00Z`` (UTC, whole seconds)."""
    return _as_utc(value, "timestamp").strftime(_TIMESTAMP_FORMAT)


def _as_utc(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        # A naive datetime is a bug in the caller: local time or UTC cannot be guessed.
        raise ValueError(f"{what} must be timezone-aware")
    return value.astimezone(timezone.utc)


def _now_utc(now: datetime | None) -> datetime:
    return datetime.now(timezone.utc) if now is None else _as_utc(now, "now")


# -- JSON member helpers ------------------------------------------------------------------


def _required_str(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        # Name the member, never its value: it may be a secret.
        raise ValueError(f"member {name!r} is missing or not a non-empty string")
    return value


def _optional_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"member {name!r} is not a string")
    return value


def _required_timestamp(data: Mapping[str, Any], name: str) -> datetime:
    value = data.get(name)
    if value is None:
        raise ValueError(f"member {name!r} is missing")
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise ValueError(f"member {name!r}: {exc}") from None


def _optional_timestamp(data: Mapping[str, Any], name: str) -> datetime | None:
    return None if data.get(name) is None else _required_timestamp(data, name)


def _string_list(data: Mapping[str, Any], name: str) -> list[str] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"member {name!r} is not a list of strings")
    return list(value)


# -- the cached objects -------------------------------------------------------------------

_TOKEN_KEYS = frozenset(
    {
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "refreshToken",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
    }
)


@dataclass(frozen=True, repr=False)
class CachedToken:
    """An SSO access token as botocore caches it (``~/.aws/sso/cache/<key>.json``).

    ``extra`` holds members we do not know that were in a file written by another tool; they
    are written back unchanged by :meth:`to_json`, so a round trip through this package does
    not strip what, say, a newer CLI added. botocore itself drops them on its own refresh,
    which is its business. A freshly built token has no extras and serialises to exactly
    botocore's format.
    """

    start_url: str
    region: str
    access_token: str
    expires_at: datetime
    refresh_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    registration_expires_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # Normalise to UTC once so comparisons and to_json never meet a foreign zone.
        object.__setattr__(self, "expires_at", _as_utc(self.expires_at, "expires_at"))
        if self.registration_expires_at is not None:
            object.__setattr__(
                self,
                "registration_expires_at",
                _as_utc(self.registration_expires_at, "registration_expires_at"),
            )
        object.__setattr__(
            self, "extra", {k: v for k, v in self.extra.items() if k not in _TOKEN_KEYS}
        )

    def __repr__(self) -> str:
        return (
            f"CachedToken(start_url={self.start_url!r}, region={self.region!r}, "
            f"expires_at={format_timestamp(self.expires_at)!r})"
        )

    def to_json(self) -> dict[str, Any]:
        """The dict botocore writes (``SSOTokenProvider._attempt_create_token``)."""
        data: dict[str, Any] = {
            "startUrl": self.start_url,
            "region": self.region,
            "accessToken": self.access_token,
            "expiresAt": format_timestamp(self.expires_at),
        }
        if self.refresh_token is not None:
            data["refreshToken"] = self.refresh_token
        if self.client_id is not None:
            data["clientId"] = self.client_id
        if self.client_secret is not None:
            data["clientSecret"] = self.client_secret
        if self.registration_expires_at is not None:
            data["registrationExpiresAt"] = format_timestamp(self.registration_expires_at)
        for key, value in self.extra.items():
            data.setdefault(key, value)
        return data

    @classmethod
    def from_json(cls, data: object) -> CachedToken:
        """Build from what botocore or the CLI wrote; ValueError names the bad member."""
        if not isinstance(data, dict):
            raise ValueError("token cache file is not a JSON object")
        return cls(
            start_url=_required_str(data, "startUrl"),
            region=_required_str(data, "region"),
            access_token=_required_str(data, "accessToken"),
            expires_at=_required_timestamp(data, "expiresAt"),
            refresh_token=_optional_str(data, "refreshToken"),
            client_id=_optional_str(data, "clientId"),
            client_secret=_optional_str(data, "clientSecret"),
            registration_expires_at=_optional_timestamp(data, "registrationExpiresAt"),
            extra={k: v for k, v in data.items() if k not in _TOKEN_KEYS},
        )


_REGISTRATION_KEYS = frozenset({"clientId", "clientSecret", "expiresAt", "scopes", "grantTypes"})


@dataclass(frozen=True, repr=False)
class CachedRegistration:
    """An sso-oidc client registration as the AWS CLI v2 caches it.

    ``scopes`` is empty when the registration was made without scopes (the CLI then omits the
    member). ``grant_types`` is only written by the CLI's authorization-code flow; such a
    registration cannot be used for the device flow (see :meth:`usable`). Unknown members
    are kept in ``extra`` and written back, as for :class:`CachedToken`.
    """

    client_id: str
    client_secret: str
    expires_at: datetime
    scopes: list[str] = field(default_factory=list, hash=False)
    grant_types: list[str] | None = field(default=None, hash=False)
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "expires_at", _as_utc(self.expires_at, "expires_at"))
        object.__setattr__(self, "scopes", list(self.scopes))
        if self.grant_types is not None:
            object.__setattr__(self, "grant_types", list(self.grant_types))
        object.__setattr__(
            self, "extra", {k: v for k, v in self.extra.items() if k not in _REGISTRATION_KEYS}
        )

    def __repr__(self) -> str:
        return (
            f"CachedRegistration(expires_at={format_timestamp(self.expires_at)!r}, "
            f"scopes={self.scopes!r})"
        )

    @property
    def supports_device_flow(self) -> bool:
        """False for a registration the CLI made for its authorization-code flow.

        Same test as the CLI's ``_is_registration_for_auth_code``: such a client was not
        registered for the device grant, so reusing it would fail at the service.
        """
        return not (self.grant_types and "authorization_code" in self.grant_types)

    def usable(self, now: datetime | None = None) -> bool:
        """True until 15 minutes before expiry (the CLI's window), for the device flow."""
        remaining = self.expires_at - _now_utc(now)
        return remaining >= REGISTRATION_EXPIRY_WINDOW and self.supports_device_flow

    def to_json(self) -> dict[str, Any]:
        """The dict the CLI writes (``SSOTokenFetcher._register_client``)."""
        data: dict[str, Any] = {
            "clientId": self.client_id,
            "clientSecret": self.client_secret,
            "expiresAt": format_timestamp(self.expires_at),
        }
        # The CLI omits "scopes" when it registered without any; keep that shape.
        if self.scopes:
            data["scopes"] = list(self.scopes)
        if self.grant_types is not None:
            data["grantTypes"] = list(self.grant_types)
        for key, value in self.extra.items():
            data.setdefault(key, value)
        return data

    @classmethod
    def from_json(cls, data: object) -> CachedRegistration:
        """Build from what the CLI wrote; ValueError names the bad member."""
        if not isinstance(data, dict):
            raise ValueError("registration cache file is not a JSON object")
        if "accessToken" in data:
            # A token file carries clientId/clientSecret too (botocore caches the registration
            # alongside the token); its accessToken is what tells them apart.
            raise ValueError("file holds an SSO token, not a client registration")
        return cls(
            client_id=_required_str(data, "clientId"),
            client_secret=_required_str(data, "clientSecret"),
            expires_at=_required_timestamp(data, "expiresAt"),
            scopes=_string_list(data, "scopes") or [],
            grant_types=_string_list(data, "grantTypes"),
            extra={k: v for k, v in data.items() if k not in _REGISTRATION_KEYS},
        )


# -- atomic writes ------------------------------------------------------------------------


def _fsync_directory(directory: Path) -> None:
    # Makes the rename durable across a power cut; not possible everywhere (Windows, some
    # network file systems), and the data itself is already fsynced, so best effort.
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _make_private_dirs(directory: Path) -> list[Path]:
    """Create *directory* and missing parents with 0700; return those we created."""
    missing: list[Path] = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    if not missing and not directory.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory))
    created: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            # Another process won the race; its directory is as good as ours.
            continue
        # mkdir's mode is filtered by the umask, which can only remove bits; chmod anyway so
        # an odd umask (or ACL default) cannot leave it wider.
        with contextlib.suppress(OSError):
            os.chmod(path, 0o700)
        created.append(path)
    return created


def atomic_write(path: Path, data: bytes) -> None:
    """Replace *path* with *data* atomically; the file is 0600 from creation.

    Writes a temporary file in the same directory (``mkstemp`` creates it 0600 with
    ``O_EXCL``), fsyncs it, renames it over *path* with ``os.replace`` and fsyncs the
    directory. Readers see the old file or the new one, never a mix. On any failure the
    temporary file is removed, *path* is untouched, and the ``OSError`` propagates: callers
    turn it into their own error with advice.
    """
    directory = path.parent
    _make_private_dirs(directory)
    # A dot name so that neither botocore (which only opens <key>.json) nor a person listing
    # the directory mistakes a leftover for a cache entry.
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_directory(directory)


# -- the cache ----------------------------------------------------------------------------


def _failure_advice(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "Free some disk space (or raise the quota or file size limit) and try again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "Make the directory writable by this user (or set HOME to a writable place)"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return "Something that is not a directory is in the way of the cache path; move it aside"
    return "Check that the directory exists and is writable, then try again"


def _reason(exc: OSError) -> str:
    # strerror only: str(exc) would repeat the path, and never carries file contents.
    return exc.strerror or type(exc).__name__


class TokenCache:
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
        """``<dir>/<key>.json``, where the CLI looks for the client registration."""
        return self._path(key, ".json")

    def lock_path(self, key: str) -> Path:
        """``<dir>/<key>.lock``; botocore only ever opens ``.json`` files, so it is ignored."""
        return self._path(key, ".lock")

    # loading

    def _load_json(self, path: Path) -> object:
        """The parsed file, or ``_ABSENT`` (missing, or unusable and already warned about)."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return _ABSENT
        except OSError as exc:
            self._warn(path, f"cannot be read ({_reason(exc)})", stacklevel=4)
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
        created = _make_private_dirs(directory)
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

    def _save(self, path: Path, data: dict[str, Any], what: str) -> None:
        payload = json.dumps(data).encode("utf-8")
        try:
            self._ensure_directory()
            atomic_write(path, payload)
        except OSError as exc:
            raise CacheError(
                f"Could not save the SSO {what} to {path}: {_reason(exc)}. "
                f"{_failure_advice(exc)}; the previous file, if any, is unchanged."
            ) from None
        logger.debug("Saved SSO %s to %s", what, path)

    def save_token(self, key: str, token: CachedToken) -> None:
        """Atomically write *token* to ``<key>.json`` (0600, directory 0700)."""
        self._save(self.token_path(key), token.to_json(), "token")

    def save_registration(self, key: str, registration: CachedRegistration) -> None:
        """Atomically write *registration* to ``<key>.json`` (0600, directory 0700)."""
        self._save(self.registration_path(key), registration.to_json(), "client registration")

    # deleting

    def _delete(self, path: Path, what: str) -> bool:
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise CacheError(
                f"Could not delete the SSO {what} {path}: {_reason(exc)}. "
                f"Delete it by hand to sign out."
            ) from None
        logger.debug("Deleted SSO %s %s", what, path)
        return True

    def delete_token(self, key: str) -> bool:
        """Remove ``<key>.json``; True if there was one. Missing is fine (logout twice)."""
        return self._delete(self.token_path(key), "token")

    def delete_registration(self, key: str) -> bool:
        """Remove ``<key>.json``; True if there was one."""
        return self._delete(self.registration_path(key), "client registration")

    # locking

    def _file_lock(self, key: str) -> filelock.BaseFileLock:
        path = self.lock_path(key)
        try:
            self._ensure_directory()
        except OSError as exc:
            raise CacheError(
                f"Could not create the SSO cache directory {path.parent}: "
                f"{_reason(exc)}. {_failure_advice(exc)}."
            ) from None
        # A fresh instance per call (no singleton): two lock() calls in one process then hold
        # two descriptors and exclude each other like two processes would. thread_local=False
        # so a lock taken in one thread may be released in another (executor hand-offs).
        return filelock.FileLock(str(path), mode=0o600, thread_local=False)

    @staticmethod
    def _timeout_error(path: Path, timeout: float | None) -> CacheLockTimeout:
        return CacheLockTimeout(
            f"Another process has held the SSO cache lock {path} for more than {timeout} s "
            f"(probably a sign-in in another notebook or terminal). Finish or cancel it and "
            f"try again."
        )

    @contextlib.contextmanager
    def lock(self, key: str, timeout: float | None = None) -> Iterator[None]:
        """Hold the cross-process lock ``<key>.lock`` for the ``with`` block.

        ``timeout=None`` waits forever; otherwise :class:`CacheLockTimeout` after *timeout*
        seconds. Blocks the calling thread: in a coroutine use :meth:`alock`.
        """
        flock = self._file_lock(key)
        try:
            flock.acquire(timeout=-1 if timeout is None else timeout)
        except filelock.Timeout:
            raise self._timeout_error(self.lock_path(key), timeout) from None
        except OSError as exc:
            raise CacheError(
                f"Could not lock {self.lock_path(key)}: {_reason(exc)}. {_failure_advice(exc)}."
            ) from None
        try:
            yield
        finally:
            flock.release()

    @contextlib.asynccontextmanager
    async def alock(self, key: str, timeout: float | None = None) -> AsyncIterator[None]:
        """:meth:`lock` for coroutines: polls every 50 ms without blocking the event loop."""
        flock = self._file_lock(key)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                flock.acquire(timeout=0)
                break
            except filelock.Timeout:
                if deadline is not None and time.monotonic() >= deadline:
                    raise self._timeout_error(self.lock_path(key), timeout) from None
            except OSError as exc:
                raise CacheError(
                    f"Could not lock {self.lock_path(key)}: {_reason(exc)}. {_failure_advice(exc)}."
                ) from None
            await asyncio.sleep(_LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            flock.release()
