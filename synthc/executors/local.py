"""Run tasks on this machine: inline for one worker, else a pool of threads or processes.

Threads when the task function says it runs outside the GIL (Numba ``nogil`` kernels, polars
encoding, hashing and file writes all release it): one process, one import, one load of the
compiled kernels, no pickling of results. Spawned processes otherwise, so Python-bound tasks
run in parallel too.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import multiprocessing
import os
import signal
import sys
import threading
import time
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

from synthc import cancellation, deadline
from synthc.executors.base import POLL_SECONDS, Report, TaskFailed
from synthc.executors.polars_threads import polars_threads_per_worker
from synthc.executors.reporting import Counts, QueueDrain, install_worker_queue, queued_sink
from synthc.own_process import setup as setup_own_process

_PR_SET_PDEATHSIG = 1

Mode = Literal["auto", "threads", "processes"]


def _worker_init(reports: Any = None) -> None:
    # A worker must not outlive a killed build: it would keep writing into the output
    # directory while the next build cleans up.
    install_worker_queue(reports)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    setup_own_process()  # among others, no last garbage collection: the build waits for the exit


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
        self,
        fn: Callable[..., Any],
        items: Sequence[Any],
        *args: Any,
        gil_free: bool = False,
        report: Report | None = None,
    ) -> Iterator[tuple[int, Any]]:
        if self.workers == 1 or len(items) <= 1:
            yield from self._run_inline(fn, items, args, report)
        elif self.mode == "threads" or (self.mode == "auto" and gil_free):
            workers = min(self.workers, len(items))
            counts = Counts()
            stopped = threading.Event()
            task = functools.partial(_cancellable, stopped.is_set, fn)
            pool = ThreadPoolExecutor(workers, "synthc-worker")
            try:
                yield from _run_bounded(
                    pool, workers, task, items, args, report, counts, counts.sink
                )
            except (KeyboardInterrupt, GeneratorExit):
                # stopped: a running task puts nothing in place (synthc.cancellation) and
                # ends its shard soon, while the caller cleans up (a reproduce removes its
                # scratch copy); one whose write hangs (a store that does not answer: the
                # build ends its requests next, synthc.outputs.store_abort) is not waited for
                # past STOP_SECONDS
                stopped.set()
                pool.shutdown(wait=False, cancel_futures=True)
                _join_threads(pool, deadline.STOP_SECONDS)
                raise
            finally:
                if not stopped.is_set():  # done, or a task failed: the others end first
                    pool.shutdown(wait=True)
        else:
            yield from self._run_processes(fn, items, args, report)

    def _run_inline(
        self,
        fn: Callable[..., Any],
        items: Sequence[Any],
        args: tuple[Any, ...],
        report: Report | None,
    ) -> Iterator[tuple[int, Any]]:
        for index, item in enumerate(items):
            # the task runs in this thread: its counts go straight to report
            sink = _InlineSink(report, index) if report is not None else None
            try:
                result = fn(item, *args) if sink is None else fn(item, *args, report=sink)
            except Exception as error:
                if sink is not None and error is sink.error:
                    raise  # the listener failed (a closed stderr), not the task
                raise TaskFailed(index, error) from error
            yield index, result

    def _run_processes(
        self,
        fn: Callable[..., Any],
        items: Sequence[Any],
        args: tuple[Any, ...],
        report: Report | None,
    ) -> Iterator[tuple[int, Any]]:
        workers = min(self.workers, len(items))
        # spawn, not fork: polars starts threads at import, and forking a process that has
        # them can deadlock (a forkserver that preloads polars hangs the same way, tried).
        context = _WorkerContext()
        queue = context.SimpleQueue() if report is not None else None
        counts = Counts()
        with (
            polars_threads_per_worker(workers),  # inherited by the spawned workers
            QueueDrain(queue, counts) as drain,
            ProcessPoolExecutor(
                workers, mp_context=context, initializer=_worker_init, initargs=(queue,)
            ) as pool,
        ):
            try:
                yield from _run_bounded(
                    pool, workers, fn, items, args, report, counts, queued_sink, drain.drain
                )
            except (KeyboardInterrupt, GeneratorExit):
                _end_workers(pool)
                raise


def _join_threads(pool: ThreadPoolExecutor, seconds: float) -> None:
    """Wait at most ``seconds`` in all for the pool's threads to end."""
    end = time.monotonic() + seconds
    for thread in list(getattr(pool, "_threads", ())):
        thread.join(max(0.0, end - time.monotonic()))


def _end_workers(pool: ProcessPoolExecutor) -> None:
    """Stop a pool's workers now, not once their tasks end (the pool's exit waits for them):
    a stopped build's unfinished shards are not recorded, a worker writes a shard to a
    temporary (or puts it whole to a store), so nothing in place is cut, and a worker whose
    write hangs (a store that does not answer) would hold the build for minutes."""
    # Python 3.14 has pool.terminate_workers(); before it, the pool's own table
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(5)


def _cancellable(
    cancelled: Callable[[], bool], fn: Callable[..., Any], *args: Any, **kw: Any
) -> Any:
    """``fn(*args, **kw)`` in a pool thread, putting nothing in place once ``cancelled()``."""
    with cancellation.checked_by(cancelled):
        return fn(*args, **kw)


class _InlineSink:
    """Task ``index``'s counts, handed to ``report`` at once; remembers what ``report`` raised."""

    def __init__(self, report: Report, index: int) -> None:
        self.report, self.index = report, index
        self.error: BaseException | None = None

    def __call__(self, done: int) -> None:
        try:
            self.report({self.index: done})
        except BaseException as error:
            self.error = error
            raise


def _run_bounded(
    pool: PoolExecutor,
    workers: int,
    fn: Callable[..., Any],
    items: Sequence[Any],
    args: tuple[Any, ...],
    report: Report | None,
    counts: Counts,
    sink_for: Callable[[int], Callable[[int], None]],
    fetch: Callable[[], None] = lambda: None,
) -> Iterator[tuple[int, Any]]:
    """Submit tasks keeping two per worker queued, so a failure stops the build promptly.

    With ``report``: each task gets ``sink_for(index)``; every POLL_SECONDS, and before a
    result is yielded, ``fetch()`` brings in what workers sent and ``report`` gets the news."""
    limit = 2 * workers
    pending: dict[Future[Any], int] = {}
    queue = iter(enumerate(items))

    def submit(index: int, item: Any) -> None:
        if report is None:
            pending[pool.submit(fn, item, *args)] = index
        else:
            pending[pool.submit(fn, item, *args, report=sink_for(index))] = index

    def tell() -> None:
        if report is not None:
            fetch()
            report(counts.take())

    try:
        for index, item in queue:
            submit(index, item)
            if len(pending) >= limit:
                break
        while pending:
            timeout = POLL_SECONDS if report is not None else None
            done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            tell()
            for future in sorted(done, key=pending.__getitem__):
                index = pending.pop(future)
                error = future.exception()
                if error is not None:
                    raise TaskFailed(index, error) from error
                yield index, future.result()
                following = next(queue, None)
                if following is not None:
                    submit(*following)
    finally:
        for future in pending:
            future.cancel()
