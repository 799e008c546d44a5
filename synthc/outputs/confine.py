"""The one place that confines a path read from an output directory (state, manifest) to it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from synthc.errors import OutputError, counted
from synthc.file_kinds import file_kind

#: bytes of one part of a path (NAME_MAX) and of a whole path (below PATH_MAX) synthc follows
#: from an output directory: a longer name is refused where it is read, not met as an OSError
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4000


def confined_name(name: object) -> str | None:
    """Why ``name`` is not a plain relative path inside an output directory, or None if it is."""
    if not isinstance(name, str):
        return f"a path must be a string, not {type(name).__name__}"
    if not name:
        return "empty path"
    if "\0" in name or "\\" in name:
        return "a NUL or backslash in a path"
    if any(ord(c) < 32 for c in name):
        return "a control character in a path"
    if name.startswith("/"):
        return "an absolute path"
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "a path with an empty, '.' or '..' part"
    encoded = [part.encode("utf-8", "surrogateescape") for part in parts]
    if any(len(part) > MAX_NAME_BYTES for part in encoded):
        return f"a path part longer than {MAX_NAME_BYTES} bytes"
    if sum(len(part) + 1 for part in encoded) > MAX_PATH_BYTES:
        return f"a path longer than {MAX_PATH_BYTES} bytes"
    return None


class Confiner:
    """Confines many names to one output directory, resolving each folder only once.

    A plan or state may name a million shards in a few split folders: resolving every full path
    again would cost a dozen system calls per name.
    """

    def __init__(self, out: Path, source: str) -> None:
        self.out = out
        self.source = source
        try:
            self._root = out.resolve()
        except (OSError, RuntimeError) as error:
            raise OutputError(f"{out}: cannot resolve the output directory ({error})") from None
        self._prefix = os.path.join(out, "")
        self._folders: dict[str, bool] = {}

    def __call__(self, name: object) -> Path:
        """``out / name`` if ``name`` stays inside ``out`` even after resolving symlinks.

        Raises OutputError naming the entry otherwise: an output directory is untrusted input,
        so a bad entry is never followed (no read, write or deletion through it).
        """
        why = confined_name(name)
        if why is None:
            assert isinstance(name, str)
            folder, _, _ = name.rpartition("/")
            inside = self._folders.get(folder)
            if inside is None:
                inside = self._folders[folder] = self._inside(self.out / folder, folder == "")
            if inside and (
                not os.path.islink(self._prefix + name) or self._inside(self.out / name, False)
            ):
                return self.out / name
            why = "it leaves the output directory (through a symlink)"
        raise OutputError(
            f"{self.source}: entry {name!r:.120} is refused: {why}; synthc follows no such path"
        )

    def _inside(self, path: Path, may_be_root: bool) -> bool:
        try:
            target = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop leads nowhere synthc may go
            return False
        return (may_be_root and target == self._root) or self._root in target.parents


def confine(out: Path, name: object, source: str) -> Path:
    """``out / name`` if ``name`` names a place inside ``out`` even after resolving symlinks.

    ``source`` names the file ``name`` was read from, for the error (see Confiner).
    """
    return Confiner(out, source)(name)


def open_regular(path: Path, size: int | None = None) -> BinaryIO:
    """``path`` opened for reading if it is a regular file (of ``size`` bytes, when given).

    Checked before the open (stat: a device is never opened) and on the open descriptor
    (fstat: one swapped in meanwhile is caught), and opened without blocking (a FIFO never
    waits for a writer), so what is checked is what is read. OutputError naming the file and
    what it is, or its size and ``size``; OSError (including FileNotFoundError) passes through
    for the caller to word.
    """
    _check_regular(path, os.stat(path), size)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    handle = os.fdopen(fd, "rb")
    try:
        _check_regular(path, os.fstat(fd), size)
        os.set_blocking(fd, True)
    except BaseException:
        handle.close()
        raise
    return handle


def _check_regular(path: Path, info: os.stat_result, size: int | None) -> None:
    what = file_kind(info.st_mode)
    if what is not None:
        raise OutputError(f"{path}: is not a regular file ({what})")
    if size is not None and info.st_size != size:
        raise OutputError(f"{path}: {counted(info.st_size, 'byte')}, the manifest says {size}")


def read_bounded(path: Path, limit: int, limit_name: str, error: type[OutputError]) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes in an output directory.

    Opened as :func:`open_regular` opens it (a FIFO or device never blocks or streams).
    ``error`` (naming ``limits.<limit_name>``) for a file that is not regular or too big;
    OSError (including FileNotFoundError) passes through for the caller to word.
    """
    try:
        handle = open_regular(path)
    except OutputError as refused:
        raise error(str(refused)) from None
    with handle:
        info = os.fstat(handle.fileno())
        if info.st_size > limit:
            raise error(
                f"{path}: {info.st_size} bytes exceeds the limit of {limit} bytes "
                f"(synthc.limits.{limit_name})"
            )
        return handle.read(limit + 1)
