"""The sha256 of input files, remembered by their stat signature, as git's index does.

A spec's input files are hashed at every compile: their digests go into the plan and the
manifest. For trdg's Latin fonts (100 files, 24 MB) that was 60-70 ms of each `validate`,
`build` and no-op rebuild of an OCR spec, and again in each worker process that looked the
fonts up. A digest is kept on disk, in one file per directory
(``$XDG_CACHE_HOME/synthc/file-sha256/<sha256 of the directory's real path>.json``, default
``~/.cache/synthc``), under the file's name with its signature: device, inode, size, mtime and
ctime in nanoseconds. Writing a file's bytes changes its ctime, which no user can set back, so
a signature that still matches is a file that still holds the bytes hashed. The one exception,
a write within the same clock tick as the recorded one, is ruled out as git rules it out: a
digest is kept only for a file whose mtime and ctime were at least :data:`SETTLED_SECONDS`
old when it was read, and whose signature was the same after the read.

The cache is read as untrusted (synthc.cache_files): a file of the wrong shape is no cache.
Writes are atomic and best effort, without fsync (a lost one costs a hash next time).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synthc import cache_files

#: a file's digest is kept once its mtime and ctime are this much older than the read
SETTLED_SECONDS = 2.0
#: files remembered per directory (more are hashed each time)
MAX_FILES = 10_000
#: bytes of one directory's cache file (MAX_FILES entries fit well within)
MAX_BYTES = 4 * 1024 * 1024

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LOCK = threading.Lock()
#: per directory (its real path): name -> [device, inode, size, mtime_ns, ctime_ns, sha256]
_KNOWN: dict[str, dict[str, list[Any]]] = {}

Signature = tuple[int, int, int, int, int]


def signature(found: os.stat_result) -> Signature:
    """What identifies a file's bytes without reading them (see the module doc)."""
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


def sha256_of(
    path: Path, read: Callable[[], bytes], usable: Callable[[os.stat_result], bool]
) -> tuple[str, bytes | None]:
    """The hex sha256 of the file at ``path`` (a real path), and its bytes when they had to be
    read with ``read`` (which raises on a file it refuses): None when the digest was remembered
    for the file's signature, and ``usable`` accepts what stat says of it (a regular file within
    its size limit, the one checked earlier)."""
    begun = time.time_ns()
    try:
        before = os.stat(path)
    except OSError:
        before = None
    folder, name = os.path.split(os.fspath(path))
    if before is not None and usable(before):
        known = _folder(folder).get(name)
        if known is not None and tuple(known[:5]) == signature(before):
            return str(known[5]), None
    data = read()
    digest = hashlib.sha256(data).hexdigest()
    if before is not None and len(data) == before.st_size:
        settled = begun - int(SETTLED_SECONDS * 1e9)
        with contextlib.suppress(OSError):
            after = os.stat(path)
            same = signature(after) == signature(before)
            if same and max(before.st_mtime_ns, before.st_ctime_ns) <= settled:
                _remember(folder, name, [*signature(before), digest])
    return digest, data


def _cache_file(folder: str) -> str | None:
    key = hashlib.sha256(os.fsencode(folder)).hexdigest()
    return cache_files.cache_path("file-sha256", f"{key}.json")


def _folder(folder: str) -> dict[str, list[Any]]:
    """The remembered files of ``folder``, read from disk once per process."""
    with _LOCK:
        known = _KNOWN.get(folder)
    if known is not None:
        return known
    known = _valid(cache_files.read_cache_json(_cache_file(folder), MAX_BYTES))
    with _LOCK:
        return _KNOWN.setdefault(folder, known)


def _valid(found: Any) -> dict[str, list[Any]]:
    """The entries of a cache file's JSON, or none if any is not of the one shape written."""
    if type(found) is not dict or set(found) != {"files"} or type(found["files"]) is not dict:
        return {}
    files: dict[str, list[Any]] = found["files"]
    if len(files) > MAX_FILES:
        return {}
    for name, entry in files.items():
        if not name or "/" in name or "\0" in name or name in (".", ".."):
            return {}
        if type(entry) is not list or len(entry) != 6:
            return {}
        if any(type(n) is not int or n < 0 for n in entry[:5]):
            return {}
        if type(entry[5]) is not str or not _SHA256.match(entry[5]):
            return {}
    return files


def _remember(folder: str, name: str, entry: list[Any]) -> None:
    known = _folder(folder)
    with _LOCK:
        if known.get(name) == entry or (name not in known and len(known) >= MAX_FILES):
            return
        known[name] = entry
        data = json.dumps({"files": known}, separators=(",", ":")).encode()
    cache_files.write_cache(_cache_file(folder), data)  # no path: this process remembers
