"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

from synthc import cancellation

#: Suffix of synthc's temporaries: a file ``<planned path>.partial`` or
#: ``<planned path>.<tag>.partial`` (a shard writer's own) is synthc's.
PARTIAL_SUFFIX = ".partial"


def partial_path(path: Path) -> Path:
    """The temporary beside ``path`` that is renamed onto it when complete (files only the
    driver writes)."""
    return path.with_name(path.name + PARTIAL_SUFFIX)


def writer_partial_path(path: Path) -> Path:
    """A temporary beside ``path`` that no other writer uses: ``<name>.<pid>-<random>.partial``.

    Shards get one each: a Dask worker cut off from its scheduler may still be writing a shard
    when the scheduler has given the task to another worker. Each writes and renames its own
    complete file (the bytes are the same), instead of one truncating the other's temporary or
    renaming it away half-written.
    """
    tag = f"{os.getpid()}-{secrets.token_hex(4)}"
    return path.with_name(f"{path.name}.{tag}{PARTIAL_SUFFIX}")


def temporaries(paths: Iterable[Path]) -> list[Path]:
    """The temporaries of ``paths`` that exist: each one's :func:`partial_path` and every
    writer's (:func:`writer_partial_path`); each directory is listed once."""
    names: dict[Path, set[str]] = {}
    for path in paths:
        names.setdefault(path.parent, set()).add(path.name)
    found: list[Path] = []
    for directory, planned in names.items():
        try:
            entries = list(os.scandir(directory))
        except OSError:  # no such directory: no temporaries
            continue
        for entry in entries:
            if not entry.name.endswith(PARTIAL_SUFFIX):
                continue
            stem = entry.name[: -len(PARTIAL_SUFFIX)]
            base, _, tag = stem.rpartition(".")
            if stem in planned or (base in planned and _is_writer_tag(tag)):
                found.append(directory / entry.name)
    return sorted(found)


def _is_writer_tag(tag: str) -> bool:
    """``<pid>-<8 hex digits>``: a writer's, not any name that starts like a shard's."""
    pid, _, random = tag.partition("-")
    return pid.isdigit() and len(random) == 8 and all(c in "0123456789abcdef" for c in random)


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
    """Let ``fill`` write the temporary of ``path``; hash it and rename it into place.

    For writers that encode straight to a file (no copy through a Python buffer, and free to
    release the GIL while they do): the shard writers. Returns the file's ``(bytes, sha256
    hex)``, hashed from the page cache before the rename, so what is recorded is what was
    written. Nothing is fsynced here (a worker would wait on the disk for every shard): the
    build makes a shard's data durable (:func:`fsync_files`) before it saves a state that
    records the shard, and each shard directory once (:func:`fsync_dirs`) before the manifest.
    A shard a crash left unwritten is not in any saved state, so the next build writes it again.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = writer_partial_path(path)
    try:
        fill(tmp)
        with open(tmp, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            digest = hashlib.sha256()
            if size:
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
                    digest.update(view)
        cancellation.check()  # a cancelled Dask task puts nothing in place
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise
    return size, digest.hexdigest()


def fsync_files(paths: Iterable[Path]) -> None:
    """Make the data of each file in ``paths`` durable (written by :func:`write_atomic_by`)."""
    for path in paths:
        _fsync(path)


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
    _fsync(directory)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
