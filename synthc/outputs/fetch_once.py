"""One fetch of a local copy, however many threads and processes want it at once.

A shard of a dataset opened from a store is fetched to a local cache when first read. Readers
that want it at once wait for one another: a lock per file among this process's threads, then
an ``flock`` on ``<file>.lock`` beside it among the processes sharing the cache (forked
DataLoader workers). The first fetches; the others find the file. The fetch writes a temporary
file of its own and renames it (:meth:`synthc.outputs.store.Store.download`), so no reader sees
a file half written.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable
from pathlib import Path

_GUARD = threading.Lock()
_LOCKS: dict[str, threading.Lock] = {}


def _forget_locks() -> None:
    """In a forked child: the parent's locks, possibly held by its other threads, are not its."""
    global _GUARD
    _GUARD = threading.Lock()
    _LOCKS.clear()


os.register_at_fork(after_in_child=_forget_locks)


def path_lock(path: Path) -> threading.Lock:
    """This process's lock for ``path``."""
    with _GUARD:
        return _LOCKS.setdefault(str(path), threading.Lock())


def fetched(path: Path, fetch: Callable[[], None]) -> Path:
    """``path``, after ``fetch()`` made it unless it is there or another reader made it."""
    if path.is_file():
        return path
    with path_lock(path):
        if path.is_file():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # released when closed
            if not path.is_file():
                fetch()
        finally:
            os.close(descriptor)
    return path
