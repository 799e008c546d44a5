"""Reads of regular files only, within a size limit: how synthc reads every file it is handed
(a spec's inputs, synthc.inputs; its own cache files, synthc.cache_files).

A FIFO, a device, a socket or a directory standing where a file should be is refused by what it
is, never opened to wait or stream; a file over its kind's limit (``synthc.limits.
MAX_INPUT_BYTES``) is refused before it is read, and reading stops at the limit.
"""

from __future__ import annotations

import os
from pathlib import Path

from synthc import limits
from synthc.file_kinds import file_kind


class InputError(ValueError):
    """A file a spec names is refused or unreadable; ``missing`` when it does not exist."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def stat_of(real: Path, shown: str) -> os.stat_result:
    """``os.stat`` of ``real`` (symlinks followed); InputError naming ``shown`` if it fails."""
    try:
        return os.stat(real)
    except FileNotFoundError:
        raise InputError(f"{shown!r} does not exist", missing=True) from None
    except OSError as error:
        raise InputError(f"{shown!r}: cannot read: {error.strerror}") from None


def check_regular(info: os.stat_result, kind: str, shown: str, limit: int | None = None) -> None:
    """InputError naming ``shown`` unless ``info`` is a regular file within the limit of its
    ``kind`` (``limit`` bytes when given)."""
    what = file_kind(info.st_mode)
    if what == "a special file":
        raise InputError(f"{shown!r} is not a regular file")
    if what is not None:
        raise InputError(f"{shown!r} is {what}, not a regular file")
    bound = _limit(kind, limit)
    if info.st_size > bound:
        raise InputError(
            f"{shown!r} is {info.st_size} bytes, over the limit of {bound} bytes for a {kind} "
            f"file{_limit_named(kind, limit)}"
        )


def _limit(kind: str, limit: int | None) -> int:
    return limits.MAX_INPUT_BYTES[kind] if limit is None else limit


def _limit_named(kind: str, limit: int | None) -> str:
    return f" (synthc.limits.MAX_INPUT_BYTES[{kind!r}])" if limit is None else ""


def read_regular(
    path: Path | str,
    kind: str,
    shown: str,
    identity: tuple[int, int] | None = None,
    limit: int | None = None,
) -> bytes:
    """Bytes of the regular file ``path``, at most the limit of its ``kind`` (``limit`` bytes
    when given: a kind without one in ``synthc.limits.MAX_INPUT_BYTES``, such as a cache file).

    Checked before the open (stat) and after it (fstat): the open never blocks (``O_NONBLOCK``)
    and reading stops at the limit even if the file grows meanwhile. With ``identity`` (device,
    inode), the file opened must be the one checked earlier (no swap in between). The size
    fstat gives is read at once, into the bytes returned (no chunks joined); a file grown
    since is read on, to its end or past the limit.
    """
    check_regular(stat_of(Path(path), shown), kind, shown, limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise InputError(f"{shown!r}: cannot read: {error.strerror}") from None
    try:
        opened = os.fstat(fd)
        check_regular(opened, kind, shown, limit)
        if identity not in (None, (0, 0), (opened.st_dev, opened.st_ino)):
            raise InputError(f"{shown!r} was replaced while it was being read")
        bound = _limit(kind, limit)
        chunks, total = [], 0
        want = opened.st_size + 1  # at most the limit and one byte: the size was checked
        while total <= bound:
            chunk = os.read(fd, min(want, bound + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            want = 1 << 20  # a file grown since: read on in chunks, up to the bound
    except OSError as error:
        raise InputError(f"{shown!r}: cannot read: {error.strerror}") from None
    finally:
        os.close(fd)
    if total > bound:
        raise InputError(
            f"{shown!r} grew past the limit of {bound} bytes for a {kind} file"
            f"{_limit_named(kind, limit)}"
        )
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
