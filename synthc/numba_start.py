"""How long starting Numba takes on this machine: its import and its first kernel loaded from
the cache.

Tiny table builds and `synthc sample` run their kernels as plain Python while that is quicker
than starting Numba would be (synthc.plain_first, synthc.one_sample). That start is about half a
second on one machine and twice that on a slower one, so a fixed deadline sends a slow machine's
tiny builds to Numba when plain Python would have finished first. A process whose first kernel
comes from Numba's cache records how long the start took (:func:`record`, called by
synthc.generators.jit); later processes read the median of the last few (:func:`typical`).

The record is a small JSON file in synthc's kernel cache directory. It is this machine's own
measure, yet read as untrusted like every file (synthc.cache_files: a regular file, opened
without blocking, size-bounded, strict JSON; anything else is no record), and only finite
numbers in a sane range are used, so a damaged or planted file changes a deadline within its
bounds at most.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading

from synthc.cache_files import read_cache_json

#: the record's file name in the kernel cache directory
FILE = "numba-start.json"
#: how many of the latest measures are kept; their median is used
KEEP = 5
#: a record larger than this is not read
MAX_BYTES = 1024
#: measures outside this range (seconds) are dropped as nonsense
SANE = (0.01, 60.0)


def _measures(folder: str) -> list[float]:
    """The measures recorded in ``folder``, each sane; [] when there is no usable record."""
    found = read_cache_json(os.path.join(folder, FILE), MAX_BYTES)
    if not isinstance(found, list):
        return []
    low, high = SANE
    return [
        float(x)
        for x in found[-KEEP:]
        if isinstance(x, int | float)
        and not isinstance(x, bool)
        and math.isfinite(x)
        and low <= x <= high
    ]


def typical(folder: str) -> float | None:
    """The median of the last :data:`KEEP` starts recorded in ``folder`` (the kernel cache
    directory, synthc.generators.jit.kernel_cache_dir), in seconds; None when none is."""
    measures = sorted(_measures(folder))
    if not measures:
        return None
    middle = len(measures) // 2
    return measures[middle] if len(measures) % 2 else (measures[middle - 1] + measures[middle]) / 2


def record(folder: str, seconds: float) -> None:
    """Add ``seconds`` (one start) to the record in ``folder``, keeping the last :data:`KEEP`.
    Best effort: a cache directory that cannot be written is left as it is."""
    low, high = SANE
    if not (math.isfinite(seconds) and low <= seconds <= high):
        return
    measures = [*_measures(folder), round(seconds, 3)][-KEEP:]
    path = os.path.join(folder, FILE)
    temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.partial"
    with contextlib.suppress(OSError):
        os.makedirs(folder, exist_ok=True)
        try:
            with open(temporary, "w") as out:
                json.dump(measures, out)
            os.replace(temporary, path)  # builds recording at once: one whole record wins
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def deadline(folder: str, default: float, bounds: tuple[float, float]) -> float:
    """How long plain-Python kernels may take before compiled ones would have been quicker:
    this machine's typical start (recorded in ``folder``) within ``bounds``, or ``default``
    before any is recorded."""
    measured = typical(folder)
    if measured is None:
        return default
    low, high = bounds
    return min(max(measured, low), high)
