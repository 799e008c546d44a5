"""Run tasks on this machine: inline for one worker, else a pool of threads or processes.

Threads when the task function says it runs outside the GIL (Numba ``nogil`` kernels, polars
encoding, hashing and file writes all release it): one process, one import, one load of the
compiled kernels, no pickling of results. Spawned processes otherwise, so Python-bound tasks
run in parallel too.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures import (
    Executor as PoolExecutor,
)
from typing import Any, Literal

from synthc.executors.base import TaskFailed

_PR_SET_PDEATHSIG = 1

Mode = Literal["auto", "threads", "processes"]


def _worker_init() -> None:
    # A worker must not outlive a killed build: it would keep writing into the output
    # directory while the next build cleans up.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means


class _WorkerProcess(multiprocessing.context.SpawnProcess):
    """A spawned worker that starts with SIGINT blocked (the mask survives fork and exec).

    A Ctrl-C reaches the whole process group; a worker still importing, before _worker_init
    ignores SIGINT, would print a KeyboardInterrupt traceback. The resource tracker of
    multiprocessing starts the same way.
    """

    def start(self) -> None:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            super().start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _WorkerContext(multiprocessing.context.SpawnContext):
    Process = _WorkerProcess


class LocalExecutor:
    """``workers`` threads or spawned processes (``mode``, default chosen per task function)."""

    name = "local"

    def __init__(self, workers: int | None = None, mode: Mode = "auto") -> None:
        if mode not in ("auto", "threads", "processes"):
            raise ValueError(f"unknown mode {mode!r}")
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.mode = mode

    def run(
        self, fn: Callable[..., Any], items: Sequence[Any], *args: Any, gil_free: bool = False
    ) -> Iterator[tuple[int, Any]]:
        if self.workers == 1 or len(items) <= 1:
            yield from self._run_inline(fn, items, args)
        elif self.mode == "threads" or (self.mode == "auto" and gil_free):
            workers = min(self.workers, len(items))
            with ThreadPoolExecutor(workers, "synthc-worker") as pool:
                yield from _run_bounded(pool, workers, fn, items, args)
        else:
            yield from self._run_processes(fn, items, args)

    def _run_inline(
        self, fn: Callable[..., Any], items: Sequence[Any], args: tuple[Any, ...]
    ) -> Iterator[tuple[int, Any]]:
        for index, item in enumerate(items):
            try:
                result = fn(item, *args)
            except Exception as error:
                raise TaskFailed(index, error) from error
            yield index, result

    def _run_processes(
        self, fn: Callable[..., Any], items: Sequence[Any], args: tuple[Any, ...]
    ) -> Iterator[tuple[int, Any]]:
        workers = min(self.workers, len(items))
        threads = max(1, (os.cpu_count() or 1) // workers)
        saved = os.environ.get("POLARS_MAX_THREADS")
        os.environ["POLARS_MAX_THREADS"] = str(threads)  # inherited by the spawned workers
        # spawn, not fork: polars starts threads at import, and forking a process that has
        # them can deadlock (a forkserver that preloads polars hangs the same way, tried).
        context = _WorkerContext()
        try:
            with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init) as pool:
                yield from _run_bounded(pool, workers, fn, items, args)
        finally:
            if saved is None:
                os.environ.pop("POLARS_MAX_THREADS", None)
            else:
                os.environ["POLARS_MAX_THREADS"] = saved


def _run_bounded(
    pool: PoolExecutor,
    workers: int,
    fn: Callable[..., Any],
    items: Sequence[Any],
    args: tuple[Any, ...],
) -> Iterator[tuple[int, Any]]:
    """Submit tasks keeping two per worker queued, so a failure stops the build promptly."""
    limit = 2 * workers
    pending: dict[Future[Any], int] = {}
    queue = iter(enumerate(items))
    try:
        for index, item in queue:
            pending[pool.submit(fn, item, *args)] = index
            if len(pending) >= limit:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=pending.__getitem__):
                index = pending.pop(future)
                error = future.exception()
                if error is not None:
                    raise TaskFailed(index, error) from error
                yield index, future.result()
                following = next(queue, None)
                if following is not None:
                    pending[pool.submit(fn, following[1], *args)] = following[0]
    finally:
        for future in pending:
            future.cancel()
