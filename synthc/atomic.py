"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
from collections.abc import Callable, Iterable
from pathlib import Path

#: Suffix of synthc's temporaries; a file ``<planned path>.partial`` is synthc's own.
PARTIAL_SUFFIX = ".partial"


def partial_path(path: Path) -> Path:
    """The temporary beside ``path`` that is renamed onto it when complete."""
    return path.with_name(path.name + PARTIAL_SUFFIX)


def write_atomic(path: Path, data: bytes | memoryview) -> None:
    """Write ``data`` to a temporary in the same directory, fsync it, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(path)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise
    fsync_dir(path.parent)


def write_atomic_by(path: Path, fill: Callable[[Path], None]) -> tuple[int, str]:
    """Let ``fill`` write the temporary of ``path``; fsync, hash and rename it into place.

    For writers that encode straight to a file (no copy through a Python buffer, and free to
    release the GIL while they do): the shard writers. Returns the file's ``(bytes, sha256
    hex)``, hashed from the page cache before the rename, so what is recorded is what was
    written. The rename is not fsynced here: a build fsyncs each shard directory once, before
    its manifest (:func:`fsync_dirs`), rather than once per shard; a shard whose rename a crash
    lost is missing, which the build state notices, never half-written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(path)
    try:
        fill(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
            size = os.fstat(handle.fileno()).st_size
            digest = hashlib.sha256()
            if size:
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
                    digest.update(view)
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise
    return size, digest.hexdigest()


def fsync_dirs(paths: Iterable[Path]) -> None:
    """Make the renames into the directories of ``paths`` durable: each directory fsynced once."""
    for directory in sorted({path.parent for path in paths}):
        fsync_dir(directory)


def _discard(tmp: Path) -> None:
    # A failed write (a full disk) must not leave a half-written temporary to fill it further.
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write atomically unless ``path`` already holds exactly ``data``; True if written.

    Leaving identical files alone keeps their mtimes, so Makefile rules see nothing new.
    """
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic(path, data)
    return True


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
