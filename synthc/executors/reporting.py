"""How running tasks tell the process that runs them how far they are: the channel behind
``Executor.run(report=...)``.

A task calls ``sink(done)`` a few times a second at most (synthc.shard batches its samples), so
the channel carries counts, never one message per sample. Threads put the latest count per task
into :class:`Counts`; spawned processes put ``(index, done)`` on a multiprocessing queue that a
:class:`QueueDrain` thread moves into :class:`Counts` (so a worker never blocks on a full pipe,
even while the pool shuts down after a failure); the consumer takes the news in its own thread.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

Sink = Callable[[int], None]


class Counts:
    """The latest count of each task that reported since the last :meth:`take`; any thread
    may put, the consumer takes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._news: dict[int, int] = {}

    def put(self, index: int, done: int) -> None:
        """Task ``index`` has finished ``done`` units."""
        with self._lock:
            self._news[index] = max(done, self._news.get(index, 0))

    def take(self) -> dict[int, int]:
        """The news since the last call (and forget it)."""
        with self._lock:
            news, self._news = self._news, {}
        return news

    def sink(self, index: int) -> Sink:
        """What task ``index`` calls with its count (in a thread of this process)."""
        return functools.partial(self.put, index)


class QueueDrain:
    """Moves ``(index, done)`` pairs from a multiprocessing queue into ``counts``, in a thread
    every ``interval`` seconds and whenever :meth:`drain` is called (before a finished task's
    result is handed on: the task put its counts before it returned)."""

    def __init__(self, queue: Any, counts: Counts, interval: float = 0.05) -> None:
        self.queue, self.counts, self.interval = queue, counts, interval
        self._lock = threading.Lock()  # only a lock holder reads, so empty() then get() is safe
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="synthc-reports", daemon=True)

    def __enter__(self) -> QueueDrain:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)  # a daemon: a wedged queue must not hang the build's end
        if not self._thread.is_alive():
            self.drain()

    def drain(self) -> None:
        """Move everything the queue holds now."""
        if self.queue is None:
            return
        with self._lock:
            while not self.queue.empty():
                index, done = self.queue.get()
                self.counts.put(index, done)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.drain()


#: the report queue of a spawned worker process, set by its pool's initializer
_worker_queue: Any = None


def install_worker_queue(queue: Any) -> None:
    """In a worker process: where :func:`queued_sink` sinks put their counts."""
    global _worker_queue
    _worker_queue = queue


def queued_sink(index: int) -> Sink:
    """A picklable sink for task ``index`` in a worker process (see install_worker_queue)."""
    return functools.partial(_put_queued, index)


def _put_queued(index: int, done: int) -> None:
    if _worker_queue is not None:
        _worker_queue.put((index, done))
