"""The one place that confines a path read from an output directory (state, manifest) to it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from synthc.errors import OutputError


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
            f"{self.source}: entry {name!r} is refused: {why}; synthc follows no such path"
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


def read_bounded(path: Path, limit: int, limit_name: str, error: type[OutputError]) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes in an output directory.

    Opened without blocking and checked on the open descriptor (a FIFO or device swapped in
    never blocks or streams), so what is checked is what is read. ``error`` (naming
    ``limits.<limit_name>``) for a file that is not regular or too big; OSError (including
    FileNotFoundError) passes through for the caller to word.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: is not a regular file")
        if info.st_size > limit:
            raise error(
                f"{path}: {info.st_size} bytes exceeds the limit of {limit} bytes "
                f"(synthc.limits.{limit_name})"
            )
        return handle.read(limit + 1)
