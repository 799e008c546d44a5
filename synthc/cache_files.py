"""Where synthc's own cache files are, and how they are read (a font's coverage, this
machine's Numba start, input files' digests).

A cache lies on the user's disk, where anything may stand at its path: it is read as untrusted,
like every file. One reader for all of them (:func:`read_cache_json`), through
synthc.inputs.read_regular: only a regular file is opened, without blocking (a FIFO or a device
planted there never blocks or streams), and only up to its bound; the JSON is read strictly
(synthc.json_bounds). A cache file that is missing, not a regular file, too large, unreadable
or not strict JSON is no cache: the caller rebuilds it as if it were missing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from synthc import inputs
from synthc.json_bounds import loads_strict


def cache_path(folder: str, name: str) -> str:
    """The path of the cache file ``name`` in synthc's cache ``folder``: under
    ``$XDG_CACHE_HOME/synthc``, default ``~/.cache/synthc``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "synthc", folder, name)


def read_cache_json(path: Path | str, max_bytes: int) -> Any:
    """The strict JSON held by the cache file ``path`` of at most ``max_bytes`` bytes; None when
    there is no usable one (see the module doc; also for a file holding JSON ``null``)."""
    try:
        data = inputs.read_regular(path, "cache", os.fspath(path), limit=max_bytes)
        return loads_strict(data)
    except (ValueError, RecursionError):  # InputError is a ValueError, as is bad UTF-8
        return None
