"""Numba's cache, shared safely between synthc processes that compile at once.

synthc's processes compile at once when a helper compiles a build's late kernels ahead
(synthc.compile_ahead) and when process workers start on a cold cache. Two locks, both
``flock`` on small files beside the function's index in the cache directory:

* **Saves** (``<index>.lock``). Numba keeps one index file per function, mapping each compiled
  signature to a data file. Saving a new signature reads the index, picks the first free data
  file number, writes the index back, then the data. Two processes that save different
  signatures of one function at the same time can both pick number 1: the index then names one
  signature's file while it holds the other's code, and a later build would run the wrong
  machine code for its arguments (numba/numba#10128 is the same race). Each save holds an
  exclusive lock from reading the index to writing the data.
* **Compiles** (``<index>.compiling``). While a process compiles a cached function (from its
  cache lookup to its save, its callees' compiles nested inside), it holds this lock; a process
  that misses the cache on that function meanwhile waits for it (at most WAIT_SECONDS) and
  looks again, instead of compiling the same code a second time. A process waits only for a
  function it is not compiling itself, and the functions a process is compiling are callers of
  the one it waits for; kernels do not call each other in a circle, so no two processes wait
  for each other.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

try:
    import fcntl
except ImportError:  # not POSIX: Numba's own behaviour
    fcntl = None  # type: ignore[assignment]

#: how long a process waits for another's compile of a function before compiling it itself
WAIT_SECONDS = 60.0
#: how often a waiting process looks whether the other's compile is done
POLL_SECONDS = 0.02
#: held by a thread of this process while it saves to the cache (:func:`between_saves`)
_SAVING = threading.Lock()


def install() -> bool:
    """Lock Numba's cache saves and mark this process's compiles (once per process); False
    when this Numba has none of the methods wrapped here, or the platform no ``flock``."""
    from numba.core import caching, dispatcher

    cache_file = getattr(caching, "IndexDataCacheFile", None)
    save = getattr(cache_file, "save", None)
    load = getattr(caching.Cache, "load_overload", None)
    compile_ = getattr(dispatcher.Dispatcher, "compile", None)
    if fcntl is None or save is None or load is None or compile_ is None:
        return False
    if getattr(save, "synthc_locked", False):
        return True
    cache_file.save = _locking(save)  # type: ignore[union-attr]
    caching.Cache.load_overload = _waiting(load)  # type: ignore[method-assign]
    dispatcher.Dispatcher.compile = _marking(compile_)  # type: ignore[method-assign]
    return True


def _locking(save: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(save)
    def locked_save(self: Any, key: Any, data: Any) -> Any:
        with _SAVING, _locked(getattr(self, "_index_path", None)):
            return save(self, key, data)

    locked_save.synthc_locked = True  # type: ignore[attr-defined]
    return locked_save


def between_saves() -> contextlib.AbstractContextManager[Any]:
    """Held, no thread of this process is saving to the cache: a process may end abruptly
    inside it without leaving a half-written cache file (compile_ahead's helper does)."""
    return _SAVING


@contextlib.contextmanager
def _locked(index_path: str | None) -> Iterator[None]:
    """Hold an exclusive lock on ``index_path + ".lock"``; without one if it cannot be made
    (a read-only cache: Numba's save fails there on its own)."""
    descriptor = _open(index_path, ".lock", create=True)
    try:
        if descriptor is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        if descriptor is not None:
            os.close(descriptor)


def _waiting(load: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(load)
    def load_overload(self: Any, sig: Any, target_context: Any) -> Any:
        found = load(self, sig, target_context)
        if found is None and wait_for_compile(_index_path(self)):
            found = load(self, sig, target_context)
        return found

    return load_overload


def wait_for_compile(index_path: str | None, seconds: float = WAIT_SECONDS) -> bool:
    """Wait while another process compiles the function of ``index_path`` (at most
    ``seconds``); whether one was."""
    if index_path in _HELD:  # this process compiles it (a caller's compile reached it)
        return False
    descriptor = _open(index_path, ".compiling", create=False)
    if descriptor is None:  # no process has compiled it here
        return False
    try:
        deadline = time.monotonic() + seconds
        waited = False
        while True:
            if index_path in _HELD:  # another thread of this process took it meanwhile
                return waited
            try:
                fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return waited
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return waited
                waited = True
                time.sleep(POLL_SECONDS)
            except OSError:
                return waited
    finally:
        os.close(descriptor)


#: the index paths whose ``.compiling`` lock this process holds (it never waits for itself)
_HELD: set[str] = set()


def _marking(compile_: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(compile_)
    def compile(self: Any, sig: Any) -> Any:
        """Numba's compile (a load from the cache, else a compile and a save), holding the
        function's ``.compiling`` lock throughout, callees' compiles nested inside."""
        path = _index_path(getattr(self, "_cache", None))
        descriptor = None if path is None or path in _HELD else _mark(path)
        if path is None or descriptor is None:
            return compile_(self, sig)
        _HELD.add(path)
        try:
            return compile_(self, sig)
        finally:
            _HELD.discard(path)
            os.close(descriptor)

    return compile


def _mark(index_path: str) -> int | None:
    """The locked ``.compiling`` file of the function of ``index_path``; None when another
    process (or thread) holds it, or it cannot be made."""
    descriptor = _open(index_path, ".compiling", create=True)
    if descriptor is None:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return None
    return descriptor


def _index_path(cache: Any) -> str | None:
    """The index file of a Numba ``Cache`` (None for the no-op cache of uncached code)."""
    path = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
    return path if isinstance(path, str) else None


def _open(index_path: str | None, suffix: str, create: bool) -> int | None:
    if index_path is None:
        return None
    flags = os.O_RDWR | (os.O_CREAT if create else 0)
    try:
        return os.open(index_path + suffix, flags, 0o644)
    except OSError:
        return None
