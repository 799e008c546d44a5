"""Numba's cache writes, made safe between processes that compile at once.

Numba keeps one index file per function, mapping each compiled signature to a data file. Saving
a new signature reads the index, picks the first free data file number, writes the index back,
then the data. Two processes that save different signatures of one function at the same time
can both pick number 1: the index then names one signature's file while it holds the other's
code, and a later build would run the wrong machine code for its arguments (numba/numba#10128
is the same race). synthc's own processes compile at once when a helper compiles ahead
(synthc.compile_ahead) and when process workers start on a cold cache, so each save here holds
an exclusive lock on ``<index>.lock`` from reading the index to writing the data.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from typing import Any

try:
    import fcntl
except ImportError:  # not POSIX: Numba's own behaviour
    fcntl = None  # type: ignore[assignment]


def install() -> bool:
    """Make Numba's cache saves hold the lock (once per process); False when this Numba has
    no such save to wrap, or the platform no ``flock``."""
    from numba.core import caching

    cache_file = getattr(caching, "IndexDataCacheFile", None)
    save = getattr(cache_file, "save", None)
    if fcntl is None or save is None:
        return False
    if getattr(save, "synthc_locked", False):
        return True
    cache_file.save = _locking(save)  # type: ignore[union-attr]
    return True


def _locking(save: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(save)
    def locked_save(self: Any, key: Any, data: Any) -> Any:
        with _locked(getattr(self, "_index_path", None)):
            return save(self, key, data)

    locked_save.synthc_locked = True  # type: ignore[attr-defined]
    return locked_save


@contextlib.contextmanager
def _locked(index_path: str | None) -> Iterator[None]:
    """Hold an exclusive lock on ``index_path + ".lock"``; without one if it cannot be made
    (a read-only cache: Numba's save fails there on its own)."""
    descriptor = None
    if index_path is not None:
        with contextlib.suppress(OSError):
            descriptor = os.open(index_path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if descriptor is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        if descriptor is not None:
            os.close(descriptor)
