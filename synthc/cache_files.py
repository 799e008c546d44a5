"""Reads of synthc's own cache files (a font's coverage, this machine's Numba start).

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


def read_cache_json(path: Path | str, max_bytes: int) -> Any:
    """The strict JSON held by the cache file ``path`` of at most ``max_bytes`` bytes; None when
    there is no usable one (see the module doc; also for a file holding JSON ``null``)."""
    try:
        data = inputs.read_regular(path, "cache", os.fspath(path), limit=max_bytes)
        return loads_strict(data)
    except (ValueError, RecursionError):  # InputError is a ValueError, as is bad UTF-8
        return None
