"""file_sha256: the one helper that hashes a file's bytes (shards, fonts, state-listed files);
Hashing: a file hashed as a reader reads it, so it is read once."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any, BinaryIO

#: read size: large shards are hashed without holding them in memory
_CHUNK = 1 << 22


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes, read in chunks."""
    with open(path, "rb") as handle:
        return handle_sha256(handle)


def handle_sha256(handle: BinaryIO) -> str:
    """The hex sha256 of the bytes left in an open file, read in chunks."""
    digest = hashlib.sha256()
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


class Hashing(io.RawIOBase):
    """A file read once, front to back, hashing and counting the bytes as they pass."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.digest = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._handle.read(len(view))
        view[: len(data)] = data
        self.digest.update(data)
        self.count += len(data)
        return len(data)

    def finish(self) -> str:
        """The hex sha256 of the whole file: what is left is read and hashed too."""
        while chunk := self._handle.read(_CHUNK):
            self.digest.update(chunk)
            self.count += len(chunk)
        return self.digest.hexdigest()
