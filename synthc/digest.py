"""file_sha256: the one helper that hashes a file's bytes (shards, fonts, state-listed files)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

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
