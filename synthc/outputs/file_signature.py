"""What tells that a dataset's local file was replaced or removed since it was looked at,
without reading it: its size, modification time and inode; and the error an opened dataset
raises for a shard that is not the file (or store object) ``synthc.open`` found."""

from __future__ import annotations

import os
from pathlib import Path

from synthc.errors import OutputError

#: (size, mtime_ns, inode)
Signature = tuple[int, int, int]


def signature_of(found: os.stat_result) -> Signature:
    """The signature of a file from its ``os.stat`` result."""
    return (found.st_size, found.st_mtime_ns, found.st_ino)


def file_signature(path: Path) -> Signature | None:
    """``path``'s signature, None if it cannot be stat'ed (gone)."""
    try:
        return signature_of(os.stat(path))
    except OSError:
        return None


def changed_since_opened(root: object, where: str, opened: object, now: object) -> OutputError:
    """The error for the shard ``where`` of the dataset at ``root``, whose file's signature (a
    store object's stamp) is ``now`` and was ``opened`` when the dataset was opened (None: no
    file)."""
    what = "is gone" if now is None else "appeared" if opened is None else "was replaced"
    return OutputError(
        f"{root}: the dataset changed since it was opened ({where} {what}, a rebuild?); "
        "open it again with synthc.open"
    )
