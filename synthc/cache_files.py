"""Where synthc's own cache files are, and how they are read and written (a font's coverage,
this machine's Numba start, input files' digests, a pilot sample's scales).

A cache lies on the user's disk, where anything may stand at its path: it is read as untrusted,
like every file. One reader for all of them (:func:`read_cache_json`), through
synthc.regular_files.read_regular: only a regular file is opened, without blocking (a FIFO or a
device planted there never blocks or streams), and only up to its bound; the JSON is read strictly
(synthc.json_bounds). A cache file that is missing, not a regular file, too large, unreadable
or not strict JSON is no cache: the caller rebuilds it as if it were missing. One writer
(:func:`write_cache`): whole or not at all, each writer through its own temporary, best effort.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from synthc import regular_files
from synthc.atomic import writer_partial_path
from synthc.json_bounds import loads_strict


def cache_home() -> str | None:
    """Where the user's caches go: XDG_CACHE_HOME when it is an absolute path (the XDG rule:
    a relative one is ignored), else ``~/.cache``; None without a home (no HOME and no password
    entry, as for a container's arbitrary user id)."""
    home = os.environ.get("XDG_CACHE_HOME")
    if home and os.path.isabs(home):
        return home
    try:
        return os.path.join(Path.home(), ".cache")
    except RuntimeError:  # "~" unresolved: never a folder named "~" in the working directory
        return None


def own_temporary_dir() -> str | None:
    """``<temporary directory>/synthc-<uid>``, made private to this user; None if it is not
    (another user's, or open to others: what a cache holds is trusted, so a cache someone else
    can write to is theirs to poison)."""
    own = os.path.join(tempfile.gettempdir(), f"synthc-{os.getuid()}")
    try:
        os.makedirs(own, mode=0o700, exist_ok=True)
        found = os.lstat(own)
    except OSError:
        return None
    private = stat.S_ISDIR(found.st_mode) and not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return own if private and found.st_uid == os.getuid() else None


def cache_path(folder: str, name: str) -> str | None:
    """The path of the cache file ``name`` in synthc's cache ``folder``: under
    ``$XDG_CACHE_HOME/synthc``, default ``~/.cache/synthc``; without a home, under this user's
    private temporary directory (:func:`own_temporary_dir`); None (no cache) without either."""
    home = cache_home()
    base = os.path.join(home, "synthc") if home is not None else own_temporary_dir()
    return None if base is None else os.path.join(base, folder, name)


def read_cache_json(path: Path | str | None, max_bytes: int) -> Any:
    """The strict JSON held by the cache file ``path`` of at most ``max_bytes`` bytes; None when
    there is no usable one (see the module doc; also for a file holding JSON ``null``, and for
    no path: no cache, :func:`cache_path`)."""
    if path is None:
        return None
    try:
        data = regular_files.read_regular(path, "cache", os.fspath(path), limit=max_bytes)
        return loads_strict(data)
    except (ValueError, RecursionError):  # InputError is a ValueError, as is bad UTF-8
        return None


def write_cache(path: Path | str | None, data: bytes) -> None:
    """``data`` in place at the cache file ``path`` whole or not at all (a rename), through a
    temporary of this writer's own (processes that learn the same thing at once write the same
    file), without fsync: a cache lost in a crash is learnt again. Best effort: a cache that
    cannot be written is left as it is; no path (no cache, :func:`cache_path`) writes nothing."""
    if path is None:
        return
    path = Path(path)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = writer_partial_path(path)
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
