"""What tells that a dataset's local file was replaced or removed since it was looked at,
without reading it: its size, modification time and inode."""

from __future__ import annotations

import os
from pathlib import Path

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
