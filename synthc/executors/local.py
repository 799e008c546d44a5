"""Run tasks on this machine: in-process for one worker, else a pool of spawned processes."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from synthc.executors.base import TaskFailed

_PR_SET_PDEATHSIG = 1


def _worker_init() -> None:
    # A worker must not outlive a killed build: it would keep writing into the output
    # directory while the next build cleans up.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means


class LocalExecutor:
    """A pool of ``workers`` spawned processes that die with the build."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)

    def run(
        self, fn: Callable[..., Any], items: Sequence[Any], *args: Any
    ) -> Iterator[tuple[int, Any]]:
        if self.workers == 1 or len(items) <= 1:
            yield from self._run_inline(fn, items, args)
        else:
            yield from self._run_pool(fn, items, args)

    def _run_inline(
        self, fn: Callable[..., Any], items: Sequence[Any], args: tuple[Any, ...]
    ) -> Iterator[tuple[int, Any]]:
        for index, item in enumerate(items):
            try:
                result = fn(item, *args)
            except Exception as error:
                raise TaskFailed(index, error) from error
            yield index, result

    def _run_pool(
        self, fn: Callable[..., Any], items: Sequence[Any], args: tuple[Any, ...]
    ) -> Iterator[tuple[int, Any]]:
        workers = min(self.workers, len(items))
        threads = max(1, (os.cpu_count() or 1) // workers)
        saved = os.environ.get("POLARS_MAX_THREADS")
        os.environ["POLARS_MAX_THREADS"] = str(threads)  # inherited by the spawned workers
        # spawn, not fork: polars starts threads at import, and forking a process that has
        # them can deadlock (a forkserver that preloads polars hangs the same way, tried).
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init)
        try:
            pending: dict[Future[Any], int] = {}
            queue = iter(enumerate(items))
            # Keep at most two tasks per worker queued so a failure stops the build promptly.
            for index, item in queue:
                pending[pool.submit(fn, item, *args)] = index
                if len(pending) >= 2 * workers:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    error = future.exception()
                    if error is not None:
                        for other in pending:
                            other.cancel()
                        raise TaskFailed(index, error) from error
                    yield index, future.result()
                    next_item = next(queue, None)
                    if next_item is not None:
                        pending[pool.submit(fn, next_item[1], *args)] = next_item[0]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if saved is None:
                os.environ.pop("POLARS_MAX_THREADS", None)
            else:
                os.environ["POLARS_MAX_THREADS"] = saved
