"""file_sha256: the one helper that hashes a file's bytes (shards, fonts, state-listed files)."""

from __future__ import annotations

import hashlib
from pathlib import Path

#: read size: large shards are hashed without holding them in memory
_CHUNK = 1 << 22


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
