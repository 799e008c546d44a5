"""WebDataset shards: one tar per shard, ``<key>.<ext>`` members grouped by sample, in order.

Byte-reproducible: members are written in the order given with mtime 0, owner 0:0, no user or
group names and mode 0644, in the POSIX ustar format, so the same samples give the same bytes.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable
from pathlib import Path

from synthc.atomic import write_atomic_by

Sample = tuple[str, dict[str, bytes]]


def write_tar_shard(samples: Iterable[Sample], path: Path) -> tuple[int, str]:
    """Write ``samples`` (key, {extension: bytes}) to ``path`` atomically; (bytes, sha256).

    Samples are written as they arrive, so a stream is never held whole."""

    def fill(tmp: Path) -> None:
        with (
            open(tmp, "wb") as handle,
            tarfile.open(fileobj=handle, mode="w", format=tarfile.USTAR_FORMAT) as tar,
        ):
            for key, files in samples:
                for ext, data in files.items():
                    info = tarfile.TarInfo(f"{key}.{ext}")
                    info.size = len(data)
                    info.mtime = 0
                    info.mode = 0o644
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    tar.addfile(info, io.BytesIO(data))

    return write_atomic_by(path, fill)


def count_tar_samples(path: Path) -> int:
    """Samples in a WebDataset tar: distinct keys (the name up to its first dot). An
    uncompressed tar only, as synthc writes and reads them: a compressed one (a megabyte of xz
    can hold a million members) is a TarError, not decompressed."""
    keys: set[str] = set()
    with tarfile.open(path, mode="r:") as tar:
        for member in tar:
            if member.isfile():
                name = member.name.rsplit("/", 1)[-1]
                keys.add(member.name[: len(member.name) - len(name)] + name.split(".", 1)[0])
    return len(keys)


IMAGE_EXTENSIONS = ("png", "jpg")


def read_tar_members(
    path: Path, limit: int, exts: tuple[str, ...] = IMAGE_EXTENSIONS
) -> list[bytes]:
    """The first ``limit`` members whose extension is one of ``exts`` (for previews)."""
    found: list[bytes] = []
    with tarfile.open(path, mode="r:") as tar:
        for member in tar:
            if len(found) >= limit:
                break
            if member.isfile() and member.name.rsplit(".", 1)[-1] in exts:
                handle = tar.extractfile(member)
                if handle is not None:
                    found.append(handle.read())
    return found
