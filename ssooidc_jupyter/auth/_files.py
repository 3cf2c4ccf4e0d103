"""Private files written atomically: the one way this package writes a secret to disk.

Used by the token cache and by the AWS config writer (``--export``): a temporary file in the
same directory (created 0600 with ``O_EXCL``), ``fsync``, ``os.replace``, ``fsync`` of the
directory; missing directories are created 0700. Readers see the old file or the new one,
never a mix, and a failure leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from .._secret import Secret

__all__ = ["atomic_write", "failure_advice", "make_private_dirs", "os_reason"]


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


def make_private_dirs(directory: Path) -> list[Path]:
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


def atomic_write(path: Path, data: bytes | Secret) -> None:
    """Replace *path* with *data* atomically; the file is 0600 from creation.

    Writes a temporary file in the same directory (``mkstemp`` creates it 0600 with
    ``O_EXCL``), fsyncs it, renames it over *path* with ``os.replace`` and fsyncs the
    directory. Readers see the old file or the new one, never a mix. On any failure the
    temporary file is removed, *path* is untouched, and the ``OSError`` propagates: callers
    turn it into their own error with advice.
    """
    directory = path.parent
    make_private_dirs(directory)
    # A dot name so that neither botocore (which only opens <key>.json) nor a person listing
    # the directory mistakes a leftover for a cache entry.
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            # A Secret (a cache entry) is unwrapped into the view only: a traceback through
            # this frame shows neither the text nor the bytes.
            view = memoryview(
                data.get_secret_value().encode() if isinstance(data, Secret) else data
            )
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


def failure_advice(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "Free some disk space (or raise the quota or file size limit) and try again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "Make the directory writable by this user (or set HOME to a writable place)"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return "Something that is not a directory is in the way of the cache path; move it aside"
    return "Check that the directory exists and is writable, then try again"


def os_reason(exc: OSError) -> str:
    # strerror only: str(exc) would repeat the path, and never carries file contents.
    return exc.strerror or type(exc).__name__
